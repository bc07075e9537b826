//! Footprint probes for benchmark firmware: the stack a piece of code uses (found by
//! painting the free stack with a pattern first), and the flash and static RAM of the
//! running image (from the linker's symbols).
//!
//! ```ignore
//! let probe = StackProbe::paint(48 * 1024);
//! run_the_thing();
//! println!("stack_peak_bytes={}", probe.used());
//! ```

use core::hint::black_box;
use core::ptr::addr_of;

/// The word written over the free stack.
const PATTERN: u32 = 0xC0FF_EE11;
/// Left unpainted below the painting point (a few words above it are the probe's own
/// frames, so figures are exact to within this).
const GAP: usize = 64;

/// An address in a fresh frame right below the caller's: the caller's stack pointer,
/// give or take a few words.
#[inline(never)]
pub fn stack_pointer() -> usize {
    let marker = 0u32;
    black_box(addr_of!(marker)) as usize
}

/// A painted stretch of free stack below the caller's frame.
#[derive(Debug)]
pub struct StackProbe {
    base: usize,
    depth: usize,
}

impl StackProbe {
    /// Paints `depth` bytes below the caller's stack pointer (minus a small gap for
    /// this function's frame). `depth` must stay above the end of `.bss`: the virtual
    /// boards have ≥ 256 KB of RAM, so keep `depth` below the RAM the statics leave.
    #[inline(never)]
    pub fn paint(depth: usize) -> Self {
        let base = stack_pointer();
        let floor = static_ram_end();
        let depth = depth.min(base.saturating_sub(floor + 16));
        let mut a = (base - depth + 3) & !3;
        while a + 4 <= base - GAP {
            // SAFETY: `[base - depth, base - GAP)` is below the live stack (`base` is
            // this frame's stack pointer, the frame fits in GAP) and above the end of
            // .bss (`depth` was clamped to it), so nothing else uses it.
            unsafe { (a as *mut u32).write_volatile(PATTERN) };
            a += 4;
        }
        StackProbe { base, depth }
    }

    /// Bytes of stack used below the painting point since [`StackProbe::paint`].
    /// Equal to the painted depth if the code went deeper than that.
    #[inline(never)]
    pub fn used(&self) -> usize {
        let mut a = (self.base - self.depth + 3) & !3;
        // SAFETY: reads the word-aligned range `paint` wrote.
        while a + 4 <= self.base - GAP && unsafe { (a as *const u32).read_volatile() } == PATTERN {
            a += 4;
        }
        self.base - a
    }

    /// The painted depth: a [`used`](Self::used) this large means the probe overflowed.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

// Defined by both cortex-m-rt's and riscv-rt's linker scripts.
unsafe extern "C" {
    static __sidata: u8;
    static __sdata: u8;
    static __edata: u8;
    static __sbss: u8;
    static __ebss: u8;
}

#[cfg(target_arch = "arm")]
const FLASH_ORIGIN: usize = 0;
#[cfg(target_arch = "riscv32")]
const FLASH_ORIGIN: usize = 0x8000_0000;

/// Flash bytes of this image: vector table + text + rodata (everything up to the load
/// address of `.data`) plus the initialised data copied from flash.
pub fn firmware_flash_bytes() -> usize {
    let (lma, start, end) = (
        addr_of!(__sidata) as usize,
        addr_of!(__sdata) as usize,
        addr_of!(__edata) as usize,
    );
    lma - FLASH_ORIGIN + (end - start)
}

/// Static RAM of this image: `.data` + `.bss` (a heap declared with `init_heap!` is
/// part of `.bss`).
pub fn static_ram_bytes() -> usize {
    let data = addr_of!(__edata) as usize - addr_of!(__sdata) as usize;
    let bss = addr_of!(__ebss) as usize - addr_of!(__sbss) as usize;
    data + bss
}

/// The first address past `.bss`.
fn static_ram_end() -> usize {
    addr_of!(__ebss) as usize
}
