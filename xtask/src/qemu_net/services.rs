//! The loopback services the networked suites start: a counting TCP echo server and a
//! fresh mosquitto, each on an ephemeral port and stopped on drop.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crate::Result;

/// A TCP echo server on an ephemeral loopback port, counting the bytes it echoes.
pub struct EchoServer {
    /// Its port on `127.0.0.1`.
    pub port: u16,
    echoed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    /// Listens and serves until [`EchoServer::stop`].
    pub fn start() -> Result<EchoServer> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("echo server: bind: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("echo server: {e}"))?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("echo server: {e}"))?;
        let echoed = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (echoed.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (count, halt) = (count.clone(), halt.clone());
                        workers.push(std::thread::spawn(move || echo(conn, &count, &halt)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        Ok(EchoServer {
            port,
            echoed,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops serving; the bytes echoed in all.
    pub fn stop(mut self) -> u64 {
        self.halt();
        self.echoed.load(Ordering::Relaxed)
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.halt();
    }
}

fn echo(mut conn: TcpStream, count: &AtomicU64, stop: &AtomicBool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A fresh mosquitto on an ephemeral loopback port, stopped on drop.
pub struct Mosquitto {
    /// Its port on `127.0.0.1`.
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Mosquitto {
    /// Starts a broker (anonymous, no persistence) and waits until it listens.
    pub fn start() -> Result<Mosquitto> {
        Self::start_with("")
    }

    /// [`Mosquitto::start`] with `listener` (e.g. `certfile ...` lines) appended to
    /// the listener's configuration.
    pub fn start_with(listener: &str) -> Result<Mosquitto> {
        let binary = [
            "/usr/sbin/mosquitto",
            "/usr/bin/mosquitto",
            "/usr/local/sbin/mosquitto",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("mosquitto is not installed: run `cargo xtask doctor --install`")?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("mosquitto: no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("ioto-hil-mqtt-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // As root, mosquitto would drop to user `mosquitto` and could not write its log.
        let user = if crate::doctor::is_root() {
            "user root\n"
        } else {
            ""
        };
        let conf = dir.join("mosquitto.conf");
        let config = format!(
            "{user}listener {port} 127.0.0.1\n{listener}allow_anonymous true\n\
             persistence false\nlog_dest file {}/mosquitto.log\nlog_type all\n",
            dir.display()
        );
        std::fs::write(&conf, config).map_err(|e| format!("{}: {e}", conf.display()))?;
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start mosquitto: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("mosquitto exited at start ({status})"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("mosquitto did not listen on {port}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Mosquitto { port, child, dir })
    }

    /// The retained message on `topic`, read with `mosquitto_sub`.
    pub fn retained(&self, topic: &str) -> Result<String> {
        let out = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", topic])
            .args(["-C", "1", "-W", "3", "-i", "ioto-hil-check"])
            .output()
            .map_err(|e| {
                format!("cannot run mosquitto_sub: {e} (run `cargo xtask doctor --install`)")
            })?;
        if !out.status.success() {
            return Err(format!(
                "mosquitto holds no retained message on {topic} (mosquitto_sub: {}); broker log:\n{}",
                out.status,
                self.log()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
