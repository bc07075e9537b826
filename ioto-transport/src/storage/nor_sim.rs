//! [`NorSim`]: a simulated NOR flash that enforces the NOR rules and can lose power.
//!
//! The image is any caller-owned byte buffer (`[u8; N]`, `&mut [u8]`, a `Vec<u8>`), so
//! the simulator needs no heap. It behaves like a strict NOR chip:
//!
//! - an erase sets whole pages (`PAGE` bytes) to `0xFF`; erase bounds must be page-aligned;
//! - a write can only clear bits (1 → 0): writing a 1 over a 0 is
//!   [`NorSimError::BitSet`] and changes nothing;
//! - reads and writes must be aligned to `WORD` bytes (offset and length);
//! - anything outside the image is [`NorSimError::OutOfBounds`].
//!
//! **Power cuts.** [`NorSim::with_power_cut_after`] gives the chip a budget of `k` bytes
//! (written or erased). The operation that exceeds the budget is torn: a write lands only
//! its first bytes (the rest keep their old value), an erase erases only the first bytes
//! of the page it was working on (the rest of that page keeps its old content). That
//! operation and every later one fail with [`NorSimError::PowerCut`]. To "reboot", take
//! the image out ([`NorSim::into_image`]) and build a new `NorSim` from it.
//!
//! [`NorSim::bytes_touched`] counts the bytes written and erased so far: run a workload
//! once without a cut to learn its total, then cut at every byte of it.
//!
//! ```
//! use embedded_storage_async::nor_flash::NorFlash;
//! use ioto_transport::storage::nor_sim::{NorSim, NorSimError};
//!
//! # embassy_futures::block_on(async {
//! let mut flash: NorSim<_, 256, 4> = NorSim::with_power_cut_after([0xFFu8; 512], 6);
//! assert_eq!(flash.write(0, &[0x00; 8]).await, Err(NorSimError::PowerCut));
//! let image = flash.into_image(); // reboot
//! assert_eq!(&image[..8], &[0, 0, 0, 0, 0, 0, 0xFF, 0xFF]); // the write was torn
//! let mut flash: NorSim<_, 256, 4> = NorSim::new(image);
//! assert_eq!(flash.write(0, &[0xFF; 4]).await, Err(NorSimError::BitSet)); // 0 → 1
//! flash.erase(0, 256).await.unwrap();
//! flash.write(0, &[0xFF; 4]).await.unwrap();
//! # });
//! ```

use embedded_storage_async::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Why a [`NorSim`] operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NorSimError {
    /// Offset or length not aligned to the word (reads, writes) or the page (erases).
    NotAligned,
    /// The range reaches outside the image.
    OutOfBounds,
    /// A write tried to set a bit that is 0 back to 1 (only an erase can do that).
    BitSet,
    /// The power was cut: this operation may have been torn, and nothing works until
    /// the chip is rebuilt from its image.
    PowerCut,
}

impl NorFlashError for NorSimError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            NorSimError::NotAligned => NorFlashErrorKind::NotAligned,
            NorSimError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            NorSimError::BitSet | NorSimError::PowerCut => NorFlashErrorKind::Other,
        }
    }
}

impl core::fmt::Display for NorSimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NorSimError::NotAligned => "unaligned flash access",
            NorSimError::OutOfBounds => "flash access out of bounds",
            NorSimError::BitSet => "write would set a programmed bit (erase first)",
            NorSimError::PowerCut => "power cut",
        })
    }
}

