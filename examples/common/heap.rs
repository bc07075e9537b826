//! The heap of the physical boards' examples that allocate (the cloud client's request
//! and answer JSON): embedded-alloc over a static array, on the boards whose crate
//! gives none (the ESP32-C3's `Board::init` gives esp-alloc its heap). Include it as a
//! module (`#[path = "../../../common/heap.rs"]`) and call [`init`] first thing.

use core::mem::MaybeUninit;

/// Bytes of heap (keyword_to_cloud's suite on the virtual boards runs in as much).
pub const BYTES: usize = 48 * 1024;

#[global_allocator]
static HEAP: embedded_alloc::LlffHeap = embedded_alloc::LlffHeap::empty();

/// Gives the allocator its memory; call once, before anything allocates.
pub fn init() {
    static mut MEMORY: [MaybeUninit<u8>; BYTES] = [MaybeUninit::uninit(); BYTES];
    // SAFETY: called once at start-up, before anything allocates; MEMORY is used by
    // nothing else.
    unsafe { HEAP.init(core::ptr::addr_of_mut!(MEMORY) as usize, BYTES) }
}
