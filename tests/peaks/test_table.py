import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.optimize import curve_fit
from sklearn.exceptions import ConvergenceWarning

from sktransfer.peaks import PeakProfileFitter, fit_peak_table, render_peaks
from sktransfer.peaks._profiles import peak_area

X_AXIS = np.linspace(100.0, 900.0, 320)


def collection(seed=0, noise=0.0):
    """Spectra with their own Voigt peaks (0 to 4 each); true (c, h, f, s)."""
    rng = np.random.default_rng(seed)
    counts = [3, 1, 4, 0, 2, 3]
    X, truth = [], []
    for k in counts:
        c = np.sort(rng.choice(np.arange(180.0, 820.0, 90.0), k, replace=False))
        c = c + rng.uniform(-10, 10, k)
        p = np.stack(
            [
                c,
                rng.uniform(0.5, 2, k),
                rng.uniform(12, 30, k),
                rng.uniform(0.1, 0.9, k),
            ],
            axis=-1,
        )
        y = render_peaks(*(torch.from_numpy(a) for a in (X_AXIS, *p.T))).numpy()
        X.append(y + 0.2 + 2e-4 * (X_AXIS - 500) + rng.normal(0, noise, X_AXIS.size))
        truth.append(p)
    return np.array(X), truth


@pytest.fixture(scope="module")
def fitted():
    X, truth = collection()
    peaks, summary = fit_peak_table(X, X_AXIS, return_summary=True)
    return X, truth, peaks, summary


def test_each_spectrum_gets_its_own_peaks(fitted):
    X, truth, peaks, summary = fitted
    assert isinstance(peaks, pd.DataFrame)
    assert list(peaks.columns) == [
        "spectrum",
        "peak",
        "center",
        "height",
        "fwhm",
        "shape",
        "area",
        "center_at_bound",
        "fwhm_at_bound",
        "r2",
        "rmse",
        "n_iter",
        "converged",
    ]
    assert not peaks.center_at_bound.any()  # every peak found where detected
    assert not peaks.fwhm_at_bound.any()
    counts = [len(t) for t in truth]
    assert (
        peaks.groupby("spectrum").size().reindex(range(6), fill_value=0).tolist()
        == counts
    )
    for i, true in enumerate(truth):
        rows = peaks[peaks.spectrum == i]
        assert rows.peak.tolist() == list(range(len(true)))
        np.testing.assert_allclose(rows.center, true[:, 0], atol=1e-3)
        np.testing.assert_allclose(rows.height, true[:, 1], rtol=1e-4)
        np.testing.assert_allclose(rows.fwhm, true[:, 2], rtol=1e-4)
        np.testing.assert_allclose(rows["shape"], true[:, 3], atol=1e-3)
    area = peak_area(
        *(torch.tensor(peaks[c].to_numpy()) for c in ("height", "fwhm", "shape"))
    )
    np.testing.assert_allclose(peaks.area, area.numpy(), rtol=1e-12)
    assert peaks.converged.all() and (peaks.r2 > 0.99999).all()