/// A simulated NOR flash over the image `B`, with `PAGE`-byte erase pages and
/// `WORD`-byte read/write words. See the [module docs](self).
#[derive(Debug)]
pub struct NorSim<B, const PAGE: usize = 4096, const WORD: usize = 4> {
    image: B,
    /// Bytes that may still be written or erased before the power goes; `None`: never.
    budget: Option<u64>,
    touched: u64,
    dead: bool,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>, const PAGE: usize, const WORD: usize> NorSim<B, PAGE, WORD> {
    /// A chip over `image` (its current content is what the flash holds; a fresh chip
    /// is all `0xFF`) that never loses power.
    pub fn new(image: B) -> Self {
        NorSim {
            image,
            budget: None,
            touched: 0,
            dead: false,
        }
    }

    /// A chip over `image` whose power goes after `bytes` bytes written or erased.
    pub fn with_power_cut_after(image: B, bytes: u64) -> Self {
        NorSim {
            budget: Some(bytes),
            ..Self::new(image)
        }
    }

    /// A chip over a fresh image: every byte of `image` set to `0xFF` (erased).
    pub fn erased(mut image: B) -> Self {
        image.as_mut().fill(0xFF);
        Self::new(image)
    }

    /// Bytes written or erased so far (the torn operation counts what landed).
    pub const fn bytes_touched(&self) -> u64 {
        self.touched
    }

    /// True once the power was cut.
    pub const fn power_cut(&self) -> bool {
        self.dead
    }

    /// The flash content.
    pub fn image(&self) -> &[u8] {
        self.image.as_ref()
    }

    /// Takes the image out ("power off"), to build a new chip from it.
    pub fn into_image(self) -> B {
        self.image
    }

    fn check(&self, offset: u32, len: usize, align: usize) -> Result<usize, NorSimError> {
        if self.dead {
            return Err(NorSimError::PowerCut);
        }
        let start = offset as usize;
        if !start.is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(NorSimError::NotAligned);
        }
        match start.checked_add(len) {
            Some(end) if end <= self.image.as_ref().len() => Ok(start),
            _ => Err(NorSimError::OutOfBounds),
        }
    }

    /// Takes `want` bytes from the budget; returns how many may land (< `want`: the
    /// power goes during this operation).
    fn spend(&mut self, want: usize) -> usize {
        let allowed = match &mut self.budget {
            None => want,
            Some(left) => {
                let allowed = want.min(usize::try_from(*left).unwrap_or(usize::MAX));
                *left -= allowed as u64;
                allowed
            }
        };
        self.touched += allowed as u64;
        if allowed < want {
            self.dead = true;
        }
        allowed
    }
}

impl<B, const PAGE: usize, const WORD: usize> ErrorType for NorSim<B, PAGE, WORD> {
    type Error = NorSimError;
}

