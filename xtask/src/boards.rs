//! The boards Ioto-rs supports: physical chips and their QEMU stand-ins.

/// Where a board's firmware runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A QEMU machine: the command line before `-kernel <elf>`.
    Virtual(&'static [&'static str]),
    /// Real hardware reached through `probe-rs` with this chip name.
    Physical(&'static str),
}

/// How a virtual board's network controller joins QEMU's netdev `n0`
/// (see `qemu_net`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nic {
    /// A controller on the board itself, claimed with `-net nic,netdev=n0,model=<model>`.
    OnBoard(&'static str),
    /// A device to plug in: `-device <device>,netdev=n0`.
    Device(&'static str),
}

/// One board.
#[derive(Clone, Copy, Debug)]
pub struct Board {
    /// The name used on the command line.
    pub name: &'static str,
    /// The Rust target triple.
    pub target: &'static str,
    /// The firmware crate, relative to the repository root.
    pub firmware_dir: &'static str,
    /// Cargo features selecting the board in that crate.
    pub features: &'static [&'static str],
    /// Where it runs.
    pub kind: Kind,
    /// The chip the board is or stands in for.
    pub chip: &'static str,
    /// The virtual board's network controller (`None`: physical boards).
    pub nic: Option<Nic>,
}

/// Flags common to every QEMU run: no display, semihosting for console and exit
/// status, and `-icount shift=0` so the instruction counter is exact.
pub const QEMU_COMMON: [&str; 10] = [
    "-nographic",
    "-monitor",
    "none",
    "-serial",
    "none",
    "-semihosting-config",
    "enable=on,target=native",
    "-icount",
    "shift=0",
    "-no-reboot",
];

/// Every board, virtual first.
pub const BOARDS: [Board; 6] = [
    Board {
        name: "qemu-m4f",
        target: "thumbv7em-none-eabihf",
        firmware_dir: "examples/qemu",
        features: &["m4f"],
        kind: Kind::Virtual(&[
            "qemu-system-arm",
            "-machine",
            "mps2-an386",
            "-cpu",
            "cortex-m4",
        ]),
        chip: "nRF52840 (Cortex-M4F)",
        // mps2-an386's SMSC LAN9118 at 0x4020_0000.
        nic: Some(Nic::OnBoard("lan9118")),
    },
    Board {
        name: "qemu-m0",
        target: "thumbv6m-none-eabi",
        firmware_dir: "examples/qemu",
        features: &["m0"],
        kind: Kind::Virtual(&[
            "qemu-system-arm",
            "-machine",
            "mps2-an385",
            "-cpu",
            "cortex-m3",
        ]),
        chip: "RP2040 (Cortex-M0+)",
        // mps2-an385's SMSC LAN9118 at 0x4020_0000.
        nic: Some(Nic::OnBoard("lan9118")),
    },
    Board {
        name: "qemu-rv32",
        target: "riscv32imc-unknown-none-elf",
        firmware_dir: "examples/qemu",
        features: &["rv32"],
        kind: Kind::Virtual(&["qemu-system-riscv32", "-machine", "virt", "-bios", "none"]),
        chip: "ESP32-C3 (RV32IMC)",
        // virtio-net on one of virt's virtio-mmio transports (0x1000_1000..0x1000_8fff).
        nic: Some(Nic::Device("virtio-net-device")),
    },
    Board {
        name: "nrf52840",
        target: "thumbv7em-none-eabihf",
        firmware_dir: "examples/nrf52840",
        features: &[],
        kind: Kind::Physical("nRF52840_xxAA"),
        chip: "nRF52840",
        nic: None,
    },
    Board {
        name: "rp2040",
        target: "thumbv6m-none-eabi",
        firmware_dir: "examples/rp2040",
        features: &[],
        kind: Kind::Physical("RP2040"),
        chip: "RP2040",
        nic: None,
    },
    Board {
        name: "esp32c3",
        target: "riscv32imc-unknown-none-elf",
        firmware_dir: "examples/esp32c3",
        features: &[],
        kind: Kind::Physical("esp32c3"),
        chip: "ESP32-C3",
        nic: None,
    },
];

impl Board {
    /// Whether QEMU runs this board.
    pub fn is_virtual(&self) -> bool {
        matches!(self.kind, Kind::Virtual(_))
    }
}

/// The board called `name`, or an error listing the valid names.
pub fn find(name: &str) -> crate::Result<&'static Board> {
    BOARDS.iter().find(|b| b.name == name).ok_or_else(|| {
        let names: Vec<_> = BOARDS.iter().map(|b| b.name).collect();
        format!("unknown board `{name}`; boards: {}", names.join(", "))
    })
}

/// The virtual boards.
pub fn virtual_boards() -> impl Iterator<Item = &'static Board> {
    BOARDS.iter().filter(|b| b.is_virtual())
}
