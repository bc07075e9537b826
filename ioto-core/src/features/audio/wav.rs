//! A reader for RIFF/WAVE files of 16-bit PCM, the format of recorded microphone
//! clips (and of the speech fixtures the virtual boards use as their microphone).
//! Borrowing, no copies: samples are decoded from the file's bytes on demand.

/// Why bytes are not a usable 16-bit PCM WAVE file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WavError {
    /// No `RIFF….WAVE` header.
    NotWave,
    /// A chunk runs past the end of the bytes, or `fmt ` / `data` is missing.
    Truncated,
    /// Not integer PCM (format tag 1), or not 16 bits per sample.
    Unsupported {
        /// The format tag (1 = PCM).
        format: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// Zero channels or a zero sample rate.
    InvalidFormat,
}

impl core::fmt::Display for WavError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotWave => f.write_str("not a RIFF/WAVE file"),
            Self::Truncated => f.write_str("WAVE chunk truncated or missing"),
            Self::Unsupported { format, bits } => {
                write!(
                    f,
                    "unsupported WAVE format {format} with {bits} bits (want PCM 16)"
                )
            }
            Self::InvalidFormat => f.write_str("WAVE format has no channels or no sample rate"),
        }
    }
}

impl core::error::Error for WavError {}

/// A parsed 16-bit PCM WAVE file: its format and its sample bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wav<'a> {
    sample_rate: u32,
    channels: u16,
    data: &'a [u8],
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

impl<'a> Wav<'a> {
    /// Parses the RIFF chunks of `bytes`; unknown chunks (`LIST`, `fact`, …) are
    /// skipped. A trailing odd byte of the `data` chunk is ignored.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WavError> {
        if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
            return Err(WavError::NotWave);
        }
        let mut at = 12usize;
        let mut format = None;
        while let (Some(id), Some(len)) = (bytes.get(at..at + 4), le32(bytes, at + 4)) {
            let body = at + 8;
            let end = body
                .checked_add(len as usize)
                .filter(|e| *e <= bytes.len())
                .ok_or(WavError::Truncated)?;
            match id {
                b"fmt " => {
                    let field = |o| le16(bytes, body + o).ok_or(WavError::Truncated);
                    let (tag, channels, bits) = (field(0)?, field(2)?, field(14)?);
                    let rate = le32(bytes, body + 4).ok_or(WavError::Truncated)?;
                    // WAVE_FORMAT_EXTENSIBLE carries the real tag in its sub-format.
                    let tag = if tag == 0xFFFE { field(24)? } else { tag };
                    if tag != 1 || bits != 16 {
                        return Err(WavError::Unsupported { format: tag, bits });
                    }
                    if channels == 0 || rate == 0 {
                        return Err(WavError::InvalidFormat);
                    }
                    format = Some((rate, channels));
                }
                b"data" => {
                    let (sample_rate, channels) = format.ok_or(WavError::Truncated)?;
                    let even = (end - body) & !1;
                    return Ok(Self {
                        sample_rate,
                        channels,
                        data: &bytes[body..body + even],
                    });
                }
                _ => {}
            }
            // Chunks are padded to an even length.
            at = end + (len as usize & 1);
        }
        Err(WavError::Truncated)
    }

    /// Samples per second (per channel).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Interleaved channels.
    pub fn channels(&self) -> u16 {
        self.channels
    }

    /// Samples in the file (all channels, interleaved).
    pub fn len(&self) -> usize {
        self.data.len() / 2
    }

    /// Whether the file has no samples.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Sample `index` (interleaved), or `None` past the end.
    pub fn sample(&self, index: usize) -> Option<i16> {
        le16(self.data, 2 * index).map(|v| v as i16)
    }

    /// Copies samples from `start` into `out`; returns how many were copied (fewer
    /// than `out.len()` at the end of the file, 0 past it).
    pub fn read(&self, start: usize, out: &mut [i16]) -> usize {
        let mut n = 0;
        for (o, s) in out
            .iter_mut()
            .zip((start..self.len()).map_while(|i| self.sample(i)))
        {
            *o = s;
            n += 1;
        }
        n
    }

    /// Every sample, in order (interleaved).
    pub fn samples(&self) -> impl Iterator<Item = i16> + 'a {
        self.data
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal file: RIFF header, `fmt ` (PCM), an odd-length `LIST` chunk that
    /// must be skipped with its pad byte, then `data`.
    fn file(tag: u16, bits: u16, data: &[u8]) -> ([u8; 128], usize) {
        let mut b = [0u8; 128];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            b[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        put(b"RIFF");
        put(&0u32.to_le_bytes());
        put(b"WAVE");
        put(b"fmt ");
        put(&16u32.to_le_bytes());
        put(&tag.to_le_bytes());
        put(&1u16.to_le_bytes());
        put(&16_000u32.to_le_bytes());
        put(&32_000u32.to_le_bytes());
        put(&2u16.to_le_bytes());
        put(&bits.to_le_bytes());
        put(b"LIST");
        put(&3u32.to_le_bytes());
        put(b"abc\0");
        put(b"data");
        put(&(data.len() as u32).to_le_bytes());
        put(data);
        (b, n)
    }

    #[test]
    fn reads_pcm16_after_skipping_chunks() {
        let (b, n) = file(1, 16, &[1, 0, 0xff, 0xff, 0x00, 0x80]);
        let wav = Wav::parse(&b[..n]).ok();
        let wav = wav.as_ref();
        assert_eq!(wav.map(Wav::sample_rate), Some(16_000));
        assert_eq!(wav.map(Wav::len), Some(3));
        let mut out = [0i16; 4];
        assert_eq!(wav.map(|w| w.read(1, &mut out)), Some(2));
        assert_eq!(out[..2], [-1, i16::MIN]);
        assert_eq!(wav.map(|w| w.read(3, &mut out)), Some(0));
    }

    /// Every prefix and every single-byte corruption of a valid file parses or is
    /// refused with an error; nothing panics, and what parses stays within the bytes.
    #[test]
    fn damaged_files_never_panic() {
        let (b, n) = file(1, 16, &[1, 2, 3, 4, 5, 6]);
        for end in 0..=n {
            if let Ok(w) = Wav::parse(&b[..end]) {
                assert!(44 + 2 * w.len() <= end);
            }
        }
        for at in 0..n {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut d = b;
                d[at] = v;
                if let Ok(w) = Wav::parse(&d[..n]) {
                    assert!(w.samples().count() == w.len() && w.len() <= n / 2);
                }
            }
        }
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        let (b, n) = file(3, 32, &[0; 4]);
        assert_eq!(
            Wav::parse(&b[..n]),
            Err(WavError::Unsupported {
                format: 3,
                bits: 32
            })
        );
        let (b, n) = file(1, 16, &[0; 4]);
        assert_eq!(Wav::parse(&b[..n - 3]), Err(WavError::Truncated));
        assert_eq!(Wav::parse(&b[..30]), Err(WavError::Truncated));
        assert_eq!(Wav::parse(b"RIFX\0\0\0\0WAVE"), Err(WavError::NotWave));
        assert_eq!(Wav::parse(&[]), Err(WavError::NotWave));
    }
}
