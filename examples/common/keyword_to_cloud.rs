//! keyword-to-cloud, the same on every board, virtual or physical: a microphone's
//! 16 kHz samples → micro_speech's audio front end (`ioto_core::features::audio`,
//! bit-exact with TensorFlow's) → TFLM's `micro_speech` model (`ioto_ml`) on the last
//! second, every [`STRIDE_FRAMES`] frames → TFLM's command recogniser (scores averaged
//! over a second, a threshold, a suppression time) → on a keyword, one Responses API
//! request (`ioto_cloud::advisor::CloudAdvisor`) that describes it and offers the
//! device's functions (`ioto_core::device::TOOLS`) → the model's tool calls, checked
//! against their schemas and the device's [`LIMITS`], applied to the device (actuator
//! 0 is its light or relay) → the result in the log.
//!
//! A board's `src/bin/keyword_to_cloud.rs` brings up its microphone (a [`Microphone`])
//! and its network (the advisor), and includes this file as a module
//! (`#[path = "../../../common/keyword_to_cloud.rs"]`); on the virtual boards a
//! recorded WAV is the microphone (examples/qemu/src/bin/keyword_to_cloud.rs).

use alloc::format;
use core::fmt::Debug;

use embassy_net::Stack;
use embassy_net::tcp::client::{TcpClient, TcpClientState};
use embassy_time::Delay;
use embedded_nal_async::Dns;
use ioto_cloud::advisor::{AdvisorConfig, CloudAdvisor, Wire};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::resilience::RetryPolicy;
use ioto_cloud::transport::IotoHttp;
use ioto_core::Clock;
use ioto_core::advisor::{Advice, Advisor};
use ioto_core::device::{Command, Limits, TOOLS};
use ioto_core::features::audio::{
    AudioError, AudioFrontend, FrontendConfig, MICRO_SPEECH_LABELS, micro_speech_value,
};
use ioto_ml::{Interpreter, Model};
use ioto_transport::http::{ClockDelay, HttpClient, TcpConnector};
use ioto_transport::tls::{
    CryptoRngCore, READ_BUF_FULL, TlsBuffers, TlsError, TlsHttpConnector, UnixTime,
};

/// TFLM's `micro_speech_quantized.tflite` (Apache-2.0, unmodified; see its NOTICE),
/// read in place from flash: 18 800 bytes of model.
pub static MODEL: &[u8] =
    include_bytes!("../../ioto-ml/tests/golden/micro_speech_quantized/model.tflite");

/// The microphone's sample rate: micro_speech's.
pub const SAMPLE_RATE: u32 = 16_000;
/// Frames the model sees: one second (30 ms windows every 20 ms).
pub const FRAMES: usize = 49;
/// Values per frame (mel channels).
pub const CHANNELS: usize = 40;
/// Milliseconds between frames.
pub const FRAME_MS: u32 = 20;
/// The model runs every this many new frames (every 100 ms): about 1.3 M instructions
/// each, so 13 M instructions a second next to the front end's 5 M.
pub const STRIDE_FRAMES: u32 = 5;
/// Heap for the cloud client (request and answer JSON): llmock's short answer needs
/// 36 KiB on the virtual boards (their suite runs in this heap and checks it is all
/// given back); a real model's longer answer needs more.
pub const HEAP_BYTES: usize = 48 * 1024;
/// Arena bytes micro_speech needs (`Model::arena_size`; checked when the spotter
/// starts).
pub const ARENA_BYTES: usize = 6_400;
/// Average score (of 255) a keyword needs.
pub const THRESHOLD: u8 = 200;
/// Results averaged: those of the last second.
pub const AVERAGE_MS: u32 = 1_000;
/// Results needed in that second before any keyword counts.
pub const MIN_RESULTS: usize = 3;
/// The same keyword again within this time is the same utterance.
pub const SUPPRESSION_MS: u32 = 1_500;

/// The device functions the model may call, and their limits: actuator 0 is the
/// light (or relay), level 0 (off) to 1 (full).
pub const LIMITS: Limits = Limits {
    min_sensitivity: 0.25,
    max_sensitivity: 4.0,
    actuators: 1,
    max_actuator_level: 1.0,
    channels: 1,
    max_report_delay_s: 3_600,
};

