//! virtio-net over virtio-mmio (the `virt` machine's network device), polled.
//!
//! Both transport versions are driven: version 1 ("legacy", what QEMU gives by
//! default) and version 2 (`-global virtio-mmio.force-legacy=false`). Two split
//! virtqueues of [`QUEUE`] entries, receive and transmit, each with its own buffers,
//! all in a caller-provided [`VirtioNetMemory`] (the device reads and writes it
//! directly, so it must stay put: `&'static mut`). Only `VIRTIO_NET_F_MAC` (and
//! `VIRTIO_F_VERSION_1` on version 2) is negotiated: no offloads, no merged buffers,
//! the link is always up. No interrupt is used: the driver checks the used rings when
//! polled and wakes the waker when it cannot make progress.

use super::{FRAME_MAX, NetError, Regs};
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};
use core::sync::atomic::{Ordering, fence};
use core::task::Context;
use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};

/// The first virtio-mmio transport of QEMU's riscv `virt` machine.
pub const VIRT_MMIO_BASE: usize = 0x1000_1000;
/// Distance between two transports.
pub const VIRT_MMIO_STRIDE: usize = 0x1000;
/// Number of virtio-mmio transports on `virt`.
pub const VIRT_MMIO_SLOTS: usize = 8;

/// Entries per virtqueue (and buffers per direction).
pub const QUEUE: usize = 8;
/// One buffer: the virtio-net header plus the largest frame.
const BUF: usize = 1536;

// virtio-mmio registers (virtio 1.2 §4.2.2; legacy ones §4.2.4).
const MAGIC: usize = 0x000;
const VERSION: usize = 0x004;
const DEVICE_ID: usize = 0x008;
const DEVICE_FEATURES: usize = 0x010;
const DEVICE_FEATURES_SEL: usize = 0x014;
const DRIVER_FEATURES: usize = 0x020;
const DRIVER_FEATURES_SEL: usize = 0x024;
const LEGACY_GUEST_PAGE_SIZE: usize = 0x028;
const QUEUE_SEL: usize = 0x030;
const QUEUE_NUM_MAX: usize = 0x034;
const QUEUE_NUM: usize = 0x038;
const LEGACY_QUEUE_ALIGN: usize = 0x03c;
const LEGACY_QUEUE_PFN: usize = 0x040;
const QUEUE_READY: usize = 0x044;
const QUEUE_NOTIFY: usize = 0x050;
const STATUS: usize = 0x070;
const QUEUE_DESC: usize = 0x080;
const QUEUE_DRIVER: usize = 0x090;
const QUEUE_DEVICE: usize = 0x0a0;
const CONFIG: usize = 0x100;

const MAGIC_VALUE: u32 = 0x7472_6976; // "virt"
const DEVICE_NET: u32 = 1;
const STATUS_ACKNOWLEDGE: u32 = 1;
const STATUS_DRIVER: u32 = 2;
const STATUS_DRIVER_OK: u32 = 4;
const STATUS_FEATURES_OK: u32 = 8;
/// `VIRTIO_NET_F_MAC`, in the low feature word.
const F_MAC: u32 = 1 << 5;
/// `VIRTIO_F_VERSION_1`: bit 32, i.e. bit 0 of the high feature word.
const F_VERSION_1_HIGH: u32 = 1;
const DESC_F_WRITE: u16 = 2;
const AVAIL_F_NO_INTERRUPT: u16 = 1;
const USED_F_NO_NOTIFY: u16 = 1;
const PAGE: usize = 4096;
/// The legacy used-ring alignment we announce (`QueueAlign`).
const LEGACY_ALIGN: usize = 16;
const RX_QUEUE: u32 = 0;
const TX_QUEUE: u32 = 1;

#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Desc {
    addr: u64,
    len: u32,
    flags: u16,
    next: u16,
}

#[repr(C)]
struct Avail {
    flags: u16,
    idx: u16,
    ring: [u16; QUEUE],
    used_event: u16,
}

#[derive(Clone, Copy)]
#[repr(C)]
struct UsedElem {
    id: u32,
    len: u32,
}

#[repr(C, align(16))]
struct Used {
    flags: u16,
    idx: u16,
    ring: [UsedElem; QUEUE],
    avail_event: u16,
}

/// One split virtqueue, page-aligned for the legacy transport's `QueuePFN`.
#[repr(C, align(4096))]
struct Ring {
    desc: [Desc; QUEUE],
    avail: Avail,
    used: Used,
}

