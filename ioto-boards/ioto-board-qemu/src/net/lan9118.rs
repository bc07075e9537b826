//! SMSC LAN9118 (the MPS2 boards' on-board Ethernet controller), polled, 32-bit mode.
//!
//! Frames move through the controller's FIFOs one 32-bit word at a time: the driver
//! copies a received frame into its own buffer (then smoltcp parses it in place) and
//! writes a frame to transmit straight from its buffer into the TX data FIFO, with the
//! two command words in front. TX status words are allowed to overrun (`TXSAO`), so
//! nothing has to drain them. No interrupt is used; `receive`/`transmit` wake the
//! waker when they cannot make progress, so the executor keeps polling.

use super::{FRAME_MAX, NetError, Regs};
use core::task::Context;
use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState, RxToken, TxToken};

/// Where the LAN9118 sits on `mps2-an385` / `mps2-an386` (QEMU `hw/arm/mps2.c`).
pub const MPS2_BASE: usize = 0x4020_0000;

// Register offsets (LAN9118 datasheet, "System Control and Status Registers").
const RX_DATA_FIFO: usize = 0x00;
const TX_DATA_FIFO: usize = 0x20;
const RX_STATUS_FIFO: usize = 0x40;
const IRQ_CFG: usize = 0x54;
const INT_STS: usize = 0x58;
const INT_EN: usize = 0x5c;
const BYTE_TEST: usize = 0x64;
const RX_CFG: usize = 0x6c;
const TX_CFG: usize = 0x70;
const HW_CFG: usize = 0x74;
const RX_FIFO_INF: usize = 0x7c;
const TX_FIFO_INF: usize = 0x80;
const PMT_CTRL: usize = 0x84;
const MAC_CSR_CMD: usize = 0xa4;
const MAC_CSR_DATA: usize = 0xa8;

const BYTE_TEST_VALUE: u32 = 0x8765_4321;
const HW_CFG_SRST: u32 = 1;
const PMT_CTRL_READY: u32 = 1;
const TX_CFG_TX_ON: u32 = 1 << 1;
const TX_CFG_TXSAO: u32 = 1 << 2;
const CSR_BUSY: u32 = 1 << 31;
const CSR_READ: u32 = 1 << 30;
const TX_CMD_A_FIRST: u32 = 1 << 13;
const TX_CMD_A_LAST: u32 = 1 << 12;
const RX_STS_ERROR: u32 = 1 << 15;

// MAC registers, reached through MAC_CSR_CMD / MAC_CSR_DATA.
const MAC_CR: u32 = 1;
const MAC_ADDRH: u32 = 2;
const MAC_ADDRL: u32 = 3;
const MII_ACC: u32 = 6;
const MII_DATA: u32 = 7;
const MAC_CR_TXEN: u32 = 1 << 3;
const MAC_CR_RXEN: u32 = 1 << 2;
const MAC_CR_FDPX: u32 = 1 << 20;
const MII_BUSY: u32 = 1;
/// The internal PHY's MII address.
const PHY_ADDRESS: u32 = 1;
const PHY_BASIC_STATUS: u32 = 1;
const PHY_LINK_UP: u32 = 1 << 2;

/// Polls between two readings of the PHY's link status.
const LINK_RECHECK_POLLS: u16 = 1024;
/// Bounded waits for self-clearing bits (QEMU clears them at once).
const SPINS: u32 = 100_000;
/// Frame buffer: the largest frame plus its 4-byte FCS, rounded to whole words.
const BUF: usize = (FRAME_MAX + 4).next_multiple_of(4);

impl Regs {
    fn wait_clear(self, offset: usize, bit: u32, what: &'static str) -> Result<(), NetError> {
        for _ in 0..SPINS {
            if self.read(offset) & bit == 0 {
                return Ok(());
            }
        }
        Err(NetError::Timeout(what))
    }

    fn mac_read(self, reg: u32) -> Result<u32, NetError> {
        self.wait_clear(MAC_CSR_CMD, CSR_BUSY, "MAC CSR busy")?;
        self.write(MAC_CSR_CMD, CSR_BUSY | CSR_READ | reg);
        self.wait_clear(MAC_CSR_CMD, CSR_BUSY, "MAC CSR read")?;
        Ok(self.read(MAC_CSR_DATA))
    }

    fn mac_write(self, reg: u32, value: u32) -> Result<(), NetError> {
        self.wait_clear(MAC_CSR_CMD, CSR_BUSY, "MAC CSR busy")?;
        self.write(MAC_CSR_DATA, value);
        self.write(MAC_CSR_CMD, CSR_BUSY | reg);
        self.wait_clear(MAC_CSR_CMD, CSR_BUSY, "MAC CSR write")
    }

    fn phy_read(self, reg: u32) -> Result<u32, NetError> {
        self.mac_write(MII_ACC, (PHY_ADDRESS << 11) | (reg << 6) | MII_BUSY)?;
        for _ in 0..SPINS {
            if self.mac_read(MII_ACC)? & MII_BUSY == 0 {
                return self.mac_read(MII_DATA);
            }
        }
        Err(NetError::Timeout("MII read"))
    }

    /// Free space in the TX data FIFO, in bytes.
    fn tx_free(self) -> usize {
        (self.read(TX_FIFO_INF) & 0xffff) as usize
    }