/// The device's role, sent as the Responses API's `instructions`.
pub const INSTRUCTIONS: &str = "You are the voice assistant of a small device with one \
light (actuator 0; level 0 is off, 1 is full). The user message is a JSON event from the \
device's keyword spotter: the keyword it heard (\"yes\" or \"no\"), its confidence and the \
light's level. \"yes\" means: switch the light on; \"no\": switch it off. Act only by \
calling the device functions offered as tools, with arguments inside their limits, then \
answer with exactly one JSON object and nothing else: \
{\"severity\":\"info|warning|critical\",\"summary\":\"one sentence, at most 160 bytes\"}.";

/// The advisor's settings for `model`: the Responses API, [`INSTRUCTIONS`],
/// [`LIMITS`], a short answer.
pub fn advisor_config(model: &str) -> AdvisorConfig {
    let mut config = AdvisorConfig::new(model);
    config.wire = Some(Wire::Responses);
    config.system_prompt = INSTRUCTIONS.into();
    config.limits = LIMITS;
    config.max_output_tokens = 200;
    config
}

/// A keyword the recogniser accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The label (`"yes"` or `"no"`).
    pub keyword: &'static str,
    /// Its average score over the last second, of 255.
    pub score: u8,
    /// Milliseconds of audio heard before it (the stream's own clock).
    pub at_ms: u32,
}

/// TFLM's `RecognizeCommands`: the scores of the last [`AVERAGE_MS`] averaged; the
/// best label counts when it is not silence, averages over the threshold, and is not
/// the previous keyword again within [`SUPPRESSION_MS`].
pub struct Recognizer {
    results: [(u32, [u8; 4]); 16],
    len: usize,
    previous: Option<(usize, u32)>,
    /// Average score a keyword needs (of 255).
    pub threshold: u8,
}

impl Recognizer {
    /// An empty history with [`THRESHOLD`].
    pub const fn new() -> Self {
        Self {
            results: [(0, [0; 4]); 16],
            len: 0,
            previous: None,
            threshold: THRESHOLD,
        }
    }

    /// Adds the scores (silence, unknown, yes, no) the model gave at `at_ms`.
    pub fn push(&mut self, at_ms: u32, scores: [u8; 4]) -> Option<Detection> {
        let keep = |&(t, _): &(u32, [u8; 4])| at_ms.saturating_sub(t) < AVERAGE_MS;
        let mut kept = 0;
        for i in 0..self.len {
            if keep(&self.results[i]) {
                self.results[kept] = self.results[i];
                kept += 1;
            }
        }
        self.len = kept;
        if self.len == self.results.len() {
            self.results.copy_within(1.., 0);
            self.len -= 1;
        }
        self.results[self.len] = (at_ms, scores);
        self.len += 1;
        if self.len < MIN_RESULTS {
            return None;
        }
        let mut sums = [0u32; 4];
        for (_, s) in &self.results[..self.len] {
            for (sum, &v) in sums.iter_mut().zip(s) {
                *sum += u32::from(v);
            }
        }
        let best = (0..4).max_by_key(|&i| sums[i]).unwrap_or(0);
        let score = (sums[best] / self.len as u32) as u8;
        // Labels 0 and 1 are silence and unknown: never a keyword.
        if best < 2 || score <= self.threshold {
            return None;
        }
        if let Some((label, t)) = self.previous
            && label == best
            && at_ms.saturating_sub(t) <= SUPPRESSION_MS
        {
            return None;
        }
        self.previous = Some((best, at_ms));
        Some(Detection {
            keyword: MICRO_SPEECH_LABELS[best],
            score,
            at_ms,
        })
    }
}

impl Default for Recognizer {
    fn default() -> Self {
        Self::new()
    }
}

/// Why the spotter cannot run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpotError {
    /// The front end refused its setting or a frame.
    Audio(AudioError),
    /// The model did not load or run.
    Model(ioto_ml::Error),
}

