//! [`FileFlash`]: a NOR flash image in a file, so a gateway keeps its flash stores
//! (`ioto_transport::storage::outbox::FlashOutbox`, `ConfigStore`) across restarts.
//!
//! The file is created `0xFF`-filled (erased) at the given size when missing. It keeps
//! NOR semantics, so the image stays what a chip would hold: an erase sets whole pages
//! to `0xFF`, a write may only clear bits ([`FileFlashError::BitSet`] otherwise), and
//! reads and writes are word-aligned. Every write and erase goes to the file and is
//! `fsync`ed before it returns: a SIGKILL loses nothing written, a power cut at most the
//! operation in progress (which `sequential-storage` tolerates).
//!
//! ```no_run
//! use ioto_board_host::flash_file::FileFlash;
//!
//! // 64 KiB image of 4 KiB pages: an outbox on the first 48 KiB, configuration after.
//! let flash: FileFlash = FileFlash::open("/var/lib/ioto/flash.img", 64 * 1024)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use embedded_storage_async::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Why a [`FileFlash`] operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFlashError {
    /// Offset or length not aligned to the word (reads, writes) or page (erases).
    NotAligned,
    /// The range reaches outside the image.
    OutOfBounds,
    /// A write tried to set a bit that is 0 back to 1 (erase first).
    BitSet,
    /// The file operation failed.
    Io(io::ErrorKind),
}

impl NorFlashError for FileFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FileFlashError::NotAligned => NorFlashErrorKind::NotAligned,
            FileFlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            FileFlashError::BitSet | FileFlashError::Io(_) => NorFlashErrorKind::Other,
        }
    }
}

impl core::fmt::Display for FileFlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FileFlashError::NotAligned => f.write_str("unaligned flash access"),
            FileFlashError::OutOfBounds => f.write_str("flash access out of bounds"),
            FileFlashError::BitSet => f.write_str("write would set a programmed bit"),
            FileFlashError::Io(kind) => write!(f, "flash file: {kind}"),
        }
    }
}

impl std::error::Error for FileFlashError {}

impl From<io::Error> for FileFlashError {
    fn from(e: io::Error) -> Self {
        FileFlashError::Io(e.kind())
    }
}

/// A NOR flash image in a file, with `PAGE`-byte erase pages and `WORD`-byte words.
#[derive(Debug)]
pub struct FileFlash<const PAGE: usize = 4096, const WORD: usize = 4> {
    file: File,
    size: usize,
}

impl<const PAGE: usize, const WORD: usize> FileFlash<PAGE, WORD> {
    /// Opens the image at `path`, creating it erased (`0xFF`) with `size` bytes when
    /// missing. `size` must be a whole number of pages and match an existing file.
    pub fn open(path: impl AsRef<Path>, size: usize) -> io::Result<Self> {
        if PAGE == 0 || WORD == 0 || !size.is_multiple_of(PAGE) || u32::try_from(size).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "flash size must be a whole number of pages below 4 GiB",
            ));
        }
        let path = path.as_ref();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if len == 0 {
            let page = vec![0xFF; PAGE];
            for _ in 0..size / PAGE {
                file.write_all(&page)?;
            }
            file.sync_all()?;
        } else if len != size as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {len} bytes, expected {size}", path.display()),
            ));
        }
        Ok(FileFlash { file, size })
    }

    /// Size of the image in bytes.
    pub const fn size(&self) -> usize {
        self.size
    }

    fn check(&self, offset: u32, len: usize, align: usize) -> Result<u64, FileFlashError> {
        let start = offset as usize;
        if !start.is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(FileFlashError::NotAligned);
        }
        match start.checked_add(len) {
            Some(end) if end <= self.size => Ok(u64::from(offset)),
            _ => Err(FileFlashError::OutOfBounds),
        }
    }

    fn read_at(&mut self, at: u64, bytes: &mut [u8]) -> Result<(), FileFlashError> {
        self.file.seek(SeekFrom::Start(at))?;
        self.file.read_exact(bytes)?;
        Ok(())
    }

    fn write_at(&mut self, at: u64, bytes: &[u8]) -> Result<(), FileFlashError> {
        self.file.seek(SeekFrom::Start(at))?;
        self.file.write_all(bytes)?;
        Ok(())
    }
}

impl<const PAGE: usize, const WORD: usize> ErrorType for FileFlash<PAGE, WORD> {
    type Error = FileFlashError;
}

impl<const PAGE: usize, const WORD: usize> ReadNorFlash for FileFlash<PAGE, WORD> {
    const READ_SIZE: usize = WORD;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = self.check(offset, bytes.len(), WORD)?;
        self.read_at(at, bytes)
    }

    fn capacity(&self) -> usize {
        self.size
    }
}

