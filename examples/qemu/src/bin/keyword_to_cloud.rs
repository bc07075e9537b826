//! keyword-to-cloud end to end on every virtual board: the example's own code
//! (examples/common/keyword_to_cloud.rs, the same the physical boards run) with a
//! recorded WAV as the microphone — espeak-ng saying "yes"
//! (`ioto-core/tests/fixtures/speech/yes.wav`) over a quiet room's noise floor — and
//! the model on the host: llmock (PyPI), over QEMU's restricted user-mode network,
//! plain HTTP.
//!
//! `cargo xtask hil-test` starts llmock on an ephemeral loopback port, scripts its
//! answer (one `set_actuator` call at a level drawn from the run's nonce, passed here as
//! `level=`), forwards `10.0.2.100:8080` to it and, after the run, checks that llmock
//! received exactly one Responses request, valid against the OpenAI OpenAPI spec,
//! offering the device's tools and carrying `"keyword":"yes"` (xtask/src/qemu_net).
//! This suite checks that the keyword is recognised in the stream, and that the light
//! ends at the scripted level: only the model's answer, checked and applied, can set it.
#![no_std]
#![no_main]

extern crate alloc;

#[path = "../../../common/keyword_to_cloud.rs"]
mod kw;

use core::cell::UnsafeCell;
use core::convert::Infallible;
use core::net::IpAddr;

use embassy_futures::select::{Either, select};
use embassy_net::{Config, Ipv4Address, Ipv4Cidr, StackResources, StaticConfigV4};
use ioto_board_qemu::net;
use ioto_board_qemu::{BOARD, QemuClock, args, block_on, entry, harness, instructions, tests};
use ioto_core::device::Command;
use ioto_core::features::audio::AudioFrontend;
use ioto_core::features::audio::wav::Wav;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// The recording: one second, the word between 0.15 and 0.55 s.
static YES: &[u8] = include_bytes!("../../../../ioto-core/tests/fixtures/speech/yes.wav");
/// Where the clip starts in the microphone's stream.
const CLIP_AT: usize = 8_000;
/// Samples per microphone read (10 ms).
const CHUNK: usize = 160;

/// The log of the run so far (the harness's report wants one line per test, so the
/// example's log lines are kept here and shown when a test fails).
struct Log {
    text: UnsafeCell<([u8; 2048], usize)>,
}

// SAFETY: the firmware runs on one core, without interrupts that log.
unsafe impl Sync for Log {}

static LOG: Log = Log {
    text: UnsafeCell::new(([0; 2048], 0)),
};

impl log::Log for Log {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        use core::fmt::Write;
        struct Tail<'a>(&'a mut [u8], &'a mut usize);
        impl Write for Tail<'_> {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                let n = s.len().min(self.0.len() - *self.1);
                self.0[*self.1..*self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
                *self.1 += n;
                Ok(())
            }
        }
        // SAFETY: single-threaded; no reference into the log outlives this call.
        let (buf, len) = unsafe { &mut *self.text.get() };
        let _ = writeln!(Tail(buf, len), "{}: {}", record.level(), record.args());
    }

    fn flush(&self) {}
}

/// The log so far.
fn log_text() -> &'static str {
    // SAFETY: single-threaded; read between log calls.
    let (buf, len) = unsafe { &*LOG.text.get() };
    core::str::from_utf8(&buf[..*len]).unwrap_or("(log not UTF-8)")
}

/// The microphone: a quiet room (white noise of ±16 LSB, a MEMS microphone's floor)
/// with the recording mixed in at [`CLIP_AT`], `seconds` long.
struct RecordedMic {
    clip: Option<Wav<'static>>,
    at: usize,
    end: usize,
    noise: u32,
}

impl RecordedMic {
    fn new(clip: Option<&'static [u8]>, seconds: usize) -> Self {
        let clip = clip.map(|bytes| Wav::parse(bytes).expect("a 16-bit PCM WAVE file"));
        if let Some(wav) = &clip {
            assert_eq!((wav.sample_rate(), wav.channels()), (kw::SAMPLE_RATE, 1));
        }
        Self {
            clip,
            at: 0,
            end: seconds * kw::SAMPLE_RATE as usize,
            noise: 12_345,
        }
    }
}

