//! `cargo xtask size`: flash and RAM of each firmware, read from its ELF sections.

use std::path::Path;

use object::{Object, ObjectSection, SectionFlags, SectionKind};

use crate::{
    Result,
    args::Args,
    boards::{self, Board},
    build::{self, FirmwareBuild},
};

/// Section sizes of one firmware, in bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Executable code.
    pub text: u64,
    /// Read-only data (including the vector table).
    pub rodata: u64,
    /// Initialised data (in flash, copied to RAM at boot).
    pub data: u64,
    /// Zero-initialised and uninitialised RAM (heaps declared as statics included).
    pub bss: u64,
    /// A reserved stack section, where the runtime declares one.
    pub stack: u64,
}

impl Footprint {
    /// Flash bytes: text + rodata + data.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    /// Static RAM bytes: data + bss + stack section.
    pub fn ram(&self) -> u64 {
        self.data + self.bss + self.stack
    }

    /// Reads the allocated sections of an ELF file.
    pub fn of_elf(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self::of_object(&file))
    }

    /// Sums the allocated sections of a parsed ELF executable or object file.
    pub fn of_object(file: &object::File<'_>) -> Self {
        let mut fp = Footprint::default();
        for s in file.sections() {
            let SectionFlags::Elf { sh_flags } = s.flags() else {
                continue;
            };
            const ALLOC: u64 = object::elf::SHF_ALLOC as u64;
            const WRITE: u64 = object::elf::SHF_WRITE as u64;
            const EXEC: u64 = object::elf::SHF_EXECINSTR as u64;
            if sh_flags & ALLOC == 0 || s.size() == 0 {
                continue;
            }
            let name = s.name().unwrap_or("");
            // Address reservations (esp-hal's `.rotext_dummy`, `.rwdata_dummy`) take no memory.
            if name.ends_with("_dummy") {
                continue;
            }
            let slot = if name == ".stack" {
                &mut fp.stack
            } else if sh_flags & EXEC != 0 {
                &mut fp.text
            } else if sh_flags & WRITE == 0 {
                &mut fp.rodata
            } else if s.kind() == SectionKind::UninitializedData
                || s.kind() == SectionKind::UninitializedTls
            {
                &mut fp.bss
            } else {
                &mut fp.data
            };
            *slot += s.size();
        }
        fp
    }
}

/// `cargo xtask size [--board <b>]`: builds the firmware (release) and prints the table.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(raw, &[], &["--board"])?;
    let chosen: Vec<&Board> = match args.option("--board") {
        Some(b) => vec![boards::find(b)?],
        None => boards::virtual_boards().collect(),
    };
    let mut rows = Vec::new();
    for board in chosen {
        for elf in build::firmware(
            board,
            &FirmwareBuild {
                release: true,
                ..Default::default()
            },
        )? {
            rows.push((board.name, elf.clone(), Footprint::of_elf(&elf)?));
        }
    }
    print_table(&rows);
    Ok(())
}

/// Prints one row per firmware.
pub fn print_table(rows: &[(&str, std::path::PathBuf, Footprint)]) {
    println!(
        "{:<10} {:<18} {:>9} {:>9} {:>7} {:>9} {:>8} {:>10} {:>10}",
        "board", "firmware", "text", "rodata", "data", "bss", "stack", "flash", "ram"
    );
    for (board, elf, f) in rows {
        let name = elf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "{:<10} {:<18} {:>9} {:>9} {:>7} {:>9} {:>8} {:>10} {:>10}",
            board,
            name,
            f.text,
            f.rodata,
            f.data,
            f.bss,
            f.stack,
            f.flash(),
            f.ram()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_and_ram_sum_the_right_sections() {
        let f = Footprint {
            text: 100,
            rodata: 20,
            data: 4,
            bss: 50,
            stack: 1000,
        };
        assert_eq!(f.flash(), 124);
        assert_eq!(f.ram(), 1054);
    }

    #[test]
    fn reads_this_test_binary() {
        // A real ELF (the test executable itself) has code and read-only data.
        let exe = std::env::current_exe().expect("test binary path");
        let f = Footprint::of_elf(&exe).expect("ELF parses");
        assert!(f.text > 10_000, "text {}", f.text);
        assert!(f.rodata > 0);
    }
}
