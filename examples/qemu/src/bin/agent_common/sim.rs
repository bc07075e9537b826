//! What the `agent` suite and `bench_agent` share: the real LIS3DH driver on the
//! simulated chip of a machine that develops one fault, and the sensing loop that feeds
//! its windows to the agent.

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use ioto_core::Clock;
use ioto_core::agent::Agent;
use ioto_core::outbox::Outbox;
use ioto_core::sensor::{
    Fault, FaultKind, FaultPlan, Lis3dh, MachineProfile, MachineVibration, SimAccel, Window,
    fill_window_back_to_back,
};

/// Samples per window (0.64 s at 400 Hz).
pub const WINDOW: usize = 256;
/// One sample at 400 Hz, µs.
pub const SAMPLE_US: u64 = 2_500;

/// The first sample of window `window` (the fault's onset when it starts there).
pub const fn onset(window: u64) -> u64 {
    window * WINDOW as u64
}

/// The simulated machine (seed `seed`) whose `kind` fault starts with window
/// `fault_window` and reaches full severity 20 windows later, behind the real driver,
/// initialised; its samples are stamped by `clock`. Errors name the failed step.
pub fn faulty_machine<C: Clock>(
    kind: FaultKind,
    fault_window: u64,
    seed: u64,
    clock: C,
) -> Result<Lis3dh<SimAccel, C>, &'static str> {
    let fault = Fault::new(kind, onset(fault_window), onset(20), 1.0);
    let plan = FaultPlan::healthy().with(fault).map_err(|_| "plan")?;
    let machine = MachineVibration::new(MachineProfile::default(), plan, seed);
    let mut accel = Lis3dh::simulated(machine.map_err(|_| "machine")?, clock);
    ioto_board_qemu::block_on(accel.init()).map_err(|_| "lis3dh-init")?;
    Ok(accel)
}

/// Reads `windows` back-to-back windows from `accel` into the agent, then stops it.
/// Errors name the failed step (the agent is then not stopped).
pub async fn sense<C: Clock, O: Outbox, E: Outbox>(
    agent: &Agent<'_, NoopRawMutex, O, E>,
    accel: &mut Lis3dh<SimAccel, C>,
    windows: u32,
) -> Result<(), &'static str> {
    let mut rows = [[0.0f32; 3]; WINDOW];
    let mut scratch = [0.0f32; WINDOW];
    let mut window = Window::new(&mut rows, 400.0).map_err(|_| "window")?;
    for _ in 0..windows {
        let view = fill_window_back_to_back(accel, &mut window)
            .await
            .map_err(|_| "sensor-read")?;
        agent
            .observe(&view, &mut scratch)
            .await
            .map_err(|_| "features")?;
    }
    agent.stop();
    Ok(())
}