/// The on-device half: samples in, keywords out. The front end's state (≈ 9 KiB) and
/// the arena are the caller's, typically `static`s.
pub struct Spotter<'a> {
    frontend: &'a mut AudioFrontend,
    interpreter: Interpreter<'static, 'a>,
    window: [i8; FRAMES * CHANNELS],
    frames: u32,
    /// The command recogniser (its threshold is what `set_sensitivity` scales).
    pub recognizer: Recognizer,
    /// The model's latest scores (silence, unknown, yes, no; of 255).
    pub scores: [u8; 4],
}

impl<'a> Spotter<'a> {
    /// Configures `frontend` for micro_speech and loads [`MODEL`] into `arena`.
    pub fn new(frontend: &'a mut AudioFrontend, arena: &'a mut [u8]) -> Result<Self, SpotError> {
        frontend
            .configure(&FrontendConfig::MICRO_SPEECH)
            .map_err(SpotError::Audio)?;
        let model = Model::parse(MODEL).map_err(SpotError::Model)?;
        let interpreter = Interpreter::new(&model, arena).map_err(SpotError::Model)?;
        Ok(Self {
            frontend,
            interpreter,
            // The quietest input: what the front end gives for silence.
            window: [micro_speech_value(0); FRAMES * CHANNELS],
            frames: 0,
            recognizer: Recognizer::new(),
            scores: [0; 4],
        })
    }

    /// Milliseconds of audio heard so far.
    pub fn heard_ms(&self) -> u32 {
        self.frames * FRAME_MS
    }

    /// Takes 16 kHz samples (any number); returns the first keyword they complete.
    /// Samples after that keyword's frame are dropped (the board stops listening
    /// while it talks to the cloud).
    pub fn push(&mut self, mut samples: &[i16]) -> Result<Option<Detection>, SpotError> {
        let mut frame = [0u16; CHANNELS];
        while !samples.is_empty() {
            let step = self
                .frontend
                .process(samples, &mut frame)
                .map_err(SpotError::Audio)?;
            samples = &samples[step.consumed..];
            if !step.frame {
                continue;
            }
            self.window.copy_within(CHANNELS.., 0);
            for (w, &v) in self.window[(FRAMES - 1) * CHANNELS..]
                .iter_mut()
                .zip(&frame)
            {
                *w = micro_speech_value(v);
            }
            self.frames += 1;
            if self.frames < FRAMES as u32 || self.frames % STRIDE_FRAMES != 0 {
                continue;
            }
            self.scores = self.infer()?;
            if let Some(d) = self.recognizer.push(self.heard_ms(), self.scores) {
                return Ok(Some(d));
            }
        }
        Ok(None)
    }

    /// The model on the last second of features.
    fn infer(&mut self) -> Result<[u8; 4], SpotError> {
        let input = self.interpreter.input_mut(0).map_err(SpotError::Model)?;
        for (dst, &v) in input.iter_mut().zip(&self.window) {
            *dst = v as u8;
        }
        self.interpreter.invoke().map_err(SpotError::Model)?;
        let out = self.interpreter.output(0).map_err(SpotError::Model)?;
        // Output scale 1/256, zero point -128: the probability × 256, capped at 255.
        Ok(core::array::from_fn(|i| {
            out.get(i)
                .map_or(0, |&q| (i16::from(q as i8) + 128).min(255) as u8)
        }))
    }
}

/// A source of 16 kHz mono 16-bit samples.
#[allow(async_fn_in_trait)]
pub trait Microphone {
    /// Why it stopped delivering.
    type Error: Debug;

    /// Delivers samples to `sink`, as they come, until `sink` returns `false`.
    async fn listen(&mut self, sink: impl FnMut(&[i16]) -> bool) -> Result<(), Self::Error>;
}

/// Listens until the spotter recognises a keyword.
pub async fn next_keyword<M: Microphone>(
    mic: &mut M,
    spotter: &mut Spotter<'_>,
) -> Result<Detection, Failure<M::Error>> {
    let mut found = Ok(None);
    mic.listen(|samples| {
        found = spotter.push(samples);
        matches!(found, Ok(None))
    })
    .await
    .map_err(Failure::Microphone)?;
    match found {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(Failure::SilentMicrophone),
        Err(e) => Err(Failure::Spotter(e)),
    }
}

