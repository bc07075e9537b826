//! A simulated LIS3DH: an I2C device model answering the real chip's registers.
//!
//! [`SimAccel`] implements `embedded_hal_async::i2c::I2c`, so the real
//! [`Lis3dh`] driver — or any LIS3DH driver — runs on it unchanged
//! ([`Lis3dh::simulated`] wires the two together).
//! It answers at the chip's address only, reads `WHO_AM_I` as `0x33`, keeps
//! written control registers, honours the sub-address auto-increment bit (§6.1.1)
//! and, on each read of `OUT_X_L`, latches the next sample of a
//! [`MachineVibration`], encoded as the chip would for the `CTRL_REG1`/`CTRL_REG4`
//! in force: output data rate, low-power/normal/high-resolution bits, full scale
//! (saturating), axis enables and endianness.
//!
//! Time is the sample count: every burst read of the outputs is one sample at the
//! configured data rate, however fast it is read, so runs are deterministic.
//!
//! ```rust
//! use embedded_hal_async::i2c::I2c;
//! use ioto_core::sensor::{lis3dh::Address, FaultPlan, MachineProfile, MachineVibration, SimAccel};
//!
//! let machine = MachineVibration::new(MachineProfile::default(), FaultPlan::healthy(), 3).unwrap();
//! let mut bus = SimAccel::new(Address::Primary, machine);
//! embassy_futures::block_on(async {
//!     let mut id = [0u8];
//!     bus.write_read(0x18, &[0x0F], &mut id).await.unwrap();
//!     assert_eq!(id, [0x33]);
//!     bus.write(0x18, &[0x20, 0x77]).await.unwrap(); // 400 Hz, XYZ on
//!     let mut out = [0u8; 6];
//!     bus.write_read(0x18, &[0xA8], &mut out).await.unwrap();
//!     assert_eq!(bus.samples_latched(), 1);
//! });
//! ```

use embedded_hal_async::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};

use super::lis3dh::{self, Address, Lis3dh};
use super::vibration::MachineVibration;
use crate::time::Clock;

/// Register file size: sub-addresses are 7 bits, the map ends at 3Fh.
const REGISTERS: usize = 0x40;
const WHO_AM_I: u8 = 0x0F;
const CTRL_REG0: u8 = 0x1E;
const CTRL_REG1: u8 = 0x20;
const CTRL_REG4: u8 = 0x23;
const STATUS_REG: u8 = 0x27;
const OUT_X_L: u8 = 0x28;
const OUT_Z_H: u8 = 0x2D;
const AUTO_INCREMENT: u8 = 0x80;

/// A LIS3DH device model on its own I2C bus, fed by a simulated machine.
#[derive(Clone, Debug)]
pub struct SimAccel {
    address: u8,
    registers: [u8; REGISTERS],
    pointer: u8,
    auto_increment: bool,
    latched: [u8; 6],
    latched_g: [f32; 3],
    samples: u64,
    machine: MachineVibration,
}

impl SimAccel {
    /// A LIS3DH at `address` in its power-on state (power-down, ±2 g), measuring
    /// `machine`.
    pub fn new(address: Address, machine: MachineVibration) -> Self {
        let mut registers = [0u8; REGISTERS];
        registers[usize::from(WHO_AM_I)] = 0x33;
        registers[usize::from(CTRL_REG0)] = 0x10;
        registers[usize::from(CTRL_REG1)] = 0x07;
        Self {
            address: address.bits(),
            registers,
            pointer: 0,
            auto_increment: false,
            latched: [0; 6],
            latched_g: [0.0; 3],
            samples: 0,
            machine,
        }
    }

    /// The simulated machine (its plan is the run's ground truth).
    pub fn machine(&self) -> &MachineVibration {
        &self.machine
    }

    /// Output samples latched so far (burst reads starting at `OUT_X_L`).
    pub fn samples_latched(&self) -> u64 {
        self.samples
    }

    /// The latest latched sample before quantisation, x, y, z in g.
    pub fn latched_g(&self) -> [f32; 3] {
        self.latched_g
    }

    /// The current value of register `register` (0 for unmapped addresses).
    pub fn register(&self, register: u8) -> u8 {
        self.registers
            .get(usize::from(register))
            .copied()
            .unwrap_or(0)
    }

    fn ctrl1(&self) -> u8 {
        self.register(CTRL_REG1)
    }

    fn ctrl4(&self) -> u8 {
        self.register(CTRL_REG4)
    }

    /// The output data rate `CTRL_REG1` selects, Hz; `None` when powered down.
    fn data_rate_hz(&self) -> Option<f32> {
        let low_power = self.ctrl1() & 0x08 != 0;
        match (self.ctrl1() >> 4, low_power) {
            (1, _) => Some(1.0),
            (2, _) => Some(10.0),
            (3, _) => Some(25.0),
            (4, _) => Some(50.0),
            (5, _) => Some(100.0),
            (6, _) => Some(200.0),
            (7, _) => Some(400.0),
            (8, true) => Some(1600.0),
            (9, false) => Some(1344.0),
            (9, true) => Some(5376.0),
            _ => None,
        }
    }

