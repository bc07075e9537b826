//! Measures the peak heap the client's parsing and tool paths need, with a counting
//! allocator: a recorded parallel-tool-call stream parsed in 64-byte reads, then both
//! calls validated and dispatched, and a Diagnosis parsed. Host pointers are 64-bit,
//! so on a 32-bit MCU the figures are an upper bound.
//!
//! `cargo run -p ioto-cloud --features std --release --example heap_peak`

use ioto_cloud::api::StreamAccumulator;
use ioto_cloud::chat_stream::ChatStream;
use ioto_cloud::schema::Schema;
use ioto_cloud::structured::{Diagnosis, parse_decision};
use ioto_cloud::tools::ToolRegistry;
use ioto_cloud::types::AnswerLimits;
use ioto_transport::sse::SseParser;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = NOW.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` came from `alloc` with `l`.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const STREAM: &[u8] = include_bytes!("../tests/fixtures/chat_stream_parallel_tool_calls.sse");

fn main() {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut sse_buf = [0u8; 2048];
    let mut parser = SseParser::new(&mut sse_buf);
    let mut acc = ChatStream::new(AnswerLimits::default());
    for chunk in STREAM.chunks(64) {
        let mut input = chunk;
        while !input.is_empty() {
            let fed = parser.feed(input).expect("sse");
            input = &input[fed.consumed..];
            if let Some(ev) = parser.event() {
                acc.on_data(ev.data, &mut |_| {}).expect("chunk");
            }
        }
    }
    let answer = acc.finish().expect("complete");
    let stream_peak = PEAK.load(Ordering::Relaxed) - base;
    let mut reg = ToolRegistry::new(8);
    let s = Schema::object()
        .field("city", "", Schema::string().max_len(64))
        .field("country", "", Schema::string().max_len(2))
        .field("units", "", Schema::string().one_of(&["c", "f"]));
    reg.register("GetWeatherArgs", "", s, |_: &serde_json::Value| {
        Ok(serde_json::json!({"t": 12}))
    })
    .expect("tool");
    let s = Schema::object()
        .field("ticker", "", Schema::string().max_len(8))
        .field("exchange", "", Schema::string().one_of(&["NASDAQ", "NYSE"]));
    reg.register("get_stock_price", "", s, |_: &serde_json::Value| {
        Ok(serde_json::json!({"p": 1}))
    })
    .expect("tool");
    for c in &answer.tool_calls {
        let (_, st) = reg.dispatch(&c.name, &c.arguments);
        assert_eq!(st, ioto_cloud::tools::CallStatus::Ok);
    }
    let _d: Diagnosis =
        parse_decision(r#"{"severity":"high","cause":"bearing wear","action":"monitor"}"#)
            .expect("decision");
    let total_peak = PEAK.load(Ordering::Relaxed) - base;
    println!("stream parse (2 KiB SSE buffer on the stack): peak heap {stream_peak} B");
    println!("stream + 2 tools declared/validated/run + decision: peak heap {total_peak} B");
}
