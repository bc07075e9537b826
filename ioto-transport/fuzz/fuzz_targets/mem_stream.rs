//! An in-memory stream for the fuzz targets: reads hand out the input at most
//! `step` bytes at a time (then EOF); writes are accepted and dropped.

use core::convert::Infallible;

pub struct MemStream<'a> {
    pub data: &'a [u8],
    pub step: usize,
}

impl embedded_io::ErrorType for MemStream<'_> {
    type Error = Infallible;
}

impl embedded_io_async::Read for MemStream<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = self.data.len().min(buf.len()).min(self.step.max(1));
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl embedded_io_async::Write for MemStream<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