impl kw::Microphone for RecordedMic {
    type Error = Infallible;

    async fn listen(&mut self, mut sink: impl FnMut(&[i16]) -> bool) -> Result<(), Infallible> {
        let mut chunk = [0i16; CHUNK];
        while self.at < self.end {
            let n = CHUNK.min(self.end - self.at);
            for (i, s) in chunk[..n].iter_mut().enumerate() {
                self.noise = self
                    .noise
                    .wrapping_mul(1_664_525)
                    .wrapping_add(1_013_904_223);
                let floor = ((self.noise >> 16) % 33) as i16 - 16;
                let t = self.at + i;
                let word = t
                    .checked_sub(CLIP_AT)
                    .and_then(|k| self.clip.as_ref()?.sample(k))
                    .unwrap_or(0);
                *s = floor.saturating_add(word);
            }
            self.at += n;
            if !sink(&chunk[..n]) {
                break;
            }
        }
        Ok(())
    }
}

/// The front end's state and the model's arena, for one spotter at a time.
struct SpotterMemory(UnsafeCell<(AudioFrontend, [u8; kw::ARENA_BYTES])>);

// SAFETY: one core; each test makes its spotter, uses it and drops it before the next.
unsafe impl Sync for SpotterMemory {}

static MEMORY: SpotterMemory = SpotterMemory(UnsafeCell::new((
    AudioFrontend::new(),
    [0; kw::ARENA_BYTES],
)));

/// A fresh spotter. Each test drops its spotter before the next one asks.
fn spotter() -> kw::Spotter<'static> {
    // SAFETY: the tests run one after the other and none keeps its spotter.
    let (frontend, arena) = unsafe { &mut *MEMORY.0.get() };
    kw::Spotter::new(frontend, arena).expect("micro_speech loads")
}

/// Three seconds of a quiet room: no keyword (and, at the end, a silent microphone).
fn quiet_room_is_no_keyword() {
    let mut spotter = spotter();
    let mut mic = RecordedMic::new(None, 3);
    match block_on(kw::next_keyword(&mut mic, &mut spotter)) {
        Err(kw::Failure::SilentMicrophone) => {}
        other => panic!("a quiet room gave {other:?}\n{}", log_text()),
    }
    assert_eq!(spotter.heard_ms(), 2_980, "every frame of 3 s was heard");
}

/// "yes" in the stream is recognised while the word is in the model's second, once.
fn yes_is_recognised_in_the_stream() {
    let mut spotter = spotter();
    let mut mic = RecordedMic::new(Some(YES), 4);
    let start = instructions();
    let heard = block_on(kw::next_keyword(&mut mic, &mut spotter)).expect("a keyword");
    let cost = instructions() - start;
    assert_eq!(heard.keyword, "yes", "{heard:?}");
    // The word ends 1.05 s into the stream; the model's second must still hold it.
    assert!((1_000..=1_600).contains(&heard.at_ms), "{heard:?}");
    // The rest of the stream: the same word is not heard again.
    let again = block_on(kw::next_keyword(&mut mic, &mut spotter));
    assert!(
        matches!(again, Err(kw::Failure::SilentMicrophone)),
        "{again:?}"
    );
    ioto_board_qemu::print!(
        "[score {}/255 at {} ms; {} instructions per second of audio] ",
        heard.score,
        heard.at_ms,
        cost * 1_000 / u64::from(heard.at_ms)
    );
}

/// The value of `key=` on the command line xtask passed.
fn arg<'a>(line: &'a str, key: &str) -> &'a str {
    args::value(line, key).unwrap_or_else(|| panic!("`{key}=` missing from `{line}`"))
}

/// No names on this network (`restrict=on`): the model's URL is an address.
struct NoDns;

impl embedded_nal_async::Dns for NoDns {
    type Error = embedded_io::ErrorKind;

