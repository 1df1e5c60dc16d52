import inspect
import pickle
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from pybaselines import Baseline
from pybaselines.utils import ParameterWarning
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags

from sktransfer.baseline import SNIP, AirPLS, ArPLS, AsLS, ModPoly, PybaselinesCorrector
from sktransfer.baseline._kernels import pybaselines_methods
from tests.baseline._reference import loop_baselines
from tests.conftest import gaussian_spectra, traced_peak

# (estimator, pybaselines method, keyword arguments it must be called with)
CASES = [
    (AirPLS(lam=1e5), "airpls", {"lam": 1e5}),
    (ArPLS(), "arpls", {}),
    (
        AsLS(p=0.02, diff_order=1, lam=1e3),
        "asls",
        {"p": 0.02, "diff_order": 1, "lam": 1e3},
    ),
    (ModPoly(poly_order=3), "modpoly", {"poly_order": 3}),
    (
        SNIP(max_half_window=12, decreasing=True),
        "snip",
        {"max_half_window": 12, "decreasing": True},
    ),
    (
        PybaselinesCorrector("imodpoly", method_kwargs={"poly_order": 1}),
        "imodpoly",
        {"poly_order": 1},
    ),
    (
        PybaselinesCorrector("mor", method_kwargs={"half_window": 20}),
        "mor",
        {"half_window": 20},
    ),
]
IDS = [case[1] for case in CASES]


@pytest.fixture(scope="module")
def data():
    x, X, B = gaussian_spectra(n_samples=10, n_features=160)
    return x, X, B


def _max_err(a, b, X):
    return np.abs(a - b).max() / np.ptp(X)