/// Why keyword-to-cloud stopped.
#[derive(Debug)]
pub enum Failure<E> {
    /// The microphone failed.
    Microphone(E),
    /// The microphone stopped delivering before a keyword.
    SilentMicrophone,
    /// The front end or the model failed.
    Spotter(SpotError),
    /// The model's URL is not an `https://` URL (or a local `http://` one).
    Endpoint,
}

impl<E: Debug> core::fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Microphone(e) => write!(f, "microphone: {e:?}"),
            Failure::SilentMicrophone => f.write_str("the microphone stopped"),
            Failure::Spotter(e) => write!(f, "spotter: {e:?}"),
            Failure::Endpoint => f.write_str("the model's URL is not https:// (or local http://)"),
        }
    }
}

/// The device's state the model's calls change.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DeviceState {
    /// The light's level, 0 to 1.
    pub light: f32,
    /// Calls applied so far.
    pub applied: u32,
    /// Calls refused by the limits so far.
    pub refused: u32,
}

/// Applies the model's (already schema-checked) commands, each checked again against
/// [`LIMITS`]: the light through `light`, the sensitivity to the spotter's threshold;
/// reads and reports go to the log.
pub fn apply(
    advice: &Advice,
    state: &mut DeviceState,
    spotter: &mut Spotter<'_>,
    light: &mut impl FnMut(f32),
) {
    for command in advice.commands() {
        if let Err(why) = LIMITS.check(command) {
            log::warn!("refused {command:?}: {why:?}");
            state.refused += 1;
            continue;
        }
        match *command {
            Command::SetActuator { level, .. } => {
                light(level);
                state.light = level;
            }
            Command::SetSensitivity { level } => {
                let t = (f32::from(THRESHOLD) * level).clamp(128.0, 250.0);
                spotter.recognizer.threshold = t as u8;
            }
            Command::ReadSensor { .. } => log::info!("scores now: {:?}", spotter.scores),
            Command::ScheduleReport { after_s } => log::info!("report asked in {after_s} s"),
        }
        log::info!("applied {command:?}");
        state.applied += 1;
    }
}

/// What the device tells the model about a keyword (compact JSON).
pub fn context(device: &str, heard: &Detection, state: &DeviceState) -> alloc::string::String {
    format!(
        r#"{{"device":"{device}","event":"keyword","keyword":"{}","confidence":{:.2},"light":{:.2}}}"#,
        heard.keyword,
        f32::from(heard.score) / 255.0,
        state.light
    )
}

/// One keyword to the cloud and back: the request, the checked answer applied,
/// reported. Returns the advice (for tests); the advisor's error otherwise (logged).
pub async fn ask_and_apply<A: Advisor>(
    advisor: &mut A,
    device: &str,
    heard: &Detection,
    state: &mut DeviceState,
    spotter: &mut Spotter<'_>,
    light: &mut impl FnMut(f32),
) -> Result<Advice, A::Error> {
    log::info!(
        "heard \"{}\" (score {}/255 at {} ms): asking the model",
        heard.keyword,
        heard.score,
        heard.at_ms
    );
    let context = context(device, heard, state);
    match advisor.advise(&context, &TOOLS).await {
        Ok(advice) => {
            apply(&advice, state, spotter, light);
            log::info!(
                "model: {} \"{}\"; light {:.2}; {} calls applied, {} refused",
                advice.severity.name(),
                advice.summary(),
                state.light,
                state.applied,
                state.refused
            );
            Ok(advice)
        }
        Err(e) => {
            log::warn!("no answer from the model: {e:?}");
            Err(e)
        }
    }
}

/// The model the keywords go to.
#[derive(Debug)]
pub struct ModelLink<'a> {
    /// Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`. A plain
    /// `http://` URL is accepted only as a local server (a LAN gateway, or the test
    /// server of the virtual boards).
    pub url: &'a str,
    /// Model name.
    pub model: &'a str,
    /// API key (empty for a local server); prints as `[REDACTED]`.
    pub key: ioto_cloud::Secret,
    /// The CA(s) an `https://` endpoint's chain must end in (DER, or PEM text).
    pub trust: &'a [u8],
}

