//! The bare-metal runtime: the entry point (stack, FP/SIMD on, `.bss` zeroed, an
//! exception vector table), Arm semihosting console and exit (`HLT #0xF000`, QEMU's
//! `-semihosting-config`), and a panic handler that prints the message and exits with
//! code 1; an exception (e.g. an instruction the CPU lacks) exits with code 2.

use core::fmt::{self, Write};

core::arch::global_asm!(
    ".section .text.entry, \"ax\"",
    ".global _start",
    "_start:",
    "    ldr x0, =__stack_top",
    "    mov sp, x0",
    // CPACR_EL1.FPEN = 0b11: FP/SIMD (NEON) instructions do not trap at EL1/EL0.
    "    mrs x0, cpacr_el1",
    "    orr x0, x0, #(3 << 20)",
    "    msr cpacr_el1, x0",
    "    isb",
    "    ldr x0, =vectors",
    "    msr vbar_el1, x0",
    "    isb",
    "    ldr x0, =__bss_start",
    "    ldr x1, =__bss_end",
    "1:  cmp x0, x1",
    "    b.hs 2f",
    "    str xzr, [x0], #8",
    "    b 1b",
    "2:  bl {main}",
    "3:  b 3b",
    // 16 vectors of 0x80 bytes; every one reports the exception and exits.
    ".balign 2048",
    "vectors:",
    ".rept 16",
    "    mrs x0, esr_el1",
    "    mrs x1, elr_el1",
    "    b {exception}",
    ".balign 128",
    ".endr",
    main = sym crate::main,
    exception = sym exception,
);

/// `SYS_WRITE0`: write a NUL-terminated string to the debug console.
const SYS_WRITE0: u64 = 0x04;
/// `SYS_EXIT`: end the program (AArch64: `x1` points to `[reason, code]`).
const SYS_EXIT: u64 = 0x18;
/// `ADP_Stopped_ApplicationExit`: a normal exit with an exit code.
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

/// One semihosting call: operation `op`, parameter block at `arg`.
fn semihost(op: u64, arg: *const u8) -> u64 {
    let mut r = op;
    // SAFETY: `HLT #0xF000` traps to the debugger (QEMU), which reads the parameter
    // block at `arg` (valid for the call) and writes its result to x0.
    unsafe {
        core::arch::asm!("hlt #0xf000", inout("x0") r, in("x1") arg, options(nostack));
    }
    r
}

/// The semihosting console.
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut buf = [0u8; 129];
        for chunk in s.as_bytes().chunks(128) {
            buf[..chunk.len()].copy_from_slice(chunk);
            buf[chunk.len()] = 0;
            semihost(SYS_WRITE0, buf.as_ptr());
        }
        Ok(())
    }
}

/// `print!` to the semihosting console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::rt::Console, format_args!($($arg)*));
    }};
}

/// Ends QEMU with exit status `code`.
pub fn exit(code: u32) -> ! {
    let block = [ADP_STOPPED_APPLICATION_EXIT, u64::from(code)];
    semihost(SYS_EXIT, block.as_ptr().cast());
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    print!("FAILED: {info}\n");
    exit(1)
}

/// Any exception: print its syndrome and address, exit with code 2.
extern "C" fn exception(esr: u64, elr: u64) -> ! {
    print!(
        "FAILED: exception ESR_EL1 {esr:#x} at {elr:#x} (EC {:#x})\n",
        esr >> 26
    );
    exit(2)
}