impl<B: AsRef<[u8]> + AsMut<[u8]>, const PAGE: usize, const WORD: usize> ReadNorFlash
    for NorSim<B, PAGE, WORD>
{
    const READ_SIZE: usize = WORD;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let start = self.check(offset, bytes.len(), WORD)?;
        bytes.copy_from_slice(&self.image.as_ref()[start..start + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.image.as_ref().len()
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>, const PAGE: usize, const WORD: usize> NorFlash
    for NorSim<B, PAGE, WORD>
{
    const WRITE_SIZE: usize = WORD;
    const ERASE_SIZE: usize = PAGE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let len = (to as usize)
            .checked_sub(from as usize)
            .ok_or(NorSimError::OutOfBounds)?;
        let start = self.check(from, len, PAGE)?;
        // Page by page: a cut tears the page in progress (its first bytes erased).
        for page in (start..start + len).step_by(PAGE) {
            let landed = self.spend(PAGE);
            self.image.as_mut()[page..page + landed].fill(0xFF);
            if landed < PAGE {
                return Err(NorSimError::PowerCut);
            }
        }
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let start = self.check(offset, bytes.len(), WORD)?;
        let target = &mut self.image.as_mut()[start..start + bytes.len()];
        if target.iter().zip(bytes).any(|(old, new)| new & !old != 0) {
            return Err(NorSimError::BitSet);
        }
        let landed = self.spend(bytes.len());
        let target = &mut self.image.as_mut()[start..start + landed];
        target.copy_from_slice(&bytes[..landed]);
        if landed < bytes.len() {
            return Err(NorSimError::PowerCut);
        }
        Ok(())
    }
}

/// Bits are only cleared, so a word may be written again (as NOR allows).
impl<B: AsRef<[u8]> + AsMut<[u8]>, const PAGE: usize, const WORD: usize> MultiwriteNorFlash
    for NorSim<B, PAGE, WORD>
{
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use embassy_futures::block_on;

    type Sim = NorSim<[u8; 64], 32, 4>;

    #[test]
    fn nor_rules() {
        block_on(async {
            let mut f = Sim::erased([0; 64]);
            assert_eq!(f.image(), &[0xFF; 64]);
            f.write(4, &[0xF0, 0x0F, 0xFF, 0x00]).await.unwrap();
            // Clearing more bits is fine, setting one is not (and changes nothing).
            f.write(4, &[0x70, 0x0F, 0xFE, 0x00]).await.unwrap();
            assert_eq!(
                f.write(4, &[0xF0, 0x0F, 0xFE, 0x00]).await,
                Err(NorSimError::BitSet)
            );
            let mut out = [0; 8];
            f.read(0, &mut out).await.unwrap();
            assert_eq!(out, [0xFF, 0xFF, 0xFF, 0xFF, 0x70, 0x0F, 0xFE, 0x00]);
            assert_eq!(f.write(2, &[0; 4]).await, Err(NorSimError::NotAligned));
            assert_eq!(f.write(0, &[0; 3]).await, Err(NorSimError::NotAligned));
            assert_eq!(f.read(1, &mut [0; 4]).await, Err(NorSimError::NotAligned));
            assert_eq!(f.write(64, &[0; 4]).await, Err(NorSimError::OutOfBounds));
            assert_eq!(f.erase(0, 16).await, Err(NorSimError::NotAligned));
            assert_eq!(f.erase(32, 96).await, Err(NorSimError::OutOfBounds));
            assert_eq!(f.erase(32, 0).await, Err(NorSimError::OutOfBounds));
            f.write(32, &[0; 4]).await.unwrap();
            // Erasing page 0 leaves page 1 alone.
            f.erase(0, 32).await.unwrap();
            assert_eq!(&f.image()[..32], &[0xFF; 32]);
            assert_eq!(&f.image()[32..36], &[0; 4]);
            // 4 + 4 (the rejected write and reads cost nothing) + 4 + 32 bytes.
            assert_eq!(f.bytes_touched(), 44);
        });
    }

    #[test]
    fn torn_write_then_dead_until_reboot() {
        block_on(async {
            let mut f = NorSim::<_, 32, 4>::with_power_cut_after([0xFF; 64], 10);
            f.write(0, &[0x11; 8]).await.unwrap();
            assert_eq!(f.write(8, &[0x22; 8]).await, Err(NorSimError::PowerCut));
            assert!(f.power_cut());
            assert_eq!(f.read(0, &mut [0; 4]).await, Err(NorSimError::PowerCut));
            assert_eq!(f.erase(32, 64).await, Err(NorSimError::PowerCut));
            let image = f.into_image();
            let mut want = [0xFF; 64];
            want[..8].fill(0x11);
            want[8..10].fill(0x22);
            assert_eq!(image, want);
            let mut f = NorSim::<_, 32, 4>::new(image);
            f.write(12, &[0; 4]).await.unwrap();
        });
    }

    #[test]
    fn torn_erase_leaves_the_page_half_done() {
        block_on(async {
            let mut f = NorSim::<_, 32, 4>::with_power_cut_after([0u8; 64], 32 + 12);
            // Page 0 is erased whole, page 1 only its first 12 bytes.
            assert_eq!(f.erase(0, 64).await, Err(NorSimError::PowerCut));
            assert_eq!(f.bytes_touched(), 44);
            let image = f.into_image();
            assert_eq!(&image[..44], &[0xFF; 44]);
            assert_eq!(&image[44..], &[0; 20]);
        });
    }
}
