"""Benchmark: the torch-backed estimators on the CPU and on a GPU, same run.

Usage::

    python benchmarks/bench_devices.py [--device cuda] [--repeats 3]
        [--threads N] [--quick]

Synthetic data only (nothing to download), at the sizes of the README's
speed rows:

``PeakProfileFitter``
    1000 spectra x 1024 points x 20 Voigt peaks (the spectra of
    ``bench_peaks.py``'s legacy table), ``fit_transform``.
``SpectroGenRegressor``
    default fit on 296 IR -> Raman pairs of ``make_spectra`` (1024 -> 1024
    points), then ``predict`` on 20,000 spectra.
``WGANGPOverSampler``
    default fit on 300 spectra x 1024 points, 4 classes (150 / 80 / 50 / 20),
    as ``bench_augmentation.py`` times it.

Each estimator is timed on the CPU (``--threads`` torch threads, all cores
by default) and on ``--device``, the two alternating, ``--repeats`` times;
the table gives the fastest and slowest run of each and the ratio of the
medians. A GPU is warmed up (context, kernels) before any timing. Then the
agreement of the two devices: the peak parameters of the two fits (the fit
is deterministic, so they agree to float32 rounding), the held-out
correlation of regressors fitted on each device (their random streams
differ, so only the quality is compared) and the predictions of the
GPU-fitted regressor when it is moved to the CPU.

``--quick`` shrinks every size: a check that the script runs, not a result.
"""

import argparse
import os
import pickle
import time
import warnings

import numpy as np
import torch

from sktransfer.cross_modal import SpectroGenRegressor
from sktransfer.datasets import make_spectra
from sktransfer.over_sampling import WGANGPOverSampler
from sktransfer.peaks import PeakProfileFitter, render_peaks


def peak_spectra(n, n_peaks=20, seed=0):
    """``n`` spectra of ``n_peaks`` resolvable Voigt peaks on an offset."""
    rng = np.random.default_rng(seed)
    x = np.linspace(100.0, 1200.0, 1024)
    base = np.linspace(150.0, 1150.0, n_peaks) + rng.uniform(-5, 5, n_peaks)
    c = base + rng.normal(0, 1.0, (n, n_peaks))
    h = rng.uniform(0.2, 1.0, (n, n_peaks))
    f = rng.uniform(8.0, 20.0, (n, n_peaks))
    s = rng.uniform(0.0, 1.0, (n, n_peaks))
    t = [torch.from_numpy(a) for a in (x, c, h, f, s)]
    return x, render_peaks(*t).numpy() + 0.02