def test_centres_given_off_the_peak(fitted):
    # A Gaussian of FWHM 20 at 600; a centre given on its flank (8 off) is
    # found, as the initial width is measured at the top the flank climbs
    # to; one given beyond the tolerance is held at it, and flagged.
    x = np.linspace(0.0, 1000.0, 1001)
    X = np.exp(-4 * np.log(2) * ((x - 600.0) / 20.0) ** 2)[None]
    kw = {"profile": "gaussian", "baseline": "none"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # found: nothing to say
        near = fit_peak_table(X, x, centers=[[608.0]], **kw)
    assert near.center[0] == pytest.approx(600.0, abs=1e-3)
    assert near.fwhm[0] == pytest.approx(20.0, rel=1e-4)
    assert not near.center_at_bound[0] and near.r2[0] > 0.999999
    # held: said, not only flagged in a column (the fit is poor)
    with pytest.warns(
        UserWarning, match=r"1 of 1 given centres ended at the edge .*R2"
    ):
        far = fit_peak_table(X, x, centers=[[630.0]], center_tolerance=5.0, **kw)
    assert far.center[0] == pytest.approx(625.0, abs=0.1)
    assert far.center_at_bound[0]
    fitter = PeakProfileFitter(centers=[400.0, 608.0, 630.0], x_axis=x, **kw)
    with warnings.catch_warnings():
        # held, but the fits are good (608 takes the band): nothing to say
        warnings.simplefilter("error")
        fitter.fit(np.vstack([X, 0.5 * X]))
    # no peak at 400: its height goes to zero where it is, unflagged
    assert fitter.center_at_bound_.tolist() == [0.0, 0.0, 1.0]
    result = fitter.fit_peaks(X)
    assert result.center_at_bound.tolist() == [[False, False, True]]
    params = dict(zip(fitter.get_feature_names_out(), result.parameters[0]))
    assert params["peak0_height"] < 1e-4 and params["peak2_height"] < 1e-4
    assert params["peak1_center"] == pytest.approx(600.0, abs=1e-3)
    # a refit with centers="each" keeps nothing of the shared peaks
    fitter.set_params(centers="each", output="reconstruction").fit(X)
    assert not hasattr(fitter, "center_at_bound_")
    assert not hasattr(fitter, "centers_")
    assert fitter.fit_peaks(X).center_at_bound is None


def test_given_centres_off_their_bands_warn_only_where_the_fits_are_poor():
    # a calibration offset: every centre held, the fits poor (it was silent);
    # a band absent from most spectra is held too, but the fits are good
    x = np.linspace(0.0, 1000.0, 501)
    rng = np.random.default_rng(0)

    def band(c):
        return np.exp(-4 * np.log(2) * ((x - c) / 20.0) ** 2)

    present = np.arange(20) < 5
    X = np.array([band(300) + (0.5 * band(600) if p else 0) for p in present])
    X += 0.01 * rng.standard_normal(X.shape)
    kw = {"profile": "gaussian", "baseline": "none", "x_axis": x}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PeakProfileFitter(centers=[300.0, 600.0], **kw).fit(X)
    off = PeakProfileFitter(centers=[330.0, 630.0], center_tolerance=5.0, **kw)
    with pytest.warns(
        UserWarning, match=r"2 of 2 given centres ended, .*\(330 in 100%, 630 in"
    ) as record:
        off.fit(X)
    assert record[0].filename == __file__  # the line that called fit


def test_summary_covers_spectra_without_peaks(fitted):
    X, truth, peaks, summary = fitted
    assert summary.spectrum.tolist() == list(range(6))
    assert summary.n_peaks.tolist() == [len(t) for t in truth]
    # the flat spectrum: baseline alone, fitted exactly (offset 0.2, slope 2e-4)
    flat = summary.iloc[3]
    assert flat.r2 == pytest.approx(1.0, abs=1e-9) and flat.converged
    assert flat.baseline_offset == pytest.approx(0.2, abs=1e-9)
    assert flat.baseline_slope == pytest.approx(2e-4, abs=1e-12)
    # per-spectrum values repeated on each peak row agree with the summary
    merged = peaks.merge(summary, on="spectrum", suffixes=("", "_s"))
    for key in ("r2", "rmse", "n_iter", "converged"):
        np.testing.assert_array_equal(merged[key], merged[key + "_s"])
    assert (summary.n_iter >= 1).all()


def test_table_matches_one_spectrum_at_a_time(fitted):
    # the padded, sorted batch gives the peaks of a fit of each spectrum alone
    X, truth, peaks, _ = fitted
    for i in (0, 2):
        alone = fit_peak_table(X[i : i + 1], X_AXIS)
        np.testing.assert_allclose(
            alone[["center", "height", "fwhm", "shape"]].to_numpy(),
            peaks[peaks.spectrum == i][
                ["center", "height", "fwhm", "shape"]
            ].to_numpy(),
            rtol=1e-6,
            atol=1e-8,
        )


def test_small_batches_give_the_table_of_one_batch(fitted):
    # batches of two spectra with 0 to 4 peaks each: each batch carries its
    # own number of peak blocks
    X, _, peaks, summary = fitted
    small, small_summary = fit_peak_table(X, X_AXIS, batch_size=2, return_summary=True)
    cols = ["center", "height", "fwhm", "shape", "area", "r2", "rmse"]
    np.testing.assert_allclose(small[cols], peaks[cols], rtol=1e-6, atol=1e-8)
    cols = ["r2", "rmse", "baseline_offset", "baseline_slope"]
    np.testing.assert_allclose(small_summary[cols], summary[cols], rtol=1e-6, atol=1e-8)
    assert small_summary.converged.all()
    assert small.center_at_bound.dtype == bool and small.n_iter.dtype == np.int64


def test_given_centres_and_curve_fit_reference():
    X, truth = collection(seed=1, noise=0.01)
    centers = [t[:, 0] + 3.0 for t in truth]
    with pytest.warns(UserWarning, match="1 spectra have no peak"):
        table = fit_peak_table(
            X, X_AXIS, profile="gaussian", centers=centers, as_frame=False
        )
    assert isinstance(table, dict)
    assert "shape" not in table and "eta" not in table

    def model(x, *p):
        k = (len(p) - 2) // 3
        c, h, f = (np.array(p[i : 3 * k : 3]) for i in range(3))
        g = h * np.exp(-4 * np.log(2) * ((x[:, None] - c) / f) ** 2)
        return g.sum(1) + p[-2] + p[-1] * (x - 500.0)

    for i, c0 in enumerate(centers):
        if c0.size == 0:
            continue
        p0 = np.ravel([[c, 1.0, 20.0] for c in c0]).tolist() + [0.0, 0.0]
        ref = curve_fit(model, X_AXIS, X[i], p0=p0, maxfev=20000)[0]
        rows = table["spectrum"] == i
        got = np.stack([table[k][rows] for k in ("center", "height", "fwhm")], 1)
        np.testing.assert_allclose(got, ref[:-2].reshape(-1, 3), rtol=2e-3, atol=2e-3)
        r2_ref = (
            1
            - ((X[i] - model(X_AXIS, *ref)) ** 2).sum()
            / ((X[i] - X[i].mean()) ** 2).sum()
        )
        assert table["r2"][rows][0] == pytest.approx(r2_ref, abs=1e-6)


def test_detection_rule_threshold_and_cap():
    X, truth = collection()
    # spectrum 2 has 4 peaks: n_peaks keeps the most prominent
    table = fit_peak_table(X[2:3], X_AXIS, n_peaks=2, profile="voigt")
    h = truth[2][:, 1]
    keep = np.sort(truth[2][np.argsort(-h)[:2], 0])
    np.testing.assert_allclose(table.center, keep, atol=1.0)
    # a threshold above every peak's prominence leaves the baseline alone
    _, summary = fit_peak_table(X[:1], X_AXIS, min_prominence=1.01, return_summary=True)
    assert summary.n_peaks.tolist() == [0]


def test_fitter_centers_each_reuses_the_table():
    X, truth = collection()
    fitter = PeakProfileFitter(centers="each", output="reconstruction", x_axis=X_AXIS)
    R = fitter.fit_transform(X)
    np.testing.assert_allclose(R, X, atol=1e-4)
    assert fitter.r2_.min() > 0.99999
    table = fit_peak_table(X, X_AXIS, return_summary=True)[1]
    np.testing.assert_allclose(fitter.r2_, table.r2, rtol=1e-9)
    with pytest.raises(ValueError, match="output='reconstruction'"):
        PeakProfileFitter(centers="each", x_axis=X_AXIS).fit(X)
    with pytest.raises(ValueError, match="'each'"):
        PeakProfileFitter(centers="all", output="reconstruction").fit(X)


def test_input_not_modified_and_float32():
    X, _ = collection()
    X32 = X.astype(np.float32)
    before = X32.copy()
    table = fit_peak_table(X32, X_AXIS, return_summary=True)[1]
    np.testing.assert_array_equal(X32, before)
    assert table.r2.min() > 0.9999
    # the baseline of float32 spectra: offset at the axis midpoint, slope
    np.testing.assert_allclose(table.baseline_offset, 0.2, atol=1e-4)
    np.testing.assert_allclose(table.baseline_slope, 2e-4, atol=1e-6)


def test_float32_spectra_on_an_axis_far_from_zero():
    # 1e5 in steps of 0.01: in float32 the axis points are 0.0078 apart at
    # best, so a fit on the float32 axis misplaced centres by a third of a step.
    x = 1e5 + 0.01 * np.arange(1001)
    centers = np.array([x[300] + 0.003, x[700] - 0.002])
    rng = np.random.default_rng(0)
    X = np.stack(
        [
            render_peaks(
                torch.from_numpy(x),
                torch.from_numpy(centers),
                torch.tensor([h, 0.5], dtype=torch.float64),
                torch.tensor([0.1, 0.1], dtype=torch.float64),
                profile="gaussian",
            ).numpy()
            + rng.normal(0, 0.002, x.size)
            for h in (1.0, 1.5, 2.0)
        ]
    )
    kwargs = {"profile": "gaussian", "as_frame": False}
    t64 = fit_peak_table(X, x, **kwargs)
    t32 = fit_peak_table(X.astype(np.float32), x, **kwargs)
    np.testing.assert_allclose(t64["center"], np.tile(centers, 3), rtol=0, atol=2e-4)
    np.testing.assert_allclose(t32["center"], t64["center"], rtol=0, atol=2e-4)
    np.testing.assert_allclose(t32["fwhm"], t64["fwhm"], rtol=1e-3)
    np.testing.assert_allclose(t32["r2"], t64["r2"], atol=1e-5)
    fitter = PeakProfileFitter("gaussian", x_axis=x, n_peaks=2).fit(
        X.astype(np.float32)
    )
    np.testing.assert_allclose(fitter.r2_, t64["r2"][::2], atol=1e-5)


def test_detected_widths_on_an_irregular_axis():
    # the width in samples was turned into axis units by the spacing at the
    # top of the peak, so on an irregular axis fits started 0.7-4.5 times
    # too wide and a third of them ended with wrong widths and shapes
    x = np.sort(np.random.default_rng(0).uniform(1000.0, 1500.0, 300))
    centers = np.array([1100.0, 1250.0, 1450.0])
    fwhm = np.array([12.0, 20.0, 8.0])
    y = render_peaks(
        torch.from_numpy(x),
        torch.from_numpy(centers),
        torch.tensor([2.0, 1.0, 1.5], dtype=torch.float64),
        torch.from_numpy(fwhm),
        torch.tensor([0.2, 0.5, 0.8], dtype=torch.float64),
        profile="voigt",
    ).numpy()
    X = np.stack([y, y]) + 1.0
    fitter = PeakProfileFitter("voigt", x_axis=x).fit(X)
    # the third peak sits in a 10-unit gap of the axis: detected off its
    # top and wide, as the samples show it
    np.testing.assert_allclose(fitter.centers_[:2], centers[:2], atol=1.0)
    np.testing.assert_allclose(fitter.fwhm_init_[:2], fwhm[:2], rtol=0.1)
    P, names = fitter.transform(X), fitter.get_feature_names_out()
    for name, truth, tol in (("center", centers, 1e-6), ("fwhm", fwhm, 1e-3)):
        columns = [n.endswith(f"_{name}") for n in names]
        np.testing.assert_allclose(P[:, columns], [truth] * 2, rtol=tol)
    t = fit_peak_table((y + 1.0)[None], x, profile="voigt", as_frame=False, tol=1e-10)
    np.testing.assert_allclose(t["fwhm"], fwhm, rtol=1e-3)
    np.testing.assert_allclose(t["shape"], [0.2, 0.5, 0.8], atol=1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"centers": [np.array([300.0])]}, "centers has 1 entries but X has 6"),
        ({"centers": [[300.0]] * 5 + [[50.0]]}, r"centers\[5\] \[50.0\] lie outside"),
        ({"centers": [[300.0]] * 5 + [300.0]}, r"centers\[5\] must be a 1-D"),
        ({"centers": [[np.nan]] * 6}, "finite"),
        ({"centers": "each"}, "centers must be None or a list with one array"),
        ({"profile": "cauchy"}, "profile must be one of"),
        ({"n_peaks": 0}, "n_peaks"),
        ({"min_prominence": -1.0}, "min_prominence"),
        ({"fwhm_bounds": (3.0, 1.0)}, "fwhm_bounds"),
        ({"as_frame": "yes"}, "as_frame"),
        ({"as_frame": 0}, "as_frame must be None, True or False; got 0"),
        ({"return_summary": "no"}, "return_summary must be True or False"),
        ({"device": "cuda:7"}, "device"),
    ],
)
def test_bad_input(kwargs, match):
    X, _ = collection()
    with pytest.raises(ValueError, match=match):
        fit_peak_table(X, X_AXIS, **kwargs)


