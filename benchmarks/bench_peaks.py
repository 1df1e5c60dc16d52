"""Benchmark of sktransfer.peaks: peak tables of real spectra, speed, accuracy.

Usage::

    python benchmarks/bench_peaks.py --data /work/shared/data/rruff [--quick]
        [--device cuda] [--part table families shared hetero legacy]

Every ratio is measured in the same run as its reference, so it holds on a
busy machine better than the absolute times do.

``table``
    40 real RRUFF Raman spectra (``paired/raman``, on a common 1024-point
    grid, 150-1250 cm-1), each with its own initial centres (detected on it:
    prominence >= 5 % of its range and >= 8 noise levels). One
    ``PeakProfileFitter`` call per spectrum, ``fit_peak_table`` in one call,
    a ``scipy.optimize.curve_fit`` loop and an lmfit loop, all with the same
    initial centres and the same model (Voigt peaks plus a linear baseline):
    ms per spectrum and median R2. Bar: ``fit_peak_table`` >= 20x faster
    than ``curve_fit`` at median R2 within 0.005 of it.
``families``
    100 synthetic spectra x 1024 points x 6 Gaussian-, Lorentzian- or
    Voigt-shaped peaks, fitted with the Voigt profile in one call each.
    Bar: the three times within 2x of each other.
``shared``
    1000 x 1024 synthetic spectra with 6 shared Voigt peaks in one
    ``PeakProfileFitter`` call against an lmfit loop timed on a subset and
    scaled. Bar: >= 75x.
``hetero``
    1000 real-shaped heterogeneous spectra (the 40 RRUFF spectra repeated
    with random shifts of up to 5 cm-1, scales and noise) in one
    ``fit_peak_table`` call (detection included) against a ``curve_fit``
    loop timed on a subset and scaled.
``legacy``
    The earlier tables: 1000 x 1024 x 20 Voigt peaks (accuracy and speed
    against lmfit), and RRUFF spectra with 10, 20 and 40 shared peaks
    against lmfit. lmfit is capped at 200 (n_params + 1) function
    evaluations (its default is 2000 (n_params + 1)), so its times are lower
    bounds.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import curve_fit
from scipy.special import wofz

from sktransfer.datasets import read_rruff
from sktransfer.peaks import PeakProfileFitter, fit_peak_table, render_peaks
from sktransfer.peaks._batch import default_fwhm_bounds, initial_widths
from sktransfer.peaks._detect import detect_each, widths_at
from sktransfer.peaks._profiles import voigt_widths

N_POINTS = 1024


def synthetic(n, n_peaks, noise, seed, shape=None):
    """Spectra with known, resolvable Voigt peaks on a small offset.

    ``shape`` fixes the Lorentzian share of every peak (0: Gaussian,
    1: Lorentzian); None draws it uniformly in [0, 1].
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(100.0, 1200.0, N_POINTS)
    base = np.linspace(150.0, 1150.0, n_peaks) + rng.uniform(-5, 5, n_peaks)
    c = base + rng.normal(0, 1.0, (n, n_peaks))
    h = rng.uniform(0.2, 1.0, (n, n_peaks))
    f = rng.uniform(8.0, 20.0, (n, n_peaks))
    s = rng.uniform(0.0, 1.0, (n, n_peaks))
    if shape is not None:
        s[:] = shape
    t = [torch.from_numpy(a) for a in (x, c, h, f, s)]
    X = render_peaks(*t).numpy() + 0.02
    X += rng.normal(0, noise, X.shape)
    return x, X, np.stack([c, h, f, s], axis=-1)


def r2_score_rows(Y, F):
    ss_res = ((Y - F) ** 2).sum(-1)
    ss_tot = ((Y - Y.mean(-1, keepdims=True)) ** 2).sum(-1)
    return 1.0 - ss_res / ss_tot


