//! Keyword spotting end to end on the host: a 16 kHz WAV → `ioto_core`'s micro front
//! end (bit-exact with TensorFlow's, tested in ioto-core) → int8 features → TFLM's
//! `micro_speech` model through `ioto_ml` → the keyword with the highest score.
//!
//! The committed fixtures (`ioto-core/tests/fixtures/speech`, espeak-ng saying
//! "yes" and "no") must be recognised, silence must not be a keyword, and so must
//! fresh speech that espeak-ng and SoX make here in other voices and speeds (so the
//! result does not hinge on one recording). Needs the `ioto-core` feature (on in
//! `cargo test --workspace --all-features`).
#![cfg(feature = "ioto-core")]
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ioto_core::features::audio::wav::Wav;
use ioto_core::features::audio::{
    AudioFrontend, FrontendConfig, MICRO_SPEECH_LABELS, micro_speech_input,
};
use ioto_ml::{Interpreter, Model};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// micro_speech's four scores (silence, unknown, yes, no; 0..=255) for a WAV file.
fn scores(wav_bytes: &[u8]) -> [u8; 4] {
    let wav = Wav::parse(wav_bytes).unwrap();
    assert_eq!((wav.sample_rate(), wav.channels()), (16_000, 1));
    let mut frontend = AudioFrontend::new();
    frontend.configure(&FrontendConfig::MICRO_SPEECH).unwrap();
    let mut features = [0u16; 49 * 40];
    assert_eq!(frontend.features_from(wav.samples(), &mut features), Ok(49));
    let mut input = [0i8; 49 * 40];
    micro_speech_input(&features, &mut input).unwrap();

    let model_bytes =
        std::fs::read(workspace().join("ioto-ml/tests/golden/micro_speech_quantized/model.tflite"))
            .unwrap();
    let model = Model::parse(&model_bytes).unwrap();
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &mut arena).unwrap();
    let bytes: Vec<u8> = input.iter().map(|&v| v as u8).collect();
    it.set_input(0, &bytes).unwrap();
    it.invoke().unwrap();
    let out = it.output(0).unwrap();
    // Output scale 1/256, zero point -128: the probability times 256.
    core::array::from_fn(|i| (out[i] as i8 as i16 + 128) as u8)
}

fn best(scores: &[u8; 4]) -> &'static str {
    let i = (0..4).max_by_key(|&i| scores[i]).unwrap();
    MICRO_SPEECH_LABELS[i]
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        workspace()
            .join("ioto-core/tests/fixtures/speech")
            .join(name),
    )
    .unwrap()
}

#[test]
fn fixtures_are_recognised() {
    for word in ["yes", "no"] {
        let s = scores(&fixture(&format!("{word}.wav")));
        eprintln!("{word}.wav: silence/unknown/yes/no = {s:?}");
        assert_eq!(best(&s), word, "{word}.wav scored {s:?}");
        assert!(s.iter().map(|&v| u32::from(v)).sum::<u32>() >= 250, "{s:?}");
    }
}

/// One second of a quiet room (white noise of ±16 LSB, a real microphone's floor) is
/// `silence`. (Digital zeros are not: all-minimum features score the four labels
/// equally, 64 each — an input no microphone delivers.)
#[test]
fn quiet_noise_is_silence() {
    let mut wav = fixture("yes.wav");
    let data = wav.len() - 32_000;
    let mut seed = 12_345u32;
    for pair in wav[data..].chunks_exact_mut(2) {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let v = ((seed >> 16) % 33) as i16 - 16; // ±16 LSB, about -66 dBFS
        pair.copy_from_slice(&v.to_le_bytes());
    }
    let s = scores(&wav);
    eprintln!("quiet noise: {s:?}");
    assert_eq!(best(&s), "silence", "{s:?}");
}

/// espeak-ng speaks `word` with `voice_args` into a WAV that SoX resamples to 16 kHz
/// mono 16-bit and pads to one second (as the fixtures were made).
fn speak(word: &str, voice_args: &[&str], pad_s: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("ioto-keyword-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join(format!("{word}-raw.wav"));
    let out = dir.join(format!("{word}.wav"));
    let status = Command::new("espeak-ng")
        .args(voice_args)
        .arg("-w")
        .arg(&raw)
        .arg(word)
        .status()
        .unwrap_or_else(|e| panic!("espeak-ng (`cargo xtask doctor --install`): {e}"));
    assert!(status.success());
    let status = Command::new("sox")
        .args(["-V1", "-D"])
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["pad", pad_s, "1", "trim", "0", "1"])
        .status()
        .unwrap_or_else(|e| panic!("sox (`cargo xtask doctor --install`): {e}"));
    assert!(status.success());
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    bytes
}

#[test]
fn fresh_espeak_speech_is_recognised() {
    let voices: [(&[&str], &str); 4] = [
        (&[], "0.1"),
        (&["-v", "en-us"], "0.3"),
        (&["-s", "120", "-p", "30"], "0.15"),
        (&["-s", "200", "-p", "70"], "0.25"),
    ];
    for (args, pad) in voices {
        for word in ["yes", "no"] {
            let s = scores(&speak(word, args, pad));
            eprintln!("{word} {args:?} pad {pad}: {s:?}");
            assert_eq!(best(&s), word, "{word} spoken with {args:?} scored {s:?}");
        }
    }
}