impl<const PAGE: usize, const WORD: usize> NorFlash for FileFlash<PAGE, WORD> {
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len = to.checked_sub(from).ok_or(FileFlashError::OutOfBounds)? as usize;
        let at = self.check(from, len, PAGE)?;
        let page = vec![0xFF; PAGE];
        for n in 0..len / PAGE {
            self.write_at(at + (n * PAGE) as u64, &page)?;
        }
        self.file.sync_data()?;
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let at = self.check(offset, bytes.len(), WORD)?;
        let mut old = vec![0; bytes.len()];
        self.read_at(at, &mut old)?;
        if old.iter().zip(bytes).any(|(old, new)| new & !old != 0) {
            return Err(FileFlashError::BitSet);
        }
        self.write_at(at, bytes)?;
        self.file.sync_data()?;
        Ok(())
    }
}

/// Bits are only cleared, so a word may be written again (as NOR allows).
impl<const PAGE: usize, const WORD: usize> MultiwriteNorFlash for FileFlash<PAGE, WORD> {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use embassy_futures::block_on;
    use ioto_core::outbox::Outbox;
    use ioto_transport::storage::outbox::FlashOutbox;

    /// A fresh path under the temp dir, removed when dropped.
    struct TempImage(std::path::PathBuf);

    impl TempImage {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let name = format!("ioto-flash-{tag}-{}-{nanos}.img", std::process::id());
            TempImage(std::env::temp_dir().join(name))
        }
    }

    impl Drop for TempImage {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn created_erased_and_keeps_nor_rules() {
        let path = TempImage::new("rules");
        block_on(async {
            let mut f: FileFlash<256, 4> = FileFlash::open(&path.0, 1024).unwrap();
            let mut out = [0u8; 8];
            f.read(256, &mut out).await.unwrap();
            assert_eq!(out, [0xFF; 8]);
            f.write(256, &[0x0F, 0xF0, 0x00, 0xFF]).await.unwrap();
            assert_eq!(f.write(256, &[0xFF; 4]).await, Err(FileFlashError::BitSet));
            assert_eq!(f.write(258, &[0; 4]).await, Err(FileFlashError::NotAligned));
            assert_eq!(
                f.write(1024, &[0; 4]).await,
                Err(FileFlashError::OutOfBounds)
            );
            assert_eq!(f.erase(0, 128).await, Err(FileFlashError::NotAligned));
        });
        assert_eq!(std::fs::metadata(&path.0).unwrap().len(), 1024);
        let bytes = std::fs::read(&path.0).unwrap();
        assert_eq!(&bytes[256..260], &[0x0F, 0xF0, 0x00, 0xFF]);
        assert!(bytes[..256].iter().chain(&bytes[260..]).all(|&b| b == 0xFF));
        // Another size for the same file is refused.
        assert!(FileFlash::<256, 4>::open(&path.0, 2048).is_err());
        block_on(async {
            let mut f: FileFlash<256, 4> = FileFlash::open(&path.0, 1024).unwrap();
            f.erase(256, 512).await.unwrap();
            let mut out = [0u8; 4];
            f.read(256, &mut out).await.unwrap();
            assert_eq!(out, [0xFF; 4]);
        });
    }

    #[test]
    fn outbox_survives_reopening_the_file() {
        let path = TempImage::new("outbox");
        let mut buf = [0u8; 128];
        let mut rec = [0u8; 128];
        block_on(async {
            let flash: FileFlash = FileFlash::open(&path.0, 2 * 4096).unwrap();
            let mut outbox = FlashOutbox::open(flash, 0..2 * 4096, &mut buf)
                .await
                .unwrap();
            for i in 0..5u8 {
                assert!(outbox.push_back(&[i; 33]).await.unwrap());
            }
            assert!(outbox.pop_front().await.unwrap());
        });
        // The process is gone; a new one opens the file.
        block_on(async {
            let flash: FileFlash = FileFlash::open(&path.0, 2 * 4096).unwrap();
            let mut outbox = FlashOutbox::open(flash, 0..2 * 4096, &mut buf)
                .await
                .unwrap();
            assert_eq!(outbox.len(), 4);
            for i in 1..5u8 {
                assert_eq!(outbox.read_front(&mut rec).await.unwrap(), Some(33));
                assert_eq!(&rec[..33], &[i; 33]);
                assert!(outbox.pop_front().await.unwrap());
            }
            assert_eq!(outbox.read_front(&mut rec).await.unwrap(), None);
        });
    }
}