// The legacy layout puts the used ring at `align(desc + avail, QueueAlign)`; QEMU
// leaves `used_event` out of the avail size. Both must land on our `used` field.
const _: () = {
    let desc_avail = 16 * QUEUE + 2 * (3 + QUEUE);
    let qemu = 16 * QUEUE + 2 * (2 + QUEUE);
    assert!(core::mem::offset_of!(Ring, used) == desc_avail.next_multiple_of(LEGACY_ALIGN));
    assert!(core::mem::offset_of!(Ring, used) == qemu.next_multiple_of(LEGACY_ALIGN));
};

impl Ring {
    const EMPTY: Ring = Ring {
        desc: [Desc {
            addr: 0,
            len: 0,
            flags: 0,
            next: 0,
        }; QUEUE],
        avail: Avail {
            flags: 0,
            idx: 0,
            ring: [0; QUEUE],
            used_event: 0,
        },
        used: Used {
            flags: 0,
            idx: 0,
            ring: [UsedElem { id: 0, len: 0 }; QUEUE],
            avail_event: 0,
        },
    };
}

/// The memory the device shares with the driver: both virtqueues and their buffers
/// (about 33 KiB). Place it in a `static` and hand it to [`VirtioNet::probe`].
#[repr(C)]
pub struct VirtioNetMemory {
    rx: Ring,
    tx: Ring,
    rx_buf: [[u8; BUF]; QUEUE],
    tx_buf: [[u8; BUF]; QUEUE],
}

impl VirtioNetMemory {
    /// Zeroed memory.
    pub const fn new() -> Self {
        VirtioNetMemory {
            rx: Ring::EMPTY,
            tx: Ring::EMPTY,
            rx_buf: [[0; BUF]; QUEUE],
            tx_buf: [[0; BUF]; QUEUE],
        }
    }
}

impl Default for VirtioNetMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for VirtioNetMemory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VirtioNetMemory")
    }
}

impl Regs {
    fn config_byte(self, index: usize) -> u8 {
        // SAFETY: as in `Regs::read`; the device-specific configuration space allows byte
        // reads.
        unsafe { read_volatile((self.0 + CONFIG + index) as *const u8) }
    }
}

/// Tells the device about new buffers in `queue` unless it asked not to be told.
fn notify(regs: Regs, ring: *const Ring, queue: u32) {
    fence(Ordering::SeqCst);
    // SAFETY: `ring` points into the driver's `VirtioNetMemory`.
    let flags = unsafe { read_volatile(addr_of!((*ring).used.flags)) };
    if flags & USED_F_NO_NOTIFY == 0 {
        regs.write(QUEUE_NOTIFY, queue);
    }
}

/// Puts descriptor `id` on `ring`'s available ring (entry number `*avail`).
fn offer(ring: *mut Ring, avail: &mut u16, id: u16) {
    // SAFETY: `ring` points into the driver's `VirtioNetMemory`; the device only
    // reads the available ring.
    unsafe {
        write_volatile(
            addr_of_mut!((*ring).avail.ring[usize::from(*avail) % QUEUE]),
            id,
        );
        fence(Ordering::SeqCst);
        *avail = avail.wrapping_add(1);
        write_volatile(addr_of_mut!((*ring).avail.idx), *avail);
    }
}

/// The used-ring entry after `seen`, if the device has published one.
fn take_used(ring: *const Ring, seen: &mut u16) -> Option<UsedElem> {
    // SAFETY: `ring` points into the driver's `VirtioNetMemory`; the device writes
    // the entry before it publishes `used.idx` (read first, then a fence).
    unsafe {
        if read_volatile(addr_of!((*ring).used.idx)) == *seen {
            return None;
        }
        fence(Ordering::SeqCst);
        let elem = read_volatile(addr_of!((*ring).used.ring[usize::from(*seen) % QUEUE]));
        *seen = seen.wrapping_add(1);
        Some(elem)
    }
}

/// The receive side.
#[derive(Debug)]
struct RxSide {
    regs: Regs,
    mem: *mut VirtioNetMemory,
    avail: u16,
    used_seen: u16,
}

/// The transmit side.
#[derive(Debug)]
struct TxSide {
    regs: Regs,
    mem: *mut VirtioNetMemory,
    avail: u16,
    used_seen: u16,
    /// Bit `i` set: transmit buffer `i` is free.
    free: u32,
    header: usize,
}

impl TxSide {
    /// Frees the buffers the device has finished sending; true if one is free.
    fn reclaim(&mut self) -> bool {
        // SAFETY: `mem` is the driver's memory (see `VirtioNet::probe`).
        let ring = unsafe { addr_of_mut!((*self.mem).tx) };
        while let Some(done) = take_used(ring, &mut self.used_seen) {
            if (done.id as usize) < QUEUE {
                self.free |= 1 << done.id;
            }
        }
        self.free != 0
    }
}

/// A virtio-net device as an `embassy-net` driver.
#[derive(Debug)]
pub struct VirtioNet {
    rx: RxSide,
    tx: TxSide,
    mac: [u8; 6],
    version: u32,
}

