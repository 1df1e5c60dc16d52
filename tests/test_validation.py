import numpy as np
import pytest

from sktransfer._validation import (
    check_bool,
    check_option,
    check_param,
    check_sequence,
    check_verbose,
    check_x_axis,
)


def test_check_x_axis_default_is_index():
    x = check_x_axis(None, 4)
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0, 3.0])
    assert x.dtype == np.float64


def test_check_x_axis_gives_float64():
    x = check_x_axis([400, 402, 404], 3)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, [400.0, 402.0, 404.0])


def test_check_x_axis_copies_and_accepts_decreasing():
    x = np.array([3.0, 2.0, 1.0])
    out = check_x_axis(x, 3)
    out[0] = 99
    assert x[0] == 3.0


@pytest.mark.parametrize(
    "x, match",
    [
        ([1.0, 2.0], "has 2 values but X has 3"),
        ([1.0, 3.0, 2.0], "strictly monotonic"),
        ([1.0, 1.0, 2.0], "strictly monotonic"),
        ([3.0, 2.0, 2.0], "strictly monotonic"),
        (["a", "b", "c"], "must be a 1-D array of numbers"),
        ([1.0, np.nan, 2.0], "NaN"),
        ([[1.0, 2.0, 3.0]], "1-D"),
    ],
)
def test_check_x_axis_errors(x, match):
    with pytest.raises(ValueError, match=match):
        check_x_axis(x, 3)


def test_check_x_axis_of_two_points_must_differ():
    np.testing.assert_array_equal(check_x_axis([2.0, 1.0], 2), [2.0, 1.0])
    with pytest.raises(ValueError, match="strictly monotonic"):
        check_x_axis([1.0, 1.0], 2)


def test_check_param():
    assert check_param(2, "n", "int", low=1) == 2
    with pytest.raises(ValueError, match="lam must be in \\(0"):
        check_param(0.0, "lam", low=0, closed="neither")
    with pytest.raises(ValueError, match="poly_order must be an integer"):
        check_param(2.5, "poly_order", "int")
    with pytest.raises(ValueError, match="must be a real number"):
        check_param(True, "p")
    with pytest.raises(ValueError, match="p must be in \\(0, 1\\)"):
        check_param(1.0, "p", low=0, high=1, closed="neither")


def test_check_option():
    assert check_option("a", "m", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="m must be one of 'a', 'b'"):
        check_option("c", "m", ["a", "b"])


def test_check_bool():
    assert check_bool(True, "flag") is True
    assert check_bool(np.False_, "flag") == np.False_
    for bad in (0, 1, "yes", None):
        with pytest.raises(ValueError, match="flag must be True or False"):
            check_bool(bad, "flag")


def test_check_verbose():
    for good in (0, 3, True, False):
        assert check_verbose(good) is good
    for bad in (-1, 1.5, "x", None):
        with pytest.raises(ValueError, match="verbose must be"):
            check_verbose(bad)


def test_check_sequence():
    assert check_sequence([16, 32], "channels", kind="int", low=1) == (16, 32)
    assert check_sequence((0.5, 0.9), "betas", length=2, low=0, high=1) == (0.5, 0.9)
    for bad in ((), 8, "ab", None):
        with pytest.raises(ValueError, match="channels must be a non-empty sequence"):
            check_sequence(bad, "channels", kind="int")
    with pytest.raises(ValueError, match="betas must be a 2-item sequence of numbers"):
        check_sequence((0.5, 0.9, 0.99), "betas", length=2)
    with pytest.raises(ValueError, match=r"channels\[1\] must be in \[1, inf\)"):
        check_sequence((8, 0), "channels", kind="int", low=1)
    with pytest.raises(ValueError, match=r"betas\[0\] must be a real number"):
        check_sequence((True, 0.9), "betas", length=2)
    with pytest.raises(ValueError, match=r"channels\[1\] must be an integer"):
        check_sequence((8, 16.5), "channels", kind="int")


def _complex_calls(tmp_path):
    """Public calls given complex numbers where real ones belong.

    Keyed by case; each value is the start of the error message and the call.
    """
    from sktransfer.baseline import AsLS
    from sktransfer.datasets import make_spectra, write_rruff
    from sktransfer.metrics import peak_recall
    from sktransfer.peaks import PeakProfileFitter, fit_peak_table
    from sktransfer.preprocessing import Resampler

    x = np.arange(30.0)
    X = np.exp(-(((x - 15.0) / 3.0) ** 2))[None].repeat(3, axis=0) + 0.1
    c = np.array([15.0 + 1j])
    w = np.array([0.3 + 1j, 0.7])
    return {
        "transformer": ("x_axis must hold real", lambda: AsLS(x_axis=x + 1j).fit(X)),
        "grid": (
            "grid must hold real",
            lambda: Resampler(grid=np.array([2.0, 4.0]) + 0j).fit(X),
        ),
        "recall-axis": (
            "x_axis must hold real",
            lambda: peak_recall(X, X, x_axis=x + 1j),
        ),
        "recall-weights": (
            "multioutput must hold real",
            lambda: peak_recall(X, X, multioutput=np.ones(3) + 1j),
        ),
        "fitter": (
            "centers must hold real",
            lambda: PeakProfileFitter(centers=c).fit(X),
        ),
        "table": (
            r"centers\[0\] must hold real",
            lambda: fit_peak_table(X, centers=[c] * 3),
        ),
        "make_spectra": (
            "weights must be an array-like of numbers",
            lambda: make_spectra(n_samples=20, n_classes=2, weights=w),
        ),
        "write_rruff": (
            "y must hold real",
            lambda: write_rruff(tmp_path / "s.txt", x, x + 1j),
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "transformer",
        "grid",
        "recall-axis",
        "recall-weights",
        "fitter",
        "table",
        "make_spectra",
        "write_rruff",
    ],
)
def test_complex_numbers_are_refused_not_cast(case, tmp_path):
    # NumPy would drop the imaginary parts, with a ComplexWarning only
    message, call = _complex_calls(tmp_path)[case]
    with pytest.raises(ValueError, match=f"^{message}"):
        call()
    assert not (tmp_path / "s.txt").exists()


