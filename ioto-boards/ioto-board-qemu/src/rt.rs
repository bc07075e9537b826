//! The per-architecture runtime: entry, semihosting, exit, counter, fault handlers.

#[cfg(target_arch = "arm")]
mod arch {
    use core::sync::atomic::{AtomicU32, Ordering};
    use cortex_m::peripheral::{SYST, syst::SystClkSource};
    pub use cortex_m_rt::entry;
    use cortex_m_rt::{ExceptionFrame, exception};

    /// SysTick runs at the MPS2 boards' 25 MHz; `-icount shift=0` retires one
    /// instruction per virtual nanosecond, so one tick is 40 instructions.
    const INSTRUCTIONS_PER_TICK: u64 = 40;
    const RELOAD: u32 = 0x00FF_FFFF;
    static WRAPS: AtomicU32 = AtomicU32::new(0);
    static STARTED: AtomicU32 = AtomicU32::new(0);

    pub fn write_host(bytes: &[u8]) {
        if let Ok(mut out) = cortex_m_semihosting::hio::hstdout() {
            let _ = out.write_all(bytes);
        }
    }

    pub fn exit(code: i32) -> ! {
        let status = if code == 0 {
            cortex_m_semihosting::debug::EXIT_SUCCESS
        } else {
            cortex_m_semihosting::debug::EXIT_FAILURE
        };
        cortex_m_semihosting::debug::exit(status);
        loop {
            cortex_m::asm::bkpt();
        }
    }

    /// A semihosting call with a pointer to its parameter block.
    ///
    /// # Safety
    /// `block` must be the parameter block `nr` expects, valid for reads and writes.
    pub unsafe fn semihosting(nr: usize, block: *mut usize) -> isize {
        // SAFETY: forwarded from the caller.
        unsafe { cortex_m_semihosting::syscall1(nr, block as usize) as isize }
    }

    // Always inlined, like `counter::start` (see there).
    #[inline(always)]
    pub fn start_counter() {
        if STARTED.load(Ordering::Relaxed) != 0 {
            return;
        }
        STARTED.store(1, Ordering::Relaxed);
        // SAFETY: the board owns SysTick; nothing else in Ioto-rs touches it.
        let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        // Clearing leaves the current value at 0 until the next tick reloads it; read
        // then, `RELOAD - current` would be a whole period ahead and the next reading
        // would go backwards. Wait for the reload (one tick: ~40 instructions).
        while SYST::get_current() == 0 {}
    }

    pub fn instructions() -> u64 {
        loop {
            let before = WRAPS.load(Ordering::Acquire);
            let current = SYST::get_current();
            if WRAPS.load(Ordering::Acquire) == before {
                let ticks =
                    u64::from(before) * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current);
                return ticks * INSTRUCTIONS_PER_TICK;
            }
        }
    }

    #[exception]
    fn SysTick() {
        // Only this handler writes WRAPS, so load + store is race-free (and works on
        // thumbv6m, which has no atomic read-modify-write).
        WRAPS.store(
            WRAPS.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }

    #[exception]
    unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
        crate::println!("FAILED\nhard fault at pc={:#010x}", frame.pc());
        exit(1)
    }

    #[exception]
    unsafe fn DefaultHandler(irqn: i16) {
        crate::println!("FAILED\nunexpected exception {}", irqn);
        exit(1)
    }
}

#[cfg(target_arch = "riscv32")]
mod arch {
    pub use riscv_rt::entry;

    pub fn write_host(bytes: &[u8]) {
        if let Ok(mut out) = riscv_semihosting::hio::hstdout() {
            let _ = out.write_all(bytes);
        }
    }

    pub fn exit(code: i32) -> ! {
        let status = if code == 0 {
            riscv_semihosting::debug::EXIT_SUCCESS
        } else {
            riscv_semihosting::debug::EXIT_FAILURE
        };
        riscv_semihosting::debug::exit(status);
        loop {
            riscv::asm::wfi();
        }
    }

    /// A semihosting call with a pointer to its parameter block.
    ///
    /// # Safety
    /// `block` must be the parameter block `nr` expects, valid for reads and writes.
    pub unsafe fn semihosting(nr: usize, block: *mut usize) -> isize {
        // SAFETY: forwarded from the caller.
        unsafe { riscv_semihosting::syscall1(nr, block as usize) as isize }
    }

    pub fn start_counter() {}

    pub fn instructions() -> u64 {
        riscv::register::mcycle::read64()
    }

    /// Replaces riscv-rt's default (an endless loop) so a fault ends the run.
    #[unsafe(export_name = "ExceptionHandler")]
    fn exception_handler(trap: &riscv_rt::TrapFrame) -> ! {
        let mcause = riscv::register::mcause::read().bits();
        let mepc = riscv::register::mepc::read();
        crate::println!(
            "FAILED\nexception mcause={:#x} mepc={:#x} ra={:#x}",
            mcause,
            mepc,
            trap.ra
        );
        exit(1)
    }
}

#[cfg(not(any(target_arch = "arm", target_arch = "riscv32")))]
compile_error!(
    "ioto-board-qemu builds for thumbv7em, thumbv6m and riscv32imc only; use `cargo xtask build --board qemu-*`"
);

pub use arch::entry;
pub(crate) use arch::{instructions, semihosting, start_counter, write_host};

/// Ends the QEMU session with `code` as its exit status (0 = success).
pub fn exit(code: i32) -> ! {
    arch::exit(code)
}

#[cfg(all(
    feature = "panic-handler",
    any(target_arch = "arm", target_arch = "riscv32")
))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::println!("FAILED\n{}", info);
    crate::println!("test result: FAILED.");
    exit(1)
}