def class_spectra(counts, n_points=1024, seed=0):
    """Spectra of ``len(counts)`` classes of 6 Gaussian peaks each, noisy."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, n_points)
    centres = rng.uniform(0.1, 0.9, (len(counts), 6))
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.stack(
        [sum(np.exp(-0.5 * ((t - c) / 0.01) ** 2) for c in centres[k]) for k in y]
    )
    return X + rng.normal(0, 0.02, X.shape), y


def mean_row_r(Y, P):
    Y = Y - Y.mean(1, keepdims=True)
    P = P - P.mean(1, keepdims=True)
    return float(
        np.mean((Y * P).sum(1) / np.sqrt((Y**2).sum(1) * (P**2).sum(1) + 1e-30))
    )


def peak_fit(fitter, X):
    """``fit_transform``, returning the fitter and the parameters."""
    return fitter, fitter.fit_transform(X)


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(func, device):
    sync(device)
    t0 = time.perf_counter()
    out = func()
    sync(device)
    return time.perf_counter() - t0, out


def warm_up(device):
    if not device.startswith("cuda"):
        return 0.0
    return _warm_up(device)


def _warm_up(device):
    t0 = time.perf_counter()
    a = torch.randn(512, 512, device=device)
    (a @ a).sum().item()
    # one tiny fit of each kind loads its kernels; they stop early on purpose
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, X = peak_spectra(8, n_peaks=4)
        PeakProfileFitter(n_peaks=4, x_axis=x, device=device, max_iter=3).fit(X)
        d = make_spectra(40, n_ir_points=64, n_raman_points=64, random_state=0)
        SpectroGenRegressor(max_epochs=1, device=device, random_state=0).fit(
            d.ir, d.raman
        )
        Xc, yc = class_spectra((20, 10), n_points=64)
        WGANGPOverSampler(max_iter=2, device=device, random_state=0).fit(Xc, yc)
    sync(device)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] if args.device == "cpu" else ["cpu", args.device]
    n_peak = 100 if args.quick else 1000
    n_pred = 2000 if args.quick else 20000
    small = {"max_epochs": 3} if args.quick else {}
    wgan_small = {"max_iter": 20} if args.quick else {}

    print(f"torch {torch.__version__}, {args.threads} CPU thread(s)", end="")
    if args.device.startswith("cuda"):
        print(f", {torch.cuda.get_device_name(args.device)}", end="")
    print(f"; {args.repeats} repeat(s), devices alternating")
    print(f"GPU warm-up (context and kernels): {warm_up(args.device):.1f} s")

    x, Xp = peak_spectra(n_peak)
    d = make_spectra(
        400, n_ir_points=1024, n_raman_points=1024, noise=0.01, random_state=0
    )
    X_tr, Y_tr, X_te, Y_te = d.ir[:296], d.raman[:296], d.ir[296:], d.raman[296:]
    big = np.tile(X_tr, (n_pred // len(X_tr) + 1, 1))[:n_pred]
    Xw, yw = class_spectra((150, 80, 50, 20))

    jobs = {
        f"PeakProfileFitter, {n_peak} x 1024, 20 Voigt peaks": lambda dev: peak_fit(
            PeakProfileFitter(n_peaks=20, x_axis=x, device=dev), Xp
        ),
        "SpectroGenRegressor default fit, 296 x 1024 -> 1024": lambda dev: (
            SpectroGenRegressor(random_state=0, device=dev, **small).fit(X_tr, Y_tr)
        ),
        "WGANGPOverSampler default fit, 300 x 1024, 4 classes": lambda dev: (
            WGANGPOverSampler(random_state=0, device=dev, **wgan_small).fit(Xw, yw)
        ),
    }
    times = {(name, dev): [] for name in jobs for dev in devices}
    fitted = {}
    for _ in range(args.repeats):
        for name, job in jobs.items():
            for dev in devices:
                dt, est = timed(lambda job=job, dev=dev: job(dev), dev)
                times[name, dev].append(dt)
                fitted[name, dev] = est
    # prediction throughput of the fitted regressors
    reg_name = "SpectroGenRegressor default fit, 296 x 1024 -> 1024"
    pred_name = f"SpectroGenRegressor predict, {n_pred} spectra (spectra/s)"
    for _ in range(args.repeats):
        for dev in devices:
            reg = fitted[reg_name, dev]
            dt, _ = timed(lambda reg=reg: reg.predict(big), dev)
            times.setdefault((pred_name, dev), []).append(n_pred / dt)

    print()
    head = f"{'':58s}" + "".join(f"{dev + ' (min-max)':>22s}" for dev in devices)
    print(head + (f"{'CPU / ' + args.device:>16s}" if len(devices) > 1 else ""))
    for name in [*jobs, pred_name]:
        cells = []
        for dev in devices:
            t = times[name, dev]
            unit = "/s" if name == pred_name else " s"
            fmt = "{:.0f}" if name == pred_name else "{:.2f}"
            cells.append(f"{fmt.format(min(t))}-{fmt.format(max(t))}{unit}".rjust(22))
        row = f"{name:58s}" + "".join(cells)
        if len(devices) > 1:
            a, b = (np.median(times[name, dev]) for dev in devices)
            ratio = b / a if name == pred_name else a / b
            row += f"{ratio:15.1f}x"
        print(row)
    if len(devices) > 1:
        print("(last column: how many times faster the GPU is, medians)")

    print("\nAgreement")
    peak_fits = [fitted[next(iter(jobs)), dev] for dev in devices]
    for dev, (f, _) in zip(devices, peak_fits, strict=True):
        print(f"  peaks, median R2 on {dev}: {np.median(f.r2_):.6f}")
    if len(devices) > 1:
        (_, P_cpu), (_, P_dev) = peak_fits
        rel = np.abs(P_dev - P_cpu).max() / np.abs(P_cpu).max()
        print(f"  peaks, largest parameter difference / largest parameter: {rel:.1e}")
    for dev in devices:
        r = mean_row_r(Y_te, fitted[reg_name, dev].predict(X_te))
        print(f"  regressor fitted on {dev}: held-out mean r {r:.4f}")
    if len(devices) > 1:
        reg = fitted[reg_name, devices[1]]
        moved = pickle.loads(pickle.dumps(reg)).set_params(device="cpu")
        P_dev, P_cpu = reg.predict(X_te), moved.predict(X_te)
        diff = np.abs(P_dev - P_cpu).max() / np.ptp(P_cpu)
        print(
            f"  regressor fitted on {devices[1]}, predicting on the CPU: largest "
            f"difference {diff:.1e} of the range"
        )


if __name__ == "__main__":
    main()
