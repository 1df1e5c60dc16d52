"""Stages of ``sktransfer demo`` that need no neural network training.

Data, preprocessing, metrics, baseline correction and peak-profile fitting.

Each stage is ``stage(ctx) -> list[Row]``; see :mod:`sktransfer.cli._demo`.
Stages that need the known truth of synthetic data return a "skipped" row on
real RRUFF spectra (``ctx.rruff`` set).
"""

import numpy as np

from sktransfer.cli._demo_report import Row

#: Class proportions and difficulty of the synthetic data: a rare class of
#: 8 %, noisy spectra and large within-class mode shifts (cm-1), so that a
#: regularised classifier makes mistakes that augmentation can fix (or not).
WEIGHTS = (0.55, 0.25, 0.12, 0.08)
NOISE = 0.1
SHIFT = 15.0
#: Peaks fitted: the most prominent of the mean spectrum (noise would add
#: many small ones).
N_PEAKS = 10
BASELINE_LAM = 1e5


def skipped(stage, why):
    """Return a row saying that ``stage`` did not run, and why."""
    return [Row(stage, "skipped", "-", "-", why)]


def stage_data(ctx):
    """Generate paired, imbalanced synthetic spectra, or describe RRUFF data."""
    if ctx.get("rruff") is not None:
        return _describe_rruff(ctx)
    from sktransfer.datasets import make_spectra

    data = make_spectra(
        ctx.n_samples,
        weights=WEIGHTS,
        noise=NOISE,
        shift=SHIFT,
        random_state=ctx.random_state,
    )
    ctx.data = data
    ctx.ir, ctx.raman, ctx.y = data.ir, data.raman, data.y
    ctx.ir_axis, ctx.raman_axis = data.ir_axis, data.raman_axis
    ctx.train, ctx.test = _split(ctx, data.y)
    counts = "/".join(str(c) for c in np.bincount(data.y))
    sizes = f"{data.ir.shape[1]} / {data.raman.shape[1]} / {data.xrd.shape[1]}"
    return [
        Row("data", "materials per class", counts, "", "make_spectra, imbalanced"),
        Row("data", "IR / Raman / XRD points", sizes, "", "with baseline and noise"),
        Row(
            "data",
            "train / held-out materials",
            f"{len(ctx.train)} / {len(ctx.test)}",
            "",
            "stratified split",
        ),
    ]


def _split(ctx, y, stratify=True):
    from sklearn.model_selection import train_test_split

    return train_test_split(
        np.arange(len(y)),
        test_size=0.3,
        stratify=y if stratify else None,
        random_state=ctx.random_state,
    )


def _describe_rruff(ctx):
    paired, labelled = ctx.rruff.paired, ctx.rruff.labelled
    ctx.ir, ctx.raman = paired.ir, paired.raman
    ctx.ir_axis, ctx.raman_axis = paired.ir_axis, paired.raman_axis
    ctx.train, ctx.test = _split(ctx, np.arange(len(paired.ir)), stratify=False)
    rows = [
        Row("data", "RRUFF samples with IR + Raman", len(paired.ir), "", ctx.data_dir),
        Row(
            "data",
            "IR / Raman points",
            f"{paired.ir.shape[1]} / {paired.raman.shape[1]}",
            "",
            "load_rruff grids, max = 1",
        ),
        Row(
            "data",
            "train / held-out samples",
            f"{len(ctx.train)} / {len(ctx.test)}",
            "",
            "random split",
        ),
    ]
    if labelled is not None:
        counts = "/".join(str(c) for c in np.bincount(labelled.y))
        rows.append(Row("data", "Raman spectra per species", counts, "", labelled.note))
    return rows


