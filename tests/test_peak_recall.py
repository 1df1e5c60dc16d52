import warnings

import numpy as np
import pytest

from sktransfer.metrics import peak_recall

X = np.arange(100.0)


def spectrum(*peaks, width=2.0):
    """Sum of Gaussians; each peak is a centre or a (centre, height) pair."""
    out = np.zeros_like(X)
    for p in peaks:
        centre, height = p if isinstance(p, tuple) else (p, 1.0)
        out += height * np.exp(-0.5 * ((X - centre) / width) ** 2)
    return out


def test_two_of_three_peaks_within_tolerance():
    measured = spectrum(20, 50, 80)
    predicted = spectrum(22, 50)
    assert peak_recall(measured, predicted, x_axis=X, tolerance=3.0) == 2 / 3
    # 22 is 2 points from 20: outside a tolerance of 1
    assert peak_recall(measured, predicted, x_axis=X, tolerance=1.0) == 1 / 3


def test_only_the_strongest_measured_peaks_count():
    measured = spectrum((20, 1.0), (50, 0.8), (80, 0.3))
    # the two strongest are 20 and 50; a prediction with only 80 recalls none
    assert peak_recall(measured, spectrum(80), n_peaks=2) == 0.0
    assert peak_recall(measured, spectrum(20), n_peaks=2) == 0.5
    # with all three, the peak at 80 counts
    assert peak_recall(measured, spectrum(20, 80), n_peaks=3) == 2 / 3


def test_equally_prominent_peaks_do_not_depend_on_the_axis_direction():
    # two measured peaks of the same height, n_peaks=1: the one kept was the
    # last in memory, so the same spectra stored the other way round scored
    # 0 and 1; now the one at the smaller axis value is kept
    measured = np.round(10 * spectrum(30, 70, width=3.0))
    predicted = np.round(10 * spectrum(30, width=3.0))
    kw = {"n_peaks": 1, "tolerance": 2.0}
    up = peak_recall(measured, predicted, x_axis=X, **kw)
    down = peak_recall(measured[::-1], predicted[::-1], x_axis=X[::-1], **kw)
    assert up == down == 1.0


def test_a_flat_topped_peak_lies_at_the_middle_of_its_plateau():
    # a peak clipped flat over two points (a saturated detector) lies at
    # 50.5; it was put on the first of the two in memory, 50 on the axis
    # stored one way and 51 on the other, so the recall changed with it
    measured = np.minimum(spectrum(50.5), 0.9)
    assert measured[50] == measured[51] == 0.9
    kw = {"tolerance": 0.6}
    for predicted, expected in ((spectrum(50), 1.0), (spectrum(51), 1.0)):
        up = peak_recall(measured, predicted, x_axis=X, **kw)
        down = peak_recall(measured[::-1], predicted[::-1], x_axis=X[::-1], **kw)
        assert up == down == expected
    # a prediction with its own plateau, over 60-61, is at 60.5
    plateau = np.minimum(spectrum(60.5), 0.9)
    assert peak_recall(spectrum(61), plateau, x_axis=X, tolerance=0.6) == 1.0
    assert peak_recall(spectrum(61), plateau, x_axis=X, tolerance=0.4) == 0.0


def test_tolerance_is_in_axis_units():
    axis = 400.0 + 2.0 * X  # cm-1, 2 cm-1 per point
    measured, predicted = spectrum(20), spectrum(24)  # 4 points = 8 cm-1 apart
    assert peak_recall(measured, predicted, x_axis=axis, tolerance=10.0) == 1.0
    assert peak_recall(measured, predicted, x_axis=axis, tolerance=5.0) == 0.0
    # without an axis the distance is 4 points
    assert peak_recall(measured, predicted, tolerance=5.0) == 1.0
    # a descending axis gives the same distances
    assert peak_recall(measured, predicted, x_axis=axis[::-1], tolerance=10.0) == 1.0


def test_a_peak_at_exactly_the_tolerance_is_recalled():
    measured, predicted = spectrum(20), spectrum(23)
    assert peak_recall(measured, predicted, x_axis=X, tolerance=3.0) == 1.0
    assert peak_recall(measured, predicted, x_axis=X, tolerance=2.999) == 0.0
    # on a decimal axis, 20.3 - 20.0 is 0.3000000000000007: rounding, not
    # a miss (80.0 - 79.7 is 0.2999999999999972 and was recalled)
    axis = np.round(np.arange(0.0, 100.0, 0.1), 10)

    def bands(*centres):
        return sum(np.exp(-0.5 * ((axis - c) / 1.0) ** 2) for c in centres)

    measured, predicted = bands(20.0, 50.0, 80.0), bands(20.3, 50.0, 79.7)
    assert peak_recall(measured, predicted, x_axis=axis, tolerance=0.3) == 1.0
    assert peak_recall(measured, predicted, x_axis=axis, tolerance=0.29) == 1 / 3


def test_weak_bumps_below_the_prominence_are_not_peaks():
    measured = spectrum((20, 1.0), (60, 0.03))
    # the bump at 60 has 3 % of the range: not a peak at the default 5 %
    assert peak_recall(measured, spectrum(20)) == 1.0
    assert peak_recall(measured, spectrum(20), prominence=0.01) == 0.5
    # the same holds for the predicted spectrum, scaled to [0, 1] on its own
    predicted = spectrum((20, 1.0), (60, 0.03))
    assert peak_recall(spectrum(20, 60), predicted) == 0.5
    assert peak_recall(spectrum(20, 60), predicted, prominence=0.01) == 1.0


