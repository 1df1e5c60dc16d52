import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sktransfer.peaks._batch import (
    check_centers,
    check_fit_params,
    default_fwhm_bounds,
    initial_widths,
    pad_ragged,
    warn_not_converged,
)

FIT_PARAMS = {
    "profile": "gaussian",
    "baseline": "linear",
    "n_peaks": None,
    "center_tolerance": None,
    "max_iter": 1,
    "tol": 0.0,
    "batch_size": 1,
    "device": "cpu",
}


@pytest.mark.parametrize(
    "n_bad, shown", [(10, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9)"), (11, "7, 8, 9, ...)")]
)
def test_convergence_warning_lists_ten_spectra_at_most(n_bad, shown):
    converged = np.r_[np.zeros(n_bad, dtype=bool), True]
    with pytest.warns(ConvergenceWarning) as record:
        warn_not_converged(converged, 5, stacklevel=1)
    message = str(record[0].message)
    assert message.startswith(f"The peak fit of {n_bad} of {n_bad + 1} spectra")
    assert f"spectra 0, 1, 2, 3, 4, 5, 6, 7, 8, 9{', ...' * (n_bad > 10)})" in message
    assert shown in message and "max_iter=5" in message
    assert record[0].filename == __file__  # stacklevel=1: its caller
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_not_converged(np.ones(3, dtype=bool), 5, stacklevel=1)


def test_default_fwhm_bounds_are_one_step_to_a_quarter_span():
    # the smallest step of an uneven axis; at least two steps wide
    x = np.r_[0.0, 0.5, np.arange(1.0, 101.0)]
    assert default_fwhm_bounds(x, None) == (0.5, 25.0)
    assert default_fwhm_bounds(np.arange(5.0) / 2, None) == (0.5, 1.0)
    assert default_fwhm_bounds(x, (0.25, 3)) == (0.25, 3.0)
    assert default_fwhm_bounds(x, np.array([0.25, 3.0])) == (0.25, 3.0)
    assert default_fwhm_bounds(x, [np.float32(0.25), np.int64(3)]) == (0.25, 3.0)
    assert default_fwhm_bounds(x, (np.array(0.25), np.array(3.0))) == (0.25, 3.0)
    assert default_fwhm_bounds(x, torch.tensor([0.25, 3.0])) == (0.25, 3.0)


@pytest.mark.parametrize(
    "bounds, match",
    [
        ((0.0, 1.0), "0 < low < high"),
        ((2.0, 2.0), "0 < low < high"),
        ((1.0, np.inf), "0 < low < high"),
        (("a", 1.0), "a pair"),
        ((1.0,), "a pair"),
        # float() read "15" as the pair (1.0, 5.0), and bools as numbers
        ("15", "a pair of numbers"),
        (("1", "20"), "a pair of numbers"),
        ((True, 20.0), "a pair of numbers"),
        (np.array([[1.0, 2.0]]), "a pair of numbers"),
    ],
)
def test_default_fwhm_bounds_refuses_bad_bounds(bounds, match):
    with pytest.raises(ValueError, match=match):
        default_fwhm_bounds(np.arange(10.0), bounds)


def test_initial_widths_stay_inside_the_bounds():
    # bounds (1, 25): widths are kept inside them, by 1 % of the lower
    # bound (0.01) above it and 1 % of the range (0.24) below the upper;
    # an unmeasured width (0) starts at four steps
    x = np.arange(0.0, 101.0, 1.0)
    fwhm = np.array([[0.0, 0.5, 1.2, 10.0, 40.0]])
    f, tol = initial_widths(x, fwhm, (1.0, 25.0), None)
    np.testing.assert_allclose(f, [[4.0, 1.01, 1.2, 10.0, 24.76]])
    # a centre moves by half its width, at least one step
    np.testing.assert_allclose(tol, [[2.0, 1.0, 1.0, 5.0, 12.38]])
    f, tol = initial_widths(x, fwhm, (1.0, 25.0), 3)
    np.testing.assert_allclose(tol, np.full((1, 5), 3.0))
    # a narrow line on a long axis starts at its measured width, not at
    # the span / 400 a margin of the range would give (bounds 1 to 850)
    f, _ = initial_widths(x, np.array([[3.5]]), (1.0, 850.0), None)
    np.testing.assert_allclose(f, [[3.5]])


