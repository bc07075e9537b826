//! An in-memory stream for error paths no real peer produces (malformed
//! responses, bad handshakes): reads hand out a canned byte string at most
//! `step` bytes at a time, then EOF; writes are recorded.

use core::convert::Infallible;

pub struct MemStream {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    /// Everything written to the stream.
    pub written: Vec<u8>,
}

impl MemStream {
    pub fn new(data: &[u8], step: usize) -> Self {
        MemStream {
            data: data.to_vec(),
            pos: 0,
            step: step.max(1),
            written: Vec::new(),
        }
    }
}

impl embedded_io::ErrorType for MemStream {
    type Error = Infallible;
}

impl embedded_io_async::Read for MemStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let rest = &self.data[self.pos..];
        let n = rest.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl embedded_io_async::Write for MemStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
