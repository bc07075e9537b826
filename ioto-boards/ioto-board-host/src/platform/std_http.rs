//! [`StdHttp`]: a small **blocking** HTTP/1.1 transport for ioto-cloud over
//! `std::net::TcpStream`, for single-task host tools and tests driven by a `block_on`
//! (while it waits for the server, nothing else on its thread runs: under an async
//! runtime with other tasks use [`PlainHttp`](super::PlainHttp)). Plain HTTP only: an
//! `https` endpoint fails with [`TransportError::Tls`] (verified TLS is
//! [`TlsConnector`](super::TlsConnector)).

use ioto_cloud::endpoint::Scheme;
use ioto_cloud::transport::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use zeroize::Zeroize;

/// Longest response head accepted (bytes).
const MAX_HEAD: usize = 16 * 1024;

/// Blocking plain-HTTP transport (one connection per request, `Connection: close`).
#[derive(Debug)]
pub struct StdHttp {
    timeout: Duration,
    conn: Option<BufReader<TcpStream>>,
}

impl StdHttp {
    /// A transport whose connect/read/write timeouts are `timeout`.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            conn: None,
        }
    }
}

impl Default for StdHttp {
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}

/// How the body is delimited.
#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked { left: u64, done: bool },
    Close,
}

/// The body of a [`StdHttp`] response.
#[derive(Debug)]
pub struct StdBody<'a> {
    conn: &'a mut BufReader<TcpStream>,
    framing: Framing,
}

impl embedded_io_async::ErrorType for StdBody<'_> {
    type Error = std::io::Error;
}

fn invalid(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

impl embedded_io_async::Read for StdBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // A socket read timeout shows as `WouldBlock` on Unix: report it as the
        // timeout it is (`TransportError::Timeout`, like the response head).
        self.read_body(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => std::io::ErrorKind::TimedOut.into(),
            _ => e,
        })
    }
}

impl StdBody<'_> {
    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, std::io::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.framing {
            Framing::Close => self.conn.read(buf),
            Framing::Length(left) => {
                if *left == 0 {
                    return Ok(0);
                }
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.conn.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                *left -= n as u64;
                Ok(n)
            }
            Framing::Chunked { left, done } => {
                while *left == 0 {
                    if *done {
                        return Ok(0);
                    }
                    let mut line = String::new();
                    read_line_bounded(self.conn, &mut line)?;
                    let size = line.trim().split(';').next().unwrap_or("");
                    let size = u64::from_str_radix(size.trim(), 16)
                        .map_err(|_| invalid("bad chunk size"))?;
                    if size == 0 {
                        *done = true;
                        loop {
                            line.clear();
                            read_line_bounded(self.conn, &mut line)?;
                            if line.trim().is_empty() {
                                break;
                            }
                        }
                        return Ok(0);
                    }
                    *left = size;
                }
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.conn.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                *left -= n as u64;
                if *left == 0 {
                    let mut crlf = String::new();
                    read_line_bounded(self.conn, &mut crlf)?;
                }
                Ok(n)
            }
        }
    }
}

fn read_line_bounded(r: &mut BufReader<TcpStream>, line: &mut String) -> std::io::Result<()> {
    let n = r.by_ref().take(MAX_HEAD as u64).read_line(line)?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with('\n') {
        return Err(invalid("header line too long"));
    }
    Ok(())
}

fn map_io(e: &std::io::Error) -> TransportError {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => TransportError::Timeout,
        std::io::ErrorKind::InvalidData => TransportError::Protocol,
        _ => TransportError::Io,
    }
}

impl HttpTransport for StdHttp {
    type Body<'a> = StdBody<'a>;

    async fn send<'a>(
        &'a mut self,
        req: &HttpRequest<'_>,
    ) -> Result<HttpResponse<StdBody<'a>>, TransportError> {
        if req.endpoint.scheme == Scheme::Https {
            return Err(TransportError::Tls);
        }
        use std::net::ToSocketAddrs;
        let addr = (req.endpoint.host.as_str(), req.endpoint.port)
            .to_socket_addrs()
            .map_err(|_| TransportError::Connect)?
            .next()
            .ok_or(TransportError::Connect)?;
        let stream =
            TcpStream::connect_timeout(&addr, self.timeout).map_err(|_| TransportError::Connect)?;
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(|_| TransportError::Io)?;
        let method = match req.method {
            Method::Get => "GET",
            Method::Post => "POST",
        };
        let start = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            req.path,
            req.endpoint.host_header(),
            req.body.len()
        );
        // The head carries the `Authorization` value: built in one buffer of its final
        // size (no reallocation leaves a copy behind) and wiped once written.
        let size = start.len()
            + req
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>()
            + 2;
        let mut head = Vec::with_capacity(size);
        head.extend_from_slice(start.as_bytes());
        for (k, v) in req.headers {
            for part in [k.as_bytes(), b": ", v.as_bytes(), b"\r\n"] {
                head.extend_from_slice(part);
            }
        }
        head.extend_from_slice(b"\r\n");
        let mut w = &stream;
        let sent = w.write_all(&head).and_then(|()| w.write_all(req.body));
        head.as_mut_slice().zeroize();
        sent.map_err(|e| map_io(&e))?;
        let conn = self.conn.insert(BufReader::new(stream));
        let mut line = String::new();
        read_line_bounded(conn, &mut line).map_err(|e| map_io(&e))?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| line.starts_with("HTTP/1."))
            .ok_or(TransportError::Protocol)?;
        let mut framing = Framing::Close;
        let mut retry_after = None;
        let mut total = line.len();
        loop {
            line.clear();
            read_line_bounded(conn, &mut line).map_err(|e| map_io(&e))?;
            total += line.len();
            if total > MAX_HEAD {
                return Err(TransportError::Protocol);
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((name, value)) = l.split_once(':') else {
                return Err(TransportError::Protocol);
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                if !matches!(framing, Framing::Chunked { .. }) {
                    framing = Framing::Length(value.parse().map_err(|_| TransportError::Protocol)?);
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.to_ascii_lowercase().contains("chunked")
            {
                framing = Framing::Chunked {
                    left: 0,
                    done: false,
                };
            } else if name.eq_ignore_ascii_case("retry-after") {
                retry_after = value.parse().ok();
            }
        }
        Ok(HttpResponse {
            status,
            retry_after,
            body: StdBody { conn, framing },
        })
    }
}
