//! An `embassy-time` driver over the instruction counter (feature `time`).
//!
//! Under `-icount shift=0` one retired instruction is one nanosecond of virtual time,
//! so the driver's 1 MHz tick is 1 000 instructions ([`counter::instructions`]). The
//! virtual boards take no interrupts from timers, so alarms are served by polling:
//! [`schedule_wake`](embassy_time_driver::Driver::schedule_wake) wakes the waker at
//! once and the executor polls the timer again until its deadline has passed. With
//! [`block_on`](crate::block_on), which polls continuously anyway, that costs nothing.
//!
//! The driver starts the counter on first use, so firmware that does not call
//! [`harness::run`](crate::harness::run) or [`counter::start`] still gets a clock.

use crate::counter;
use core::task::Waker;

/// Instructions per `embassy-time` tick (1 MHz ticks, 1 instruction per ns).
const INSTRUCTIONS_PER_TICK: u64 = 1_000;

struct InstructionClock;

impl embassy_time_driver::Driver for InstructionClock {
    fn now(&self) -> u64 {
        counter::start();
        counter::instructions() / INSTRUCTIONS_PER_TICK
    }

    fn schedule_wake(&self, _at: u64, waker: &Waker) {
        // No timer interrupt: ask to be polled again; the timer future compares `now`
        // with its deadline on every poll.
        waker.wake_by_ref();
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: InstructionClock = InstructionClock);