def test_scale_and_offset_do_not_matter():
    measured = spectrum(20, 50, 80)
    predicted = 1000.0 * spectrum(20, 50) + 7.0
    assert peak_recall(measured, predicted, tolerance=1.0) == 2 / 3


def test_spectra_spanning_most_of_the_float_range():
    # the range of a spectrum from -1e308 to 1e308 overflowed: every
    # spectrum looked flat ("No spectrum of y_true has a peak")
    measured, predicted = spectrum(20, 50, 80), spectrum(22, 50)
    huge = 1e308 * (2.0 * measured - 1.0)
    assert np.isfinite(huge).all()
    assert peak_recall(huge, predicted, x_axis=X, tolerance=3.0) == 2 / 3
    assert peak_recall(predicted, huge, x_axis=X, tolerance=3.0) == 1.0


def test_raw_values_and_averages():
    Y = np.vstack([spectrum(20, 50), spectrum(30), np.ones_like(X)])
    P = np.vstack([spectrum(20, 50), spectrum(70), spectrum(30)])
    raw = peak_recall(Y, P, tolerance=2.0, multioutput="raw_values")
    # the flat measured spectrum has nothing to recall
    np.testing.assert_array_equal(raw, [1.0, 0.0, np.nan])
    assert peak_recall(Y, P, tolerance=2.0) == 0.5
    assert peak_recall(Y, P, tolerance=2.0, multioutput=[3.0, 1.0, 5.0]) == 0.75
    weights = np.array([3.0, 1.0, 5.0])
    assert peak_recall(Y, P, tolerance=2.0, multioutput=weights) == 0.75
    # weight only on the spectrum without peaks: said as such
    with pytest.raises(ValueError, match="zero for every spectrum of y_true that"):
        peak_recall(Y, P, multioutput=[0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=">= 0 and not all zero"):
        peak_recall(Y, P, multioutput=[0.0, -1.0, 1.0])
    # a bad weight on the spectrum without peaks is refused too, as
    # spectral_correlation refuses it
    for bad, match in (
        (-5.0, ">= 0 and not all zero"),
        (np.nan, "NaN"),
        (np.inf, "infinity"),
    ):
        with pytest.raises(ValueError, match=match):
            peak_recall(Y, P, multioutput=[1.0, 1.0, bad])


def test_a_maximum_at_the_end_of_the_axis_is_not_a_peak():
    ramp = np.linspace(0.0, 1.0, X.size)  # its maximum is the last point
    measured = spectrum(30) + ramp
    assert peak_recall(measured, spectrum(30), tolerance=1.0) == 1.0
    assert np.isnan(peak_recall(ramp, ramp, multioutput="raw_values")[0])


def test_flat_prediction_recalls_nothing():
    assert peak_recall(spectrum(20), np.zeros_like(X)) == 0.0


def test_inputs_are_not_modified():
    Y = np.vstack([spectrum(20, 50), spectrum(30)])
    P = Y[::-1].copy()
    Y0, P0 = Y.copy(), P.copy()
    peak_recall(Y, P, x_axis=X)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(P, P0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_peaks": 0}, "n_peaks"),
        ({"n_peaks": 2.5}, "n_peaks"),
        ({"n_peaks": True}, "n_peaks must be an integer, got True"),
        ({"tolerance": True}, "tolerance must be a real number, got True"),
        ({"tolerance": -1.0}, "tolerance"),
        ({"prominence": np.nan}, "prominence"),
        ({"prominence": -0.1}, "prominence must be in"),
        ({"x_axis": np.arange(5.0)}, "x_axis has 5 values but the spectra have"),
        ({"multioutput": "mean"}, "multioutput"),
        ({"multioutput": [1.0, 2.0]}, "weights"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        peak_recall(spectrum(20), spectrum(20), **kwargs)


def test_bad_data_raise():
    with pytest.raises(ValueError, match="same shape"):
        peak_recall(spectrum(20), spectrum(20)[:50])
    with pytest.raises(ValueError, match="NaN"):
        peak_recall(spectrum(20), np.full_like(X, np.nan))
    with pytest.raises(ValueError, match="undefined"):
        peak_recall(np.ones_like(X), spectrum(20))


def test_a_misspelt_multioutput_is_named_first():
    # spectra without peaks said "peak recall is undefined" for a misspelt
    # multioutput; the name is checked before anything is scored
    with pytest.raises(ValueError, match="multioutput must be one of"):
        peak_recall(np.ones_like(X), spectrum(20), multioutput="mean")


def test_a_tolerance_in_other_units_than_the_axis_warns():
    # the default of 10 (cm-1) on a 2-theta axis of 5-90 degrees counted the
    # peaks of any other pattern as found: recall 1.0, silently
    theta = np.linspace(5.0, 90.0, 851)

    def pattern(*centres):
        return sum(np.exp(-0.5 * ((theta - c) / 0.1) ** 2) for c in centres)

    measured, other = pattern(20.0, 35.0, 61.0), pattern(26.0, 41.0, 55.0)
    with pytest.warns(UserWarning, match=r"tolerance=10 is 12 % of the span"):
        assert peak_recall(measured, other, x_axis=theta) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert peak_recall(measured, other, x_axis=theta, tolerance=0.2) == 0.0
        raman = np.linspace(150.0, 1250.0, 1024)  # the default suits cm-1
        peak_recall(np.sin(raman / 50.0), np.sin(raman / 50.0), x_axis=raman)


def test_spectra_of_one_point_have_no_peak_to_recall():
    # the axis span of one point is 0: the check of the tolerance against it
    # divided by zero
    with pytest.raises(ValueError, match="No spectrum of y_true has a peak"):
        peak_recall(np.ones((2, 1)), np.ones((2, 1)), x_axis=[500.0])
