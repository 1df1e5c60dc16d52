"""Baseline transformers: speed against a pybaselines loop, quality on RRUFF.

Usage::

    python benchmarks/bench_baseline.py --data /work/shared/data/rruff
    python benchmarks/bench_baseline.py --data DIR --quick        # small, fast run
    python benchmarks/bench_baseline.py --data DIR --part speed --n-spectra 500

1. Speed: synthetic spectra (default 2000 x 1024 points). For each method, a
   plain loop over one reused ``pybaselines.Baseline()``, without pentapy's
   solver (``banded_solver=3``, what a plain pybaselines install runs) and
   with it, against the transformer's ``fit`` then ``transform`` and
   ``fit_transform`` at ``n_jobs=1``, and ``fit_transform`` at ``n_jobs=2``
   (default workers, threads, processes). The transformers of airPLS, arPLS
   and AsLS solve all spectra as one stacked banded system (with pentapy
   where the loop uses it), ModPoly fits them together; best of
   ``--repeats`` runs each,
   interleaved. The loky workers are started once before timing (a cold
   start adds about a second). Bars: fit + transform takes at most 1.2x the
   loop's time; for airPLS, arPLS and AsLS, sktransfer is at least 1.6x
   faster than the loop without pentapy; n_jobs=2 is at least 1.6x faster
   than the loop.
2. Quality: the RRUFF Raman RAW/Processed pairs (``raman_raw_processed``).
   Each correction of RAW is compared with RRUFF's Processed spectrum, both
   scaled to unit maximum: mean Pearson r and RMSE, against no correction and
   a least-squares straight-line detrend. The RRUFF ids are split into a
   tuning part and a held-out part; ``GridSearchCV`` (``GroupKFold`` by RRUFF
   id, the agreement r as the score) picks airPLS ``lam`` on the tuning part
   only, and the table reports the held-out part.
"""

import argparse
import os
import time
import warnings
from functools import partial

import numpy as np
import pentapy
from joblib import Parallel, delayed, parallel_config
from pybaselines import Baseline
from scipy.signal import detrend
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, GroupKFold, GroupShuffleSplit

from sktransfer.baseline import SNIP, AirPLS, ArPLS, AsLS, ModPoly
from sktransfer.datasets import load_rruff
from sktransfer.metrics import spectral_correlation, spectral_rmse

SPEED_METHODS = [
    ("airpls", AirPLS, {}),
    ("arpls", ArPLS, {}),
    ("asls", AsLS, {}),
    ("modpoly", ModPoly, {}),
    # pybaselines estimates max_half_window per spectrum when it is None,
    # which costs more than SNIP itself; a fixed window is the usual setting.
    ("snip", SNIP, {"max_half_window": 40}),
]
WHITTAKER = ("airpls", "arpls", "asls")