def test_narrow_lines_on_a_long_axis_fit_exactly():
    # silicon- and diamond-like Voigt lines (FWHM 3.5 and 2.5 cm-1) on
    # 100-3500 cm-1: started 9.5 cm-1 wide, both shapes ended on a bound
    # (1 and 0, true 0.8 and 0.7) with areas 4 % and 18 % off
    from sktransfer.peaks import fit_peak_table, render_peaks

    x = np.arange(100.0, 3501.0, 1.0)
    truth = {"center": [520.7, 1332.0], "height": [1.0, 0.5]}
    truth |= {"fwhm": [3.5, 2.5], "shape": [0.8, 0.7]}
    y = render_peaks(x, *(np.array([v]) for v in truth.values()))
    table = fit_peak_table(y, x)
    for key, values in truth.items():
        np.testing.assert_allclose(table[key], values, rtol=1e-3, err_msg=key)
    assert table["r2"].min() > 0.99999


def test_check_centers_keeps_the_ends_of_the_axis():
    x = np.linspace(900.0, 100.0, 81)
    np.testing.assert_array_equal(check_centers([900, 100.0, 500], x), [100, 500, 900])
    with pytest.raises(ValueError, match=r"\[99.9\] lie outside"):
        check_centers([99.9, 100.0], x)


def test_pad_ragged_pads_with_nan():
    out, counts = pad_ragged([np.array([1.0, 2.0]), np.array([]), np.array([3.0])])
    np.testing.assert_array_equal(out, [[1.0, 2.0], [np.nan, np.nan], [3.0, np.nan]])
    assert counts.tolist() == [2, 0, 1] and counts.dtype == np.int64
    out, counts = pad_ragged([np.array([]), np.array([])])
    assert out.shape == (2, 0) and counts.tolist() == [0, 0]
    assert pad_ragged([np.array([1.0])], n_peaks=3)[0].shape == (1, 3)


def test_check_fit_params_bounds():
    # the least accepted values, and the first refused below them
    assert str(check_fit_params(**FIT_PARAMS)) == "cpu"
    check_fit_params(**{**FIT_PARAMS, "n_peaks": 1, "center_tolerance": 0.5})
    for name, bad in [
        ("n_peaks", 0),
        ("center_tolerance", 0.0),
        ("max_iter", 0),
        ("tol", -1e-9),
        ("batch_size", 0),
    ]:
        with pytest.raises(ValueError, match=name):
            check_fit_params(**{**FIT_PARAMS, name: bad})


def _three_peak_spectra(n_spectra=5, n_points=300):
    x = np.linspace(0, 100, n_points)
    rng = np.random.default_rng(1)

    def peak(c, f):
        return np.exp(-4 * np.log(2) * ((x - c) / f) ** 2)

    X = np.stack(
        [
            a * peak(30, 5) + b * peak(55, 8) + 0.3 * peak(75, 4) + 0.002 * x
            for a, b in rng.uniform(0.5, 2, (n_spectra, 2))
        ]
    )
    return x, X + 0.01 * rng.standard_normal(X.shape)


def _record_batches(monkeypatch):
    """Record the number of spectra of every call of the solver."""
    from sktransfer.peaks import _batch

    sizes = []
    solver = _batch.levenberg_marquardt

    def counting(x, u, Y, *args):
        sizes.append(Y.shape[0])
        return solver(x, u, Y, *args)

    monkeypatch.setattr(_batch, "levenberg_marquardt", counting)
    return sizes


def test_batches_are_split_by_the_memory_of_their_own_peaks(monkeypatch):
    from sktransfer.peaks import _batch
    from sktransfer.peaks._layout import PeakLayout

    layout = PeakLayout("gaussian", 3, "linear")
    one_peak = _batch._fit_bytes(5, 100, 8)  # 1 peak: 3 + 2 parameters
    # two spectra of one peak, or one of three peaks, fit in the budget
    monkeypatch.setattr(_batch, "_FIT_MEMORY_BUDGET", 2 * one_peak)
    counts = np.array([0, 1, 1, 1, 3, 3])
    got = [(s.start, s.stop) for s in _batch._batches(counts, 4, layout, 100, 8)]
    # batch [0, 4): at most 1 peak, two at a time; batch [4, 6): one at a time
    assert got == [(0, 2), (2, 4), (4, 5), (5, 6)]
    # a batch of spectra without peaks (no parameters) is not split
    none = PeakLayout("gaussian", 0, "none")
    got = list(_batch._batches(np.zeros(3, int), 32, none, 100, 8))
    assert got == [slice(0, 3)]


