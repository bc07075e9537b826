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

/// The firmware `cargo xtask size` lists by default: the examples a user starts from
/// (`--all` lists every bin, test suites and benches included).
pub const EXAMPLES: [&str; 5] = [
    "hello",
    "blinky_agent",
    "anomaly_monitor",
    "keyword_to_cloud",
    "agent",
];

/// One firmware's row: board, ELF, sections and the model weights inside.
pub struct SizeRow {
    /// The board's name.
    pub board: &'static str,
    /// The firmware image.
    pub elf: std::path::PathBuf,
    /// Its sections.
    pub footprint: Footprint,
    /// Bytes of TFLite models embedded in its flash (part of `rodata`).
    pub weights: u64,
}

impl SizeRow {
    /// The bin's name.
    pub fn name(&self) -> String {
        self.elf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// `cargo xtask size [--board <b>] [--all] [--markdown]`: builds the firmware (release)
/// and prints flash and RAM per example and board, model weights apart.
pub fn cmd(raw: &[String]) -> Result {
    let args = Args::parse(raw, &["--all", "--markdown"], &["--board"])?;
    let chosen: Vec<&Board> = match args.option("--board") {
        Some(b) => vec![boards::find(b)?],
        None => boards::BOARDS.iter().collect(),
    };
    let models = known_models()?;
    let mut rows = Vec::new();
    for board in chosen {
        let elves = if args.flag("--all") {
            build::firmware(
                board,
                &FirmwareBuild {
                    release: true,
                    ..Default::default()
                },
            )?
        } else {
            let present = build::bin_names(board.firmware_dir)?;
            let mut elves = Vec::new();
            for example in EXAMPLES.iter().filter(|e| present.iter().any(|p| p == *e)) {
                elves.extend(build::firmware(
                    board,
                    &FirmwareBuild {
                        example: Some(example),
                        release: true,
                        ..Default::default()
                    },
                )?);
            }
            elves
        };
        for elf in elves {
            let bytes = std::fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
            let file =
                object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", elf.display()))?;
            rows.push(SizeRow {
                board: board.name,
                footprint: Footprint::of_object(&file),
                weights: model_weights(&file, &models),
                elf,
            });
        }
    }
    if args.flag("--markdown") {
        print_markdown(&rows);
    } else {
        print_table(&rows);
    }
    Ok(())
}

/// The TFLite models in the repository (`*.tflite` that git tracks under `ioto-ml/tests/golden`
/// and the examples), which firmware may embed with `include_bytes!`.
pub fn known_models() -> Result<Vec<Vec<u8>>> {
    let root = crate::toolchain::repo_root();
    let out = std::process::Command::new("git")
        .current_dir(&root)
        .args(["ls-files", "-z", "--", "*.tflite"])
        .output()
        .map_err(|e| format!("git ls-files: {e}"))?;
    let mut models = Vec::new();
    for path in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = root.join(String::from_utf8_lossy(path).as_ref());
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !models.contains(&bytes) {
            models.push(bytes);
        }
    }
    Ok(models)
}

/// Bytes of `models` embedded whole in the allocated sections of `file` (each model
/// counted once): how `include_bytes!` models appear, named or merged into an anonymous
/// constant.
pub fn model_weights(file: &object::File<'_>, models: &[Vec<u8>]) -> u64 {
    let sections: Vec<&[u8]> = file
        .sections()
        .filter(|s| {
            matches!(s.flags(), SectionFlags::Elf { sh_flags } if sh_flags & u64::from(object::elf::SHF_ALLOC) != 0)
        })
        .filter_map(|s| s.data().ok())
        .collect();
    models
        .iter()
        .filter(|m| m.len() >= 8)
        .filter(|m| sections.iter().any(|data| contains(data, m)))
        .map(|m| m.len() as u64)
        .sum()
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(first) = needle.first() else {
        return true;
    };
    let mut at = 0;
    while let Some(i) = haystack
        .get(at..)
        .and_then(|rest| rest.iter().position(|b| b == first))
    {
        let start = at + i;
        if haystack
            .get(start..start + needle.len())
            .is_some_and(|w| w == needle)
        {
            return true;
        }
        at = start + 1;
    }
    false
}

/// Prints one row per firmware.
pub fn print_table(rows: &[SizeRow]) {
    println!(
        "{:<10} {:<18} {:>9} {:>9} {:>7} {:>9} {:>8} {:>10} {:>10} {:>10}",
        "board", "firmware", "text", "rodata", "data", "bss", "stack", "flash", "weights", "ram"
    );
    for row in rows {
        let f = &row.footprint;
        println!(
            "{:<10} {:<18} {:>9} {:>9} {:>7} {:>9} {:>8} {:>10} {:>10} {:>10}",
            row.board,
            row.name(),
            f.text,
            f.rodata,
            f.data,
            f.bss,
            f.stack,
            f.flash() - row.weights,
            row.weights,
            f.ram()
        );
    }
}

/// Prints the rows as the Markdown table the root README carries.
pub fn print_markdown(rows: &[SizeRow]) {
    println!("| board | example | flash (code + data), KB | model weights, KB | static RAM, KB |");
    println!("|---|---|---:|---:|---:|");
    let kb = |b: u64| format!("{:.1}", b as f64 / 1024.0);
    for row in rows {
        let f = &row.footprint;
        let weights = if row.weights == 0 {
            "–".to_string()
        } else {
            kb(row.weights)
        };
        println!(
            "| {} | `{}` | {} | {} | {} |",
            row.board,
            row.name(),
            kb(f.flash() - row.weights),
            weights,
            kb(f.ram())
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

    /// A stand-in model in this test binary: 256 bytes no other data repeats.
    #[used]
    static IOTO_SIZE_TEST_MODEL: [u8; 256] = {
        let mut m = [0u8; 256];
        let mut i = 0;
        while i < 256 {
            m[i] = (i as u8).wrapping_mul(167).wrapping_add(13);
            i += 1;
        }
        m
    };

    #[test]
    fn counts_embedded_models_once_and_nothing_else() {
        let exe = std::env::current_exe().expect("test binary path");
        let bytes = std::fs::read(&exe).expect("read test binary");
        let file = object::File::parse(&*bytes).expect("ELF parses");
        let model = IOTO_SIZE_TEST_MODEL.to_vec();
        let mut absent = model.clone();
        absent.reverse();
        assert_eq!(model_weights(&file, std::slice::from_ref(&model)), 256);
        assert_eq!(model_weights(&file, &[absent]), 0);
        // Every model in the repository is a real TFLite file, none in this binary.
        let known = known_models().expect("models");
        assert!(!known.is_empty());
        assert!(
            known
                .iter()
                .all(|m| m.get(4..8) == Some(b"TFL3".as_slice()))
        );
        assert_eq!(model_weights(&file, &known), 0);
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