/// What the board lends the cloud client.
pub struct NetParts<'n, D, R, U, K> {
    /// The `embassy-net` stack (its runner already running).
    pub stack: Stack<'n>,
    /// Host names → addresses (IP literals skip it).
    pub dns: &'n D,
    /// Randomness of the TLS handshakes.
    pub tls_rng: R,
    /// Seconds since the Unix epoch, for certificate validity.
    pub unix_time: U,
    /// Monotonic board time (HTTP timeouts, budgets).
    pub clock: K,
    /// Seed of the retry jitter (from the board's RNG, so devices do not retry in step).
    pub jitter_seed: u64,
}

/// What [`serve`] did when it ended.
#[derive(Debug)]
pub struct Report {
    /// Keywords heard (each one request).
    pub keywords: u32,
    /// The device's state.
    pub state: DeviceState,
    /// The last model answer applied.
    pub last: Option<Advice>,
    /// The last TLS failure of the model's connection.
    pub tls: Option<TlsError>,
}

/// TCP buffers of the model's connection, each way.
const TCP_BUFFER: usize = 2048;

/// keyword-to-cloud over a board's network: listens on `mic`; each keyword goes to
/// `link`'s model as one Responses request (over verified TLS, or plain HTTP for a
/// local `http://` server) and its tool calls are applied (the light through
/// `light`). Ends after `keywords` keywords (`None`: never), or when the microphone
/// or the spotter fails.
pub async fn serve<M, D, R, U, K>(
    mic: &mut M,
    spotter: &mut Spotter<'_>,
    link: &ModelLink<'_>,
    net: NetParts<'_, D, R, U, K>,
    device: &str,
    light: &mut impl FnMut(f32),
    keywords: Option<u32>,
) -> Result<Report, Failure<M::Error>>
where
    M: Microphone,
    D: Dns,
    R: CryptoRngCore,
    U: UnixTime,
    K: Clock + Clone,
{
    let NetParts {
        stack,
        dns,
        tls_rng,
        unix_time,
        clock,
        jitter_seed,
    } = net;
    let tcp_state: TcpClientState<1, TCP_BUFFER, TCP_BUFFER> = TcpClientState::new();
    let tcp = TcpClient::new(stack, &tcp_state);
    let (mut read, mut write) = ([0u8; READ_BUF_FULL], [0u8; TCP_BUFFER]);
    let buffers = TlsBuffers::new(&mut read, &mut write);
    let tls = TlsHttpConnector::new(
        TcpConnector::new(&tcp, dns),
        &buffers,
        link.trust,
        tls_rng,
        unix_time,
    );
    let plain = link.url.starts_with("http://");
    let (mut connector, endpoint) = if plain {
        (tls.allow_plain(), Endpoint::local(link.url))
    } else {
        (tls, Endpoint::new(link.url))
    };
    let Ok(endpoint) = endpoint else {
        log::error!("not a model endpoint: {}", link.url);
        return Err(Failure::Endpoint);
    };
    let mut config = ClientConfig::new(endpoint, Api::OpenAi, link.key.clone());
    config.retry = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::default()
    };
    config.limits.max_response_bytes = 16 * 1024;
    config.jitter_seed = jitter_seed;
    let timer = ClockDelay {
        clock: clock.clone(),
        delay: Delay,
    };
    let http = IotoHttp::new(HttpClient::new(&mut connector, timer), TCP_BUFFER);
    let mut advisor = CloudAdvisor::new(
        Client::new(http, clock, Delay, config),
        advisor_config(link.model),
    );

    let mut report = Report {
        keywords: 0,
        state: DeviceState::default(),
        last: None,
        tls: None,
    };
    while keywords.is_none_or(|n| report.keywords < n) {
        let heard = next_keyword(mic, spotter).await?;
        report.keywords += 1;
        // A failed request is logged; the device keeps listening.
        let asked = ask_and_apply(
            &mut advisor,
            device,
            &heard,
            &mut report.state,
            spotter,
            light,
        );
        if let Ok(advice) = asked.await {
            report.last = Some(advice);
        }
    }
    drop(advisor);
    report.tls = connector.last_error();
    Ok(report)
}