def lmfit_voigt(x, y, centers, fwhm, tol, baseline):
    """Fit one spectrum with lmfit: sum of VoigtModel (+ baseline)."""
    from lmfit.models import ConstantModel, LinearModel, VoigtModel

    sigma0, gamma0 = (
        v.numpy() for v in voigt_widths(torch.tensor(fwhm), torch.tensor(0.5))
    )
    model, params = None, None
    idx = np.abs(x[:, None] - centers[None, :]).argmin(0)
    for i, (c, f, t) in enumerate(zip(centers, fwhm, tol, strict=True)):
        m = VoigtModel(prefix=f"p{i}_")
        p = m.make_params()
        sig, gam = float(sigma0[i]), float(gamma0[i])
        p[f"p{i}_center"].set(value=c, min=c - t, max=c + t)
        p[f"p{i}_sigma"].set(value=sig, min=1e-6)
        p[f"p{i}_gamma"].set(value=gam, min=0.0, vary=True, expr="")
        height = max(y[idx[i]] - y.min(), 1e-3 * np.ptp(y))
        p[f"p{i}_amplitude"].set(value=height * f * 1.3, min=0.0)
        model = m if model is None else model + m
        params = p if params is None else params.update(p) or params
    if baseline == "linear":
        m = LinearModel(prefix="b_")
        p = m.make_params(slope=0.0, intercept=float(y.min()))
    else:
        m = ConstantModel(prefix="b_")
        p = m.make_params(c=float(y.min()))
    model = model + m
    params.update(p)
    # lmfit's default budget (2000 (n_params + 1) evaluations) takes minutes
    # per spectrum here; the cap makes the lmfit times a lower bound.
    out = model.fit(y, params, x=x, max_nfev=200 * (len(params) + 1))
    return out.best_fit


def bench_synthetic(args):
    n_all = 100 if args.quick else 1000
    print(
        f"\n## Synthetic: {n_all} (noiseless) / {min(n_all, 200)} (noisy) spectra "
        f"x {N_POINTS} points x 20 Voigt peaks"
    )
    rows = []
    for noise in (0.0, 0.01):
        # the noisy run only measures accuracy: 200 spectra are enough
        n = n_all if noise == 0.0 else min(n_all, 200)
        x, X, true = synthetic(n, 20, noise, seed=0)
        fitter = PeakProfileFitter(n_peaks=20, x_axis=x, device=args.device)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            P = fitter.fit_transform(X)
        dt = time.perf_counter() - t0
        n_warn = sum("converge" in str(w.message) for w in caught)
        peaks = P[:, :80].reshape(n, 20, 4)
        fw = true[..., 2]
        rows.append(
            (
                noise,
                dt,
                fitter.n_iter_,
                np.median(np.abs(peaks[..., 0] - true[..., 0]) / fw),
                np.median(np.abs(peaks[..., 1] / true[..., 1] - 1)),
                np.median(np.abs(peaks[..., 2] / fw - 1)),
                np.median(np.abs(peaks[..., 3] - true[..., 3])),
                np.median(fitter.r2_),
                fitter.r2_.min(),
                n_warn,
            )
        )
        if noise == 0.0:
            X_speed, x_speed, fitter_speed, t_ours = X, x, fitter, dt
    n = n_all
    print(
        "| noise | time s | n_iter | centre err / FWHM | height rel err | "
        "FWHM rel err | shape abs err | median R2 | min R2 | conv. warnings |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r[0]:g} | {r[1]:.1f} | {r[2]} | {r[3]:.2e} | {r[4]:.2e} | "
            f"{r[5]:.2e} | {r[6]:.2e} | {r[7]:.6f} | {r[8]:.6f} | {r[9]} |"
        )
    print("(medians over all peaks; bar: centre error <= 0.1 FWHM, R2 >= 0.999)")

    m = args.n_lmfit_speed
    print(f"\n## Speed: lmfit loop timed on {m} spectra and scaled to {n}")
    t0 = time.perf_counter()
    r2_lm = []
    for i in range(m):
        fit = lmfit_voigt(
            x_speed,
            X_speed[i],
            fitter_speed.centers_,
            fitter_speed.fwhm_init_,
            fitter_speed.center_tolerance_,
            "linear",
        )
        r2_lm.append(r2_score_rows(X_speed[i], fit))
    t_lm = (time.perf_counter() - t0) / m * n
    print("| method | time for all spectra s | per spectrum ms | median R2 |")
    print("|---|---|---|---|")
    print(
        f"| sktransfer ({args.device}) | {t_ours:.1f} | {1e3 * t_ours / n:.1f} | "
        f"{np.median(fitter_speed.r2_):.6f} |"
    )
    print(
        f"| lmfit loop (scaled) | {t_lm:.1f} | {1e3 * t_lm / n:.1f} | "
        f"{np.median(r2_lm):.6f} (on {m}) |"
    )
    print(
        f"speed-up: {t_lm / t_ours:.1f}x (bar >= 50x); ours {t_ours:.1f} s (bar < 20 s)"
    )