impl VirtioNet {
    /// Finds the first virtio-net device among `slots` transports starting at `base`
    /// ([`VIRT_MMIO_BASE`], [`VIRT_MMIO_SLOTS`] on `virt`), and brings it up with
    /// `mem` as its queues and buffers.
    ///
    /// # Safety
    /// Virtio-mmio transports (or nothing that faults on reads) must be mapped at the
    /// `slots` addresses, and nothing else may drive the device found while the driver
    /// lives.
    pub unsafe fn probe(
        base: usize,
        slots: usize,
        mem: &'static mut VirtioNetMemory,
    ) -> Result<Self, NetError> {
        let regs = (0..slots)
            .map(|i| Regs(base + i * VIRT_MMIO_STRIDE))
            .find(|r| r.read(MAGIC) == MAGIC_VALUE && r.read(DEVICE_ID) == DEVICE_NET)
            .ok_or(NetError::NoDevice)?;
        let version = regs.read(VERSION);
        if !(1..=2).contains(&version) {
            return Err(NetError::Unsupported("virtio-mmio version"));
        }
        let mem: *mut VirtioNetMemory = mem;
        regs.write(STATUS, 0);
        if regs.read(STATUS) != 0 {
            return Err(NetError::Timeout("device reset"));
        }
        regs.write(STATUS, STATUS_ACKNOWLEDGE);
        regs.write(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        let offered = features(regs, 0);
        let wanted = offered & F_MAC;
        regs.write(DRIVER_FEATURES_SEL, 0);
        regs.write(DRIVER_FEATURES, wanted);
        let mut status = STATUS_ACKNOWLEDGE | STATUS_DRIVER;
        if version == 2 {
            if features(regs, 1) & F_VERSION_1_HIGH == 0 {
                return Err(NetError::Unsupported("VIRTIO_F_VERSION_1 not offered"));
            }
            regs.write(DRIVER_FEATURES_SEL, 1);
            regs.write(DRIVER_FEATURES, F_VERSION_1_HIGH);
            status |= STATUS_FEATURES_OK;
            regs.write(STATUS, status);
            if regs.read(STATUS) & STATUS_FEATURES_OK == 0 {
                return Err(NetError::Unsupported("features refused"));
            }
        } else {
            regs.write(LEGACY_GUEST_PAGE_SIZE, PAGE as u32);
        }
        // SAFETY: `mem` is exclusively ours for the driver's lifetime.
        let (rx_ring, tx_ring) = unsafe { (addr_of_mut!((*mem).rx), addr_of_mut!((*mem).tx)) };
        setup_queue(regs, version, RX_QUEUE, rx_ring)?;
        setup_queue(regs, version, TX_QUEUE, tx_ring)?;
        let mac = if wanted & F_MAC != 0 {
            core::array::from_fn(|i| regs.config_byte(i))
        } else {
            // A locally administered address, as the device has none.
            [0x02, 0, 0, 0, 0, 0x01]
        };
        let header = if version == 2 { 12 } else { 10 };
        let mut rx = RxSide {
            regs,
            mem,
            avail: 0,
            used_seen: 0,
        };
        // SAFETY: the rings and buffers are ours; the device is not running yet.
        unsafe {
            for i in 0..QUEUE {
                (*rx_ring).desc[i] = Desc {
                    addr: addr_of_mut!((*mem).rx_buf[i]) as usize as u64,
                    len: BUF as u32,
                    flags: DESC_F_WRITE,
                    next: 0,
                };
                (*tx_ring).desc[i] = Desc {
                    addr: addr_of_mut!((*mem).tx_buf[i]) as usize as u64,
                    len: 0,
                    flags: 0,
                    next: 0,
                };
                (&mut (*mem).tx_buf[i])[..header].fill(0);
            }
            (*rx_ring).avail.flags = AVAIL_F_NO_INTERRUPT;
            (*tx_ring).avail.flags = AVAIL_F_NO_INTERRUPT;
        }
        for i in 0..QUEUE as u16 {
            offer(rx_ring, &mut rx.avail, i);
        }
        regs.write(STATUS, status | STATUS_DRIVER_OK);
        notify(regs, rx_ring, RX_QUEUE);
        Ok(VirtioNet {
            rx,
            tx: TxSide {
                regs,
                mem,
                avail: 0,
                used_seen: 0,
                free: (1 << QUEUE) - 1,
                header,
            },
            mac,
            version,
        })
    }

    /// The device's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// The virtio-mmio transport version in use (1: legacy, 2: modern).
    pub fn transport_version(&self) -> u32 {
        self.version
    }
}

fn features(regs: Regs, word: u32) -> u32 {
    regs.write(DEVICE_FEATURES_SEL, word);
    regs.read(DEVICE_FEATURES)
}

fn setup_queue(regs: Regs, version: u32, queue: u32, ring: *mut Ring) -> Result<(), NetError> {
    regs.write(QUEUE_SEL, queue);
    if (regs.read(QUEUE_NUM_MAX) as usize) < QUEUE {
        return Err(NetError::Unsupported("virtqueue too small"));
    }
    regs.write(QUEUE_NUM, QUEUE as u32);
    // Addresses are physical = virtual here, and below 4 GiB on riscv32.
    let at = |p: usize| p as u32;
    if version == 1 {
        regs.write(LEGACY_QUEUE_ALIGN, LEGACY_ALIGN as u32);
        regs.write(LEGACY_QUEUE_PFN, at(ring as usize / PAGE));
    } else {
        // SAFETY: only addresses are computed.
        let (desc, avail, used) = unsafe {
            (
                addr_of!((*ring).desc) as usize,
                addr_of!((*ring).avail) as usize,
                addr_of!((*ring).used) as usize,
            )
        };
        for (reg, addr) in [
            (QUEUE_DESC, desc),
            (QUEUE_DRIVER, avail),
            (QUEUE_DEVICE, used),
        ] {
            regs.write(reg, at(addr));
            regs.write(reg + 4, 0);
        }
        regs.write(QUEUE_READY, 1);
    }
    Ok(())
}

/// A received frame, still in its receive buffer; consuming it gives the buffer back
/// to the device.
#[derive(Debug)]
pub struct VirtioRx<'a> {
    side: &'a mut RxSide,
    id: u16,
    start: usize,
    end: usize,
}

