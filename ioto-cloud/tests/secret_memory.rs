//! Credentials are wiped before their memory is freed: a global allocator looks at
//! every freed block and counts the ones still holding the key. A full request (the
//! key, the `Bearer` header value built from it, the request head the std transport
//! writes) against a real server in another process (llmock) must leave none.
//! One test in this binary, so no other test's allocations are counted.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use common::{Server, block_on, client};
use ioto_cloud::Secret;
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::Api;
use ioto_cloud::realtime;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const KEY: &[u8] = b"sk-TESTKEY-1234";

/// Counts freed blocks that still contain [`KEY`] while `WATCH` is on.
struct Checking;

static WATCH: AtomicBool = AtomicBool::new(false);
static LEFT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Checking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCH.load(Ordering::Relaxed) && layout.size() >= KEY.len() {
            // SAFETY: the block is still allocated and `layout.size()` bytes long.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block.windows(KEY.len()).any(|w| w == KEY) {
                LEFT.fetch_add(1, Ordering::Relaxed);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Checking = Checking;

#[test]
fn no_freed_block_still_holds_the_key() {
    let s = Server::llmock();
    let key = std::str::from_utf8(KEY).unwrap();
    WATCH.store(true, Ordering::SeqCst);
    {
        let mut c = client(&s.url("/v1"), Api::OpenAi, key);
        let req = ChatRequest::new("gpt-4o").message(ChatMessage::User("hi".into()));
        let answer = block_on(c.call(&req, None)).unwrap();
        assert!(!answer.content.is_empty());
        let k = Secret::new(key);
        let (_, headers) = realtime::connect_request("/v1", "gpt-realtime", &k);
        assert_eq!(headers.len(), 1);
        let copy = k.clone();
        drop(copy);
    }
    WATCH.store(false, Ordering::SeqCst);
    assert_eq!(
        LEFT.load(Ordering::SeqCst),
        0,
        "freed blocks still holding the key"
    );
}