    /// Frames waiting in the RX FIFO (entries of the RX status FIFO).
    fn rx_pending(self) -> u32 {
        (self.read(RX_FIFO_INF) >> 16) & 0xff
    }
}

/// A LAN9118 as an `embassy-net` driver.
#[derive(Debug)]
pub struct Lan9118 {
    regs: Regs,
    mac: [u8; 6],
    /// The last PHY link reading, and polls left until the next one (each costs a
    /// dozen register accesses, and embassy-net asks on every poll).
    link_up: bool,
    link_recheck: u16,
    rx: [u8; BUF],
    tx: [u8; BUF],
}

impl Lan9118 {
    /// Resets the controller at `base` and enables its transmitter and receiver
    /// (full duplex, filtering on its own MAC address and broadcast).
    ///
    /// # Safety
    /// A LAN9118 must be mapped at `base`, and nothing else may drive it while the
    /// returned driver lives.
    pub unsafe fn new(base: usize) -> Result<Self, NetError> {
        let regs = Regs(base);
        if regs.read(BYTE_TEST) != BYTE_TEST_VALUE {
            return Err(NetError::NoDevice);
        }
        regs.write(HW_CFG, HW_CFG_SRST);
        regs.wait_clear(HW_CFG, HW_CFG_SRST, "soft reset")?;
        if (0..SPINS).all(|_| regs.read(PMT_CTRL) & PMT_CTRL_READY == 0) {
            return Err(NetError::Timeout("device ready"));
        }
        regs.write(IRQ_CFG, 0);
        regs.write(INT_EN, 0);
        regs.write(INT_STS, u32::MAX);
        let low = regs.mac_read(MAC_ADDRL)?.to_le_bytes();
        let high = regs.mac_read(MAC_ADDRH)?.to_le_bytes();
        let mac = [low[0], low[1], low[2], low[3], high[0], high[1]];
        if mac == [0; 6] || mac == [0xff; 6] {
            return Err(NetError::NoMacAddress);
        }
        regs.write(TX_CFG, TX_CFG_TX_ON | TX_CFG_TXSAO);
        regs.write(RX_CFG, 0);
        regs.mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX)?;
        Ok(Lan9118 {
            regs,
            mac,
            link_up: false,
            link_recheck: 0,
            rx: [0; BUF],
            tx: [0; BUF],
        })
    }

    /// The controller's MAC address.
    pub fn mac_address(&self) -> [u8; 6] {
        self.mac
    }

    /// Reads one frame from the FIFO into `self.rx`; its length without the FCS, or
    /// `None` for a frame with an error or too large (read and dropped).
    fn read_frame(&mut self) -> Option<usize> {
        let status = self.regs.read(RX_STATUS_FIFO);
        let len = ((status >> 16) & 0x3fff) as usize;
        let words = len.div_ceil(4);
        let good = status & RX_STS_ERROR == 0 && (14 + 4..=BUF).contains(&len);
        for i in 0..words {
            let word = self.regs.read(RX_DATA_FIFO).to_le_bytes();
            if good {
                self.rx[i * 4..i * 4 + 4].copy_from_slice(&word);
            }
        }
        good.then_some(len - 4)
    }
}

/// A received frame, in the driver's buffer.
#[derive(Debug)]
pub struct Lan9118Rx<'a>(&'a mut [u8]);

/// Room for one frame in the TX FIFO.
#[derive(Debug)]
pub struct Lan9118Tx<'a> {
    regs: Regs,
    buf: &'a mut [u8; BUF],
}

impl RxToken for Lan9118Rx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl TxToken for Lan9118Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(FRAME_MAX);
        let result = f(&mut self.buf[..len]);
        let regs = self.regs;
        regs.write(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | len as u32);
        regs.write(TX_DATA_FIFO, ((len as u32) << 16) | len as u32);
        for chunk in self.buf[..len].chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            regs.write(TX_DATA_FIFO, u32::from_le_bytes(word));
        }
        result
    }
}

impl Driver for Lan9118 {
    type RxToken<'a> = Lan9118Rx<'a>;
    type TxToken<'a> = Lan9118Tx<'a>;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if self.regs.rx_pending() == 0 || self.regs.tx_free() < BUF + 8 {
            cx.waker().wake_by_ref();
            return None;
        }
        let Some(len) = self.read_frame() else {
            cx.waker().wake_by_ref();
            return None;
        };
        let tx = Lan9118Tx {
            regs: self.regs,
            buf: &mut self.tx,
        };
        Some((Lan9118Rx(&mut self.rx[..len]), tx))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<Self::TxToken<'_>> {
        if self.regs.tx_free() < BUF + 8 {
            cx.waker().wake_by_ref();
            return None;
        }
        Some(Lan9118Tx {
            regs: self.regs,
            buf: &mut self.tx,
        })
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        if self.link_recheck == 0 {
            self.link_up = self
                .regs
                .phy_read(PHY_BASIC_STATUS)
                .is_ok_and(|status| status & PHY_LINK_UP != 0);
            self.link_recheck = LINK_RECHECK_POLLS;
        }
        self.link_recheck -= 1;
        // No PHY interrupt: keep being polled so a change is seen.
        cx.waker().wake_by_ref();
        if self.link_up {
            LinkState::Up
        } else {
            LinkState::Down
        }
    }

    fn capabilities(&self) -> Capabilities {
        super::capabilities()
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac)
    }
}