/// A free transmit buffer.
#[derive(Debug)]
pub struct VirtioTx<'a>(&'a mut TxSide);

impl RxToken for VirtioRx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        let side = self.side;
        // SAFETY: the device is done with buffer `id` (it is on the used ring) until
        // it is offered again below.
        let buf = unsafe { &mut (*side.mem).rx_buf[usize::from(self.id)] };
        let result = f(&mut buf[self.start..self.end]);
        // SAFETY: `mem` is the driver's memory.
        let ring = unsafe { addr_of_mut!((*side.mem).rx) };
        offer(ring, &mut side.avail, self.id);
        notify(side.regs, ring, RX_QUEUE);
        result
    }
}

impl TxToken for VirtioTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let side = self.0;
        let id = side.free.trailing_zeros() as u16;
        side.free &= !(1 << id);
        let len = len.min(BUF - side.header);
        // SAFETY: buffer `id` was free: the device does not read it until offered.
        let buf = unsafe { &mut (*side.mem).tx_buf[usize::from(id)] };
        let result = f(&mut buf[side.header..side.header + len]);
        // SAFETY: `mem` is the driver's memory; the descriptor belongs to buffer `id`.
        let ring = unsafe {
            let ring = addr_of_mut!((*side.mem).tx);
            write_volatile(
                addr_of_mut!((*ring).desc[usize::from(id)].len),
                (side.header + len) as u32,
            );
            ring
        };
        offer(ring, &mut side.avail, id);
        notify(side.regs, ring, TX_QUEUE);
        result
    }
}

impl Driver for VirtioNet {
    type RxToken<'a> = VirtioRx<'a>;
    type TxToken<'a> = VirtioTx<'a>;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if !self.tx.reclaim() {
            cx.waker().wake_by_ref();
            return None;
        }
        // SAFETY: `mem` is the driver's memory.
        let ring = unsafe { addr_of_mut!((*self.rx.mem).rx) };
        let Some(elem) = take_used(ring, &mut self.rx.used_seen) else {
            cx.waker().wake_by_ref();
            return None;
        };
        let (id, len) = (elem.id as usize, elem.len as usize);
        if id >= QUEUE {
            cx.waker().wake_by_ref();
            return None;
        }
        let header = self.tx.header;
        if !(header + 14..=BUF).contains(&len) {
            // Malformed: hand the buffer straight back.
            offer(ring, &mut self.rx.avail, id as u16);
            notify(self.rx.regs, ring, RX_QUEUE);
            cx.waker().wake_by_ref();
            return None;
        }
        let rx = VirtioRx {
            side: &mut self.rx,
            id: id as u16,
            start: header,
            end: len.min(header + FRAME_MAX),
        };
        Some((rx, VirtioTx(&mut self.tx)))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        if self.tx.reclaim() {
            Some(VirtioTx(&mut self.tx))
        } else {
            cx.waker().wake_by_ref();
            None
        }
    }

    fn link_state(&mut self, _cx: &mut Context<'_>) -> LinkState {
        LinkState::Up
    }

    fn capabilities(&self) -> Capabilities {
        super::capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac)
    }
}
