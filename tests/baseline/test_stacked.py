import warnings

import numpy as np
import pytest
from pybaselines import Baseline, _weighting
from pybaselines.utils import ParameterWarning

from sktransfer.baseline import _stacked
from sktransfer.baseline._kernels import row_baselines
from sktransfer.baseline._stacked import penalty_bands, stacked_baselines, stacks
from tests.conftest import gaussian_spectra

CASES = [
    ("airpls", {"lam": 1e5}),
    ("airpls", {"lam": 1e3, "diff_order": 1}),
    ("airpls", {"lam": 1e7, "diff_order": 3, "normalize_weights": True}),
    ("arpls", {}),
    ("arpls", {"lam": 1e3, "diff_order": 1, "tol": 1e-4}),
    ("arpls", {"lam": 1e7, "diff_order": 3}),
    ("asls", {"p": 0.02}),
    ("asls", {"lam": 1e3, "diff_order": 1, "p": 0.001}),
    ("asls", {"lam": 1e7, "diff_order": 3, "max_iter": 3, "tol": 0}),
    ("modpoly", {}),
    ("modpoly", {"poly_order": 4, "tol": 1e-5, "mask_initial_peaks": False}),
    ("modpoly", {"poly_order": 1, "use_original": True, "max_iter": 5}),
]


@pytest.fixture(scope="module")
def data():
    x, X, _ = gaussian_spectra(n_samples=9, n_features=140)
    return x, X


def _loop(X, method, kwargs, x_data=None, pentapy=True):
    fitter = Baseline(x_data)
    if not pentapy:
        fitter.banded_solver = 3  # SciPy's banded solvers
    out = [getattr(fitter, method)(row, **kwargs) for row in X]
    history = [params["tol_history"] for _, params in out]
    last = [h[-1] if len(h) else np.nan for h in history]
    return np.stack([b for b, _ in out]), np.array([len(h) for h in history]), last


def _check_equal(got, expected, X):
    baselines, n_iter, last_tol, _ = got
    np.testing.assert_allclose(baselines, expected[0], rtol=0, atol=1e-8 * np.ptp(X))
    np.testing.assert_array_equal(n_iter, expected[1])
    # a relative weight change is a difference of nearly equal weights
    np.testing.assert_allclose(last_tol, expected[2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("diff_order", [1, 2, 3])
def test_penalty_bands_equal_dense_difference_penalty(diff_order):
    n = 9
    D = np.diff(np.eye(n), diff_order, axis=0)
    P = D.T @ D
    bands = penalty_bands(n, diff_order)
    assert bands.shape == (2 * diff_order + 1, n)
    for i in range(n):
        for j in range(n):
            if abs(i - j) <= diff_order:
                assert bands[diff_order + i - j, j] == P[i, j]
    # The corners outside the matrix are zero, so blocks can be tiled.
    for k in range(1, diff_order + 1):
        assert not bands[diff_order - k, :k].any()
        assert not bands[diff_order + k, n - k :].any()


@pytest.mark.parametrize("method, kwargs", CASES)
def test_equal_to_pybaselines_loop(data, method, kwargs):
    _, X = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParameterWarning)
        expected = _loop(X, method, kwargs)
        got = stacked_baselines(X, method, kwargs)
    _check_equal(got, expected, X)


@pytest.mark.parametrize("method, kwargs", CASES[::2])
def test_without_pentapy_equal_to_pybaselines_loop_without_it(
    data, method, kwargs, monkeypatch
):
    _, X = data
    monkeypatch.setattr(_stacked, "pentapy", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ParameterWarning)
        expected = _loop(X, method, kwargs, pentapy=False)
        got = stacked_baselines(X, method, kwargs)
    _check_equal(got, expected, X)


@pytest.mark.parametrize("method", ["arpls", "modpoly"])
@pytest.mark.parametrize("decreasing", [False, True])
def test_uneven_axis_either_way(data, method, decreasing):
    # ModPoly fits polynomials of the axis values; a decreasing axis is
    # fitted in reverse, as pybaselines sorts it.
    x, X = data
    x = x[0] + (x - x[0]) ** 1.5 / 30
    if decreasing:
        x = x[::-1]
    kwargs = {"lam": 1e4} if method == "arpls" else {"poly_order": 3}
    expected = _loop(X, method, kwargs, x_data=x)
    got = stacked_baselines(X, method, kwargs, x_data=x, reverse=decreasing)
    _check_equal(got, expected, X)


@pytest.mark.parametrize(
    "method, kwargs",
    [("airpls", {"lam": 1e4}), ("arpls", {}), ("asls", {}), ("modpoly", {})],
)
def test_stacks_are_independent(data, method, kwargs, monkeypatch):
    # One spectrum per stack gives bit-for-bit the baselines of one stack,
    # so the result does not depend on n_jobs.
    x, X = data
    together = stacked_baselines(X, method, kwargs)
    backwards = stacked_baselines(X, method, kwargs, x_data=x[::-1], reverse=True)
    monkeypatch.setattr(_stacked, "_STACK_POINTS", {"whittaker": 1, "modpoly": 1})
    alone = stacked_baselines(X, method, kwargs)
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a, b)
    alone = stacked_baselines(X, method, kwargs, x_data=x[::-1], reverse=True)
    for a, b in zip(backwards, alone):
        np.testing.assert_array_equal(a, b)
    # and the same as each spectrum on its own
    single = stacked_baselines(X[4:5], method, kwargs)
    np.testing.assert_array_equal(single[0][0], together[0][4])


