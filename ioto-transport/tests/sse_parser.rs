//! SSE parser and reader: fields, line endings, splits at every byte, bounds.
#![allow(clippy::unwrap_used, missing_docs)]

use ioto_transport::sse::{SseError, SseParser, SseReadError, SseReader};

#[derive(Debug, PartialEq, Eq, Clone)]
struct Ev {
    event: String,
    data: String,
    id: Option<String>,
    retry: Option<u32>,
}

fn ev(event: &str, data: &str, id: Option<&str>, retry: Option<u32>) -> Ev {
    Ev {
        event: event.into(),
        data: data.into(),
        id: id.map(Into::into),
        retry,
    }
}

/// Feeds `pieces` one after another and collects every event (with `finish`).
fn collect(pieces: &[&[u8]], cap: usize) -> Result<Vec<Ev>, SseError> {
    let mut buf = vec![0u8; cap];
    let mut p = SseParser::new(&mut buf);
    let mut out = Vec::new();
    for piece in pieces {
        let mut input = *piece;
        while !input.is_empty() {
            let fed = p.feed(input)?;
            input = &input[fed.consumed..];
            if fed.event_ready {
                out.push(to_ev(&p));
            }
        }
    }
    if p.finish()? {
        out.push(to_ev(&p));
    }
    Ok(out)
}

fn to_ev(p: &SseParser<'_>) -> Ev {
    let e = p.event().unwrap();
    Ev {
        event: e.event.into(),
        data: String::from_utf8(e.data.to_vec()).unwrap(),
        id: e.id.map(|i| String::from_utf8(i.to_vec()).unwrap()),
        retry: e.retry,
    }
}

fn whole(s: &[u8]) -> Vec<Ev> {
    collect(&[s], 1024).unwrap()
}

/// Every split into 1-byte pieces and every two-piece split gives the same events.
fn assert_split_invariant(s: &[u8], expected: &[Ev]) {
    assert_eq!(whole(s), expected);
    let bytes: Vec<&[u8]> = s.chunks(1).collect();
    assert_eq!(collect(&bytes, 1024).unwrap(), expected, "1-byte pieces");
    for cut in 0..=s.len() {
        let (a, b) = s.split_at(cut);
        assert_eq!(collect(&[a, b], 1024).unwrap(), expected, "cut at {cut}");
    }
}

#[test]
fn fields_and_multiline_data() {
    let s =
        b"event: update\ndata: line one\ndata: line two\nid: 42\nretry: 1500\n\ndata:no-space\n\n";
    assert_split_invariant(
        s,
        &[
            ev("update", "line one\nline two", Some("42"), Some(1500)),
            ev("message", "no-space", Some("42"), Some(1500)),
        ],
    );
}

#[test]
fn crlf_cr_and_lf_line_endings() {
    let expected = [ev("a", "x\ny", None, None), ev("message", "z", None, None)];
    assert_split_invariant(
        b"event: a\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\n\r\n",
        &expected,
    );
    assert_split_invariant(b"event: a\rdata: x\rdata: y\r\rdata: z\r\r", &expected);
    assert_split_invariant(b"event: a\ndata: x\r\ndata: y\r\rdata: z\n\r\n", &expected);
}