    async fn get_host_by_name(
        &self,
        _: &str,
        _: embedded_nal_async::AddrType,
    ) -> Result<IpAddr, Self::Error> {
        Err(embedded_io::ErrorKind::Unsupported)
    }

    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, Self::Error> {
        Err(embedded_io::ErrorKind::Unsupported)
    }
}

/// "yes" → one Responses request to llmock → its `set_actuator` call checked and
/// applied: the light ends at the level xtask scripted.
fn yes_goes_to_the_model_and_its_tool_call_is_applied() {
    let mut buf = [0u8; 512];
    let line = args::cmdline(&mut buf).unwrap_or_else(|e| panic!("no command line: {e}"));
    let model_at = arg(line, "llm");
    let want: f32 = arg(line, "level").parse().expect("level= is a number");
    let nonce: u64 = arg(line, "nonce").parse().expect("nonce= is a number");
    let url = alloc::format!("http://{model_at}/v1");

    let nic = net::nic().unwrap_or_else(|e| panic!("{e}"));
    let [a, b, c, d] = net::ADDRESS;
    let [ga, gb, gc, gd] = net::GATEWAY;
    let config = Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(Ipv4Address::new(a, b, c, d), net::PREFIX_LEN),
        gateway: Some(Ipv4Address::new(ga, gb, gc, gd)),
        dns_servers: Default::default(),
    });
    let mut resources = StackResources::<2>::new();
    let (stack, mut runner) = embassy_net::new(nic, config, &mut resources, nonce);

    let mut spotter = spotter();
    let mut mic = RecordedMic::new(Some(YES), 4);
    let link = kw::ModelLink {
        url: &url,
        model: "gpt-4.1-mini",
        key: ioto_cloud::Secret::new(""),
        trust: &[],
    };
    let parts = kw::NetParts {
        stack,
        dns: &NoDns,
        tls_rng: ChaCha20Rng::seed_from_u64(nonce),
        unix_time: || 0u64,
        clock: QemuClock,
        jitter_seed: !nonce,
    };
    let mut light = 0.0f32;
    let mut set_light = |level: f32| light = level;
    let device = alloc::format!("keyword-{BOARD}");
    let served = block_on(async {
        let serving = kw::serve(
            &mut mic,
            &mut spotter,
            &link,
            parts,
            &device,
            &mut set_light,
            Some(1),
        );
        match select(runner.run(), serving).await {
            Either::First(never) => never,
            Either::Second(report) => report,
        }
    });
    let report = served.unwrap_or_else(|e| panic!("{e}\n{}", log_text()));
    let advice = report
        .last
        .unwrap_or_else(|| panic!("no answer applied\n{}", log_text()));
    let mut commands = advice.commands();
    match (commands.next(), commands.next()) {
        (Some(Command::SetActuator { actuator: 0, level }), None)
            if (level - want).abs() < 1e-6 => {}
        other => panic!("the model's calls {other:?}, want set_actuator(0, {want})"),
    }
    assert_eq!((report.state.applied, report.state.refused), (1, 0));
    assert!((light - want).abs() < 1e-6, "light {light}, want {want}");
    assert_eq!(report.state.light, light);
    assert!(log_text().contains("heard \"yes\""), "{}", log_text());
    // The client's request and answer fitted in kw::HEAP_BYTES, and were given back.
    drop(link);
    drop((url, device));
    assert_eq!(ioto_board_qemu::heap::used(), 0, "heap still in use");
    ioto_board_qemu::print!(
        "[light {light:.2}; model: {} \"{}\"] ",
        advice.severity.name(),
        advice.summary()
    );
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(kw::HEAP_BYTES);
    // SAFETY: set once, before anything logs, on the one core.
    unsafe {
        let _ = log::set_logger_racy(&LOG);
        log::set_max_level_racy(log::LevelFilter::Info);
    }
    let suite = tests![
        quiet_room_is_no_keyword,
        yes_is_recognised_in_the_stream,
        yes_goes_to_the_model_and_its_tool_call_is_applied
    ];
    harness::run("keyword_to_cloud", suite)
}
