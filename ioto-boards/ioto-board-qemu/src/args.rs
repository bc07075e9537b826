//! What the host passes to the firmware: QEMU's `-append "key=value ..."`, read over
//! semihosting (`SYS_GET_CMDLINE`).
//!
//! QEMU hands semihosting the kernel file name followed by the `-append` text, so the
//! line reads `path/to/firmware.elf key=value key2=value2`. `cargo xtask hil-test`
//! uses it to tell a suite where its host services are (see the crate's README).

/// Semihosting operation number of `SYS_GET_CMDLINE`.
const SYS_GET_CMDLINE: usize = 0x15;

/// Why the command line could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgsError {
    /// The host refused the call (e.g. `buf` is too small for the line).
    Refused,
    /// The line is not UTF-8.
    NotUtf8,
}

impl core::fmt::Display for ArgsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ArgsError::Refused => "the host refused SYS_GET_CMDLINE (buffer too small?)",
            ArgsError::NotUtf8 => "the command line is not UTF-8",
        })
    }
}

impl core::error::Error for ArgsError {}

/// Reads the command line into `buf` and returns it (without the trailing NUL).
pub fn cmdline(buf: &mut [u8]) -> Result<&str, ArgsError> {
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: the block is SYS_GET_CMDLINE's {buffer, length}; the host writes at most
    // `buf.len()` bytes into `buf` and the string's length into `block[1]`.
    let status = unsafe { crate::rt::semihosting(SYS_GET_CMDLINE, block.as_mut_ptr()) };
    if status != 0 || block[1] > buf.len() {
        return Err(ArgsError::Refused);
    }
    let line = &buf[..block[1]];
    let line = line.split(|&b| b == 0).next().unwrap_or(line);
    core::str::from_utf8(line).map_err(|_| ArgsError::NotUtf8)
}

/// The value of the first `key=value` word of `line`, if any.
pub fn value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_ascii_whitespace().find_map(|word| {
        word.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
    })
}