    /// Advances the machine one sample and encodes it into the output registers.
    fn latch(&mut self) {
        let Some(rate) = self.data_rate_hz() else {
            return;
        };
        if self.machine.sample_rate_hz() != rate {
            // Always valid: a finite positive rate from the table above.
            let _ = self.machine.set_sample_rate_hz(rate);
        }
        let g = self.machine.next_g();
        self.latched_g = g;
        self.samples += 1;
        let (ctrl1, ctrl4) = (self.ctrl1(), self.ctrl4());
        let bits: u32 = if ctrl1 & 0x08 != 0 {
            8
        } else if ctrl4 & 0x08 != 0 {
            12
        } else {
            10
        };
        // mg per digit at ±2/4/8/16 g, 12-bit; ×4 at 10 bits, ×16 at 8 bits.
        let high_res_mg = [1.0f32, 2.0, 4.0, 12.0][usize::from(ctrl4 >> 4 & 0b11)];
        let mg_per_digit = high_res_mg * (1u32 << (12 - bits)) as f32;
        let max = (1i32 << (bits - 1)) - 1;
        let big_endian = ctrl4 & 0x40 != 0;
        for (axis, value) in g.into_iter().enumerate() {
            let enabled = ctrl1 & (1 << axis) != 0;
            let digits = if enabled {
                (libm::roundf(value * 1000.0 / mg_per_digit) as i32).clamp(-max - 1, max)
            } else {
                0
            };
            let word = ((digits << (16 - bits)) as i16).to_le_bytes();
            let pair = if big_endian { [word[1], word[0]] } else { word };
            self.latched[2 * axis..2 * axis + 2].copy_from_slice(&pair);
        }
        self.registers[usize::from(OUT_X_L)..=usize::from(OUT_Z_H)].copy_from_slice(&self.latched);
    }

    fn read_byte(&mut self) -> u8 {
        let register = self.pointer;
        let value = match register {
            // New data is always waiting while converting: ZYXDA and X/Y/ZDA.
            STATUS_REG if self.data_rate_hz().is_some() => 0x0F,
            STATUS_REG => 0x00,
            _ => self.register(register),
        };
        self.step_pointer();
        value
    }

    fn write_byte(&mut self, value: u8) {
        if is_writable(self.pointer) {
            self.registers[usize::from(self.pointer)] = value;
        }
        self.step_pointer();
    }

    fn step_pointer(&mut self) {
        if self.auto_increment {
            self.pointer = (self.pointer + 1) & 0x7F;
        }
    }
}

impl<C: Clock> Lis3dh<SimAccel, C> {
    /// The real driver on a [`SimAccel`] measuring `machine`, both at the primary
    /// address, with the default configuration (400 Hz, ±4 g, high resolution) and
    /// samples stamped by `clock`; `init` it before reading.
    pub fn simulated(machine: MachineVibration, clock: C) -> Self {
        let bus = SimAccel::new(Address::Primary, machine);
        Lis3dh::new(bus, clock, Address::Primary, lis3dh::Config::default())
    }
}

/// Registers a master may write (§7, register map): the control, reference, FIFO,
/// interrupt and click configuration registers, not identity, status or outputs.
fn is_writable(register: u8) -> bool {
    matches!(register, 0x1E..=0x26 | 0x2E | 0x30 | 0x32..=0x34 | 0x36..=0x38 | 0x3A..=0x3F)
}

impl ErrorType for SimAccel {
    type Error = ErrorKind;
}

impl I2c for SimAccel {
    async fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), ErrorKind> {
        if address != self.address {
            return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
        }
        // Adjacent operations of one direction are one bus segment (no repeated
        // start); the first byte a write segment carries is the sub-address.
        let mut writing: Option<bool> = None;
        let mut need_sub_address = false;
        for op in operations {
            match op {
                Operation::Write(bytes) => {
                    if writing != Some(true) {
                        need_sub_address = true;
                    }
                    writing = Some(true);
                    for &b in bytes.iter() {
                        if need_sub_address {
                            need_sub_address = false;
                            self.pointer = b & !AUTO_INCREMENT;
                            self.auto_increment = b & AUTO_INCREMENT != 0;
                            if usize::from(self.pointer) >= REGISTERS {
                                return Err(ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data));
                            }
                        } else {
                            self.write_byte(b);
                        }
                    }
                }
                Operation::Read(buffer) => {
                    if writing != Some(false) && self.pointer == OUT_X_L {
                        self.latch();
                    }
                    writing = Some(false);
                    for b in buffer.iter_mut() {
                        *b = self.read_byte();
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "sim_accel_tests.rs"]
mod tests;
