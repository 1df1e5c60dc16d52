"""Benchmark of PeakProfileFitter: accuracy and speed, side by side with lmfit.

Usage::

    python benchmarks/bench_peaks.py --data /work/shared/data/rruff [--quick]
        [--device cuda] [--n-rruff 20] [--n-lmfit 2]

1. Synthetic spectra with known Voigt peaks (1000 x 1024 points x 20 peaks):
   centre error in FWHM units, height and width errors, R2, noiseless and
   with noise; the run time of the batched fit against an lmfit loop (timed
   on a subset and scaled).
2. Real RRUFF processed Raman spectra (paired/raman): median R2 of the
   reconstruction with 10, 20 and 40 peaks, against lmfit (sum of VoigtModel
   with the same number of peaks and the same initial centres, plus the same
   baseline term) on a subset, in the same run; and the effect of the
   baseline term. lmfit is capped at 200 (n_params + 1) function
   evaluations (its default is 2000 (n_params + 1)), so its times are lower
   bounds.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from sktransfer.datasets import read_rruff
from sktransfer.peaks import PeakProfileFitter
from sktransfer.peaks._profiles import render_peaks, voigt_widths

N_POINTS = 1024


def synthetic(n, n_peaks, noise, seed):
    """Spectra with known, resolvable Voigt peaks on a small offset."""
    rng = np.random.default_rng(seed)
    x = np.linspace(100.0, 1200.0, N_POINTS)
    base = np.linspace(150.0, 1150.0, n_peaks) + rng.uniform(-5, 5, n_peaks)
    c = base + rng.normal(0, 1.0, (n, n_peaks))
    h = rng.uniform(0.2, 1.0, (n, n_peaks))
    f = rng.uniform(8.0, 20.0, (n, n_peaks))
    s = rng.uniform(0.0, 1.0, (n, n_peaks))
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="the rruff data directory")
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-rruff", type=int, default=None)
    parser.add_argument("--n-lmfit", type=int, default=None)
    parser.add_argument("--n-lmfit-speed", type=int, default=None)
    args = parser.parse_args()
    if args.n_rruff is None:
        args.n_rruff = 8 if args.quick else 20
    if args.n_lmfit is None:
        args.n_lmfit = 1 if args.quick else 2
    if args.n_lmfit_speed is None:
        args.n_lmfit_speed = 2 if args.quick else 3
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
        f"device {args.device}"
    )
    bench_synthetic(args)
    bench_rruff(args)


if __name__ == "__main__":
    main()
