//! Fuzzes the outbox as read back from flash: the input is the content of a 4-page
//! NOR chip (256-byte pages, the rest erased), as a power cut, wear or a bug may leave
//! it. `FlashOutbox::open` over it, then drain (read and pop every record), then push:
//! nothing may panic, every operation answers a value or a typed error, and once the
//! outbox is drained a pushed record is the one read back.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/outbox_image/mod.rs"]
mod outbox_image;

use outbox_image::{check_ran, image_from, run};

fuzz_target!(|data: &[u8]| {
    let record = b"t=21.5";
    check_ran(&run(&mut image_from(data), record), record);
});
