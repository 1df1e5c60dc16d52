import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import trapezoid
from scipy.interpolate import CubicSpline, PchipInterpolator
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, normalize

from sktransfer.preprocessing import (
    AreaNormalizer,
    MinMaxNormalizer,
    RangeCut,
    Resampler,
    StandardNormalVariate,
)
from tests.conftest import gaussian_spectra

N_FEATURES = 120


@pytest.fixture(scope="module")
def data():
    x, X, _ = gaussian_spectra(n_samples=8, n_features=N_FEATURES)
    # an irregular axis, as read from real files
    x = x + np.sin(np.arange(N_FEATURES)) * 1.5
    return x, X


def _all_transformers(x):
    return [
        MinMaxNormalizer(),
        StandardNormalVariate(),
        AreaNormalizer(x_axis=x),
        Resampler(x_axis=x, grid=50),
        RangeCut(start=600.0, end=1000.0, x_axis=x),
    ]


def test_min_max_normalizer(data):
    _, X = data
    Xt = MinMaxNormalizer(feature_range=(-1.0, 2.0)).fit_transform(X)
    lo, hi = X.min(1, keepdims=True), X.max(1, keepdims=True)
    np.testing.assert_allclose(Xt, (X - lo) / (hi - lo) * 3.0 - 1.0)
    np.testing.assert_allclose(Xt.min(1), -1.0)
    np.testing.assert_allclose(Xt.max(1), 2.0)


@pytest.mark.parametrize(
    "feature_range",
    [
        (0.0, np.inf),
        (-np.inf, 0.0),
        (-1e308, 1e308),
        (0, 10**400),
        (1.0, 1.0),
        (True, 2.0),  # a bool is no bound
        (0.0, np.True_),
    ],
)
def test_min_max_normalizer_refuses_a_range_without_a_finite_span(data, feature_range):
    # these used to give NaN and infinite spectra with a RuntimeWarning
    _, X = data
    with pytest.raises(ValueError, match="feature_range must be a pair"):
        MinMaxNormalizer(feature_range=feature_range).fit_transform(X)


def test_min_max_normalizer_float32_with_bounds_near_the_float32_limits():
    # the span of the bounds overflows float32 while the bounds do not: the
    # result used to be NaN and inf with an overflow warning
    X = np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xt = MinMaxNormalizer(feature_range=(-3e38, 3e38)).fit_transform(X)
    assert Xt.dtype == np.float32
    np.testing.assert_allclose(
        Xt, [[-3e38, 0.0, 3e38], [-3e38, -3e38, -3e38]], rtol=1e-6
    )


def test_min_max_normalizer_refuses_bounds_beyond_the_input_dtype():
    X = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"beyond the range of float32 spectra"):
        MinMaxNormalizer(feature_range=(0.0, 1e300)).fit_transform(X)
    # float64 input holds them
    np.testing.assert_allclose(
        MinMaxNormalizer(feature_range=(0.0, 1e300)).fit_transform(X.astype(float)),
        [[0.0, 5e299, 1e300]],
    )


def test_snv_matches_standard_scaler_on_rows(data):
    _, X = data
    Xt = StandardNormalVariate().fit_transform(X)
    np.testing.assert_allclose(Xt, StandardScaler().fit_transform(X.T).T, atol=1e-12)


def test_area_normalizer_axis_set_after_fit_takes_effect_at_once(data):
    x, X = data
    est = AreaNormalizer(x_axis=x).fit(X).set_params(x_axis=2 * x)
    np.testing.assert_allclose(
        est.transform(X) * 2, AreaNormalizer(x_axis=x).fit_transform(X)
    )
    with pytest.raises(ValueError, match="x_axis has 3 values"):
        est.set_params(x_axis=[1.0, 2.0, 3.0]).transform(X)