def test_bad_data():
    X, _ = collection()
    Xb = X.copy()
    Xb[1, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_peak_table(Xb, X_AXIS)
    with pytest.raises(ValueError, match="x_axis has 10 values"):
        fit_peak_table(X, np.arange(10.0))
    with pytest.raises(ValueError, match="monotonic"):
        fit_peak_table(X, np.r_[X_AXIS[:-1], 0.0])


def test_convergence_is_reported_per_spectrum():
    X, _ = collection(noise=0.01)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        _, summary = fit_peak_table(X, X_AXIS, max_iter=1, return_summary=True)
    # the peakless spectrum (a linear model) is solved in one step
    assert not summary.converged[summary.n_peaks > 0].any()
    assert (summary.n_iter == 1).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, summary = fit_peak_table(X, X_AXIS, return_summary=True)
    assert summary.converged.all()


def test_detection_ignores_noise_on_a_sloping_background():
    X, truth = collection(seed=4, noise=0.01)
    rng = np.random.default_rng(5)
    slope = 0.5 + 2e-3 * (X_AXIS - 100) + rng.normal(0, 0.01, X_AXIS.size)
    X = np.vstack([X, slope, 1e-3 * slope])
    _, summary = fit_peak_table(X, X_AXIS, return_summary=True)
    assert summary.n_peaks.tolist() == [len(t) for t in truth] + [0, 0]
    # the baseline alone describes the last two: offset at 500, slope
    np.testing.assert_allclose(
        summary.baseline_slope.iloc[-2:], [2e-3, 2e-6], rtol=0.05
    )


@pytest.mark.gpu
def test_cuda_table_matches_cpu():
    X, _ = collection(noise=0.01)
    cpu = fit_peak_table(X, X_AXIS)
    gpu = fit_peak_table(X, X_AXIS, device="cuda")
    cols = ["center", "height", "fwhm", "shape", "r2"]
    np.testing.assert_allclose(gpu[cols], cpu[cols], rtol=1e-5, atol=1e-6)


def test_as_frame_without_pandas(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    X, _ = collection(seed=0, noise=0.01)
    with pytest.raises(ImportError, match=r"as_frame=True needs pandas.*pip install"):
        fit_peak_table(X[:2], X_AXIS, profile="gaussian", as_frame=True)
    # the default (None) falls back to arrays; checked on the helper alone,
    # since scikit-learn < 1.7's input checks fail when pandas is None
    from sktransfer.peaks._table import _pandas

    assert _pandas(None) is None


def gaussians(x, centers, heights, fwhm):
    """Rows of Gaussian peaks: one row per list of (centre, height)."""
    X = np.zeros((len(centers), x.size))
    for row, cs, hs in zip(X, centers, heights, strict=True):
        for c, h in zip(cs, hs, strict=True):
            row += h * np.exp(-4 * np.log(2) * ((x - c) / fwhm) ** 2)
    return X


def test_no_peak_warning_names_the_peakless_spectra():
    # spectrum 1 has no peak, spectrum 0 has one: only spectrum 1 is named
    x = np.linspace(0.0, 100.0, 101)
    centers = [[30.0], [], [40.0, 70.0]]
    X = gaussians(x, centers, [[1.0], [], [2.0, 0.5]], 8.0)
    kw = {"profile": "gaussian", "baseline": "none", "centers": centers}
    with pytest.warns(UserWarning) as record:
        table = fit_peak_table(X, x, **kw)
    assert [str(w.message) for w in record] == [
        "1 spectra have no peak and no row in the peak table (spectra 1); pass "
        "return_summary=True for their r2 and baseline."
    ]
    assert record[0].filename == __file__  # the warning points at the caller
    assert table.spectrum.tolist() == [0, 2, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the summary lists it: no warning
        _, summary = fit_peak_table(X, x, return_summary=True, **kw)
        # every spectrum with a peak: no warning
        fit_peak_table(X[[0, 2]], x, **{**kw, "centers": [[30.0], [40.0, 70.0]]})
    assert summary.n_peaks.tolist() == [1, 0, 2]


def test_convergence_warning_points_at_the_caller():
    x = np.linspace(0.0, 100.0, 101)
    X = gaussians(x, [[30.0, 45.0]], [[1.0, 0.7]], 12.0)
    with pytest.warns(ConvergenceWarning) as record:
        fit_peak_table(X, x, centers=[[25.0, 50.0]], max_iter=1)
    assert [w.filename for w in record] == [__file__]


@pytest.mark.parametrize(
    "baseline, columns",
    [
        ("none", []),
        ("constant", ["baseline_offset"]),
        ("linear", ["baseline_offset", "baseline_slope"]),
    ],
)
def test_summary_has_the_baseline_terms_fitted(baseline, columns):
    # a peak of height 2 over 0.5 + 0.01 (x - 50): each baseline model
    # reports its own terms, and only those
    x = np.linspace(0.0, 100.0, 101)
    X = gaussians(x, [[40.0]], [[2.0]], 10.0)
    if baseline != "none":
        X = X + 0.5 + (0.01 * (x - 50.0) if baseline == "linear" else 0.0)
    kw = {"profile": "gaussian", "baseline": baseline, "return_summary": True}
    peaks, summary = fit_peak_table(X, x, **kw)
    base = [c for c in summary.columns if c.startswith("baseline")]
    assert base == columns
    np.testing.assert_allclose(
        summary[columns].to_numpy()[0], [0.5, 0.01][: len(columns)], atol=1e-6
    )
    assert peaks.height[0] == pytest.approx(2.0, rel=1e-6)


def test_two_point_spectra_are_fitted_by_a_straight_line():
    # too short for a peak; the linear baseline goes through both points
    X = np.array([[1.0, 2.0], [3.0, 5.0]])
    with pytest.warns(UserWarning, match="2 spectra have no peak"):
        fit_peak_table(X, as_frame=False)
    _, summary = fit_peak_table(X, as_frame=False, return_summary=True)
    np.testing.assert_allclose(summary["r2"], [1.0, 1.0])
    np.testing.assert_allclose(summary["baseline_offset"], [1.5, 4.0])
    np.testing.assert_allclose(summary["baseline_slope"], [1.0, 2.0])
    with pytest.raises(ValueError, match="1 feature"):
        fit_peak_table(X[:, :1])


def test_integer_spectra_are_fitted_in_float64():
    # counts from a detector: the same fit as their float64 copy
    x = np.linspace(0.0, 100.0, 101)
    X = np.round(gaussians(x, [[30.0, 60.0], [50.0]], [[300.0, 120.0], [80.0]], 9.0))
    kw = {"profile": "gaussian", "baseline": "constant", "as_frame": False}
    kw["centers"] = [[30.0, 60.0], [50.0]]
    ints = fit_peak_table(X.astype(np.int64), x, **kw)
    floats = fit_peak_table(X, x, **kw)
    for key in ("center", "height", "fwhm", "area", "r2", "rmse"):
        np.testing.assert_array_equal(ints[key], floats[key])


@pytest.mark.parametrize(
    "bounds, fwhm", [((1, 40), 20.0), ((1.0, 10.0), 10.0), ((25, 40.0), 25.0)]
)
def test_fwhm_bounds_hold_the_width(bounds, fwhm):
    # a Gaussian of FWHM 20: inside the bounds it is fitted exactly, outside
    # them its width stops at the nearer bound
    x = np.linspace(0.0, 100.0, 101)
    X = gaussians(x, [[50.0]], [[1.0]], 20.0)
    kw = {"profile": "gaussian", "baseline": "none", "as_frame": False}
    table = fit_peak_table(X, x, centers=[[50.0]], fwhm_bounds=bounds, **kw)
    assert table["fwhm"][0] == pytest.approx(fwhm, rel=1e-6)
    assert (table["r2"][0] > 0.999999) == (fwhm == 20.0)


def test_axis_centred_on_zero():
    # the baseline's offset is its value at the axis midpoint, here 0
    x = np.linspace(-50.0, 50.0, 101)
    X = gaussians(x, [[-10.0]], [[2.0]], 8.0) + 0.3 - 0.01 * x
    kw = {"profile": "gaussian", "return_summary": True}
    peaks, summary = fit_peak_table(X, x, centers=[[-12.0]], **kw)
    np.testing.assert_allclose(peaks[["center", "height", "fwhm"]], [[-10, 2, 8]])
    np.testing.assert_allclose(
        summary[["baseline_offset", "baseline_slope"]], [[0.3, -0.01]]
    )


def test_r2_of_constant_spectra_follows_r2_score():
    # as scikit-learn's r2_score (force_finite): a constant spectrum fitted
    # exactly has r2 1, one that is not has 0, with no numpy warning
    x = np.linspace(0.0, 100.0, 101)
    X = np.vstack([np.zeros(101), np.full(101, 3.0), np.full(101, -2.0)])
    kw = {"baseline": "none", "return_summary": True, "as_frame": False}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, summary = fit_peak_table(X, x, centers=[[], [], []], **kw)
    np.testing.assert_array_equal(summary["r2"], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(summary["rmse"], [0.0, 3.0, 2.0])
    assert summary["converged"].all()


@pytest.mark.parametrize("as_frame", [False, np.False_])
def test_as_frame_false_returns_arrays(as_frame):
    X, _ = collection(seed=0, noise=0.01)
    table = fit_peak_table(X[:2], X_AXIS, profile="gaussian", as_frame=as_frame)
    assert isinstance(table, dict) and isinstance(table["center"], np.ndarray)


def test_widths_held_at_their_bounds_are_flagged():
    # a peak as wide as the upper bound took up a sloped baseline, one as
    # narrow as the lower bound is not resolved; neither was flagged
    x = np.linspace(0.0, 100.0, 201)
    y = render_peaks(
        x,
        np.array([30.0, 70.0]),
        np.array([1.0, 1.0]),
        np.array([6.0, 6.0]),
        np.array([0.5, 0.5]),
    ).numpy()
    table = fit_peak_table(y[None], x, centers=[[30.0, 70.0]], fwhm_bounds=(0.5, 8.0))
    assert not table.fwhm_at_bound.any()
    held = fit_peak_table(y[None], x, centers=[[30.0, 70.0]], fwhm_bounds=(0.5, 3.0))
    np.testing.assert_allclose(held.fwhm, 3.0, rtol=1e-3)
    assert held.fwhm_at_bound.all()
    narrow = fit_peak_table(y[None], x, centers=[[30.0, 70.0]], fwhm_bounds=(9.0, 20.0))
    np.testing.assert_allclose(narrow.fwhm, 9.0, rtol=1e-3)
    assert narrow.fwhm_at_bound.all()


def test_a_resolved_narrow_line_on_a_long_axis_is_not_at_its_bound():
    # a margin of 0.1 % of the bounds' range (0.85 cm-1 here) flagged a
    # line four grid steps wide, fitted exactly, as not resolved
    x = np.linspace(100.0, 3500.0, 13601)  # steps of 0.25 cm-1
    y = render_peaks(
        x,
        np.array([500.0, 1000.0]),
        np.array([1.0, 1.0]),
        np.array([1.0, 3.0]),
        profile="gaussian",
    ).numpy()
    table = fit_peak_table(y[None], x, profile="gaussian")
    np.testing.assert_allclose(table.fwhm, [1.0, 3.0], rtol=1e-3)
    assert not table.fwhm_at_bound.any()