def rruff_spectra(data, limit):
    files = sorted((Path(data) / "paired" / "raman").glob("*.txt"))
    out, skipped = [], 0
    for path in files:
        d = read_rruff(path)
        x, y = np.asarray(d.x, float), np.asarray(d.y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if x.size < 50 or not np.all(np.diff(x) > 0) or np.ptp(y) <= 0:
            skipped += 1
            continue
        out.append((path.name, x, y / np.abs(y).max()))
        if len(out) == limit:
            break
    return out, skipped


def bench_rruff(args):
    spectra, skipped = rruff_spectra(args.data, args.n_rruff)
    n_lm = args.n_lmfit
    print(
        f"\n## RRUFF processed Raman (paired/raman): {len(spectra)} spectra "
        f"({skipped} skipped: non-monotonic axis or flat), lmfit on the first {n_lm}"
    )
    print(
        "| n_peaks | ours R2 median (all) | ours R2 median (subset) | lmfit R2 "
        "median (subset) | ours - lmfit | ours s/spectrum | lmfit s/spectrum |"
    )
    print("|---|---|---|---|---|---|---|")
    base_rows = []
    for k in (10, 20, 40):
        r2, times, fitters = [], [], []
        for _, x, y in spectra:
            f = PeakProfileFitter(n_peaks=k, x_axis=x, device=args.device)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f.fit(y[None])
            times.append(time.perf_counter() - t0)
            r2.append(f.r2_[0])
            fitters.append(f)
        r2 = np.array(r2)
        r2_lm, t_lm = [], []
        for (_, x, y), f in zip(spectra[:n_lm], fitters[:n_lm], strict=False):
            t0 = time.perf_counter()
            fit = lmfit_voigt(
                x, y, f.centers_, f.fwhm_init_, f.center_tolerance_, "linear"
            )
            t_lm.append(time.perf_counter() - t0)
            r2_lm.append(r2_score_rows(y, fit))
        sub = np.median(r2[:n_lm])
        print(
            f"| {k} | {np.median(r2):.4f} | {sub:.4f} | {np.median(r2_lm):.4f} | "
            f"{sub - np.median(r2_lm):+.4f} | {np.mean(times):.2f} | "
            f"{np.mean(t_lm):.2f} |"
        )
        if k == 20:
            for baseline in ("none", "constant"):
                r2b = []
                for _, x, y in spectra:
                    f = PeakProfileFitter(
                        n_peaks=k, x_axis=x, baseline=baseline, device=args.device
                    )
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        f.fit(y[None])
                    r2b.append(f.r2_[0])
                base_rows.append((baseline, np.median(r2b)))
            base_rows.append(("linear", np.median(r2)))
    print("(bar: ours no worse than lmfit by more than 0.005 in median R2)")
    print("\n## Baseline term, 20 peaks, all RRUFF spectra")
    print("| baseline | median R2 |")
    print("|---|---|")
    for name, v in base_rows:
        print(f"| {name} | {v:.4f} |")


GRID = np.linspace(150.0, 1250.0, 1024)


def rruff_matrix(data, limit):
    """The first ``limit`` usable RRUFF Raman spectra on GRID, unit maximum."""
    files = sorted((Path(data) / "paired" / "raman").glob("*.txt"))
    rows = []
    for path in files:
        d = read_rruff(path)
        x, y = np.asarray(d.x, float), np.asarray(d.y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if x.size < 50 or not np.all(np.diff(x) > 0):
            continue
        if x[0] > GRID[0] or x[-1] < GRID[-1]:
            continue
        g = np.interp(GRID, x, y)
        if np.ptp(g) <= 0:
            continue
        rows.append(g / np.abs(g).max())
        if len(rows) == limit:
            break
    return np.array(rows)


def voigt_np(x, c, h, f, s):
    """sktransfer's Voigt peak (height, FWHM, Lorentzian share) with scipy's wofz."""
    f_l = s * f
    f_g = np.sqrt(
        np.clip((f - 0.5346 * f_l) ** 2 - 0.2166 * f_l**2, 0, None) + (1e-6 * f) ** 2
    )
    scale = f_g / (2 * np.sqrt(2 * np.log(2))) * np.sqrt(2)
    a = 0.5 * f_l / scale
    return h * wofz((x - c) / scale + 1j * a).real / wofz(1j * a).real


def curve_fit_voigt(x, y, centers, fwhm, tol, fwhm_bounds, bounded=True):
    """Fit one spectrum with curve_fit: sktransfer's model and starting point.

    ``bounded`` keeps sktransfer's box (centre within ``tol``, FWHM within
    ``fwhm_bounds``, height >= 0, shape in [0, 1]), which makes curve_fit use
    its "trf" method; without it, MINPACK's Levenberg-Marquardt ("lm") runs
    unconstrained (widths taken as absolute values, shapes clipped).
    """
    k = centers.size
    mid, half = 0.5 * (x[0] + x[-1]), 0.5 * (x[-1] - x[0])
    u = (x - mid) / half

    def model(x_, *p):
        p = np.asarray(p)
        out = p[-2] + p[-1] * u
        for c, h, f, s in p[: 4 * k].reshape(k, 4):
            out = out + voigt_np(x_, c, h, abs(f), min(max(s, 0.0), 1.0))
        return out

    idx = np.abs(x[:, None] - centers[None, :]).argmin(0)
    height = np.maximum(y[idx] - y.min(), 1e-3 * np.ptp(y))
    p0 = np.ravel(np.stack([centers, height, fwhm, np.full(k, 0.5)], 1))
    p0 = np.r_[p0, y.min(), 0.0]
    if bounded:
        lo = np.stack(
            [centers - tol, np.zeros(k), np.full(k, fwhm_bounds[0]), np.zeros(k)], 1
        )
        hi = np.stack(
            [centers + tol, np.full(k, np.inf), np.full(k, fwhm_bounds[1]), np.ones(k)],
            1,
        )
        lo = np.r_[np.ravel(lo), -np.inf, -np.inf]
        hi = np.r_[np.ravel(hi), np.inf, np.inf]
        kwargs = {"bounds": (lo, hi), "p0": np.clip(p0, lo, hi)}
    else:
        kwargs = {"p0": p0, "method": "lm"}
    try:
        p, _ = curve_fit(model, x, y, **kwargs)
    except RuntimeError:  # evaluation budget spent: keep the start
        p = kwargs["p0"]
    return model(x, *p)


def starts(x, X, centers):
    """Initial widths and centre tolerances, as sktransfer derives them."""
    bounds = default_fwhm_bounds(x, None)
    out = []
    for y, c in zip(X, centers, strict=True):
        f, tol = initial_widths(x, widths_at(x, y, c), bounds, None)
        out.append((f, tol))
    return bounds, out


class Timer:
    """Wall-clock and process CPU time of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


def bench_table(args, X):
    x = GRID
    n = X.shape[0]
    centers, _ = detect_each(x, X)
    bounds, st = starts(x, X, centers)
    print(
        f"\n## Peak table: {n} real RRUFF Raman spectra, own peaks "
        f"({np.mean([c.size for c in centers]):.1f} on average), {x.size} points"
    )
    rows = []
    with Timer() as t:
        r2 = [
            _quiet(
                PeakProfileFitter(centers=c, x_axis=x, device=args.device).fit,
                y[None],
            ).r2_[0]
            for y, c in zip(X, centers, strict=True)
        ]
    rows.append(("sktransfer, one PeakProfileFitter call per spectrum", t, n, r2))
    with Timer() as t_table:
        _, summary = _quiet(
            fit_peak_table,
            X,
            x,
            centers=centers,
            device=args.device,
            return_summary=True,
            as_frame=False,
        )
    rows.append(("sktransfer, fit_peak_table in one call", t_table, n, summary["r2"]))
    m = min(args.n_curve_fit, n)
    refs = {}
    for name, bounded in (
        ("curve_fit loop (same box, trf)", True),
        ("curve_fit loop (unbounded, lm)", False),
    ):
        with Timer() as t:
            r = [
                r2_score_rows(
                    X[i], curve_fit_voigt(x, X[i], centers[i], *st[i], bounds, bounded)
                )
                for i in range(m)
            ]
        rows.append((name, t, m, r))
        refs[name] = (t, r)
    m_lm = min(args.n_lmfit, n)
    with Timer() as t:
        r2_lm = [
            r2_score_rows(
                X[i], lmfit_voigt(x, X[i], centers[i], st[i][0], st[i][1], "linear")
            )
            for i in range(m_lm)
        ]
    rows.append(("lmfit loop", t, m_lm, r2_lm))
    print("| method | ms per spectrum | CPU ms per spectrum | median R2 | spectra |")
    print("|---|---|---|---|---|")
    for name, t, k, r in rows:
        print(
            f"| {name} | {1e3 * t.wall / k:.1f} | {1e3 * t.cpu / k:.1f} | "
            f"{np.median(r):.4f} | {k} |"
        )
    ours = np.median(summary["r2"][:m])
    for name, (t, r) in refs.items():
        print(
            f"fit_peak_table vs {name}: {t.wall / m / (t_table.wall / n):.1f}x "
            f"faster in wall time ({t.cpu / m / (t_table.cpu / n):.1f}x in CPU "
            f"time; bar >= 20x); median R2 on the same {m} spectra "
            f"{ours:.4f} vs {np.median(r):.4f} (bar: within 0.005)"
        )
    print(f"not converged: {int((~summary['converged']).sum())} of {n}")


def bench_families(args):
    n = 100 if not args.quick else 30
    print(
        f"\n## Peak-shape families: {n} spectra x {N_POINTS} points x 6 peaks, "
        "fitted with profile='voigt' in one call"
    )
    print("| family | ms per spectrum | CPU ms per spectrum | median R2 |")
    print("|---|---|---|---|")
    times = []
    for name, shape in (("gaussian", 0.0), ("lorentzian", 1.0), ("voigt", None)):
        x, X, _ = synthetic(n, 6, 0.01, seed=1, shape=shape)
        fitter = PeakProfileFitter(n_peaks=6, x_axis=x, device=args.device)
        with Timer() as t:
            _quiet(fitter.fit, X)
        times.append(t.cpu)
        print(
            f"| {name} | {1e3 * t.wall / n:.1f} | {1e3 * t.cpu / n:.1f} | "
            f"{np.median(fitter.r2_):.4f} |"
        )
    print(f"slowest / fastest (CPU time): {max(times) / min(times):.2f} (bar <= 2)")


def bench_shared(args):
    n = 1000 if not args.quick else 100
    x, X, _ = synthetic(n, 6, 0.01, seed=2)
    fitter = PeakProfileFitter(n_peaks=6, x_axis=x, device=args.device)
    with Timer() as t_ours:
        _quiet(fitter.fit, X)
    m = args.n_lmfit_speed
    with Timer() as t_lm:
        r2_lm = [
            r2_score_rows(
                X[i],
                lmfit_voigt(
                    x,
                    X[i],
                    fitter.centers_,
                    fitter.fwhm_init_,
                    fitter.center_tolerance_,
                    "linear",
                ),
            )
            for i in range(m)
        ]
    print(
        f"\n## Shared peaks: {n} x {N_POINTS} x 6 Voigt peaks, one call; lmfit "
        f"loop timed on {m} and scaled"
    )
    print("| method | time s | ms per spectrum | CPU ms per spectrum | median R2 |")
    print("|---|---|---|---|---|")
    print(
        f"| PeakProfileFitter | {t_ours.wall:.1f} | {1e3 * t_ours.wall / n:.1f} | "
        f"{1e3 * t_ours.cpu / n:.1f} | {np.median(fitter.r2_):.4f} |"
    )
    print(
        f"| lmfit loop (scaled) | {t_lm.wall / m * n:.1f} | "
        f"{1e3 * t_lm.wall / m:.1f} | {1e3 * t_lm.cpu / m:.1f} | "
        f"{np.median(r2_lm):.4f} (on {m}) |"
    )
    print(
        f"speed-up: {t_lm.wall / m / (t_ours.wall / n):.1f}x wall "
        f"({t_lm.cpu / m / (t_ours.cpu / n):.1f}x CPU; bar >= 75x)"
    )


def bench_hetero(args, X40):
    n = 1000 if not args.quick else 100
    rng = np.random.default_rng(3)
    x = GRID
    src = X40[np.arange(n) % X40.shape[0]]
    shift = rng.uniform(-5.0, 5.0, n)
    scale = rng.uniform(0.5, 2.0, n)
    X = np.stack([np.interp(x - s, x, y) for s, y in zip(shift, src, strict=True)])
    X = scale[:, None] * (X + rng.normal(0.0, 0.005, X.shape))
    with Timer() as t_ours:
        _, summary = _quiet(
            fit_peak_table,
            X,
            x,
            device=args.device,
            return_summary=True,
            as_frame=False,
        )
    m = min(args.n_curve_fit, n)
    centers, _ = detect_each(x, X[:m])
    bounds, st = starts(x, X[:m], centers)
    with Timer() as t_cf:
        r2_cf = [
            r2_score_rows(X[i], curve_fit_voigt(x, X[i], centers[i], *st[i], bounds))
            for i in range(m)
        ]
    print(
        f"\n## Heterogeneous: {n} real-shaped spectra ({X40.shape[0]} RRUFF "
        f"spectra shifted, scaled, noisy), {summary['n_peaks'].mean():.1f} "
        f"peaks on average; curve_fit (same box) timed on {m} and scaled"
    )
    print("| method | time s | ms per spectrum | CPU ms per spectrum | median R2 |")
    print("|---|---|---|---|---|")
    print(
        f"| fit_peak_table, one call | {t_ours.wall:.1f} | "
        f"{1e3 * t_ours.wall / n:.1f} | {1e3 * t_ours.cpu / n:.1f} | "
        f"{np.median(summary['r2']):.4f} |"
    )
    print(
        f"| curve_fit loop (scaled) | {t_cf.wall / m * n:.1f} | "
        f"{1e3 * t_cf.wall / m:.1f} | {1e3 * t_cf.cpu / m:.1f} | "
        f"{np.median(r2_cf):.4f} (on {m}; ours on them "
        f"{np.median(summary['r2'][:m]):.4f}) |"
    )
    print(
        f"speed-up: {t_cf.wall / m / (t_ours.wall / n):.1f}x wall "
        f"({t_cf.cpu / m / (t_ours.cpu / n):.1f}x CPU); not converged: "
        f"{int((~summary['converged']).sum())} of {n}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the rruff data directory")
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parts = ("table", "families", "shared", "hetero", "legacy")
    parser.add_argument("--part", nargs="+", choices=parts, default=list(parts[:4]))
    parser.add_argument("--n-table", type=int, default=40)
    parser.add_argument("--n-curve-fit", type=int, default=None)
    parser.add_argument("--n-rruff", type=int, default=None)
    parser.add_argument("--n-lmfit", type=int, default=None)
    parser.add_argument("--n-lmfit-speed", type=int, default=None)
    args = parser.parse_args()
    if args.n_curve_fit is None:
        args.n_curve_fit = 3 if args.quick else 10
    if args.n_rruff is None:
        args.n_rruff = 8 if args.quick else 20
    if args.n_lmfit is None:
        args.n_lmfit = 2 if args.quick else 5
    if args.n_lmfit_speed is None:
        args.n_lmfit_speed = 2 if args.quick else 5
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"device {args.device}"
    )
    if {"table", "hetero"} & set(args.part):
        X40 = rruff_matrix(args.data, args.n_table)
    if "table" in args.part:
        bench_table(args, X40)
    if "families" in args.part:
        bench_families(args)
    if "shared" in args.part:
        bench_shared(args)
    if "hetero" in args.part:
        bench_hetero(args, X40)
    if "legacy" in args.part:
        n_lmfit = args.n_lmfit
        args.n_lmfit = min(n_lmfit, 2)
        bench_synthetic(args)
        bench_rruff(args)


if __name__ == "__main__":
    main()