def test_snv_of_float32_spectra_on_an_offset_is_float32_accurate():
    # the float32 mean and deviation used to leave errors of 2e-4 (2000x
    # float32's resolution) and a mean of -2e-4 in the centred spectrum
    X = (1e4 + np.random.default_rng(0).normal(size=(2, 2000))).astype(np.float32)
    got = StandardNormalVariate().fit_transform(X)
    assert got.dtype == np.float32
    exact = StandardNormalVariate().fit_transform(X.astype(np.float64))
    np.testing.assert_allclose(got, exact, rtol=0, atol=5e-7)
    np.testing.assert_allclose(got.mean(axis=1, dtype=np.float64), 0.0, atol=1e-7)


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_area_normalizer_vector_norms_match_sklearn(data, norm):
    _, X = data
    Xt = AreaNormalizer(norm=norm).fit_transform(X - 0.5)
    np.testing.assert_allclose(Xt, normalize(X - 0.5, norm=norm))


@pytest.mark.parametrize("descending", [False, True])
def test_area_normalizer_integrates_to_one(data, descending):
    x, X = data
    if descending:
        x, X = x[::-1], X[:, ::-1]
    Xt = AreaNormalizer(x_axis=x).fit_transform(X)
    np.testing.assert_allclose(np.abs(trapezoid(Xt, x=x, axis=1)), 1.0)


def test_row_scalers_transform_without_fit(data):
    # stateless, as sklearn's Normalizer: transform works before fit
    _, X = data
    lo, hi = X.min(axis=1, keepdims=True), X.max(axis=1, keepdims=True)
    np.testing.assert_allclose(
        MinMaxNormalizer(feature_range=(-1.0, 1.0)).transform(X),
        2.0 * (X - lo) / (hi - lo) - 1.0,
    )
    centred = X - X.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(
        StandardNormalVariate().transform(X),
        centred / centred.std(axis=1, keepdims=True),
        atol=1e-12,
    )


@pytest.mark.parametrize("norm", ["area", "l1", "l2"])
def test_area_normalizer_transform_without_fit(norm):
    # stateless: transform alone reads the axis of X's features, not its rows
    X = np.array([[1.0, 3.0, 2.0, 0.5, 1.0], [0.0, 1.0, 4.0, 1.0, 0.0]])
    x = np.array([0.0, 1.0, 3.0, 4.0, 6.0])
    for x_axis, axis in [(None, np.arange(5.0)), (x, x)]:
        Xt = AreaNormalizer(norm=norm, x_axis=x_axis).transform(X)
        norms = {
            "area": trapezoid(X, x=axis, axis=1),
            "l1": np.abs(X).sum(axis=1),
            "l2": np.sqrt((X**2).sum(axis=1)),
        }[norm]
        np.testing.assert_allclose(Xt, X / norms[:, None], rtol=1e-14)


def test_constant_spectra_rules():
    X = np.array([[3.0, 3.0, 3.0], [0.0, 0.0, 0.0], [1.0, 2.0, 4.0]])
    mm = MinMaxNormalizer(feature_range=(0.2, 0.8)).fit_transform(X)
    np.testing.assert_allclose(mm[:2], 0.2)
    np.testing.assert_array_equal(StandardNormalVariate().fit_transform(X)[:2], 0.0)
    for norm in ("area", "l1", "l2"):
        out = AreaNormalizer(norm=norm).fit_transform(X)
        np.testing.assert_array_equal(out[1], 0.0)
        assert np.all(np.isfinite(out))
    assert np.all(np.isfinite(AreaNormalizer().fit_transform(X[:, :1])))


@pytest.mark.parametrize("transformer", [MinMaxNormalizer(), StandardNormalVariate()])
def test_a_spectrum_passed_as_a_column_warns(transformer):
    # (n, 1) reads as n spectra of one point: each becomes a constant.
    column = np.array([[1.0], [3.0], [2.0]])
    with pytest.warns(UserWarning, match="1 point.*reshape"):
        out = transformer.fit_transform(column)
    assert np.ptp(out) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transformer.fit_transform(column.T)  # one spectrum of 3 points


