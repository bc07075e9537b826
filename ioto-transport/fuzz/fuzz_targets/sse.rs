//! Fuzzes the SSE parser: any bytes, split anywhere, must never panic, and feeding in
//! two pieces must give the same events (or error) as feeding whole.
#![no_main]

use ioto_transport::sse::{SseError, SseParser};
use libfuzzer_sys::fuzz_target;

type Events = Vec<(String, Vec<u8>, Option<Vec<u8>>, Option<u32>)>;

fn run(pieces: &[&[u8]], cap: usize, max_line: usize) -> Result<Events, SseError> {
    let mut buf = vec![0u8; cap];
    let mut p = SseParser::with_max_line(&mut buf, max_line);
    let mut out = Vec::new();
    let mut push = |p: &SseParser<'_>| {
        if let Some(e) = p.event() {
            assert!(e.data.len() <= cap);
            out.push((
                e.event.to_string(),
                e.data.to_vec(),
                e.id.map(<[u8]>::to_vec),
                e.retry,
            ));
        }
    };
    for piece in pieces {
        let mut input = *piece;
        while !input.is_empty() {
            let fed = p.feed(input)?;
            assert!(fed.consumed <= input.len() && (fed.consumed > 0 || input.is_empty()));
            input = &input[fed.consumed..];
            if fed.event_ready {
                push(&p);
            }
        }
    }
    if p.finish()? {
        push(&p);
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let cap = 1 + usize::from(data[0]);
    let max_line = 1 + usize::from(data[1]);
    let body = &data[3..];
    let cut = usize::from(data[2]) % (body.len() + 1);
    let whole = run(&[body], cap, max_line);
    let (a, b) = body.split_at(cut);
    let split = run(&[a, b], cap, max_line);
    assert_eq!(whole, split);
});
