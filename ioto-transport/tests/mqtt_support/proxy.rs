//! A loopback TCP proxy that can silently stop forwarding ("blackhole"): the
//! connection stays open, no FIN or RST is sent, bytes just stop arriving — what a
//! pulled cable or a dead NAT entry looks like.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy's switch and port.
#[derive(Clone)]
pub struct Proxy {
    /// Port clients connect to.
    pub port: u16,
    blackhole: Arc<AtomicBool>,
}

impl Proxy {
    /// Forwards 127.0.0.1:`port` (returned) to 127.0.0.1:`upstream`.
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let blackhole = Arc::new(AtomicBool::new(false));
        let hole = blackhole.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, hole.clone()));
                tokio::spawn(pump(sr, cw, hole.clone()));
            }
        });
        Proxy { port, blackhole }
    }

    /// Stops forwarding on every connection, present and future, without closing.
    pub fn blackhole(&self) {
        self.blackhole.store(true, Ordering::SeqCst);
    }

    /// Forwards again (connections opened from now on work; silenced ones stay dead).
    pub fn heal(&self) {
        self.blackhole.store(false, Ordering::SeqCst);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    hole: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if hole.load(Ordering::SeqCst) {
            // Hold both halves open forever: no FIN, no RST, no bytes.
            std::future::pending::<()>().await;
        }
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if hole.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