def test_early_stop_warns_once_and_counts_passes_as_pybaselines(data):
    # With tol=0 airPLS drives its baselines under (almost) all points and
    # stops early, returning the last baseline without a tolerance.
    _, X = data
    kwargs = {"lam": 1e2, "tol": 0}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        expected = _loop(X, "airpls", kwargs)
    assert sum("below the data" in str(w.message) for w in record) == len(X)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = (*row_baselines(X, "airpls", kwargs), len(X))
    assert stacked_baselines(X, "airpls", kwargs)[3] == len(X)
    messages = [str(w.message) for w in record if w.category is ParameterWarning]
    assert messages == [
        f"airpls: almost all baseline points are below the data in {len(X)} of "
        f"{len(X)} spectra, which stopped there; tol may be too low or max_iter "
        "too high."
    ]
    assert np.all(got[1] < 50)
    _check_equal(got, expected, X)


@pytest.mark.parametrize("method", ["airpls", "arpls"])
def test_spectra_fitted_exactly_stop_without_a_warning(data, method):
    # All-zero rows have no negative residual and stop at once, like the
    # early stop above, but their baseline is the data: nothing to warn of.
    _, X = data
    Y = np.vstack([np.zeros(X.shape[1]), X[:3], np.zeros(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = stacked_baselines(Y, method, {})
    np.testing.assert_array_equal(got[0][[0, -1]], 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pybaselines warns on the zero rows
        expected = _loop(Y, method, {})
    _check_equal(got, expected, Y)


def test_float32_in_float32_out(data):
    _, X = data
    X32 = X.astype(np.float32)
    baselines, *_ = stacked_baselines(X32, "asls", {})
    assert baselines.dtype == np.float32
    np.testing.assert_allclose(baselines, _loop(X32, "asls", {})[0], atol=1e-6)


def test_input_not_modified(data):
    _, X = data
    before = X.copy()
    stacked_baselines(X, "arpls", {}, reverse=True)
    np.testing.assert_array_equal(X, before)


def test_non_finite_solution_raises(data):
    _, X = data
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(np.linalg.LinAlgError, match="arpls: the Whittaker system"),
    ):
        stacked_baselines(X, "arpls", {"lam": np.inf})


def test_which_calls_are_stacked():
    assert stacks("airpls", {"lam": 1e5, "normalize_weights": True})
    assert stacks("arpls", {"diff_order": 1})
    assert stacks("asls", {"p": 0.1, "diff_order": 3})
    assert not stacks("asls", {"diff_order": 4})
    assert not stacks("arpls", {"weights": np.ones(10)})
    assert not stacks("iarpls", {})
    assert stacks("modpoly", {"poly_order": 3, "mask_initial_peaks": False})
    assert not stacks("modpoly", {"mask_initial_peaks": True})


@pytest.mark.parametrize("iteration", [1, 7, 60])
@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("airpls", {"normalize_weights": False}),
        ("airpls", {"normalize_weights": True}),
        ("arpls", {}),
        ("asls", {"p": 0.03}),
    ],
)
def test_weights_equal_pybaselines_weighting(method, kwargs, iteration):
    # Each row is reweighted as pybaselines reweights one spectrum, also
    # where the negative residuals have no spread (two equal ones: arPLS
    # takes the smallest float for their standard deviation), where a point
    # lies on its baseline (AsLS gives it the weight of the points below)
    # and past pass 50 (airPLS caps the exponent's pass number there).
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(5, 40))
    B = rng.normal(size=(5, 40))
    Y[-1], B[-1] = 0.0, -1.0
    B[-1, [5, 30]] = 0.5
    B[-1, 10] = -0.5
    B[-1, 20] = 0.0
    state = {"y": Y, "weights": np.ones_like(Y), "y_l1_norm": np.abs(Y).sum(axis=1)}
    new, _, early = _stacked._WEIGHTS[method](state, B, kwargs, iteration)
    if early is not None:
        assert not early.any()
    for y, b, got in zip(Y, B, new):
        if method == "airpls":
            expected = _weighting._airpls(y, b, iteration, **kwargs)[0]
        elif method == "arpls":
            expected = _weighting._arpls(y, b)[0]
        else:
            expected = _weighting._asls(y, b, kwargs["p"])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