@pytest.mark.parametrize("axis", ["none", "increasing", "decreasing"])
@pytest.mark.parametrize("est, method, kwargs", CASES, ids=IDS)
def test_equal_to_pybaselines_loop(data, est, method, kwargs, axis):
    x, X, _ = data
    x_axis = {"none": None, "increasing": x, "decreasing": x[::-1]}[axis]
    expected = loop_baselines(X, method, kwargs, x_data=x_axis)
    est = clone(est).set_params(x_axis=x_axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Xt = est.fit_transform(X)
        baselines = est.baseline(X)
        np.testing.assert_array_equal(est.transform(X), X - baselines)
    assert _max_err(baselines, expected, X) <= 1e-6
    assert _max_err(Xt, X - expected, X) <= 1e-6


@pytest.mark.parametrize("est, method, kwargs", CASES, ids=IDS)
def test_float32_stays_float32(data, est, method, kwargs):
    x, X, _ = data
    X32 = X.astype(np.float32)
    est = clone(est).set_params(x_axis=x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Xt = est.fit_transform(X32)
        baselines = est.baseline(X32)
    assert Xt.dtype == baselines.dtype == np.float32
    assert _max_err(baselines, loop_baselines(X32, method, kwargs, x), X) <= 1e-6
    assert _max_err(baselines, loop_baselines(X, method, kwargs, x), X) <= 1e-6


@pytest.mark.parametrize("est", [AirPLS(lam=1e4), ModPoly(), SNIP(max_half_window=10)])
def test_decreasing_axis_is_the_same_spectrum(data, est):
    # A spectrum stored high-to-low (as IR files often are) gets the baseline
    # it has when stored low-to-high, in its own column order.
    x, X, _ = data
    up = clone(est).set_params(x_axis=x).fit(X).baseline(X)
    down = clone(est).set_params(x_axis=x[::-1]).fit(X[:, ::-1]).baseline(X[:, ::-1])
    np.testing.assert_allclose(down[:, ::-1], up, atol=1e-9 * np.ptp(X))


def test_an_axis_set_after_fit_takes_effect_at_once():
    # the axis of fit was used, and one of the wrong length was accepted
    x = np.linspace(0.0, 1.0, 200)
    X = np.vstack([np.sin(3 * x) + k * x**2 for k in range(3)])
    est = ModPoly().fit(X).set_params(x_axis=x**3)
    expected = loop_baselines(X, "modpoly", {}, x_data=x**3)
    assert _max_err(est.baseline(X), expected, X) <= 1e-12
    with pytest.raises(ValueError, match="x_axis has 999 values but X has 200"):
        est.set_params(x_axis=np.arange(999.0)).transform(X)


@pytest.mark.parametrize("scale", [1e-18, 1e-20, 1e-200, 1e200])
def test_modpoly_does_not_depend_on_the_units(scale):
    # spectra in tiny units used to stop after fewer passes (the relative
    # change divides by at least 2.2e-16), giving another baseline
    x = np.linspace(0.0, 100.0, 300)
    X = 1 + 0.01 * x + 1e-4 * x**2 + np.exp(-((x - 40) ** 2) / 4)
    X = np.vstack([X, X + 0.5 * np.exp(-((x - 70) ** 2) / 9)])
    est = ModPoly(poly_order=2, x_axis=x)
    unit = est.baseline(X)
    expected = loop_baselines(X, "modpoly", {"poly_order": 2}, x_data=x)
    assert _max_err(unit, expected, X) <= 1e-12
    scaled = clone(est).fit(X * scale)
    np.testing.assert_allclose(scaled.baseline(X * scale) / scale, unit, rtol=1e-12)
    corrected = clone(est).fit_transform(X * scale)
    np.testing.assert_allclose(corrected / scale, X - unit, rtol=0, atol=1e-12)


def test_arpls_works_on_spectra_in_huge_and_tiny_units():
    # the spread of the negative residuals overflowed when squared (values
    # above about 1e154): a LinAlgError advised a larger lam
    x = np.linspace(0.0, 1.0, 200)
    X = (np.exp(-0.5 * ((x - 0.5) / 0.02) ** 2) + x)[None]
    unit = ArPLS(lam=1e4).fit_transform(X)
    for scale in (1e200, 1e300, 1e-160, 1e-300):  # squares over- or underflow
        huge = ArPLS(lam=1e4).fit_transform(X * scale)
        np.testing.assert_allclose(huge / scale, unit, rtol=0, atol=1e-9)


@pytest.mark.parametrize("decreasing", [False, True])
def test_modpoly_fits_on_an_unevenly_spaced_axis(data, decreasing):
    # wavelengths converted to wavenumbers: the polynomial is one of the axis
    # values, not of the point index
    _, X, _ = data
    x = 1e7 / np.linspace(500.0, 1000.0, X.shape[1])
    x = x if decreasing else x[::-1]
    est = ModPoly(poly_order=3, x_axis=x)
    expected = loop_baselines(X, "modpoly", {"poly_order": 3}, x_data=x)
    assert _max_err(est.baseline(X), expected, X) <= 1e-9
    on_index = loop_baselines(X, "modpoly", {"poly_order": 3})
    assert _max_err(expected, on_index, X) > 1e-3


@pytest.mark.parametrize(
    "est",
    [
        AirPLS(lam=1e4),
        ArPLS(lam=1e4),
        AsLS(lam=1e4),
        ModPoly(),
        SNIP(max_half_window=20),
    ],
)
def test_recovers_known_baseline(est):
    # Peaks on an offset-plus-quadratic baseline with lam suited to 300 points.
    _, X, B = gaussian_spectra(n_samples=6, n_features=300, random_state=1)
    err = np.abs(est.fit(X).baseline(X) - B).max()
    assert err < 0.05 * np.ptp(X)


@pytest.mark.parametrize("est", [c[0] for c in CASES], ids=IDS)
def test_input_not_modified_and_list_input(data, est):
    _, X, _ = data
    X_copy = X.copy()
    est = clone(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Xt = est.fit_transform(X)
        Xt_list = est.transform(X.tolist())
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Xt, Xt_list)


def test_constant_spectrum_gives_zero_correction():
    X = np.full((3, 50), 2.5)
    for est in [AirPLS(), ArPLS(), AsLS(), ModPoly(), SNIP(max_half_window=5)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(est.fit_transform(X), 0, atol=1e-6)


@pytest.mark.parametrize(
    "est, n_features",
    [
        (AirPLS(), 2),
        (ArPLS(), 1),
        (AsLS(diff_order=3), 3),
        (SNIP(), 2),
        (PybaselinesCorrector("drpls"), 2),
    ],
)
def test_too_short_spectra_give_zero_correction_with_warning(est, n_features):
    X = np.arange(4.0 * n_features).reshape(4, n_features) ** 2
    with pytest.warns(UserWarning, match="too short"):
        Xt = est.fit_transform(X)
    np.testing.assert_array_equal(Xt, 0)
    assert getattr(est, "n_iter_", 1) == 1


def test_modpoly_interpolates_short_spectra():
    # as pybaselines: a polynomial through poly_order + 1 points is the
    # spectrum, so the corrected spectrum is zero; like the other methods on
    # too short spectra it says so (a spectrum passed as a column (n, 1)
    # came back as zeros without a word)
    X = np.array([[1.0, 4.0, 2.0], [0.0, 1.0, 5.0]])
    with pytest.warns(UserWarning, match="needs at least 4"):
        np.testing.assert_array_equal(ModPoly(poly_order=2).fit_transform(X), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(ModPoly(poly_order=1).fit_transform(X).shape, (2, 3))
    for est in (ModPoly(), ModPoly(use_original=True, x_axis=[250.0])):
        with pytest.warns(UserWarning, match="spectra with 1 point"):
            np.testing.assert_array_equal(est.fit_transform(X[:, :1]), 0)


def test_n_iter_is_largest_over_training_spectra(data):
    _, X, _ = data
    est = AirPLS(lam=1e4)
    est.fit_transform(X)
    counts = [len(Baseline().airpls(row, lam=1e4)[1]["tol_history"]) for row in X]
    assert len(set(counts)) > 1
    assert est.n_iter_ == max(counts)
    snip = SNIP()
    snip.fit_transform(X)
    assert not hasattr(snip, "n_iter_")
    generic = PybaselinesCorrector("airpls", method_kwargs={"lam": 1e4})
    generic.fit_transform(X)
    assert generic.n_iter_ == max(counts)
    # A later fit does no baseline work and drops the stale count.
    assert not hasattr(est.fit(X), "n_iter_")


@pytest.mark.parametrize(
    "est", [AirPLS(lam=1e4), ArPLS(), AsLS(), ModPoly(), SNIP()], ids=repr
)
def test_fit_does_no_baseline_work_and_transform_needs_no_fit(est, data, monkeypatch):
    from sktransfer.baseline import _kernels

    x, X, _ = data
    est = clone(est).set_params(x_axis=x)
    expected = est.fit_transform(X)
    calls = []
    real = _kernels._baseline_chunk

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_kernels, "_baseline_chunk", counting)
    fresh = clone(est)
    assert fresh.fit(X) is fresh and calls == []
    assert not get_tags(fresh).requires_fit
    np.testing.assert_array_equal(clone(est).transform(X), expected)
    np.testing.assert_allclose(clone(est).baseline(X), X - expected, atol=1e-12)
    assert len(calls) == 2
    with pytest.raises(ValueError, match="x_axis has 3 values"):
        clone(est).set_params(x_axis=[1.0, 2.0, 3.0]).transform(X)


@pytest.mark.parametrize(
    "est",
    [
        AirPLS(max_iter=1, tol=1e-9),
        AsLS(max_iter=2, tol=1e-12),
        ModPoly(max_iter=1, tol=1e-12),
    ],
)
def test_convergence_warning_at_max_iter(data, est):
    _, X, _ = data
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        est.fit_transform(X)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        est.transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clone(est).set_params(max_iter=500, tol=1e-3).fit_transform(X)


@pytest.mark.parametrize(
    "method, make",
    [
        ("airpls", lambda **kwargs: AirPLS(**kwargs)),
        (
            "airpls",
            lambda **kwargs: PybaselinesCorrector("airpls", method_kwargs=kwargs),
        ),
        (
            "pspline_airpls",
            lambda **kwargs: PybaselinesCorrector(
                "pspline_airpls", method_kwargs=kwargs
            ),
        ),
    ],
    ids=["AirPLS", "PybaselinesCorrector", "pspline_airpls"],
)
def test_a_spectrum_stopping_early_at_the_last_pass_has_not_reached_max_iter(
    data, method, make
):
    # With tol=0 airPLS stops early, a pass after its last tolerance: with
    # max_iter equal to that count it stopped on its own, one pass less and
    # it reached max_iter.
    _, X, _ = data
    kwargs = {"lam": 1e2, "tol": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n_fits = len(getattr(Baseline(), method)(X[0], **kwargs)[1]["tol_history"])
        assert n_fits < 50
        est = make(**kwargs, max_iter=n_fits)
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit_transform(X[:1])
    assert est.n_iter_ == n_fits
    est = make(**kwargs, max_iter=n_fits - 1)
    with pytest.warns(ConvergenceWarning, match="1 of 1 spectra reached max_iter"):
        est.fit_transform(X[:1])
    assert est.n_iter_ == n_fits


def test_generic_methods_with_max_iter_and_tol_count_passes_and_warn(data):
    _, X, _ = data
    kwargs = {"max_iter": 1, "tol": 1e-12}
    est = PybaselinesCorrector("imodpoly", method_kwargs=kwargs)
    with pytest.warns(ConvergenceWarning, match="10 of 10 spectra reached max_iter=1"):
        est.fit_transform(X)
    assert est.n_iter_ == 1
    # corner_cutting has a max_iter but no tol: nothing to converge to
    est = PybaselinesCorrector("corner_cutting", method_kwargs={"max_iter": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit_transform(X)
    assert not hasattr(est, "n_iter_")


def test_generic_method_defaults_of_none_may_be_passed(data):
    # pybaselines' own default of None was refused when passed explicitly
    _, X, _ = data
    for method, given in (
        ("ipsa", {"original_criteria": True, "tol": None}),
        ("rubberband", {"lam": None}),
        ("mpls", {"tol": None, "max_iter": None}),
    ):
        implicit = {k: v for k, v in given.items() if v is not None}
        expected = PybaselinesCorrector(method, method_kwargs=implicit).fit_transform(X)
        est = PybaselinesCorrector(method, method_kwargs=given)
        np.testing.assert_array_equal(est.fit_transform(X), expected)


def _iterative_methods():
    # cwt_br needs more points than these spectra have; brpls, goldindec and
    # jbcd nest two solvers, with no single final tolerance to judge by; mpls
    # passes its max_iter and tol to a step that records none.
    nested = {"cwt_br", "brpls", "pspline_brpls", "goldindec", "jbcd"}
    nested |= {"mpls", "pspline_mpls"}
    return [
        name
        for name in pybaselines_methods()
        if name not in nested
        and {"max_iter", "tol"}
        <= set(inspect.signature(getattr(Baseline, name)).parameters)
    ]


@pytest.mark.parametrize("method", _iterative_methods())
def test_generic_methods_warn_exactly_when_max_iter_stopped_them(data, method):
    # pybaselines itself is the judge: a method stopped by max_iter gives a
    # different result when allowed one more iteration; one that stopped on
    # its own gives the same.
    _, X, _ = data
    rows = X[:2, ::2]
    seen = set()
    for settings in ({}, {"tol": 0}):
        for max_iter in (2, 3):
            kwargs = {**settings, "max_iter": max_iter}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results = [
                    [getattr(Baseline(), method)(row, **k) for row in rows]
                    for k in (kwargs, {**kwargs, "max_iter": max_iter + 1})
                ]
            stopped = [
                not np.array_equal(a[0], b[0])
                or not np.array_equal(
                    a[1].get("tol_history", []), b[1].get("tol_history", [])
                )
                for a, b in zip(*results)
            ]
            est = PybaselinesCorrector(method, method_kwargs=kwargs)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                est.fit_transform(rows)
            warned = [w for w in caught if w.category is ConvergenceWarning]
            if any(stopped):
                assert len(warned) == 1, (kwargs, stopped)
                assert f"{sum(stopped)} of 2 spectra reached max_iter" in str(
                    warned[0].message
                )
            else:
                assert not warned, kwargs
            if hasattr(est, "n_iter_"):
                lengths = [len(r[1].get("tol_history", [])) for r in results[0]]
                assert est.n_iter_ == max(1, *lengths)
            seen.add(any(stopped))
    assert True in seen


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("asls", {"lam": 0.5, "p": 1e-3, "diff_order": 1, "max_iter": 1, "tol": 0}),
        ("imodpoly", {"poly_order": 0, "max_iter": 1, "tol": 0}),
        # p of the morphological methods is a weight in [0, 1], 0 by default
        # (refused as outside (0, 1), as asls' p is)
        ("mpls", {"p": 0.0}),
        ("mpls", {"p": 1.0}),
        ("mpspline", {"p": 0.0}),
        ("pspline_mpls", {"p": 1.0}),
    ],
)
def test_generic_settings_at_the_ends_of_their_ranges_are_valid(data, method, kwargs):
    _, X, _ = data
    est = PybaselinesCorrector(method, method_kwargs=kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        baselines = est.fit(X).baseline(X)
    assert _max_err(baselines, loop_baselines(X, method, kwargs), X) <= 1e-9


@pytest.mark.parametrize(
    "cls, method",
    [
        (AirPLS, "airpls"),
        (ArPLS, "arpls"),
        (AsLS, "asls"),
        (ModPoly, "modpoly"),
        (SNIP, "snip"),
    ],
)
def test_defaults_are_those_of_pybaselines(cls, method):
    expected = inspect.signature(getattr(Baseline, method)).parameters
    params = cls().get_params()
    del params["x_axis"], params["n_jobs"]
    assert params == {name: expected[name].default for name in params}


@pytest.mark.parametrize("output", ["default", "pandas"])
@pytest.mark.parametrize("call", ["fit_transform", "transform", "baseline"])
@pytest.mark.parametrize(
    "est, X, category",
    [
        (AirPLS(max_iter=1, tol=1e-9), gaussian_spectra(2, 30)[1], ConvergenceWarning),
        (AirPLS(), np.ones((2, 2)), UserWarning),
        # spectra stacked into one pybaselines call, which stop early
        (AirPLS(lam=1e2, tol=0), gaussian_spectra(2, 30)[1], ParameterWarning),
    ],
    ids=["max_iter", "too_short", "early_stop"],
)
def test_warnings_point_at_the_call(est, X, category, call, output):
    # pandas output names the columns from the fit
    est = clone(est).set_output(transform=output).fit(X)
    with pytest.warns(category) as record:
        getattr(est, call)(X)
    assert [w.filename for w in record if w.category is category] == [__file__]


def test_warnings_of_worker_processes_point_at_the_call():
    X = gaussian_spectra(4, 30)[1]
    est = AirPLS(lam=1e2, tol=0, n_jobs=2)
    with pytest.warns(ParameterWarning, match="in 4 of 4 spectra") as record:
        est.fit_transform(X)
    assert [w.filename for w in record if w.category is ParameterWarning] == [__file__]


def test_a_tolerance_of_zero_is_never_met():
    # the relative change of a zero spectrum is 0, not below tol=0: like
    # pybaselines, ModPoly runs to max_iter and says so
    X = np.zeros((2, 20))
    history = Baseline().modpoly(X[0], tol=0, max_iter=3)[1]["tol_history"]
    np.testing.assert_array_equal(history, [0, 0, 0])
    est = ModPoly(tol=0, max_iter=3)
    with pytest.warns(ConvergenceWarning, match="2 of 2 spectra reached max_iter=3"):
        np.testing.assert_array_equal(est.fit_transform(X), 0)
    assert est.n_iter_ == 3


@pytest.mark.parametrize("cls", [AirPLS, ArPLS])
def test_a_spectrum_stopping_before_any_tolerance_counts_one_fit(cls):
    # a zero spectrum has no point below its first baseline: pybaselines
    # stops with an empty tol_history after the first fit
    X = np.zeros((2, 20))
    method = cls.__name__.lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(getattr(Baseline(), method)(X[0])[1]["tol_history"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = cls()
        np.testing.assert_array_equal(est.fit_transform(X), 0)
    assert est.n_iter_ == 1


def test_fit_transform_warns_once(data):
    _, X, _ = data
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        AirPLS(max_iter=1, tol=1e-9).fit_transform(X)
    assert sum(issubclass(w.category, ConvergenceWarning) for w in record) == 1


@pytest.mark.parametrize("est", [AirPLS(lam=1e5), ModPoly(), SNIP(max_half_window=9)])
def test_n_jobs_workers_equal_serial(data, est):
    # Process workers writing into one shared output file.
    _, X, _ = data
    serial = clone(est).fit_transform(X)
    parallel = clone(est).set_params(n_jobs=2).fit_transform(X)
    np.testing.assert_array_equal(parallel, serial)


def test_n_jobs_none_honours_parallel_config(data, monkeypatch):
    import sktransfer.baseline._kernels as kernels

    _, X, _ = data
    seen = []
    original = kernels._baseline_chunk

    def spy(X_chunk, *args):
        seen.append(X_chunk.shape[0])
        return original(X_chunk, *args)

    monkeypatch.setattr(kernels, "_baseline_chunk", spy)
    serial = SNIP(max_half_window=8).fit_transform(X)
    assert seen == [X.shape[0]]
    seen.clear()
    with parallel_config(backend="threading", n_jobs=2):
        parallel = SNIP(max_half_window=8).fit_transform(X)
    assert sorted(seen) == [5, 5]
    np.testing.assert_array_equal(parallel, serial)
    # the estimator's own n_jobs, in the configured backend
    seen.clear()
    with parallel_config(backend="threading"):
        parallel = SNIP(max_half_window=8, n_jobs=2).fit_transform(X)
    assert sorted(seen) == [5, 5]
    np.testing.assert_array_equal(parallel, serial)


# -- bad input ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_raises(data, bad):
    _, X, _ = data
    X_bad = X.copy()
    X_bad[2, 5] = bad
    est = AirPLS()
    with pytest.raises(ValueError, match="X"):
        est.fit(X_bad)
    est.fit(X)
    with pytest.raises(ValueError, match="X"):
        est.transform(X_bad)
    with pytest.raises(ValueError, match="X"):
        est.baseline(X_bad)


@pytest.mark.parametrize(
    "x_axis, match",
    [
        (np.arange(10.0), "x_axis has 10 values"),
        (np.r_[np.arange(80.0), np.arange(80.0)], "monotonic"),
        (np.r_[np.arange(159.0), np.nan], "NaN"),
    ],
)
@pytest.mark.parametrize("cls", [AirPLS, ModPoly, SNIP, PybaselinesCorrector])
def test_bad_x_axis_raises(data, cls, x_axis, match):
    _, X, _ = data
    with pytest.raises(ValueError, match=match):
        cls(x_axis=x_axis).fit(X)


def test_a_refused_refit_leaves_the_corrector_as_it_was(data):
    # fit set n_features_in_ before it compared X with x_axis: the fitted
    # corrector then refused the spectra it was fitted on
    x, X, _ = data
    est = AsLS(x_axis=x).fit(X)
    expected = est.transform(X)
    with pytest.raises(ValueError, match="x_axis has"):
        est.fit(X[:, :-1])
    assert est.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(est.transform(X), expected)


@pytest.mark.parametrize(
    "est, match",
    [
        (AirPLS(lam=0), "lam"),
        (ArPLS(lam=-1.0), "lam"),
        (AsLS(lam=-1e3), "lam"),
        (AsLS(p=0), "p must"),
        (AsLS(p=1.0), "p must"),
        (AsLS(p=1.5), "p must"),
        (AirPLS(diff_order=0), "diff_order"),
        (AirPLS(diff_order=1.5), "diff_order"),
        (ArPLS(max_iter=0), "max_iter"),
        (ArPLS(max_iter=2.5), "max_iter must be an integer"),
        (AsLS(tol=-1.0), "tol"),
        (ModPoly(poly_order=2.5), "poly_order must be an integer"),
        (ModPoly(poly_order=-1), r"poly_order must be in \[0, inf\)"),
        (ModPoly(poly_order="2"), "poly_order"),
        (ModPoly(use_original="yes"), "use_original"),
        (SNIP(max_half_window=0), r"max_half_window must be in \[1, inf\)"),
        (SNIP(max_half_window=(0, 3)), r"max_half_window must be in \[1, inf\)"),
        (SNIP(max_half_window=(3, 2.5)), "max_half_window must be an integer"),
        (SNIP(max_half_window="10"), "max_half_window must be None, a positive"),
        (SNIP(max_half_window=(3, 4, 5)), "or a pair of positive integers"),
        (SNIP(filter_order=3), "filter_order must be one of 2, 4, 6, 8"),
        (SNIP(filter_order=True), "filter_order must be one of 2, 4, 6, 8"),
        (SNIP(smooth_half_window=-1), r"smooth_half_window must be in \[0, inf\)"),
        (SNIP(decreasing=None), "decreasing"),
        (AirPLS(n_jobs=0), "n_jobs"),
        (AirPLS(n_jobs=1.5), "n_jobs"),
        (PybaselinesCorrector("not_a_method"), "method must be one of .*'airpls'"),
        (PybaselinesCorrector("collab_pls"), "method must be one of"),
        (
            PybaselinesCorrector("asls", method_kwargs={"p": 2.0}),
            r"method_kwargs\['p'\]",
        ),
        (
            PybaselinesCorrector("airpls", method_kwargs={"lam": 0}),
            r"method_kwargs\['lam'\]",
        ),
        (
            PybaselinesCorrector("asls", method_kwargs={"p": 1.0}),
            r"method_kwargs\['p'\]",
        ),
        (
            PybaselinesCorrector("asls", method_kwargs={"diff_order": 0}),
            r"method_kwargs\['diff_order'\]",
        ),
        (
            PybaselinesCorrector("imodpoly", method_kwargs={"poly_order": -1}),
            r"method_kwargs\['poly_order'\]",
        ),
        (
            PybaselinesCorrector("arpls", method_kwargs={"max_iter": 0}),
            r"method_kwargs\['max_iter'\]",
        ),
        (
            PybaselinesCorrector("arpls", method_kwargs={"tol": -1e-3}),
            r"method_kwargs\['tol'\]",
        ),
        (  # None only where it is the method's own default
            PybaselinesCorrector("airpls", method_kwargs={"lam": None}),
            r"method_kwargs\['lam'\] must be a real number, got None",
        ),
        (
            PybaselinesCorrector("modpoly", method_kwargs={"poly_order": 1.5}),
            "poly_order",
        ),
        (PybaselinesCorrector("airpls", method_kwargs={"bogus": 1}), "'bogus'"),
        (
            PybaselinesCorrector("airpls", method_kwargs={"data": [1.0, 2.0]}),
            "has 'data', which 'airpls' does not accept",
        ),
        (
            PybaselinesCorrector("mor", method_kwargs={"kwargs": {}}),
            r"has 'kwargs'.*; it accepts half_window, window_kwargs\.$",
        ),
        (
            PybaselinesCorrector("airpls", method_kwargs=[("lam", 1)]),
            "method_kwargs must",
        ),
    ],
)
def test_bad_parameters_raise_naming_them(data, est, match):
    _, X, _ = data
    with pytest.raises(ValueError, match=match):
        est.fit(X)


def test_lam_below_one_is_a_valid_smoothing(data):
    # lam only has to be positive
    _, X, _ = data
    est = AsLS(lam=0.5, diff_order=1)
    expected = loop_baselines(X, "asls", {"lam": 0.5, "diff_order": 1})
    assert _max_err(est.fit(X).baseline(X), expected, X) <= 1e-9


@pytest.mark.parametrize(
    "est, kwargs",
    [
        (ModPoly(poly_order=0), {"poly_order": 0}),
        (SNIP(max_half_window=1), {"max_half_window": 1}),
        (SNIP(max_half_window=(1, 4)), {"max_half_window": (1, 4)}),
        (SNIP(max_half_window=[4, 1]), {"max_half_window": [4, 1]}),
        *(
            (
                SNIP(max_half_window=6, filter_order=order),
                {"max_half_window": 6, "filter_order": order},
            )
            for order in (4, 6, 8)
        ),
        (
            SNIP(max_half_window=6, smooth_half_window=0),
            {"max_half_window": 6, "smooth_half_window": 0},
        ),
    ],
    ids=repr,
)
def test_settings_at_the_ends_of_their_ranges_are_valid(data, est, kwargs):
    _, X, _ = data
    method = type(est).__name__.lower()
    expected = loop_baselines(X, method, kwargs)
    assert _max_err(clone(est).fit(X).baseline(X), expected, X) <= 1e-9


def test_unknown_method_lists_valid_ones(data):
    _, X, _ = data
    with pytest.raises(ValueError) as exc:
        PybaselinesCorrector("airplss").fit(X)
    for name in ("'airpls'", "'imodpoly'", "'snip'", "'rubberband'"):
        assert name in str(exc.value)


def test_wrong_number_of_features_in_transform(data):
    _, X, _ = data
    est = AirPLS().fit(X)
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:, :-1])
    with pytest.raises(ValueError, match="features"):
        est.baseline(X[:, :-1])


# -- sklearn integration -----------------------------------------------------


def test_pipeline_and_grid_search_over_lam(data):
    from sklearn.linear_model import Ridge

    _, X, B = data
    y = B[:, 0]
    pipe = make_pipeline(AirPLS(), Ridge())
    search = GridSearchCV(pipe, {"airpls__lam": [1e3, 1e5]}, cv=2).fit(X, y)
    assert search.best_params_["airpls__lam"] in (1e3, 1e5)
    assert search.best_estimator_.named_steps["airpls"].n_features_in_ == X.shape[1]


def test_clone_and_pickle_round_trip(data):
    x, X, _ = data
    est = AsLS(lam=1e4, p=0.05, x_axis=x).fit(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))
    fresh = clone(est)
    assert fresh.get_params()["p"] == 0.05 and not hasattr(fresh, "n_iter_")


def test_pandas_output_keeps_column_names(data):
    pd = pytest.importorskip("pandas")
    _, X, _ = data
    columns = [f"w{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns, index=np.arange(10, 20))
    est = SNIP(max_half_window=8).set_output(transform="pandas")
    out = est.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == columns and list(out.index) == list(df.index)
    np.testing.assert_array_equal(out.to_numpy(), est.transform(df).to_numpy())
    assert list(est.get_feature_names_out()) == columns


@pytest.mark.parametrize("est", [AsLS(), ModPoly()])
@pytest.mark.parametrize("decreasing", [False, True])
def test_stacked_memory_does_not_grow_with_the_number_of_spectra(
    monkeypatch, est, decreasing
):
    # scale: a float64 copy of all the spectra, every stack's float64
    # baselines kept and concatenated, a cast back and the subtraction made
    # about 7 times the float32 input (2.1 GiB for 20,000 x 4,000); stacks
    # are now converted one at a time and written into the output
    from sktransfer.baseline import _stacked

    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 128)
    X = 2 * x + np.exp(-0.5 * ((x - 0.5) / 0.05) ** 2)
    X = (X + rng.normal(0, 0.01, (1000, 128))).astype(np.float32)
    est = clone(est).set_params(x_axis=x[::-1] if decreasing else None)
    whole = est.fit_transform(X)
    monkeypatch.setattr(
        _stacked, "_STACK_POINTS", {"whittaker": 32 * 128, "modpoly": 32 * 128}
    )
    stacked, peak = traced_peak(est.fit_transform, X)
    # the output is 0.5 MB; it was 7 times that
    assert peak < 1.5e6
    assert stacked.dtype == np.float32
    np.testing.assert_array_equal(stacked, whole)
    np.testing.assert_array_equal(est.transform(X), whole)
    np.testing.assert_array_equal(X - est.baseline(X), whole)


def test_an_internal_failure_of_pybaselines_is_a_value_error():
    # cwt_br fails inside pybaselines on spectra of ten points or fewer
    # (UnboundLocalError): the error names the method and the length
    X = np.random.default_rng(0).random((2, 6))
    with pytest.raises(
        ValueError, match="pybaselines' cwt_br failed on a spectrum of 6"
    ):
        PybaselinesCorrector("cwt_br").fit_transform(X)


def test_a_singular_or_non_finite_baseline_is_a_value_error():
    # airPLS zeroes the weights above the baseline: on 4 points with a
    # third-order penalty the system is singular (a LinAlgError inside
    # scipy); fabc on 4 points gives NaN baselines.
    X = np.random.default_rng(0).normal(size=(1, 4))
    with pytest.raises(
        ValueError, match="airpls failed on a spectrum of 4.*diff_order"
    ):
        AirPLS(diff_order=3, max_iter=1).fit_transform(X)
    with pytest.raises(ValueError, match="fabc failed on a spectrum of 4.*not finite"):
        PybaselinesCorrector("fabc").fit_transform(X)


def test_one_keyword_of_the_method_is_set_and_tuned_by_name(data):
    _, X, _ = data
    kwargs = {"max_half_window": 5, "smooth_half_window": 1}
    corrector = PybaselinesCorrector("snip", method_kwargs=kwargs)
    assert corrector.set_params(method_kwargs__max_half_window=3) is corrector
    assert corrector.method_kwargs == {"max_half_window": 3, "smooth_half_window": 1}
    assert kwargs == {"max_half_window": 5, "smooth_half_window": 1}  # not changed
    expected = Baseline().snip(X[0], max_half_window=3, smooth_half_window=1)[0]
    np.testing.assert_allclose(corrector.fit_transform(X[:1])[0], X[0] - expected)
    # from None, with the method and a keyword in one call
    corrector = PybaselinesCorrector().set_params(
        method="snip", method_kwargs__max_half_window=4
    )
    assert corrector.method_kwargs == {"max_half_window": 4}
    # a grid over one keyword
    y = np.arange(len(X)) % 2
    from sklearn.linear_model import LogisticRegression

    pipe = make_pipeline(
        PybaselinesCorrector("snip", method_kwargs=kwargs), LogisticRegression()
    )
    grid = {"pybaselinescorrector__method_kwargs__max_half_window": [2, 7]}
    search = GridSearchCV(pipe, grid, cv=2).fit(X, y)
    windows = [
        p["pybaselinescorrector__method_kwargs__max_half_window"]
        for p in search.cv_results_["params"]
    ]
    assert windows == [2, 7]
    best = search.best_estimator_[0].method_kwargs
    assert best["smooth_half_window"] == 1 and best["max_half_window"] in (2, 7)
    with pytest.raises(ValueError, match="method_kwargs must be a dict or None to set"):
        PybaselinesCorrector(method_kwargs=[1]).set_params(method_kwargs__lam=1.0)
