//! A blocking `embedded-nal-async` stack over `std::net` (host tests only): lets the
//! device transport (ioto-transport's HTTP and WebSocket clients) run on the host.
#![allow(dead_code)]

use core::net::{IpAddr, SocketAddr};
use embedded_nal_async::{AddrType, Dns, TcpConnect};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// TCP + DNS via `std::net`, blocking inside `async fn` (fine under `block_on`).
pub struct StdStack;

/// One TCP connection.
pub struct StdConn(TcpStream);

impl embedded_io_async::ErrorType for StdConn {
    type Error = std::io::Error;
}

impl embedded_io_async::Read for StdConn {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.0.read(buf)
    }
}

impl embedded_io_async::Write for StdConn {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.0.write(buf)
    }
    async fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

impl TcpConnect for StdStack {
    type Error = std::io::Error;
    type Connection<'a> = StdConn;

    async fn connect(&self, remote: SocketAddr) -> Result<StdConn, Self::Error> {
        let s = TcpStream::connect_timeout(&remote, Duration::from_secs(10))?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        s.set_nodelay(true)?;
        Ok(StdConn(s))
    }
}

impl Dns for StdStack {
    type Error = std::io::Error;

    async fn get_host_by_name(&self, host: &str, _t: AddrType) -> Result<IpAddr, Self::Error> {
        (host, 0)
            .to_socket_addrs()?
            .next()
            .map(|a| a.ip())
            .ok_or_else(|| std::io::Error::other("no address"))
    }

    async fn get_host_by_address(&self, _a: IpAddr, _r: &mut [u8]) -> Result<usize, Self::Error> {
        Err(std::io::Error::other("unsupported"))
    }
}
