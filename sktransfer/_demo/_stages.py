"""Demo stages that train no neural network.

Preprocessing, metrics, baseline correction and peak-profile fitting; each
takes the :class:`~sktransfer._demo._data.DemoData` (and what earlier stages
returned) and returns a result record. Stages that need the known truth of
synthetic data return :class:`~sktransfer._demo._records.Skipped` on RRUFF
files.
"""

from dataclasses import dataclass

import numpy as np

from sktransfer._demo._data import SHIFT
from sktransfer._demo._records import Row, Skipped, StageResult, side, versus

#: Peaks fitted: the most prominent of the mean spectrum (noise would add
#: many small ones).
N_PEAKS = 10


@dataclass
class PreprocessingResult(StageResult):
    """Down- and up-sampling of clean IR spectra, and a Raman range cut."""

    n_points: int
    n_coarse: int
    scores: dict  # method -> (r, RMSE) of the round trip
    n_kept: int
    n_raman: int

    def rows(self):
        """Return the cubic-against-linear rows and the range-cut row."""
        label = f"IR {self.n_points} -> {self.n_coarse} -> {self.n_points} pts"
        note = "Resampler cubic (ref: linear)"
        rows = [
            Row("preprocessing", f"{label}, {name}", cubic, linear, note)
            for name, cubic, linear in zip(
                ("r", "RMSE"), self.scores["cubic"], self.scores["linear"]
            )
        ]
        rows.append(
            Row(
                "preprocessing",
                "Raman 400-1250 cm-1, points kept",
                self.n_kept,
                self.n_raman,
                "RangeCut (ref: all)",
            )
        )
        return rows


