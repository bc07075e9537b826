//! A global allocator over a static heap, for crates built with `alloc`.

use embedded_alloc::LlffHeap;

#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

/// Gives the allocator `N` bytes of static memory. Call once, before allocating.
/// Calling it again has no effect.
#[macro_export]
macro_rules! init_heap {
    ($bytes:expr) => {{
        static mut HEAP_MEM: [core::mem::MaybeUninit<u8>; $bytes] =
            [core::mem::MaybeUninit::uninit(); $bytes];
        // SAFETY: `HEAP_MEM` is private to this expansion and handed over exactly once.
        unsafe { $crate::heap::init(core::ptr::addr_of_mut!(HEAP_MEM) as usize, $bytes) }
    }};
}

/// Hands `size` bytes starting at `start` to the allocator (once; later calls are
/// ignored). Prefer [`init_heap!`](crate::init_heap).
///
/// # Safety
/// The memory must be valid, unused by anything else, and live for the program.
pub unsafe fn init(start: usize, size: usize) {
    use core::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    let first = critical_section::with(|_| {
        let done = DONE.load(Ordering::Relaxed);
        DONE.store(true, Ordering::Relaxed);
        !done
    });
    if first {
        // SAFETY: forwarded from the caller; runs once.
        unsafe { HEAP.init(start, size) }
    }
}

/// Bytes currently allocated.
pub fn used() -> usize {
    HEAP.used()
}
