//! Networking on the virtual boards (feature `net`): an [`embassy_net_driver::Driver`]
//! for each board's network controller, and the addresses of QEMU's user-mode
//! network.
//!
//! | board | controller | driver |
//! |---|---|---|
//! | `qemu-m4f`, `qemu-m0` | on-board SMSC LAN9118 at `0x4020_0000` | [`lan9118::Lan9118`] |
//! | `qemu-rv32` | virtio-net on one of `virt`'s 8 virtio-mmio slots at `0x1000_1000` | [`virtio::VirtioNet`] |
//!
//! [`nic`] brings up the board's controller; hand it to `embassy_net::new` with a
//! static configuration: [`ADDRESS`]/[`PREFIX_LEN`], gateway [`GATEWAY`] (QEMU's
//! user-mode network, "slirp", defaults). Both drivers are polled: run the stack's
//! runner next to the application in one [`block_on`](crate::block_on) (e.g. with
//! `embassy_futures::select`), with the [`time`](crate::time) driver giving
//! `embassy-time` its clock.
//!
//! `cargo xtask hil-test` starts QEMU with `-netdev user,restrict=on,guestfwd=...`: the
//! firmware reaches the test's own loopback services at [`SERVICES`]`:<port>` and
//! nothing else (no DNS, no gateway, no outside address).

pub mod lan9118;
pub mod virtio;

use embassy_net_driver::Capabilities;

/// The board's network controller driver.
#[cfg(target_arch = "arm")]
pub type Nic = lan9118::Lan9118;
/// The board's network controller driver.
#[cfg(target_arch = "riscv32")]
pub type Nic = virtio::VirtioNet;

/// The guest's IPv4 address (slirp's first DHCP lease, used statically).
pub const ADDRESS: [u8; 4] = [10, 0, 2, 15];
/// Prefix length of the user-mode network (10.0.2.0/24).
pub const PREFIX_LEN: u8 = 24;
/// slirp's gateway (which, without `restrict=on`, would also be the host's loopback).
pub const GATEWAY: [u8; 4] = [10, 0, 2, 2];
/// Where xtask's `guestfwd` rules put the test's loopback services.
pub const SERVICES: [u8; 4] = [10, 0, 2, 100];

/// The largest Ethernet frame either driver carries (1500-byte IP MTU + 14-byte
/// header, no FCS).
pub const FRAME_MAX: usize = 1514;

/// Why the network controller could not be brought up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// No network controller where the board has one (QEMU without a NIC: see the
    /// crate README for the `-netdev`/`-nic` options).
    NoDevice,
    /// [`nic`] was called before: the controller has one driver.
    Taken,
    /// The device lacks something the driver needs.
    Unsupported(&'static str),
    /// A register did not settle.
    Timeout(&'static str),
    /// The controller reports no MAC address.
    NoMacAddress,
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NetError::NoDevice => {
                f.write_str("no network controller (QEMU started without a NIC?)")
            }
            NetError::Taken => f.write_str("the network controller is already in use"),
            NetError::Unsupported(what) => write!(f, "unsupported network device: {what}"),
            NetError::Timeout(what) => write!(f, "network controller timed out: {what}"),
            NetError::NoMacAddress => f.write_str("the network controller has no MAC address"),
        }
    }
}

impl core::error::Error for NetError {}

/// A device's 32-bit registers at one base address.
#[derive(Clone, Copy, Debug)]
struct Regs(usize);

impl Regs {
    fn read(self, offset: usize) -> u32 {
        // SAFETY: the driver's constructor was given this base by a caller who vouched
        // for the device there; every offset used is one of its 32-bit registers.
        unsafe { core::ptr::read_volatile((self.0 + offset) as *const u32) }
    }

    fn write(self, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile((self.0 + offset) as *mut u32, value) }
    }
}

/// What both drivers offer: 1500-byte IP packets, checksums in software. No burst
/// limit: smoltcp would clamp the TCP window to `max_burst_size` frames, and a
/// one-segment window turns every transfer into one segment per delayed ACK (both
/// controllers buffer several frames: 10 KiB of LAN9118 RX FIFO, 8 virtio buffers).
fn capabilities() -> Capabilities {
    let mut caps = Capabilities::default();
    caps.max_transmission_unit = FRAME_MAX;
    caps
}

/// Claims the controller once (later calls: [`NetError::Taken`]).
fn claim() -> Result<(), NetError> {
    static TAKEN: critical_section::Mutex<core::cell::Cell<bool>> =
        critical_section::Mutex::new(core::cell::Cell::new(false));
    critical_section::with(|cs| {
        if TAKEN.borrow(cs).replace(true) {
            Err(NetError::Taken)
        } else {
            Ok(())
        }
    })
}

/// Brings up this board's network controller (once).
#[cfg(target_arch = "arm")]
pub fn nic() -> Result<Nic, NetError> {
    claim()?;
    // SAFETY: the MPS2 boards map their LAN9118 there, and `claim` makes this the
    // only driver.
    unsafe { lan9118::Lan9118::new(lan9118::MPS2_BASE) }
}

/// Brings up this board's network controller (once), with its queues and buffers in
/// a static of about 33 KiB.
#[cfg(target_arch = "riscv32")]
pub fn nic() -> Result<Nic, NetError> {
    static mut MEMORY: virtio::VirtioNetMemory = virtio::VirtioNetMemory::new();
    claim()?;
    // SAFETY: `claim` lets this run once, so the `&mut` to MEMORY is unique; `virt`
    // maps its virtio-mmio transports at these addresses.
    unsafe {
        virtio::VirtioNet::probe(
            virtio::VIRT_MMIO_BASE,
            virtio::VIRT_MMIO_SLOTS,
            &mut *core::ptr::addr_of_mut!(MEMORY),
        )
    }
}
