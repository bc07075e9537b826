"""TensorFlow oracle for ioto-core's `features::audio` (tests/audio_frontend_tf.rs).

Reads cases from the file named by its argument (stdin without one), one per line:

    <name> <sample_rate> <window_ms> <step_ms> <channels> <lower_hz> <upper_hz>
    <smoothing_bits> <even_smoothing> <odd_smoothing> <min_signal_remaining>
    <enable_pcan 0|1> <pcan_strength> <pcan_offset> <gain_bits>
    <enable_log 0|1> <scale_shift> <n> <samples...>

(all on one line) and prints one line per case:

    <name> <frames> <channels> <values...>

The values are the uint16 output of TensorFlow's `audio_microfrontend` op
(tensorflow/lite/experimental/microfrontend, the C library compiled into the
`tensorflow-cpu` wheel), run on the int16 samples with exactly these settings.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.lite.experimental.microfrontend.python.ops import (  # noqa: E402
    audio_microfrontend_op as frontend_op,
)


def case(fields):
    name = fields[0]
    (rate, window, step, channels) = (int(v) for v in fields[1:5])
    lower, upper = float(fields[5]), float(fields[6])
    smoothing_bits = int(fields[7])
    even, odd, min_remaining = (float(v) for v in fields[8:11])
    pcan, strength, offset, gain_bits = fields[11] == "1", float(fields[12]), float(fields[13]), int(fields[14])
    log, scale_shift = fields[15] == "1", int(fields[16])
    n = int(fields[17])
    audio = np.array(fields[18 : 18 + n], dtype=np.int16)
    assert audio.size == n, (name, audio.size, n)
    out = frontend_op.audio_microfrontend(
        tf.constant(audio),
        sample_rate=rate,
        window_size=window,
        window_step=step,
        num_channels=channels,
        upper_band_limit=upper,
        lower_band_limit=lower,
        smoothing_bits=smoothing_bits,
        even_smoothing=even,
        odd_smoothing=odd,
        min_signal_remaining=min_remaining,
        enable_pcan=pcan,
        pcan_strength=strength,
        pcan_offset=offset,
        gain_bits=gain_bits,
        enable_log=log,
        scale_shift=scale_shift,
        left_context=0,
        right_context=0,
        frame_stride=1,
        zero_padding=False,
        out_scale=1,
        out_type=tf.uint16,
    ).numpy()
    frames = out.shape[0]
    return " ".join([name, str(frames), str(channels)] + [str(int(v)) for v in out.reshape(-1)])


def main():
    source = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    for line in source:
        fields = line.split()
        if fields:
            print(case(fields), flush=True)


if __name__ == "__main__":
    main()