def synthetic_spectra(n_spectra, n_points, seed=0):
    """Gaussian peaks on curved, sloping baselines plus noise."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, n_points)
    centers = rng.uniform(0.05, 0.95, (n_spectra, 6, 1))
    widths = rng.uniform(0.003, 0.02, (n_spectra, 6, 1))
    heights = rng.uniform(0.2, 1.0, (n_spectra, 6, 1))
    peaks = (heights * np.exp(-0.5 * ((x - centers) / widths) ** 2)).sum(axis=1)
    coef = rng.uniform(-1.0, 1.0, (n_spectra, 3))
    baseline = coef[:, :1] + coef[:, 1:2] * x + 2 * coef[:, 2:] * (x - 0.5) ** 2
    return peaks + baseline + rng.normal(0.0, 0.01, (n_spectra, n_points))


def _timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def plain_loop(X, name, kwargs, pentapy):
    """``X`` minus the baselines of a plain loop over one ``Baseline``.

    ``pentapy=False`` sets pybaselines' public ``banded_solver`` to SciPy's
    banded solvers, which is what a pybaselines install without pentapy runs.
    """
    fitter = Baseline()
    if not pentapy:
        fitter.banded_solver = 3
    method = getattr(fitter, name)
    return X - np.stack([method(row, **kwargs)[0] for row in X])


def _fit_then_transform(est, X):
    return est.fit(X).transform(X)


def _n_jobs_2(cls, kwargs, backend):
    est = cls(**kwargs, n_jobs=2)
    if backend is None:
        return est.fit_transform
    return lambda X: _with_backend(backend, est, X)


def _with_backend(backend, est, X):
    with parallel_config(backend=backend):
        return est.fit_transform(X)


SPEED_COLUMNS = {
    "loop, no pentapy": lambda cls, kw, name: partial(
        plain_loop, name=name, kwargs=kw, pentapy=False
    ),
    "loop": lambda cls, kw, name: partial(
        plain_loop, name=name, kwargs=kw, pentapy=True
    ),
    "fit+transform": lambda cls, kw, name: partial(
        _fit_then_transform, cls(**kw, n_jobs=1)
    ),
    "fit_transform": lambda cls, kw, name: cls(**kw, n_jobs=1).fit_transform,
    "n_jobs=2": lambda cls, kw, name: _n_jobs_2(cls, kw, None),
    "2 threads": lambda cls, kw, name: _n_jobs_2(cls, kw, "threading"),
    "2 processes": lambda cls, kw, name: _n_jobs_2(cls, kw, "loky"),
}


def speed(n_spectra, n_points, repeats):
    X = synthetic_spectra(n_spectra, n_points)
    # Start the two loky workers (and their imports) outside the timings,
    # for the default backend and for the one named explicitly.
    Parallel(n_jobs=2)(delayed(np.sum)(X[i]) for i in range(2))
    AirPLS(n_jobs=2).fit_transform(X[:4])
    with parallel_config(backend="loky"):
        AirPLS(n_jobs=2).fit_transform(X[:4])
    print(
        f"\n## Speed: {n_spectra} synthetic spectra x {n_points} points, "
        f"best of {repeats} interleaved runs, seconds "
        f"(os.cpu_count()={os.cpu_count()}, pentapy {pentapy.__version__})\n"
    )
    print(
        "Columns: plain loop over one pybaselines Baseline without pentapy "
        "(banded_solver=3) and with it; sktransfer fit then transform and "
        "fit_transform at n_jobs=1; fit_transform at n_jobs=2 with the default "
        "workers, with threads and with processes.\n"
    )
    names = list(SPEED_COLUMNS)
    ratios = [
        ("ft/loop", "<=1.2"),
        ("nopenta/ft", ">=1.6 W"),
        ("loop/nj2", ">=1.6"),
        ("loop/thr", ""),
        ("loop/proc", ""),
    ]
    header = "| method | " + " | ".join(names) + " | "
    header += " | ".join(f"{r} {bar}".strip() for r, bar in ratios) + " |"
    print(header)
    print("|" + "|".join("---" for _ in header.split("|")[1:-1]) + "|")
    for name, cls, kwargs in SPEED_METHODS:
        funcs = {c: make(cls, kwargs, name) for c, make in SPEED_COLUMNS.items()}
        times = {c: [] for c in names}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(repeats):
                reference = None
                for column in names:
                    t, out = _timed(lambda f=funcs[column]: f(X))
                    times[column].append(t)
                    if reference is None:
                        reference = out
                    assert np.abs(out - reference).max() <= 1e-6 * np.ptp(X)
        t = {c: min(v) for c, v in times.items()}
        values = [
            (t["fit+transform"] / t["loop"], lambda r: r <= 1.2),
            (
                t["loop, no pentapy"] / t["fit_transform"],
                (lambda r: r >= 1.6) if name in WHITTAKER else (lambda r: None),
            ),
            (t["loop"] / t["n_jobs=2"], lambda r: r >= 1.6),
            (t["loop"] / t["2 threads"], lambda r: None),
            (t["loop"] / t["2 processes"], lambda r: None),
        ]
        cells = [f"{t[c]:.3f}" for c in names]
        for value, bar in values:
            ok = bar(value)
            cells.append(
                f"{value:.2f}" + ("" if ok is None else " ok" if ok else " MISS")
            )
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(
        "\nW: the pentapy bar applies to the Whittaker methods (airpls, arpls, "
        "asls) only. Timings on a shared machine are indicative; the ratios "
        "compare runs interleaved in this process."
    )


def unit_max(X):
    """Scale each spectrum to a maximum of 1."""
    return X / X.max(axis=1, keepdims=True)


def agreement(corrected, processed):
    """Mean Pearson r and RMSE of unit-max spectra."""
    a, b = unit_max(corrected), unit_max(processed)
    return spectral_correlation(b, a), spectral_rmse(b, a)


def agreement_scorer(estimator, X, y):
    """GridSearchCV score: mean Pearson r of the correction with Processed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return agreement(estimator.transform(X), y)[0]