def test_large_batches_of_the_fitter_are_split_results_unchanged(monkeypatch):
    from sktransfer.peaks import PeakProfileFitter, _batch

    x, X = _three_peak_spectra()
    sizes = _record_batches(monkeypatch)
    fitter = PeakProfileFitter("gaussian", centers=[30, 55, 75], x_axis=x).fit(X)
    whole = fitter.fit_peaks(X)
    assert sizes == [5, 5]
    # a budget of two spectra of 3 peaks (11 parameters) on 300 points
    monkeypatch.setattr(_batch, "_FIT_MEMORY_BUDGET", 2 * _batch._fit_bytes(11, 300, 8))
    sizes.clear()
    split = fitter.fit_peaks(X)
    assert sizes == [2, 2, 1]
    # the fits of a batch's spectra are independent: the same up to the
    # rounding of the batched matrix products
    np.testing.assert_allclose(split.parameters, whole.parameters, rtol=1e-12)
    np.testing.assert_allclose(
        split.reconstruction, whole.reconstruction, rtol=1e-12, atol=1e-14
    )
    np.testing.assert_allclose(split.r2, whole.r2, rtol=1e-12)
    assert split.converged.all() and whole.converged.all()


def test_large_batches_of_the_peak_table_are_split_results_unchanged(monkeypatch):
    from sktransfer.peaks import _batch, fit_peak_table

    x, X = _three_peak_spectra()
    centers = [np.array([30.0, 55, 75])[: 1 + i % 3] for i in range(5)]
    sizes = _record_batches(monkeypatch)

    def table():
        return fit_peak_table(X, x, profile="gaussian", centers=centers, as_frame=False)

    whole = table()
    assert sizes == [5]
    monkeypatch.setattr(_batch, "_FIT_MEMORY_BUDGET", 1)  # one at a time
    sizes.clear()
    split = table()
    assert sizes == [1] * 5
    for key in ("center", "height", "fwhm", "area", "r2", "rmse"):
        np.testing.assert_allclose(split[key], whole[key], rtol=1e-12)
    np.testing.assert_array_equal(split["spectrum"], whole["spectrum"])


def test_a_spectrum_too_large_for_the_free_memory_is_refused(monkeypatch):
    from sktransfer.peaks import PeakProfileFitter, _batch, fit_peak_table

    x, X = _three_peak_spectra(n_spectra=2, n_points=2000)
    # 3 peaks and a linear baseline: 11 parameters of 2000 float64 points,
    # three Jacobians and the normal equations at least
    need = 11 * (3 * 2000 * 8 + 32 * 11)
    solver_calls = _record_batches(monkeypatch)
    monkeypatch.setattr(_batch, "_available_memory", lambda device: need // 2)
    message = (
        r"^Fitting one spectrum of 2000 points with 3 peaks \(11 parameters\) "
        r"needs at least 0\.000495 GiB of memory, but only 0\.000248 GiB are "
        r"free on device 'cpu'\. Fit fewer peaks \(n_peaks or centers\), cut the "
        r"spectra to a shorter range \(sktransfer\.preprocessing\.RangeCut\) "
        r"or resample them to fewer points "
        r"\(sktransfer\.preprocessing\.Resampler\)\.$"
    )
    fitter = PeakProfileFitter("gaussian", centers=[30, 55, 75], x_axis=x)
    with pytest.raises(MemoryError, match=message):
        fitter.fit(X)
    centers = [np.array([30.0, 55, 75]), np.array([55.0])]
    with pytest.raises(MemoryError, match=message):
        fit_peak_table(X, x, profile="gaussian", centers=centers, as_frame=False)
    assert solver_calls == []
    monkeypatch.setattr(_batch, "_available_memory", lambda device: need - 1)
    with pytest.raises(MemoryError, match="needs at least"):
        fitter.fit(X)
    # just enough memory: the fit runs
    monkeypatch.setattr(_batch, "_available_memory", lambda device: need)
    assert fitter.fit(X).r2_.min() > 0.99