def stage_preprocessing(ctx):
    """Resample, cut and scale spectra with sktransfer.preprocessing."""
    if ctx.get("rruff") is not None:
        return skipped("preprocessing", "needs clean synthetic spectra")
    from sktransfer.metrics import spectral_correlation, spectral_rmse
    from sktransfer.preprocessing import RangeCut, Resampler

    data = ctx.data
    x, clean = data.ir_axis, data.ir_clean
    coarse = np.linspace(x[0], x[-1], x.size // 3)
    scores = {}
    for method in ("cubic", "linear"):
        down = Resampler(grid=coarse, x_axis=x, method=method).fit_transform(clean)
        back = Resampler(grid=x, x_axis=coarse, method=method).fit_transform(down)
        scores[method] = (spectral_correlation(clean, back), spectral_rmse(clean, back))
    label = f"IR {x.size} -> {coarse.size} -> {x.size} pts"
    note = "Resampler cubic (ref: linear)"
    rows = [
        Row("preprocessing", f"{label}, {name}", cubic, linear, note)
        for name, cubic, linear in zip(("r", "RMSE"), *scores.values())
    ]
    cut = RangeCut(start=400.0, end=1250.0, x_axis=data.raman_axis).fit(data.raman)
    rows.append(
        Row(
            "preprocessing",
            "Raman 400-1250 cm-1, points kept",
            int(cut.support_.sum()),
            data.raman.shape[1],
            "RangeCut (ref: all)",
        )
    )
    return rows


def stage_metrics(ctx):
    """Calibrate the realism tests on real against real and a naive generator."""
    if ctx.get("rruff") is not None:
        return skipped("metrics", "needs clean synthetic spectra")
    from sktransfer.metrics import kmeans_indistinguishability, two_sample_accuracy
    from sktransfer.preprocessing import StandardNormalVariate

    data, seed = ctx.data, ctx.random_state
    corrected = StandardNormalVariate().fit_transform(data.raman - data.raman_baseline)
    # The largest class split in two: half "a" is the real set; half "b" is
    # what a perfect generator would produce, and its mean plus independent
    # noise what a naive one would (fitted on "b", never on "a").
    real = corrected[data.y == 0]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    a, b = real[order[: len(real) // 2]], real[order[len(real) // 2 :]]
    naive = b.mean(axis=0) + rng.normal(0.0, 1.0, b.shape) * b.std(axis=0)
    rows = []
    for name, func in (
        ("two_sample_accuracy", two_sample_accuracy),
        ("kmeans_indistinguishability", kmeans_indistinguishability),
    ):
        rows.append(
            Row(
                "metrics",
                f"{name}: real vs held-out real",
                func(a, b, random_state=seed),
                0.5,
                "0.5 = indistinguishable",
            )
        )
        rows.append(
            Row(
                "metrics",
                f"{name}: real vs mean + noise",
                func(a, naive, random_state=seed),
                0.5,
                "naive generator",
            )
        )
    return rows


def stage_baseline(ctx):
    """Correct IR and Raman baselines with AirPLS; score against the truth."""
    if ctx.get("rruff") is not None:
        ctx.ir_corr, ctx.raman_corr = ctx.ir, ctx.raman
        return skipped(
            "baseline", "RRUFF Processed files are baseline-corrected; no truth"
        )
    from sktransfer.baseline import AirPLS
    from sktransfer.metrics import spectral_correlation, spectral_rmse

    data = ctx.data
    rows = []
    for name in ("raman", "ir"):
        X, axis = data[name], data[f"{name}_axis"]
        corrector = AirPLS(lam=BASELINE_LAM, x_axis=axis)
        corrected = corrector.fit_transform(X)
        ctx[f"{name}_corr"] = corrected
        # Reference: the simplest correction, a constant offset (the minimum).
        offset = X - X.min(axis=1, keepdims=True)
        label = "Raman" if name == "raman" else "IR"
        rows.append(
            Row(
                "baseline",
                f"{label} baseline RMSE vs true baseline",
                spectral_rmse(data[f"{name}_baseline"], X - corrected),
                spectral_rmse(data[f"{name}_baseline"], X - offset),
                "AirPLS (ref: minimum subtracted)",
            )
        )
        rows.append(
            Row(
                "baseline",
                f"{label} corrected vs clean, r",
                spectral_correlation(data[f"{name}_clean"], corrected),
                spectral_correlation(data[f"{name}_clean"], offset),
                "AirPLS (ref: minimum subtracted)",
            )
        )
    return rows


def _r2(Y, Y_fit):
    resid = ((Y - Y_fit) ** 2).sum(axis=1)
    total = ((Y - Y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return 1.0 - resid / total


def stage_peaks(ctx):
    """Fit pseudo-Voigt peaks to the Raman spectra of one class."""
    from sktransfer.peaks import PeakProfileFitter

    rruff = ctx.get("rruff")
    if rruff is None:
        idx = ctx.train[ctx.y[ctx.train] == 0][:60]
        label = "class 0 train"
    else:
        species = np.asarray(rruff.paired.species)
        names, counts = np.unique(species, return_counts=True)
        idx = np.flatnonzero(species == names[np.argmax(counts)])
        label = f"{names[np.argmax(counts)]}, {len(idx)} spectra"
    X, axis = ctx.raman_corr[idx], ctx.raman_axis
    fitter = PeakProfileFitter(
        profile="pseudo_voigt",
        n_peaks=N_PEAKS,
        x_axis=axis,
        # Centres may follow the per-sample mode shifts of the synthetic data.
        center_tolerance=None if rruff is not None else 2 * SHIFT,
        output="parameters",
        baseline="constant",
        max_iter=30 if ctx.quick else 100,
        device=ctx.device,
    )
    P = fitter.fit_transform(X)
    fitted = fitter.inverse_transform(P)
    ctx.peak_fit = (axis, X[0], fitted[0])
    if rruff is not None:
        rows = [Row("peaks", "peaks fitted", fitter.n_peaks_, "", label)]
        mean_r2 = _r2(X, np.broadcast_to(X.mean(axis=0), X.shape))
        rows.append(
            Row(
                "peaks",
                "reconstruction R2 (median)",
                float(np.median(fitter.r2_)),
                float(np.median(mean_r2)),
                "ref: species mean spectrum",
            )
        )
        return rows
    rows = []
    truth = ctx.data.peaks["raman"]
    clean = ctx.data.raman_clean[idx]
    # The fit has a constant baseline term, so the truth gets one too.
    clean = clean + (X - clean).mean(axis=1, keepdims=True)
    rows.append(
        Row(
            "peaks",
            "reconstruction R2 (median)",
            float(np.median(fitter.r2_)),
            float(np.median(_r2(X, clean))),
            "ref: true peaks + offset (ceiling)",
        )
    )
    centers = P[:, [n.endswith("_center") for n in fitter.get_feature_names_out()]]
    height, center = truth["height"][idx], truth["center"][idx]
    # Peaks a fit can be asked to find: inside the grid and at least 20 % of
    # the spectrum's strongest peak.
    visible = (center > axis[0]) & (center < axis[-1])
    visible &= height >= 0.2 * np.where(visible, height, 0).max(axis=1, keepdims=True)
    errors = np.abs(center[:, :, None] - centers[:, None, :]).min(axis=2)[visible]
    rows.append(
        Row(
            "peaks",
            "peaks fitted",
            fitter.n_peaks_,
            float(visible.sum(axis=1).mean()),
            "ref: true peaks >= 20 % of the highest",
        )
    )
    rows.append(
        Row(
            "peaks",
            "centre error, cm-1 (median)",
            float(np.median(errors)),
            float(np.median(np.diff(axis))),
            "nearest fitted peak (ref: grid step)",
        )
    )
    return rows
