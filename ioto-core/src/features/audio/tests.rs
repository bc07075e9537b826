//! Unit tests of the front end as a whole (equality with TensorFlow is tested in
//! `tests/audio_frontend_tf.rs`).

use super::*;

#[test]
fn micro_speech_geometry() {
    let mut fe = AudioFrontend::new();
    assert_eq!(
        fe.process(&[0; 10], &mut [0; 40]),
        Err(AudioError::NotConfigured)
    );
    assert_eq!(fe.configure(&FrontendConfig::MICRO_SPEECH), Ok(()));
    assert_eq!((fe.window_size(), fe.step(), fe.channels()), (480, 320, 40));
    assert_eq!(fe.frames_for(16_000), 49);
    assert_eq!(fe.frames_for(479), 0);
    let mut out = [0u16; 40];
    assert_eq!(
        fe.features(&[0; 16_000], &mut out),
        Err(AudioError::LengthMismatch {
            expected: 1960,
            got: 40
        })
    );
}

/// Silence gives all-zero features (every stage maps 0 to 0) and micro_speech's
/// input minimum; streaming in odd-sized chunks gives the same frames as one call.
#[test]
fn silence_and_streaming() {
    let mut fe = AudioFrontend::new();
    fe.configure(&FrontendConfig::MICRO_SPEECH).ok();
    let mut all = [0u16; 49 * 40];
    assert_eq!(fe.features(&[0; 16_000], &mut all), Ok(49));
    assert!(all.iter().all(|&v| v == 0));
    let mut q = [0i8; 49 * 40];
    assert_eq!(micro_speech_input(&all, &mut q), Ok(()));
    assert!(q.iter().all(|&v| v == -128));

    let mut audio = [0i16; 4_000];
    let mut seed = 1u32;
    for s in audio.iter_mut() {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *s = (seed >> 16) as i16;
    }
    let frames = fe.frames_for(audio.len());
    let mut whole = [0u16; 12 * 40];
    assert_eq!(fe.features(&audio, &mut whole[..frames * 40]), Ok(frames));
    fe.reset();
    let (mut at, mut got) = (0, 0);
    let mut frame = [0u16; 40];
    for chunk in audio.chunks(77) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let step = fe.process(rest, &mut frame).unwrap_or(Step {
                consumed: rest.len(),
                frame: false,
            });
            rest = &rest[step.consumed..];
            if step.frame {
                assert_eq!(frame, whole[at..at + 40], "frame {got}");
                at += 40;
                got += 1;
            }
        }
    }
    assert_eq!(got, frames);
    assert!(whole.iter().any(|&v| v > 0));
}

#[test]
fn bad_settings_are_errors() {
    let mut fe = AudioFrontend::new();
    let base = FrontendConfig::MICRO_SPEECH;
    for bad in [
        FrontendConfig {
            window_ms: 40,
            ..base
        },
        FrontendConfig { step_ms: 0, ..base },
        FrontendConfig {
            step_ms: 31,
            ..base
        },
        FrontendConfig {
            sample_rate: 0,
            ..base
        },
        FrontendConfig {
            channels: 65,
            ..base
        },
        FrontendConfig {
            upper_band_hz: 9_000.0,
            ..base
        },
        FrontendConfig {
            log_scale_shift: Some(40),
            ..base
        },
    ] {
        assert!(
            matches!(fe.configure(&bad), Err(AudioError::InvalidConfig(_))),
            "{bad:?}"
        );
        assert_eq!(
            fe.process(&[0; 1], &mut [0; 40]),
            Err(AudioError::NotConfigured)
        );
    }
    fe.configure(&base).ok();
    let mut two = [0u16; 80];
    assert_eq!(fe.features_from([1i16; 900], &mut two), Ok(2));
    assert_eq!(fe.features_from([1i16; 700], &mut two), Ok(1)); // 1 window only
    assert_eq!(
        fe.features_from([1i16; 900], &mut two[..50]),
        Err(AudioError::LengthMismatch {
            expected: 40,
            got: 50
        })
    );
    assert_eq!(micro_speech_value(0), -128);
    assert_eq!(micro_speech_value(666), 127);
    assert_eq!(micro_speech_value(u16::MAX), 127);
}