def load_pairs(data_dir, n_points):
    """RAW and Processed spectra of one measurement, row for row."""
    axis = np.linspace(210.0, 1175.0, n_points)  # inside every file's range
    data = load_rruff(
        os.path.join(data_dir, "raman_raw_processed"),
        pair=False,
        modality="raman",
        raman_axis=axis,
        outside="drop",
    )
    kind = np.asarray(data.kind)
    keys = np.asarray(data.pair_key)
    raw = {k: i for i, k in enumerate(keys) if kind[i] == "RAW"}
    proc = {k: i for i, k in enumerate(keys) if kind[i] == "Processed"}
    common = sorted(set(raw) & set(proc))
    i_raw = [raw[k] for k in common]
    i_proc = [proc[k] for k in common]
    groups = np.asarray(data.rruff_ids)[i_raw]
    return axis, data.raman[i_raw], data.raman[i_proc], groups


def quality(data_dir, n_points, lams):
    axis, raw, processed, groups = load_pairs(data_dir, n_points)
    print(
        f"\n## Quality: {len(raw)} RRUFF Raman RAW/Processed pairs, "
        f"{len(set(groups))} RRUFF ids, grid {axis[0]:.0f}-{axis[-1]:.0f} cm-1 "
        f"in {n_points} points"
    )
    split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    tune, test = next(split.split(raw, processed, groups))
    search = GridSearchCV(
        AirPLS(x_axis=axis),
        {"lam": lams},
        scoring=agreement_scorer,
        cv=GroupKFold(n_splits=min(5, len(set(groups[tune])))),
    )
    search.fit(raw[tune], processed[tune], groups=groups[tune])
    print(
        f"\nGridSearchCV(AirPLS, lam in {lams}), GroupKFold by RRUFF id on "
        f"{len(tune)} tuning pairs ({len(set(groups[tune]))} ids):"
    )
    for lam, score in zip(lams, search.cv_results_["mean_test_score"]):
        print(f"  lam={lam:8.0e}  mean CV r = {score:.4f}")
    best = search.best_params_["lam"]
    print(f"  best lam = {best:.0e}")
    candidates = [
        ("no correction", None),
        ("straight-line detrend", "detrend"),
        ("AirPLS (default lam=1e6)", AirPLS(x_axis=axis)),
        (f"AirPLS (GridSearchCV lam={best:.0e})", AirPLS(lam=best, x_axis=axis)),
        ("ArPLS (default lam=1e5)", ArPLS(x_axis=axis)),
        ("AsLS (default lam=1e6, p=0.01)", AsLS(x_axis=axis)),
        ("ModPoly (default poly_order=2)", ModPoly(x_axis=axis)),
        ("SNIP (max_half_window=40)", SNIP(max_half_window=40, x_axis=axis)),
    ]
    print(
        f"\nHeld-out pairs: {len(test)} ({len(set(groups[test]))} RRUFF ids not "
        "used for tuning); corrected RAW vs Processed, both scaled to unit max\n"
    )
    print(f"| {'correction':38} | {'Pearson r':>9} | {'RMSE':>7} |")
    print(f"|{'-' * 40}|{'-' * 11}|{'-' * 9}|")
    X = raw[test]
    for label, est in candidates:
        if est is None:
            corrected = X
        elif est == "detrend":
            corrected = detrend(X, axis=1, type="linear")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                corrected = est.fit_transform(X)
        r, rmse = agreement(corrected, processed[test])
        print(f"| {label:38} | {r:9.4f} | {rmse:7.4f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="RRUFF data directory")
    parser.add_argument("--part", choices=["speed", "quality", "both"], default="both")
    parser.add_argument("--n-spectra", type=int, default=2000)
    parser.add_argument("--n-points", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="200 spectra, 1 repeat, 4 lam values"
    )
    args = parser.parse_args()
    lams = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8]
    if args.quick:
        args.n_spectra, args.repeats, lams = 200, 1, [1e4, 1e5, 1e6, 1e7]
    if args.part in ("speed", "both"):
        speed(args.n_spectra, args.n_points, args.repeats)
    if args.part in ("quality", "both"):
        quality(args.data, args.n_points, lams)


if __name__ == "__main__":
    main()