@pytest.mark.parametrize("method", ["linear", "cubic", "pchip"])
@pytest.mark.parametrize("descending", [False, True])
def test_resampler_matches_reference(data, method, descending):
    x, X = data
    grid = np.linspace(500.0, 1300.0, 77)
    ref = {
        "linear": np.array([np.interp(grid, x, row) for row in X]),
        "cubic": CubicSpline(x, X, axis=1)(grid),
        "pchip": PchipInterpolator(x, X, axis=1)(grid),
    }[method]
    if descending:
        x, X, grid, ref = x[::-1], X[:, ::-1], grid[::-1], ref[:, ::-1]
    res = Resampler(grid=grid, x_axis=x, method=method).fit(X)
    np.testing.assert_allclose(res.transform(X), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(res.grid_, grid)


def test_resampler_recovers_smooth_function():
    x = np.sort(np.random.default_rng(0).uniform(0, 10, 200))
    X = np.sin(x)[None, :]
    grid = np.linspace(1, 9, 30)
    out = Resampler(grid=grid, x_axis=x, method="cubic").fit_transform(X)
    np.testing.assert_allclose(out[0], np.sin(grid), atol=1e-4)


@pytest.mark.parametrize("descending", [False, True])
def test_resampler_linear_in_the_end_segments(data, descending):
    # grid points between the first two and the last two points of the axis
    x, X = data
    grid = np.array([x[0], (x[0] + x[1]) / 2, (x[-2] + x[-1]) / 2, x[-1]])
    ref = np.array([np.interp(grid, x, row) for row in X])
    if descending:
        x, X, grid, ref = x[::-1], X[:, ::-1], grid[::-1], ref[:, ::-1]
    out = Resampler(grid=grid, x_axis=x).fit_transform(X)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_resampler_rounding_tolerance_is_1e_9_of_the_axis_span():
    # the axis spans 0-1000 cm-1: 1e-6 beyond an end is the end point
    x = np.linspace(0.0, 1000.0, 101)
    X = np.vstack([x, x**2])
    inside = Resampler(grid=[500.0, 1000.0 + 0.9e-6], x_axis=x).fit_transform(X)
    np.testing.assert_allclose(inside[:, -1], [1000.0, 1e6], rtol=1e-8)
    with pytest.raises(ValueError, match="outside the range"):
        Resampler(grid=[500.0, 1000.0 + 1.1e-6], x_axis=x).fit(X)
    # or of the largest magnitude, if larger: 2000 for a 1000-2000 axis
    x = np.linspace(1000.0, 2000.0, 101)
    Resampler(grid=[2000.0 + 1.9e-6], x_axis=x, method="pchip").fit(X)
    with pytest.raises(ValueError, match=r"\[1000, 2000\] of x_axis"):
        Resampler(grid=[2000.0 + 2.5e-6], x_axis=x[::-1]).fit(X)


@pytest.mark.parametrize("method", ["linear", "cubic", "pchip"])
@pytest.mark.parametrize("descending", [False, True])
def test_resampler_of_two_points(method, descending):
    # two points are enough for a spline: it is the straight line
    X = np.array([[1.0, 3.0], [2.0, -2.0]])
    x, grid = np.array([0.0, 2.0]), np.array([0.0, 0.5, 2.0])
    expected = np.array([[1.0, 1.5, 3.0], [2.0, 1.0, -2.0]])
    if descending:
        x, X = x[::-1], X[:, ::-1]
    out = Resampler(grid=grid, x_axis=x, method=method).fit_transform(X)
    np.testing.assert_allclose(out, expected, rtol=1e-14)


def test_resampler_feature_names_round_to_6_decimals_when_unambiguous():
    # np.linspace(0, 0.4, 5) holds 0.30000000000000004
    res = Resampler(grid=np.linspace(0.0, 0.4, 5), x_axis=np.linspace(0, 1, 11))
    names = res.fit(np.ones((2, 11))).get_feature_names_out()
    assert list(names) == ["x0.0", "x0.1", "x0.2", "x0.3", "x0.4"]
    res.set_params(grid=[0.1234567, 0.5])
    names = res.fit(np.ones((2, 11))).get_feature_names_out()
    assert list(names) == ["x0.123457", "x0.5"]
    # points that round to the same name keep all their digits
    res.set_params(grid=[0.1234561, 0.1234562])
    names = res.fit(np.ones((2, 11))).get_feature_names_out()
    assert list(names) == ["x0.1234561", "x0.1234562"]


def test_resampler_grid_forms_and_names(data):
    x, X = data
    res = Resampler(x_axis=x).fit(X)
    np.testing.assert_allclose(res.grid_, np.linspace(x[0], x[-1], N_FEATURES))
    res = Resampler(x_axis=x, grid=5).fit(X)
    assert res.transform(X).shape == (len(X), 5)
    np.testing.assert_allclose(res.grid_[[0, -1]], x[[0, -1]])
    res = Resampler(x_axis=x, grid=[500.0, 600.5, 700.25]).fit(X)
    assert list(res.get_feature_names_out()) == ["x500.0", "x600.5", "x700.25"]
    res = Resampler(grid=np.linspace(0.1, 0.3, 3), x_axis=np.linspace(0, 1, 11))
    names = res.fit(np.ones((2, 11))).get_feature_names_out()
    assert list(names) == ["x0.1", "x0.2", "x0.3"]


def test_resampler_out_of_range(data):
    x, X = data
    with pytest.raises(ValueError, match="outside the range"):
        Resampler(grid=[300.0, 500.0], x_axis=x).fit(X)
    out = Resampler(grid=[300.0, 500.0], x_axis=x, fill_value=-1.0).fit_transform(X)
    np.testing.assert_array_equal(out[:, 0], -1.0)
    np.testing.assert_allclose(out[:, 1], [np.interp(500.0, x, r) for r in X])
    # NaN marks them as missing; inside points are computed as before
    for method in ("linear", "pchip"):
        nan = Resampler(grid=[300.0, 500.0], x_axis=x, method=method, fill_value=np.nan)
        got = nan.fit_transform(X)
        assert np.isnan(got[:, 0]).all() and np.isfinite(got[:, 1]).all()
        np.testing.assert_array_equal(
            got[:, 1], nan.set_params(fill_value=-1.0).fit_transform(X)[:, 1]
        )
    # fill_value=None set after fit refuses the points too (it gave NaN)
    filled = Resampler(grid=[300.0, 500.0], x_axis=x, fill_value=0.0).fit(X)
    with pytest.raises(ValueError, match="1 point\\(s\\) outside the range"):
        filled.set_params(fill_value=None).transform(X)


@pytest.mark.parametrize("method", ["linear", "cubic", "pchip"])
def test_resampler_rounding_overshoot_is_the_end_point(method):
    # an axis accumulated in steps of 0.1 ends at 3999.999999997, the grid
    # at 4000: the same point
    x = np.cumsum(np.r_[400.0, np.full(36000, 0.1)])
    assert 4000.0 - 1e-8 < x[-1] < 4000.0
    X = np.vstack([np.sin(x / 300.0), x / 1000.0])
    grid = np.linspace(400.0, 4000.0, 7)
    out = Resampler(grid=grid, x_axis=x, method=method).fit_transform(X)
    np.testing.assert_allclose(out[:, -1], X[:, -1], rtol=1e-9)
    filled = Resampler(grid=grid, x_axis=x, method=method, fill_value=np.nan)
    np.testing.assert_array_equal(filled.fit_transform(X), out)
    # a real overshoot is still one, and the message shows where
    with pytest.raises(
        ValueError, match=r"\[400, 4000\] of x_axis .*spans \[400, 4000\.01\]"
    ):
        Resampler(grid=[400.0, 4000.01], x_axis=x, method=method).fit(X)


def test_rounding_tolerance_stays_below_the_axis_step_far_from_zero():
    # an NMR-like axis in absolute Hz: 400 MHz in steps of 0.25 Hz; 1e-9 of
    # its magnitude (0.4 Hz) is more than a step, and the points next to
    # the range's ends used to be kept (13 points for 11)
    x = 400e6 + np.arange(100) * 0.25
    X = np.vstack([np.arange(100.0), np.arange(100.0) ** 2])
    cut = RangeCut(start=x[10], end=x[20], x_axis=x).fit(X)
    np.testing.assert_array_equal(np.flatnonzero(cut.get_support()), np.arange(10, 21))
    # and a grid point a step beyond the axis is outside it
    beyond = Resampler(grid=[x[50], x[-1] + 0.25], x_axis=x, fill_value=np.nan)
    out = beyond.fit_transform(X)
    np.testing.assert_array_equal(out[:, 0], X[:, 50])
    assert np.isnan(out[:, 1]).all()
    # rounding is still forgiven: 1e-9 of the magnitude, below 1 % of a step
    x = np.linspace(0.0, 0.4, 5)
    assert x[3] != 0.3
    support = RangeCut(start=0.1, end=0.3, x_axis=x).fit(X[:, :5]).get_support()
    np.testing.assert_array_equal(support, [False, True, True, True, False])


@pytest.mark.parametrize("fill_value", [0.0, np.nan])
def test_resampler_refuses_a_grid_wholly_outside_the_axis(fill_value):
    # a grid in micrometres on an axis in cm-1 gave spectra of fill_value only
    x = np.linspace(400.0, 4000.0, 100)
    X = np.random.default_rng(0).random((2, 100))
    grid = np.linspace(2.5, 25.0, 50)
    est = Resampler(grid=grid, x_axis=x, fill_value=fill_value)
    with pytest.raises(ValueError, match=r"no point of grid .* same units"):
        est.fit(X)
    # one point inside is enough
    out = est.set_params(grid=np.r_[grid, 400.0]).fit_transform(X)
    assert out[:, -1].tolist() == X[:, 0].tolist()


def test_resampler_refuses_a_fill_value_the_dtype_cannot_hold():
    # 1e300 was written as inf into float32 output, with a warning
    x = np.linspace(400.0, 600.0, 21)
    X = np.vstack([x, -x]).astype(np.float32)
    est = Resampler(grid=[300.0, 500.0], x_axis=x, fill_value=1e300)
    with pytest.raises(
        ValueError, match="fill_value=1e.300 is beyond the range of float32"
    ):
        est.fit_transform(X)
    np.testing.assert_allclose(est.fit_transform(X.astype(float))[:, 0], 1e300)


def test_resampler_bad_params(data):
    x, X = data
    with pytest.raises(ValueError, match="method must be one of"):
        Resampler(method="spline").fit(X)
    with pytest.raises(ValueError, match="grid must be strictly monotonic"):
        Resampler(grid=[500.0, 700.0, 600.0], x_axis=x).fit(X)
    with pytest.raises(ValueError, match="grid must be"):
        Resampler(grid=0).fit(X)
    # nor an empty array of points (it gave spectra of no point)
    for method in ("linear", "cubic"):
        with pytest.raises(ValueError, match="grid must hold at least one point"):
            Resampler(grid=[], method=method).fit(X)
    # a float count used to be read as a 0-D array of points
    with pytest.raises(ValueError, match="grid must be a number of points"):
        Resampler(grid=50.0).fit(X)
    with pytest.raises(ValueError, match="grid contains NaN"):
        Resampler(grid=[500.0, np.nan], x_axis=x).fit(X)
    with pytest.raises(ValueError, match="1 feature"):
        Resampler(method="cubic").fit(X[:, :1])
    # evenly spaced points over a one-point axis would all be that point
    for n in (2, 3):
        with pytest.raises(ValueError, match=f"grid={n} points need an x_axis"):
            Resampler(grid=n).fit(X[:, :1])
    one = Resampler(grid=1).fit(X[:, :1])
    np.testing.assert_array_equal(one.transform(X[:, :1]), X[:, :1])
    with pytest.raises(ValueError, match="fill_value"):
        Resampler(fill_value="zero").fit(X)
    with pytest.raises(ValueError, match="fill_value"):
        Resampler(fill_value=np.inf).fit(X)


def test_range_cut(data):
    x, X = data
    cut = RangeCut(start=1000.0, end=600.0, x_axis=x).fit(X)
    keep = (x >= 600.0) & (x <= 1000.0)
    np.testing.assert_array_equal(cut.support_, keep)
    np.testing.assert_array_equal(cut.transform(X), X[:, keep])
    np.testing.assert_array_equal(cut.get_support(), keep)
    only_start = RangeCut(start=1000.0, x_axis=x[::-1]).fit(X)
    np.testing.assert_array_equal(only_start.support_, x[::-1] >= 1000.0)
    assert RangeCut().fit(X).transform(X).shape == X.shape


def test_range_cut_ends_off_by_rounding_are_kept():
    # np.linspace(0, 0.4, 5) holds 0.30000000000000004: the point 0.3
    x = np.linspace(0.0, 0.4, 5)
    assert x[3] > 0.3
    X = np.array([[0.0, 1.0, 2.0, 3.0, 4.0]])
    for x_axis, row in [(x, X), (x[::-1], X[:, ::-1])]:
        cut = RangeCut(start=0.1, end=0.3, x_axis=x_axis).fit(row)
        np.testing.assert_array_equal(np.sort(cut.transform(row)), [[1.0, 2.0, 3.0]])
    # a real overshoot is still outside
    cut = RangeCut(start=0.1, end=0.2999999, x_axis=x).fit(X)
    np.testing.assert_array_equal(cut.transform(X), [[1.0, 2.0]])
    # the tolerance is 1e-9 of the axis's largest magnitude (400 here)
    X = np.array([[1.0, 2.0, 3.0, 4.0]])
    for off, kept in [(3e-7, [[1.0, 2.0, 3.0]]), (5e-7, [[1.0, 2.0]])]:
        x = np.array([100.0, 200.0, 300.0 + off, 400.0])
        cut = RangeCut(end=300.0, x_axis=x).fit(X)
        np.testing.assert_array_equal(cut.transform(X), kept)


def test_range_cut_keeps_a_point_on_both_ends():
    # an axis of the single value 0 has no rounding tolerance
    cut = RangeCut(start=0.0, end=0.0, x_axis=[0.0]).fit(np.ones((2, 1)))
    np.testing.assert_array_equal(cut.support_, [True])


@pytest.mark.parametrize(
    "params", [{"start": 1500.0}, {"end": 300.0}, {"start": 601.0, "end": 601.5}]
)
def test_range_cut_empty_range_is_an_error(data, params):
    x, X = data
    with pytest.raises(ValueError, match="contains no point of x_axis"):
        RangeCut(x_axis=x, **params).fit(X)


def test_range_cut_bad_params(data):
    _, X = data
    with pytest.raises(ValueError, match="start must be a real number"):
        RangeCut(start="a").fit(X)


@pytest.mark.parametrize("factory", range(5))
def test_bad_input(data, factory):
    x, X = data
    est = _all_transformers(x)[factory]
    # RangeCut passes NaN through (see the test above)
    for bad in (np.inf,) if isinstance(est, RangeCut) else (np.nan, np.inf):
        Xb = X.copy()
        Xb[1, 3] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            clone(est).fit(Xb)
        with pytest.raises(ValueError, match="NaN|infinity"):
            clone(est).fit(X).transform(Xb)
    with pytest.raises(ValueError, match="2D array"):
        clone(est).fit(X[0])
    with pytest.raises(ValueError, match="features"):
        clone(est).fit(X).transform(X[:, :-1])
    if "x_axis" in est.get_params():
        with pytest.raises(ValueError, match="x_axis has 119 values"):
            clone(est).set_params(x_axis=x[:-1]).fit(X)
        bumpy = x.copy()
        bumpy[10] = bumpy[12]
        with pytest.raises(ValueError, match="x_axis must be strictly monotonic"):
            clone(est).set_params(x_axis=bumpy).fit(X)


@pytest.mark.parametrize("factory", range(5))
def test_a_refused_refit_leaves_the_transformer_as_it_was(data, factory):
    # fit set n_features_in_ (and x_, support_) before it refused the data:
    # the fitted transformer then refused the spectra it was fitted on
    x, X = data
    est = clone(_all_transformers(x)[factory]).fit(X)
    expected, params, fitted = est.transform(X), est.get_params(), dict(vars(est))
    # RangeCut takes NaN (it only selects features): infinity is its bad data
    missing = np.inf if isinstance(est, RangeCut) else np.nan
    refits = [({}, np.where(X > X.mean(), missing, X))]
    if "x_axis" in params:
        refits.append(({}, X[:, :-1]))  # not the length of x_axis
    if isinstance(est, RangeCut):
        refits.append(({"start": 1e4, "end": 2e4}, X))
    if isinstance(est, Resampler):
        refits.append(({"grid": x + 1e4}, X))
    for changed, X_bad in refits:
        with pytest.raises(ValueError):
            est.set_params(**changed).fit(X_bad)
        est.set_params(**params)
        assert vars(est).keys() == fitted.keys()
        np.testing.assert_array_equal(est.transform(X), expected)


@pytest.mark.parametrize("factory", range(5))
def test_inputs_unmodified_float32_and_pandas(data, factory):
    x, X = data
    est = _all_transformers(x)[factory]
    X0, x0 = X.copy(), x.copy()
    out64 = clone(est).fit_transform(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(x, x0)
    out32 = clone(est).fit_transform(X.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    cols = [f"w{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    fitted = clone(est).set_output(transform="pandas").fit(df)
    out = fitted.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(fitted.get_feature_names_out())
    np.testing.assert_allclose(out.to_numpy(), out64)
    if not isinstance(est, Resampler):
        assert set(out.columns) <= set(cols)


def test_range_cut_passes_nan_and_refuses_infinity(data):
    # the points load_rruff and Resampler mark as missing beyond a
    # spectrum's measured range are what a cut removes
    x, X = data
    X_nan = X.copy()
    X_nan[:, :5] = np.nan
    X_nan[2, -1] = np.nan
    kept = np.arange(5, X.shape[1])
    cut = RangeCut(start=x[5], x_axis=x).fit(X_nan)
    np.testing.assert_array_equal(cut.get_support(indices=True), kept)
    out = cut.transform(X_nan)
    np.testing.assert_array_equal(out, X_nan[:, kept])  # NaN kept where it was
    assert np.isnan(out).sum() == 1
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    for method in ("fit", "transform"):
        with pytest.raises(ValueError, match="infinity"):
            getattr(clone(cut) if method == "fit" else cut, method)(X_inf)


def test_in_pipeline_grid_search():
    x, X, _ = gaussian_spectra(n_samples=40, n_features=60)
    y = np.arange(40) % 2
    X = X + y[:, None] * np.exp(-0.5 * ((x - 800.0) / 20.0) ** 2)
    pipe = make_pipeline(
        RangeCut(x_axis=x), StandardNormalVariate(), LogisticRegression()
    )
    grid = {"rangecut__start": [400.0, 700.0], "rangecut__end": [900.0, 1400.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_score_ > 0.9


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("est", [MinMaxNormalizer(), StandardNormalVariate()])
def test_scale_free_transformers_of_values_near_the_largest_float(est, dtype):
    # sums, ranges and squares overflow; the scaled spectra do not, and
    # equal those of the same shapes at ordinary magnitudes
    big = np.finfo(dtype).max
    shapes = np.array([[-1.0, 0.0, 1.0, 0.5], [1.0, 1.0, 0.7, 0.2]], dtype=dtype)
    X = np.vstack([0.99 * big * shapes, shapes])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xt = est.fit_transform(X)
    assert Xt.dtype == dtype and np.all(np.isfinite(Xt))
    np.testing.assert_allclose(
        Xt[:2], Xt[2:], rtol=1e-5 if dtype == np.float32 else 1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "est", [StandardNormalVariate(), AreaNormalizer(norm="l2")], ids=["snv", "l2"]
)
def test_scale_free_transformers_of_tiny_values(est, dtype):
    # squares of values below sqrt(tiny) underflow: SNV gave zeros (and a
    # wrong scale just above that), the l2 norm 0 and the spectrum back
    # unchanged; the scaled spectra equal those at ordinary magnitudes
    tiny = {np.float64: 1e-300, np.float32: 1e-30}[dtype]
    shapes = np.array([[-1.0, 0.0, 1.0, 0.5], [1.0, 1.0, 0.7, 0.2]], dtype=dtype)
    X = np.vstack([(tiny * shapes).astype(dtype), shapes])
    Xt = est.fit_transform(X)
    assert Xt.dtype == dtype
    np.testing.assert_allclose(
        Xt[:2], Xt[2:], rtol=1e-5 if dtype == np.float32 else 1e-12
    )


def test_area_normalizer_float32_keeps_a_fine_axis_far_from_zero():
    # the axis was rounded to float32: 4000 cm-1 in 0.05 steps came out up
    # to 1e-4 off an area of 1
    x = np.linspace(4000.0, 4010.0, 201)
    X = np.abs(np.random.default_rng(0).normal(size=(4, x.size))) + 1.0
    Xt = AreaNormalizer(x_axis=x).fit_transform(X.astype(np.float32))
    assert Xt.dtype == np.float32
    np.testing.assert_allclose(trapezoid(Xt.astype(np.float64), x), 1.0, rtol=1e-6)


@pytest.mark.parametrize("norm", ["area", "l1", "l2"])
def test_area_normalizer_of_values_near_the_largest_float(norm):
    # The area (or norm) overflows to inf, the normalised spectrum does not;
    # each such row is rescaled on its own, without an overflow warning.
    x = np.linspace(0.0, 10.0, 50)
    shape = 0.5 + np.exp(-0.5 * (x - 5.0) ** 2)
    other = 0.5 + np.exp(-0.5 * (x - 2.0) ** 2)
    X = np.vstack([1e308 * shape, 1e-3 * shape, 5e307 * other, other])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xt = AreaNormalizer(norm=norm, x_axis=x).fit_transform(X)
    assert np.all(np.isfinite(Xt)) and np.all(Xt > 0)
    np.testing.assert_allclose(Xt[0], Xt[1], rtol=1e-12)
    np.testing.assert_allclose(Xt[2], Xt[3], rtol=1e-12)


def test_area_normalizer_of_two_points():
    # the area of a two-point spectrum is one trapezoid
    X = np.array([[1.0, 3.0], [2.0, 2.0]])
    Xt = AreaNormalizer(x_axis=[0.0, 2.0]).fit_transform(X)
    np.testing.assert_allclose(Xt, [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)


@pytest.mark.parametrize("method", ["cubic", "pchip"])
def test_resampler_splines_work_on_chunks_of_rows(monkeypatch, method):
    # scale: a spline of every row at once holds 4 float64 coefficients per
    # point and row (10,000 x 2,000 float32 spectra took 2 GiB); rows are
    # interpolated in chunks, with the same result
    from sktransfer.preprocessing import _functions

    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 10.0, 50)
    X = rng.normal(size=(23, 50)).astype(np.float32)
    grid = np.linspace(0.5, 9.5, 31)
    whole = Resampler(grid=grid, x_axis=x, method=method).fit_transform(X)

    seen = []
    interp = {"cubic": CubicSpline, "pchip": PchipInterpolator}[method]

    def spy(x, y, axis):
        seen.append(y.shape[0])
        return interp(x, y, axis=axis)

    monkeypatch.setattr(
        _functions, "CubicSpline" if method == "cubic" else "PchipInterpolator", spy
    )
    monkeypatch.setattr(_functions, "_SPLINE_CHUNK_POINTS", 5 * 50, raising=False)
    chunked = Resampler(grid=grid, x_axis=x, method=method).fit_transform(X)
    assert seen == [5, 5, 5, 5, 3]
    assert chunked.dtype == np.float32
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.parametrize(
    "n_rows, row_size, chunk_size, rows_per_slice",
    [
        (10, 4, 12, 3),  # 12 values: 3 rows of 4
        (10, 1, 4, 4),
        (10, 5, 4, 1),  # a row longer than a chunk: one row at a time
        (3, 4, 100, 25),  # one slice holds every row
        (5, 0, 4, 4),  # rows without values count as one value
        (0, 4, 12, 3),
    ],
)
def test_row_slices_cover_the_rows_once_in_order(
    n_rows, row_size, chunk_size, rows_per_slice
):
    from sktransfer.utils._chunks import row_slices

    slices = list(row_slices(n_rows, row_size, chunk_size))
    covered = np.concatenate([np.arange(n_rows)[s] for s in slices] + [[]])
    np.testing.assert_array_equal(covered, np.arange(n_rows))
    sizes = [s.stop - s.start for s in slices]
    assert all(size == rows_per_slice for size in sizes[:-1])
    assert all(0 < size <= rows_per_slice for size in sizes)


@pytest.mark.parametrize("scale", [1e-30, 1e-33])
def test_area_of_tiny_float32_spectra_is_not_rounded_away(scale):
    # the float64 area was rounded to float32's subnormals (area of the
    # result 1.0005) or to 0 (the spectrum came back unchanged)
    x = np.linspace(0.0, 1e-12, 50)
    y = np.exp(-(((np.arange(50) - 25) / 5.0) ** 2))
    X = (scale * y)[None].astype(np.float32)
    out = AreaNormalizer(x_axis=x).fit_transform(X)
    assert out.dtype == np.float32
    assert np.trapezoid(out[0].astype(np.float64), x) == pytest.approx(1.0, rel=1e-6)