def preprocessing(data):
    """Resample, cut and scale spectra with sktransfer.preprocessing."""
    if data.truth is None:
        return Skipped("preprocessing", "needs clean synthetic spectra")
    from sktransfer.metrics import spectral_correlation, spectral_rmse
    from sktransfer.preprocessing import RangeCut, Resampler

    truth = data.truth
    x, clean = truth.ir_axis, truth.ir_clean
    coarse = np.linspace(x[0], x[-1], x.size // 3)
    scores = {}
    for method in ("cubic", "linear"):
        down = Resampler(grid=coarse, x_axis=x, method=method).fit_transform(clean)
        back = Resampler(grid=x, x_axis=coarse, method=method).fit_transform(down)
        scores[method] = (spectral_correlation(clean, back), spectral_rmse(clean, back))
    cut = RangeCut(start=400.0, end=1250.0, x_axis=truth.raman_axis).fit(truth.raman)
    return PreprocessingResult(
        n_points=x.size,
        n_coarse=coarse.size,
        scores=scores,
        n_kept=int(cut.support_.sum()),
        n_raman=truth.raman.shape[1],
    )


@dataclass
class MetricsResult(StageResult):
    """The realism tests on real against real and against a naive generator."""

    scores: (
        dict  # metric name -> (real vs the other half of real, real vs mean + noise)
    )

    def rows(self):
        """Return two rows per metric, each against the ideal 0.5."""
        rows = []
        for name, (same, naive) in self.scores.items():
            rows.append(
                Row(
                    "metrics",
                    f"{name}: real vs the other half of real",
                    same,
                    0.5,
                    "0.5 = indistinguishable",
                )
            )
            rows.append(
                Row(
                    "metrics",
                    f"{name}: real vs mean + noise",
                    naive,
                    0.5,
                    "naive generator: near 0.5, the test cannot tell it",
                )
            )
        return rows


def metrics(data, random_state):
    """Calibrate the realism tests on real against real and a naive generator."""
    if data.truth is None:
        return Skipped("metrics", "needs clean synthetic spectra")
    from sktransfer.metrics import kmeans_indistinguishability, two_sample_accuracy
    from sktransfer.preprocessing import StandardNormalVariate

    truth, seed = data.truth, random_state
    corrected = StandardNormalVariate().fit_transform(
        truth.raman - truth.raman_baseline
    )
    # The largest class split in two: half "a" is the real set; half "b" is
    # what a perfect generator would produce, and its mean plus independent
    # noise what a naive one would (fitted on "b", never on "a").
    real = corrected[truth.y == 0]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    a, b = real[order[: len(real) // 2]], real[order[len(real) // 2 :]]
    naive = b.mean(axis=0) + rng.normal(0.0, 1.0, b.shape) * b.std(axis=0)
    scores = {}
    for name, func in (
        ("two_sample_accuracy", two_sample_accuracy),
        ("kmeans_indistinguishability", kmeans_indistinguishability),
    ):
        scores[name] = (
            func(a, b, random_state=seed),
            func(a, naive, random_state=seed),
        )
    return MetricsResult(scores)


@dataclass
class BaselineResult(StageResult):
    """Baseline-corrected IR and Raman spectra, scored against the truth.

    ``scores`` maps "Raman" and "IR" to ``(RMSE, reference RMSE, r,
    reference r)``; it is empty on RRUFF files, whose Processed spectra are
    already corrected (``ir`` and ``raman`` are then the spectra as read).
    """

    ir: np.ndarray
    raman: np.ndarray
    scores: dict

    def rows(self):
        """Return the RMSE and correlation rows, or the skipped row."""
        if not self.scores:
            return Skipped(
                "baseline", "RRUFF Processed files are baseline-corrected; no truth"
            ).rows()
        rows = []
        ref = "minimum subtracted"
        for label, (rmse, rmse_ref, r, r_ref) in self.scores.items():
            rows.append(
                Row(
                    "baseline",
                    f"{label} baseline RMSE vs true baseline",
                    rmse,
                    rmse_ref,
                    f"AirPLS {versus(rmse, rmse_ref, ref, False)} (ref: {ref})",
                )
            )
            rows.append(
                Row(
                    "baseline",
                    f"{label} corrected vs clean, r",
                    r,
                    r_ref,
                    f"AirPLS {versus(r, r_ref, ref)} (ref: {ref})",
                )
            )
        return rows


def baseline(data):
    """Correct IR and Raman baselines with AirPLS; score against the truth."""
    if data.truth is None:
        return BaselineResult(ir=data.ir, raman=data.raman, scores={})
    from sktransfer.baseline import AirPLS
    from sktransfer.metrics import spectral_correlation, spectral_rmse

    truth = data.truth
    corrected, scores = {}, {}
    for name in ("raman", "ir"):
        X, axis = truth[name], truth[f"{name}_axis"]
        corrected[name] = AirPLS(x_axis=axis).fit_transform(X)
        # Reference: the simplest correction, a constant offset (the minimum).
        offset = X - X.min(axis=1, keepdims=True)
        true_baseline, clean = truth[f"{name}_baseline"], truth[f"{name}_clean"]
        scores["Raman" if name == "raman" else "IR"] = (
            spectral_rmse(true_baseline, X - corrected[name]),
            spectral_rmse(true_baseline, X - offset),
            spectral_correlation(clean, corrected[name]),
            spectral_correlation(clean, offset),
        )
    return BaselineResult(ir=corrected["ir"], raman=corrected["raman"], scores=scores)


def _r2(Y, Y_fit):
    resid = ((Y - Y_fit) ** 2).sum(axis=1)
    total = ((Y - Y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    return 1.0 - resid / total


_AGAINST_TRUTH = {
    1: "fit above the truth: noise and baseline left-overs fitted too",
    0: "fit ties with the truth",
    -1: "fit below the truth",
}


@dataclass
class PeaksResult(StageResult):
    """Peak profiles fitted to the Raman spectra of one class or species."""

    label: str
    n_peaks: int
    r2: float
    r2_reference: float
    reference_note: str
    n_true_peaks: float | None = None
    center_error: float | None = None
    grid_step: float | None = None

    def rows(self):
        """Return the fit quality rows (and peak recovery on synthetic data)."""
        note = self.reference_note
        if self.n_true_peaks is not None:
            # The true peaks are no ceiling: a fit closer to the corrected
            # spectra than they are has also fitted noise or baseline left-overs.
            note = f"{_AGAINST_TRUTH[side(self.r2, self.r2_reference)]} ({note})"
        r2_row = Row(
            "peaks",
            "reconstruction R2 (median)",
            self.r2,
            self.r2_reference,
            note,
        )
        if self.n_true_peaks is None:
            return [Row("peaks", "peaks fitted", self.n_peaks, "", self.label), r2_row]
        return [
            r2_row,
            Row(
                "peaks",
                "peaks fitted",
                self.n_peaks,
                self.n_true_peaks,
                "the n_peaks setting (ref: true peaks >= 20 % of the highest)",
            ),
            Row(
                "peaks",
                "centre error, cm-1 (median)",
                self.center_error,
                self.grid_step,
                "to each true peak its nearest fitted one; extra fitted peaks "
                "not counted (ref: grid step)",
            ),
        ]


def peaks(data, corrected, *, quick=False, device="cpu"):
    """Fit pseudo-Voigt peaks to the Raman spectra of one class."""
    from sktransfer.peaks import PeakProfileFitter

    if data.rruff is None:
        idx = data.train[data.y[data.train] == 0][:60]
        label = "class 0 train"
    else:
        species = np.asarray(data.rruff.paired.species)
        names, counts = np.unique(species, return_counts=True)
        idx = np.flatnonzero(species == names[np.argmax(counts)])
        label = f"{names[np.argmax(counts)]}, {len(idx)} spectra"
    X, axis = corrected.raman[idx], data.raman_axis
    fitter = PeakProfileFitter(
        profile="pseudo_voigt",
        n_peaks=N_PEAKS,
        x_axis=axis,
        # Centres may follow the per-sample mode shifts of the synthetic data.
        center_tolerance=None if data.rruff is not None else 2 * SHIFT,
        output="parameters",
        baseline="constant",
        max_iter=30 if quick else 100,
        device=device,
    )
    P = fitter.fit_transform(X)
    r2 = float(np.median(fitter.r2_))
    if data.rruff is not None:
        mean_r2 = _r2(X, np.broadcast_to(X.mean(axis=0), X.shape))
        return PeaksResult(
            label,
            fitter.n_peaks_,
            r2,
            float(np.median(mean_r2)),
            "ref: species mean spectrum",
        )
    truth = data.truth.peaks["raman"]
    clean = data.truth.raman_clean[idx]
    # The fit has a constant baseline term, so the truth gets one too.
    clean = clean + (X - clean).mean(axis=1, keepdims=True)
    centers = P[:, [n.endswith("_center") for n in fitter.get_feature_names_out()]]
    height, center = truth["height"][idx], truth["center"][idx]
    # Peaks a fit can be asked to find: inside the grid and at least 20 % of
    # the spectrum's strongest peak.
    visible = (center > axis[0]) & (center < axis[-1])
    visible &= height >= 0.2 * np.where(visible, height, 0).max(axis=1, keepdims=True)
    errors = np.abs(center[:, :, None] - centers[:, None, :]).min(axis=2)[visible]
    return PeaksResult(
        label,
        fitter.n_peaks_,
        r2,
        float(np.median(_r2(X, clean))),
        "ref: true peaks + offset",
        n_true_peaks=float(visible.sum(axis=1).mean()),
        center_error=float(np.median(errors)),
        grid_step=float(np.median(np.diff(axis))),
    )
