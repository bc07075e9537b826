//! `ioto_core::features::audio` against TensorFlow's `audio_microfrontend` op (the C
//! micro front end compiled into the `tensorflow-cpu` wheel), through
//! `tests/python/audio_frontend_oracle.py`: every feature value must be equal, on the
//! speech fixtures and on synthetic signals chosen to reach the corners (full-scale
//! clipping, near-silence, silence-to-burst, impulses) and under several settings
//! (TensorFlow's defaults, PCAN without log, 8 kHz, a 64-point FFT, 64 channels).
//!
//! TensorFlow's features of the two speech fixtures are also committed
//! (`tests/fixtures/speech/<word>.tf-features.bin`, 49 × 40 little-endian `u16`) for the
//! on-target suite `keyword`, which has no TensorFlow beside it; this test checks that
//! they are still TensorFlow's output (`IOTO_WRITE_GOLDEN=1` rewrites them).
//!
//! Python comes from `$IOTO_PYTHON`, else `<workspace>/.venv/bin/python3` (created with
//! `tensorflow-cpu` by `cargo xtask doctor --install`). A missing interpreter or
//! TensorFlow fails the test loudly; it is never skipped.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ioto_core::features::audio::wav::Wav;
use ioto_core::features::audio::{AudioFrontend, FrontendConfig, PcanConfig};

mod common;
use common::Lcg;

