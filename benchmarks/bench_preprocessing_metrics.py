"""Preprocessing and metrics: speed against references, realism tests on RRUFF.

Usage::

    python benchmarks/bench_preprocessing_metrics.py --data /work/shared/data/rruff
    python benchmarks/bench_preprocessing_metrics.py --data DIR --quick

1. Speed and agreement: the 296 paired RRUFF Raman spectra (Processed, on
   the 1024-point default grid of ``load_rruff``), tiled to ``--n-rows`` rows.
   Each sktransfer operation is timed (best of ``--repeats``) beside the
   reference it must agree with: a row loop of ``numpy.interp``, scipy's
   ``CubicSpline``, sklearn's ``minmax_scale(axis=1)``, ``StandardScaler`` on
   the transpose, ``normalize`` and a row loop of ``scipy.stats.pearsonr``.
   The largest absolute difference from the reference is printed too.
2. Realism tests on real spectra: the Processed Raman spectra of
   ``raman_raw_processed`` (6 minerals, 17 RRUFF ids), min-max normalised.
   ``two_sample_accuracy`` (default classifier, and logistic regression on
   standardised features as the reference) and
   ``kmeans_indistinguishability`` on pairs of groups whose answer is known:
   random halves of one mineral (~0.5), halves split by RRUFF id (real
   sample-to-sample variation), two different minerals (~1.0), and two
   naive "generators" fitted on the other half: mean plus independent noise,
   and a collapsed one (mean plus 30 % of the real deviations).
"""

import argparse
import os
import time

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.stats import pearsonr
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, minmax_scale, normalize

from sktransfer.datasets import load_rruff
from sktransfer.metrics import (
    kmeans_indistinguishability,
    spectral_correlation,
    spectral_rmse,
    two_sample_accuracy,
)
from sktransfer.preprocessing import (
    AreaNormalizer,
    MinMaxNormalizer,
    Resampler,
    StandardNormalVariate,
)


def best_time(func, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - start)
    return best, out


def speed(data_dir, n_rows, repeats):
    paired = load_rruff(os.path.join(data_dir, "paired"), outside="zero")
    x = paired.raman_axis
    base = paired.raman
    X = np.tile(base, (int(np.ceil(n_rows / len(base))), 1))[:n_rows]
    P = X[::-1] + 0.01 * np.random.default_rng(0).normal(size=X.shape)
    grid = np.linspace(x[0] + 1.0, x[-1] - 1.0, 2048)
    cases = [
        (
            "Resampler linear 1024->2048",
            lambda: Resampler(grid=grid, x_axis=x).fit_transform(X),
            "np.interp row loop",
            lambda: np.array([np.interp(grid, x, row) for row in X]),
        ),
        (
            "Resampler cubic 1024->2048",
            lambda: Resampler(grid=grid, x_axis=x, method="cubic").fit_transform(X),
            "scipy CubicSpline(axis=1)",
            lambda: CubicSpline(x, X, axis=1)(grid),
        ),
        (
            "MinMaxNormalizer",
            lambda: MinMaxNormalizer().fit_transform(X),
            "sklearn minmax_scale(axis=1)",
            lambda: minmax_scale(X, axis=1),
        ),
        (
            "StandardNormalVariate",
            lambda: StandardNormalVariate().fit_transform(X),
            "StandardScaler on X.T",
            lambda: StandardScaler().fit_transform(X.T).T,
        ),
        (
            "AreaNormalizer(norm='l2')",
            lambda: AreaNormalizer(norm="l2").fit_transform(X),
            "sklearn normalize(norm='l2')",
            lambda: normalize(X, norm="l2"),
        ),
        (
            "spectral_correlation",
            lambda: spectral_correlation(X, P, multioutput="raw_values"),
            "scipy pearsonr row loop",
            lambda: np.array([pearsonr(a, b).statistic for a, b in zip(X, P)]),
        ),
        (
            "spectral_rmse",
            lambda: spectral_rmse(X, P, multioutput="raw_values"),
            "numpy formula",
            lambda: np.sqrt(np.mean((X - P) ** 2, axis=1)),
        ),
    ]
    print(
        f"\n1. Speed on {X.shape[0]} x {X.shape[1]} RRUFF Raman spectra "
        f"(best of {repeats}; seconds)"
    )
    head = (
        f"{'operation':30s} {'sktransfer':>10s} {'reference':>10s} "
        f"{'ratio':>6s}  {'reference is':30s} {'max |diff|':>10s}"
    )
    print(head)
    print("-" * len(head))
    for name, ours, ref_name, ref in cases:
        t_ours, a = best_time(ours, repeats)
        t_ref, b = best_time(ref, repeats)
        diff = float(np.max(np.abs(a - b)))
        print(
            f"{name:30s} {t_ours:10.4f} {t_ref:10.4f} {t_ref / t_ours:6.1f}x "
            f" {ref_name:30s} {diff:10.2e}"
        )


def realism(data_dir, seed):
    d = load_rruff(
        os.path.join(data_dir, "raman_raw_processed"),
        pair=False,
        modality="raman",
        kind="Processed",
        outside="zero",
    )
    X = MinMaxNormalizer().fit_transform(d.data)
    species, ids = np.asarray(d.species), np.asarray(d.rruff_ids)
    rng = np.random.default_rng(seed)

    def by_id(name):
        sel = np.flatnonzero(species == name)
        uniq = np.unique(ids[sel])
        first = rng.permutation(uniq)[: len(uniq) // 2]
        in_first = np.isin(ids[sel], first)
        return X[sel[in_first]], X[sel[~in_first]]

    albite = X[species == "Albite"]
    order = rng.permutation(len(albite))
    a, b = albite[order[: len(albite) // 2]], albite[order[len(albite) // 2 :]]
    m = b.mean(axis=0)
    naive = m + rng.normal(size=b.shape) * b.std(axis=0)
    collapsed = m + 0.3 * (b - m)
    pairs = [
        ("Albite: random halves", (a, b), "~0.5"),
        ("Albite: halves by RRUFF id", by_id("Albite"), ">0.5 (samples differ)"),
        (
            "Actinolite: halves by RRUFF id",
            by_id("Actinolite"),
            ">0.5 (samples differ)",
        ),
        ("Albite vs Actinolite", (albite, X[species == "Actinolite"]), "~1.0"),
        ("Albite half vs mean + noise", (a, naive), "high"),
        ("Albite half vs collapsed (30 %)", (a, collapsed), "high"),
    ]
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    print(
        f"\n2. Realism tests on real RRUFF Raman spectra ({len(X)} Processed, "
        "6 minerals); 0.5 = indistinguishable, 1.0 = separated"
    )
    head = (
        f"{'groups':34s} {'sizes':>7s} {'two_sample':>10s} {'LR (ref)':>9s} "
        f"{'kmeans':>7s}  expected"
    )
    print(head)
    print("-" * (len(head) + 12))
    for name, (g1, g2), expected in pairs:
        t = two_sample_accuracy(g1, g2, random_state=seed)
        t_lr = two_sample_accuracy(g1, g2, estimator=lr, random_state=seed)
        k = kmeans_indistinguishability(g1, g2, random_state=seed)
        sizes = f"{len(g1)}/{len(g2)}"
        print(f"{name:34s} {sizes:>7s} {t:10.3f} {t_lr:9.3f} {k:7.3f}  {expected}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the rruff data directory")
    parser.add_argument("--n-rows", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="512 rows, 2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.n_rows, args.repeats = 512, 2
    start = time.perf_counter()
    speed(args.data, args.n_rows, args.repeats)
    realism(args.data, args.seed)
    print(f"\nTotal {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