#[test]
fn cr_at_end_of_one_piece_lf_at_start_of_next_is_one_line_end() {
    // If the LF were taken as a second line end, the event would be dispatched
    // before `data: b` and we would see two events.
    let got = collect(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"], 64).unwrap();
    assert_eq!(got, vec![ev("message", "a\nb", None, None)]);
}

#[test]
fn comments_unknown_fields_and_bom_are_ignored() {
    let s = "\u{feff}: keep-alive\nfoo: bar\ndata\ndata: after-empty\n\n: bye\n\n";
    assert_split_invariant(s.as_bytes(), &[ev("message", "\nafter-empty", None, None)]);
}

#[test]
fn blank_line_without_data_dispatches_nothing_and_resets_type() {
    let s = b"event: lonely\n\ndata: x\n\n";
    assert_split_invariant(s, &[ev("message", "x", None, None)]);
}

#[test]
fn id_persists_and_nul_id_is_ignored() {
    let s = b"id: 7\ndata: a\n\nid: 8\0\ndata: b\n\nid\ndata: c\n\n";
    assert_split_invariant(
        s,
        &[
            ev("message", "a", Some("7"), None),
            ev("message", "b", Some("7"), None),
            ev("message", "c", Some(""), None),
        ],
    );
}

#[test]
fn invalid_retry_is_ignored() {
    let s = b"retry: 12a\ndata: a\n\nretry: 99999999999\ndata: b\n\nretry: 30\ndata: c\n\n";
    assert_split_invariant(
        s,
        &[
            ev("message", "a", None, None),
            ev("message", "b", None, None),
            ev("message", "c", None, Some(30)),
        ],
    );
}

#[test]
fn final_event_without_blank_line_is_dispatched_by_finish() {
    assert_split_invariant(
        b"data: 1\n\ndata: 2",
        &[
            ev("message", "1", None, None),
            ev("message", "2", None, None),
        ],
    );
}

#[test]
fn line_longer_than_limit_is_a_typed_error() {
    let mut buf = [0u8; 64];
    let mut p = SseParser::with_max_line(&mut buf, 16);
    assert_eq!(p.feed(b"data: 0123456789"), Ok(ipos(16)));
    assert_eq!(p.feed(b"A"), Err(SseError::LineTooLong { limit: 16 }));
}

fn ipos(n: usize) -> ioto_transport::sse::Fed {
    ioto_transport::sse::Fed {
        consumed: n,
        event_ready: false,
    }
}

#[test]
fn event_data_larger_than_buffer_is_a_typed_error() {
    // Lines of 12 bytes fit, but three of them do not fit a 24-byte buffer.
    let err = collect(&[b"data: 123456\ndata: 123456\ndata: 123456\n\n"], 24).unwrap_err();
    assert_eq!(err, SseError::EventTooLarge { capacity: 24 });
    assert_eq!(
        collect(&[b"data: 123456\ndata: 123456\n\n"], 24)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn long_event_name_is_a_typed_error() {
    let name = "e".repeat(65);
    let s = format!("event: {name}\ndata: x\n\n");
    assert_eq!(
        collect(&[s.as_bytes()], 256),
        Err(SseError::EventNameTooLong)
    );
}

#[test]
fn non_utf8_event_name_is_a_typed_error() {
    assert_eq!(collect(&[b"event: \xff\n"], 64), Err(SseError::InvalidUtf8));
}

/// A reader returning its data in fixed-size pieces, like a TCP stream would.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
}

impl embedded_io_async::ErrorType for Pieces<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io_async::Read for Pieces<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn async_reader_yields_every_event_for_any_read_size() {
    let s = b"event: a\r\ndata: 1\r\n\r\n: c\r\ndata: 2\rdata: 3\r\rdata: 4";
    for step in 1..=s.len() {
        let mut buf = [0u8; 64];
        let mut chunk = [0u8; 7];
        let mut r = SseReader::new(
            Pieces { data: s, step },
            SseParser::new(&mut buf),
            &mut chunk,
        );
        let mut got = Vec::new();
        embassy_futures::block_on(async {
            while let Some(e) = r.next_event().await.unwrap() {
                got.push((e.event.to_string(), e.data_str().unwrap().to_string()));
            }
        });
        assert_eq!(
            got,
            vec![
                ("a".to_string(), "1".to_string()),
                ("message".to_string(), "2\n3".to_string()),
                ("message".to_string(), "4".to_string())
            ],
            "read size {step}"
        );
    }
}

#[test]
fn async_reader_reports_parse_errors() {
    let s = b"data: this line is far too long\n\n";
    let mut buf = [0u8; 64];
    let mut chunk = [0u8; 8];
    let mut r = SseReader::new(
        Pieces { data: s, step: 5 },
        SseParser::with_max_line(&mut buf, 10),
        &mut chunk,
    );
    let res = embassy_futures::block_on(async { r.next_event().await.map(|e| e.is_some()) });
    assert_eq!(
        res,
        Err(SseReadError::Sse(SseError::LineTooLong { limit: 10 }))
    );
}
