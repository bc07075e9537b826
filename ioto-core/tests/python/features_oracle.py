"""numpy oracle for ioto-core's `features` module (tests/features_numpy.rs).

Reads cases from stdin, one per line:

    <name> <fs> <hann|rect> <remove_mean 0|1> <n_edges> <edges...> <n> <samples...>

and prints one line per case:

    <name> mean std rms peak p2p crest skewness kurtosis total band0 band1 ...

Everything is computed in float64 from the float32 samples, with textbook formulas
(population moments, an explicit time-domain periodic Hann window, numpy's rfft), so
it shares nothing with the Rust implementation under test.
"""

import sys

import numpy as np


def case(fields):
    name, fs, window, remove_mean = fields[0], float(fields[1]), fields[2], fields[3] == "1"
    n_edges = int(fields[4])
    edges = np.array([float(v) for v in fields[5 : 5 + n_edges]], dtype=np.float64)
    n = int(fields[5 + n_edges])
    x = np.array(fields[6 + n_edges : 6 + n_edges + n], dtype=np.float32).astype(np.float64)
    assert x.size == n, (name, x.size, n)

    mean = x.mean()
    d = x - mean
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    std = np.sqrt(m2)
    rms = np.sqrt((x**2).mean())
    peak = np.abs(x).max()
    p2p = x.max() - x.min()
    crest = peak / rms if rms > 0 else 1.0
    skew = m3 / m2**1.5 if m2 > 0 else 0.0
    kurt = m4 / m2**2 - 3.0 if m2 > 0 else 0.0

    k = np.arange(n)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * k / n) if window == "hann" else np.ones(n)
    y = (x - mean if remove_mean else x) * w
    spec = np.fft.rfft(y)
    c = np.full(spec.size, 2.0)
    c[0] = 1.0
    c[-1] = 1.0  # n even: the last rfft bin is Nyquist
    e = c * np.abs(spec) ** 2 / (n * np.sum(w * w))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    bands = []
    for b in range(len(edges) - 1):
        lo, hi = edges[b], edges[b + 1]
        last = b == len(edges) - 2
        mask = (f >= lo) & ((f <= hi) if last else (f < hi))
        bands.append(e[mask].sum())
    out = [mean, std, rms, peak, p2p, crest, skew, kurt, e.sum(), *bands]
    return name + " " + " ".join(repr(float(v)) for v in out)


def main():
    for line in sys.stdin:
        fields = line.split()
        if fields:
            print(case(fields))


if __name__ == "__main__":
    main()