struct Case {
    name: String,
    config: FrontendConfig,
    audio: Vec<i16>,
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `$IOTO_PYTHON`, else the workspace's `.venv` (which has tensorflow-cpu).
fn interpreter() -> PathBuf {
    let venv = manifest().join("../.venv/bin/python3");
    let python = std::env::var_os("IOTO_PYTHON").map_or(venv, PathBuf::from);
    if !python.exists() {
        panic!(
            "no Python at {} for the TensorFlow oracle: run `cargo xtask doctor --install` \
             (it installs tensorflow-cpu into <workspace>/.venv) or set IOTO_PYTHON",
            python.display()
        );
    }
    python
}

fn line(c: &Case) -> String {
    let k = &c.config;
    let pcan = k.pcan.unwrap_or(PcanConfig {
        strength: 0.95,
        offset: 80.0,
        gain_bits: 21,
    });
    let mut s = format!(
        "{} {} {} {} {} {:?} {:?} {} {:?} {:?} {:?} {} {:?} {:?} {} {} {} {}",
        c.name,
        k.sample_rate,
        k.window_ms,
        k.step_ms,
        k.channels,
        k.lower_band_hz,
        k.upper_band_hz,
        k.smoothing_bits,
        k.even_smoothing,
        k.odd_smoothing,
        k.min_signal_remaining,
        u8::from(k.pcan.is_some()),
        pcan.strength,
        pcan.offset,
        pcan.gain_bits,
        u8::from(k.log_scale_shift.is_some()),
        k.log_scale_shift.unwrap_or(6),
        c.audio.len()
    );
    for v in &c.audio {
        s += &format!(" {v}");
    }
    s.push('\n');
    s
}

/// TensorFlow's features of every case: `(frames, values)`.
fn oracle(cases: &[Case]) -> Vec<(usize, Vec<u16>)> {
    let script = manifest().join("tests/python/audio_frontend_oracle.py");
    let cases_file = std::env::temp_dir().join(format!("ioto-audio-cases-{}", std::process::id()));
    std::fs::write(&cases_file, cases.iter().map(line).collect::<String>()).unwrap();
    let out = Command::new(interpreter())
        .arg(&script)
        .arg(&cases_file)
        .output()
        .unwrap();
    std::fs::remove_file(&cases_file).ok();
    assert!(
        out.status.success(),
        "TensorFlow oracle failed (is tensorflow-cpu installed in that Python?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<_> = text
        .lines()
        .zip(cases)
        .map(|(line, c)| {
            let mut f = line.split_whitespace();
            assert_eq!(f.next(), Some(c.name.as_str()));
            let frames: usize = f.next().unwrap().parse().unwrap();
            let channels: usize = f.next().unwrap().parse().unwrap();
            assert_eq!(channels, c.config.channels);
            let values: Vec<u16> = f.map(|v| v.parse().unwrap()).collect();
            assert_eq!(values.len(), frames * channels, "{}", c.name);
            (frames, values)
        })
        .collect();
    assert_eq!(rows.len(), cases.len(), "oracle output: {text}");
    rows
}

fn wav(name: &str) -> Vec<i16> {
    let bytes = std::fs::read(manifest().join("tests/fixtures/speech").join(name)).unwrap();
    let wav = Wav::parse(&bytes).unwrap();
    assert_eq!((wav.sample_rate(), wav.channels()), (16_000, 1));
    wav.samples().collect()
}

fn cases() -> Vec<Case> {
    let mut r = Lcg(77);
    let mut noise = |n: usize, amp: f64| -> Vec<i16> {
        (0..n)
            .map(|_| {
                (amp * (2.0 * r.next() - 1.0))
                    .round()
                    .clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    };
    let chirp = |n: usize, rate: f64, amp: f64| -> Vec<i16> {
        let (f0, f1) = (100.0, 0.49 * rate);
        (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                let dur = n as f64 / rate;
                let phase = 2.0 * std::f64::consts::PI * (f0 * t + (f1 - f0) * t * t / (2.0 * dur));
                (amp * phase.sin()).round() as i16
            })
            .collect()
    };
    // Full scale with clipping: exercises the -32768 × max-coefficient window product.
    let loud = noise(16_000, 60_000.0);
    let quiet = noise(16_000, 3.0);
    let mut burst = vec![0i16; 8_000];
    burst.extend(chirp(8_000, 16_000.0, 12_000.0));
    let mut impulses = noise(16_000, 20.0);
    for i in (100..16_000).step_by(1_234) {
        impulses[i] = if i % 2 == 0 { i16::MAX } else { i16::MIN };
    }
    let square: Vec<i16> = (0..16_000)
        .map(|i| {
            if (i / 40) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    let mut mixed = chirp(12_000, 16_000.0, 9_000.0);
    for (m, n) in mixed.iter_mut().zip(noise(12_000, 2_000.0)) {
        *m = m.saturating_add(n);
    }

    let ms = FrontendConfig::MICRO_SPEECH;
    let tf_default = FrontendConfig {
        window_ms: 25,
        step_ms: 10,
        channels: 32,
        pcan: None,
        ..ms
    };
    let pcan_linear = FrontendConfig {
        log_scale_shift: None,
        ..ms
    };
    let narrowband = FrontendConfig {
        sample_rate: 8_000,
        window_ms: 30,
        step_ms: 10,
        channels: 20,
        upper_band_hz: 3_800.0,
        ..ms
    };
    let tiny_fft = FrontendConfig {
        window_ms: 4,
        step_ms: 2,
        channels: 10,
        upper_band_hz: 7_000.0,
        ..ms
    };
    let wide = FrontendConfig {
        window_ms: 32,
        step_ms: 16,
        channels: 64,
        lower_band_hz: 60.0,
        smoothing_bits: 8,
        even_smoothing: 0.1,
        odd_smoothing: 0.2,
        min_signal_remaining: 0.1,
        pcan: Some(PcanConfig {
            strength: 0.8,
            offset: 20.0,
            gain_bits: 20,
        }),
        log_scale_shift: Some(4),
        ..ms
    };
    let case = |name: &str, config: FrontendConfig, audio: Vec<i16>| Case {
        name: name.into(),
        config,
        audio,
    };
    vec![
        case("yes", ms, wav("yes.wav")),
        case("no", ms, wav("no.wav")),
        case("loud_noise", ms, loud),
        case("quiet_noise", ms, quiet),
        case("silence_then_chirp", ms, burst),
        case("impulses", ms, impulses),
        case("full_scale_square", ms, square),
        case("tf_default_yes", tf_default, wav("yes.wav")),
        case("tf_default_mixed", tf_default, mixed.clone()),
        case("pcan_linear_no", pcan_linear, wav("no.wav")),
        case("pcan_linear_mixed", pcan_linear, mixed.clone()),
        case("narrowband_8k", narrowband, chirp(8_000, 8_000.0, 15_000.0)),
        case("tiny_fft", tiny_fft, mixed.clone()),
        case("wide_64_channels", wide, mixed),
    ]
}

/// Checks (or with `IOTO_WRITE_GOLDEN=1` writes) the committed TensorFlow features of
/// the speech fixture `word`.
fn committed_features(word: &str, tf: &[u16]) {
    let path = manifest().join(format!("tests/fixtures/speech/{word}.tf-features.bin"));
    let bytes: Vec<u8> = tf.iter().flat_map(|v| v.to_le_bytes()).collect();
    if std::env::var_os("IOTO_WRITE_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == bytes,
        "{} is not TensorFlow's output (regenerate with IOTO_WRITE_GOLDEN=1)",
        path.display()
    );
}

/// Every frame of every case equals TensorFlow's, value for value.
#[test]
fn features_equal_tensorflow() {
    let cases = cases();
    let want = oracle(&cases);
    let mut frontend = AudioFrontend::new();
    let (mut values, mut max_diff) = (0usize, 0u16);
    for (c, (frames, expected)) in cases.iter().zip(&want) {
        frontend.configure(&c.config).unwrap();
        assert_eq!(frontend.frames_for(c.audio.len()), *frames, "{}", c.name);
        let mut got = vec![0u16; expected.len()];
        assert_eq!(frontend.features(&c.audio, &mut got), Ok(*frames));
        let mut first = None;
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            max_diff = max_diff.max(g.abs_diff(*e));
            if g != e && first.is_none() {
                first = Some((i / c.config.channels, i % c.config.channels, *g, *e));
            }
        }
        assert!(
            first.is_none(),
            "{}: first difference at (frame, channel, ours, tf) = {:?}",
            c.name,
            first
        );
        assert!(expected.iter().any(|&v| v > 0), "{}: all zero", c.name);
        if c.name == "yes" || c.name == "no" {
            committed_features(&c.name, expected);
        }
        values += expected.len();
    }
    eprintln!(
        "{} cases, {values} feature values, max |ours - tensorflow| = {max_diff}",
        cases.len()
    );
}
