//! [`TokioNet`]: tokio TCP and DNS as `embedded-nal-async` [`TcpConnect`] / [`Dns`], so
//! the `no_std` clients (MQTT, HTTP, WebSocket, TLS) run unchanged on a Linux gateway
//! and in host tests. Its connections need a tokio runtime with I/O enabled.

use core::net::{IpAddr, SocketAddr};
use embedded_io_adapters::tokio_1::FromTokio;
use embedded_nal_async::{AddrType, Dns, TcpConnect};

/// TCP connections and name resolution through tokio (needs a tokio runtime).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioNet;

impl TcpConnect for TokioNet {
    type Error = std::io::Error;
    type Connection<'a> = FromTokio<tokio::net::TcpStream>;

    async fn connect<'a>(
        &'a self,
        remote: SocketAddr,
    ) -> Result<Self::Connection<'a>, Self::Error> {
        let stream = tokio::net::TcpStream::connect(remote).await?;
        stream.set_nodelay(true)?;
        Ok(FromTokio::new(stream))
    }
}

impl Dns for TokioNet {
    type Error = std::io::Error;

    async fn get_host_by_name(
        &self,
        host: &str,
        addr_type: AddrType,
    ) -> Result<IpAddr, Self::Error> {
        let wanted = |ip: &IpAddr| match addr_type {
            AddrType::IPv4 => ip.is_ipv4(),
            AddrType::IPv6 => ip.is_ipv6(),
            AddrType::Either => true,
        };
        tokio::net::lookup_host((host, 0))
            .await?
            .map(|a| a.ip())
            .find(wanted)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no address of the wanted family",
                )
            })
    }

    async fn get_host_by_address(
        &self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> Result<usize, Self::Error> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "reverse lookup is not supported",
        ))
    }
}
