//! Console output over semihosting (QEMU prints it on its standard output).

use core::fmt;

/// A [`fmt::Write`] sink that sends text to the host through semihosting.
#[derive(Clone, Copy, Debug, Default)]
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::rt::write_host(s.as_bytes());
        Ok(())
    }
}

/// Prints formatted text to the host console, without a newline.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Prints formatted text to the host console, followed by a newline.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        $crate::print!($($arg)*);
        $crate::print!("\n");
    }};
}
