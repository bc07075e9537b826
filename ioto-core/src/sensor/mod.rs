//! Sensing: what a board offers the feature pipeline.
//!
//! - [`Sensor<N>`](Sensor): the contract every driver implements — timestamped
//!   [`Sample<N>`](Sample)s of `N` channels, a sample rate, channel descriptions and
//!   errors classified by [`ErrorKind`].
//! - [`Window`], [`fill_window`]: caller-owned ring buffers that cut a sample stream
//!   into fixed (optionally overlapping) analysis windows.
//! - Drivers over `embedded-hal-async` I2C: [`Lis3dh`] (3-axis accelerometer) and
//!   [`Sht3x`] (temperature and humidity).
//! - A simulated LIS3DH, [`SimAccel`]: an I2C device model answering the real chip's
//!   registers from a rotating machine's vibration ([`MachineVibration`]) with faults
//!   injected on a [`FaultPlan`], so the real driver and everything downstream run
//!   unchanged on hosts and emulated boards.
//! - [`Entropy`]: random bytes for ids, masks, TLS and jitter.
//!
//! ```rust
//! use ioto_core::sensor::{
//!     fill_window_back_to_back, lis3dh, FaultPlan, Lis3dh, MachineProfile, MachineVibration,
//!     SimAccel, Window,
//! };
//! use ioto_core::{Clock, Instant};
//!
//! struct Zero;
//! impl Clock for Zero {
//!     fn now(&self) -> Instant {
//!         Instant(0)
//!     }
//! }
//!
//! # embassy_futures::block_on(async {
//! let machine = MachineVibration::new(MachineProfile::default(), FaultPlan::healthy(), 7).unwrap();
//! let bus = SimAccel::new(lis3dh::Address::Primary, machine);
//! let mut accel = Lis3dh::new(bus, Zero, lis3dh::Address::Primary, lis3dh::Config::default());
//! accel.init().await.unwrap();
//!
//! let mut rows = [[0.0f32; 3]; 64];
//! let mut window = Window::new(&mut rows, 400.0).unwrap();
//! let view = fill_window_back_to_back(&mut accel, &mut window).await.unwrap();
//! let z_mean = view.channel(2).unwrap().sum::<f32>() / 64.0;
//! assert!((z_mean - 9.81).abs() < 0.5, "gravity on z: {z_mean}");
//! # });
//! ```

pub mod contract;
pub mod fault;
pub mod lis3dh;
pub mod sht3x;
pub mod sim_accel;
#[cfg(test)]
mod test_stats;
pub mod vibration;
pub mod window;

pub use contract::{Channel, Error, ErrorKind, Sample, Sensor, Unit};
pub use fault::{Fault, FaultKind, FaultPlan, FaultPlanError, MAX_FAULTS};
pub use lis3dh::{Lis3dh, Lis3dhError};
pub use sht3x::{Sht3x, Sht3xError};
pub use sim_accel::SimAccel;
pub use vibration::{MachineProfile, MachineVibration, SignalError};
pub use window::{Window, WindowError, WindowView, fill_window, fill_window_back_to_back};

/// A source of random bytes: the chip's hardware RNG on boards, the OS on hosts.
/// Used for MQTT client ids, WebSocket masks, TLS and backoff jitter.
pub trait Entropy {
    /// Fills `buf` with random bytes.
    fn fill_bytes(&mut self, buf: &mut [u8]);

    /// A random `u32`.
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
}
