//! keyword-to-cloud's on-device half on every virtual board: a recorded WAV stands in
//! for the microphone (`ioto-core/tests/fixtures/speech`, espeak-ng saying "yes" and
//! "no"), `ioto_core::features::audio` computes micro_speech's front end features
//! from it, and `ioto_ml` runs TFLM's `micro_speech` model on them; the keyword must
//! be recognised.
//!
//! Checked against peers, not against this crate's own host run: the 49 × 40 features
//! must equal TensorFlow's `audio_microfrontend` output for the same WAV (committed
//! beside it, kept current by ioto-core's `audio_frontend_tf` test), and the model's
//! four scores must equal those TFLM's Python interpreter gives on TensorFlow's
//! features. Each test prints the instructions the front end and the model took.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec;
use ioto_board_qemu::{entry, harness, instructions, print, tests};
use ioto_core::features::audio::wav::Wav;
use ioto_core::features::audio::{
    AudioFrontend, FrontendConfig, MICRO_SPEECH_LABELS, micro_speech_input,
};
use ioto_ml::{Interpreter, Model};

/// A speech fixture and TensorFlow's features of it.
macro_rules! speech {
    ($word:literal) => {
        (
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../ioto-core/tests/fixtures/speech/",
                $word,
                ".wav"
            ))
            .as_slice(),
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../ioto-core/tests/fixtures/speech/",
                $word,
                ".tf-features.bin"
            ))
            .as_slice(),
        )
    };
}

/// Frames × channels of one second through micro_speech's front end.
const FEATURES: usize = 49 * 40;

/// Runs the clip through the front end and the model; checks the features against
/// TensorFlow's, the scores against TFLM's, and that `word` wins.
fn recognise((wav, tf_features): (&[u8], &[u8]), word: &str, tflm_scores: [u8; 4]) {
    let wav = Wav::parse(wav).expect("a 16-bit PCM WAVE file");
    assert_eq!((wav.sample_rate(), wav.channels()), (16_000, 1));
    let mut frontend = Box::new(AudioFrontend::new());
    frontend
        .configure(&FrontendConfig::MICRO_SPEECH)
        .expect("micro_speech's setting");
    let mut features = vec![0u16; FEATURES];
    let start = instructions();
    let frames = frontend
        .features_from(wav.samples(), &mut features)
        .expect("features");
    let front_end = instructions() - start;
    assert_eq!(frames, 49);
    assert_eq!(tf_features.len(), 2 * FEATURES);
    for (i, (ours, tf)) in features.iter().zip(tf_features.chunks_exact(2)).enumerate() {
        assert_eq!(
            *ours,
            u16::from_le_bytes([tf[0], tf[1]]),
            "feature {} (frame {}, channel {}) differs from TensorFlow's",
            i,
            i / 40,
            i % 40
        );
    }

    let model = Model::parse(ioto_board_qemu::golden_model!("micro_speech_quantized"))
        .expect("model parses");
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &mut arena).expect("interpreter");
    let mut input = vec![0i8; FEATURES];
    micro_speech_input(&features, &mut input).expect("same length");
    for (dst, &q) in it.input_mut(0).expect("input").iter_mut().zip(&input) {
        *dst = q as u8;
    }
    let start = instructions();
    it.invoke().expect("invoke");
    let inference = instructions() - start;
    let out = it.output(0).expect("output");
    // Output scale 1/256, zero point -128: probability × 256.
    let scores: [u8; 4] = core::array::from_fn(|i| (i16::from(out[i] as i8) + 128) as u8);
    assert_eq!(scores, tflm_scores, "silence/unknown/yes/no scores");
    let best = (0..4).max_by_key(|&i| scores[i]).unwrap_or(0);
    assert_eq!(MICRO_SPEECH_LABELS[best], word);
    print!(
        "[front end {} instructions, model {} instructions] ",
        front_end, inference
    );
}

/// "yes": TFLM scores it 0 / 1 / 254 / 1 (silence / unknown / yes / no, of 256).
fn yes_is_recognised() {
    recognise(speech!("yes"), "yes", [0, 1, 254, 1]);
}

/// "no": TFLM scores it 0 / 17 / 0 / 239.
fn no_is_recognised() {
    recognise(speech!("no"), "no", [0, 17, 0, 239]);
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(64 * 1024);
    let suite = tests![yes_is_recognised, no_is_recognised];
    harness::run("keyword", suite)
}