@pytest.mark.parametrize("where", ["X", "y"])
def test_nan_in_spectra_is_refused_with_where_it_comes_from(where):
    # scikit-learn's message sent users to imputers and to
    # HistGradientBoosting; spectra hold NaN where load_rruff's grid runs
    # past a file, which its outside= setting settles
    from sktransfer.baseline import AirPLS
    from sktransfer.cross_modal import SpectroGenRegressor
    from sktransfer.over_sampling import WGANGPOverSampler
    from sktransfer.peaks import PeakProfileFitter

    rng = np.random.default_rng(0)
    X, Y = rng.random((10, 32)), rng.random((10, 16))
    (X if where == "X" else Y)[0, 3] = np.nan
    calls = [lambda: SpectroGenRegressor(max_epochs=1).fit(X, Y)]
    if where == "X":
        calls += [
            lambda: AirPLS().fit(X),
            lambda: PeakProfileFitter(n_peaks=1).fit(X),
            lambda: WGANGPOverSampler().fit_resample(X, [0] * 5 + [1] * 5),
        ]
    for call in calls:
        with pytest.raises(ValueError) as exc:
            call()
        message = str(exc.value)
        assert message.startswith(
            f"Input {where} contains NaN. Spectra from load_rruff"
        )
        assert "outside='zero', 'edge' or 'drop'" in message
        assert "HistGradientBoosting" not in message


def test_functions_on_spectra_say_why_spectra_hold_nan_too():
    # fit_peak_table and the metrics said "Input contains NaN." alone
    from sktransfer.metrics import spectral_correlation, two_sample_accuracy
    from sktransfer.peaks import fit_peak_table

    rng = np.random.default_rng(0)
    X = rng.random((10, 32))
    X[0, 3] = np.nan
    clean = rng.random((10, 32))
    calls = {
        "X": lambda: fit_peak_table(X, np.arange(32.0)),
        "y_true": lambda: spectral_correlation(X, clean),
        "real": lambda: two_sample_accuracy(X, clean),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError, match=rf"^Input {name} contains NaN\. Spectra"):
            call()
    # NaN in a model's output is no matter of load_rruff's
    for call in (
        lambda: spectral_correlation(clean, X),
        lambda: two_sample_accuracy(clean, X),
    ):
        with pytest.raises(ValueError, match=r"contains NaN\.$"):
            call()


def test_an_axis_of_another_length_says_where_a_cut_axis_comes_from():
    # AreaNormalizer(x_axis=x) after RangeCut(x_axis=x): the message named
    # the mismatch but not the axis to give
    from sklearn.pipeline import make_pipeline

    from sktransfer.preprocessing import AreaNormalizer, RangeCut

    x = np.linspace(400.0, 1800.0, 50)
    X = np.random.default_rng(0).random((3, 50))
    pipe = make_pipeline(
        RangeCut(start=600, end=1200, x_axis=x), AreaNormalizer(x_axis=x)
    )
    with pytest.raises(ValueError) as exc:
        pipe.fit_transform(X)
    assert str(exc.value).startswith("x_axis has 50 values but X has 22 features")
    assert "need the axis they return: RangeCut's x_[support_]" in str(exc.value)
    cut = pipe[0]
    pipe = make_pipeline(
        RangeCut(start=600, end=1200, x_axis=x),
        AreaNormalizer(x_axis=cut.x_[cut.support_]),
    )
    assert pipe.fit_transform(X).shape == (3, 22)
    # a resampled axis may have more points: the hint too
    message = r"X has 50 features; they must match \(spectra cut"
    with pytest.raises(ValueError, match=message):
        AreaNormalizer(x_axis=x[:40]).fit(X)


def test_a_parameter_of_the_wrong_type_is_a_type_error_too():
    # as scikit-learn's parameter validation: except TypeError catches it
    from sktransfer.baseline import AirPLS

    X = np.random.default_rng(0).random((2, 50))
    with pytest.raises(TypeError, match="lam must be a real number, got '1e5'"):
        AirPLS(lam="1e5").fit(X)
    with pytest.raises(ValueError, match="lam must be a real number"):
        AirPLS(lam="1e5").fit(X)


def test_integers_beyond_64_bits_are_checked_by_value():
    # NumPy's isfinite raised "ufunc 'isfinite' not supported" on them
    from sktransfer._validation import check_param

    assert check_param(10**20, "max_iter", "int", low=1) == 10**20
    with pytest.raises(ValueError, match=r"n must be in \[1, 100\], got 10{20}"):
        check_param(10**20, "n", "int", low=1, high=100)
    with pytest.raises(ValueError, match="x must be finite"):
        check_param(float("nan"), "x")
