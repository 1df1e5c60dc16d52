import warnings

import numpy as np
import pytest
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


@pytest.mark.parametrize(
    "bounds, match",
    [
        ((0.0, 1.0), "0 < low < high"),
        ((2.0, 2.0), "0 < low < high"),
        ((1.0, np.inf), "0 < low < high"),
        (("a", 1.0), "a pair"),
        ((1.0,), "a pair"),
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
