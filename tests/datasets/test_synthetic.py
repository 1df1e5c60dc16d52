import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestCentroid

from sktransfer.datasets import make_spectra
from tests.datasets._files import pseudo_voigt

MODALITIES = ("ir", "raman", "xrd")


@pytest.fixture(scope="module")
def data():
    return make_spectra(n_samples=120, random_state=0)


def test_keys_shapes_axes(data):
    sizes = {"ir": 900, "raman": 600, "xrd": 850}
    for m in MODALITIES:
        for key in (m, f"{m}_clean", f"{m}_baseline"):
            assert data[key].shape == (120, sizes[m])
            assert data[key].dtype == np.float64
        assert data[f"{m}_axis"].shape == (sizes[m],)
    assert (data.ir_axis[0], data.ir_axis[-1]) == (400.0, 4000.0)
    assert (data.raman_axis[0], data.raman_axis[-1]) == (150.0, 1250.0)
    assert (data.xrd_axis[0], data.xrd_axis[-1]) == (5.0, 90.0)
    assert data.y.shape == (120,) and data.y.dtype.kind == "i"
    assert list(data.target_names) == [f"material_{c}" for c in range(4)]


def test_clean_is_sum_of_reported_peaks(data):
    for m in MODALITIES:
        p = data.peaks[m]
        assert p["profile"] == "pseudo_voigt"
        x = data[f"{m}_axis"]
        for i in (0, 57):
            expected = sum(
                pseudo_voigt(
                    x, *(p[k][i, j] for k in ("center", "height", "fwhm", "eta"))
                )
                for j in range(p["center"].shape[1])
            )
            np.testing.assert_allclose(data[f"{m}_clean"][i], expected, atol=1e-10)


def test_observed_is_clean_plus_baseline_plus_noise(data):
    for m in MODALITIES:
        residual = data[m] - data[f"{m}_clean"] - data[f"{m}_baseline"]
        assert residual.std() == pytest.approx(0.01, rel=0.05)
        assert abs(residual.mean()) < 1e-3
        assert np.ptp(data[f"{m}_baseline"], axis=1).min() > 0.0


def test_no_noise_no_baseline_is_exactly_clean():
    data = make_spectra(n_samples=10, noise=0.0, baseline=False, random_state=1)
    for m in MODALITIES:
        np.testing.assert_array_equal(data[m], data[f"{m}_clean"])
        assert not data[f"{m}_baseline"].any()


def test_raman_baseline_is_large_and_smooth(data):
    b = data.raman_baseline
    assert b.max(axis=1).mean() > 0.5
    # Smooth: second differences are tiny compared to the peaks.
    assert np.abs(np.diff(b, n=2, axis=1)).max() < 1e-3


def test_reproducible():
    small = {"n_samples": 20, "n_ir_points": 100, "n_raman_points": 80}
    first = make_spectra(**small, random_state=0)
    again = make_spectra(**small, random_state=0)
    other = make_spectra(**small, random_state=1)
    for key in ("ir", "raman", "xrd", "y"):
        np.testing.assert_array_equal(again[key], first[key])
    assert not np.allclose(other.raman, first.raman)


def test_weights_short_of_one_by_more_than_rounding_leave_the_rest_to_the_last():
    # 5e-6 short of 1 is no rounding: the last class gets it, too little for
    # 100 samples; this used to be refused as weights "summing to 1"
    with pytest.raises(ValueError, match=r"n_samples=100 leaves class\(es\) \[3\]"):
        make_spectra(n_samples=100, weights=[0.5, 0.3, 0.199995], random_state=0)


@pytest.mark.parametrize(
    "n_samples, weights, expected",
    [
        (100, None, [25, 25, 25, 25]),
        (100, [0.7, 0.2, 0.05, 0.05], [70, 20, 5, 5]),
        (100, [0.7, 0.2, 0.05], [70, 20, 5, 5]),
        (10, [3, 1, 1, 1], [5, 2, 2, 1]),
        # weights whose sum overflows (this raised a broadcasting error)
        (100, [1e308, 1e308, 1e308, 1e308], [25, 25, 25, 25]),
    ],
)
def test_class_imbalance(n_samples, weights, expected):
    data = make_spectra(
        n_samples=n_samples,
        weights=weights,
        n_ir_points=20,
        n_raman_points=20,
        n_xrd_points=20,
        random_state=0,
    )
    counts = np.bincount(data.y, minlength=4)
    assert counts.sum() == n_samples
    np.testing.assert_array_equal(np.sort(counts)[::-1], sorted(expected)[::-1])


def test_largest_remainders_get_the_samples_left_by_rounding():
    # 10 x [0.45, 0.35, 0.2] = [4.5, 3.5, 2]: the one sample left goes to the
    # first of the two largest remainders
    data = make_spectra(
        n_samples=10,
        n_classes=3,
        weights=[0.45, 0.35, 0.2],
        n_ir_points=20,
        n_raman_points=20,
        n_xrd_points=20,
        random_state=0,
    )
    np.testing.assert_array_equal(np.bincount(data.y), [5, 3, 2])


def test_peaks_follow_the_documented_model():
    small = {"n_ir_points": 50, "n_raman_points": 50, "n_xrd_points": 50}
    data = make_spectra(n_samples=200, n_classes=1, shift=5.0, random_state=0, **small)
    # a per-sample mode shift of standard deviation `shift`, in cm-1
    assert data.peaks["ir"]["center"].std(axis=0).mean() == pytest.approx(5.0, rel=0.1)
    # reflections on the XRD axis, moved by a small lattice strain
    two_theta = data.peaks["xrd"]["center"]
    assert 5.0 < two_theta.min() and two_theta.max() < 90.0
    assert np.abs(two_theta / two_theta.mean(axis=0) - 1.0).max() < 0.005
    # eta is a Lorentzian fraction
    for m in MODALITIES:
        eta = data.peaks[m]["eta"]
        assert ((0.0 <= eta) & (eta <= 1.0)).all()
    # a low-order polynomial (IR) and a decaying background (XRD)
    t = (data.ir_axis - 400.0) / 3600.0
    for row in data.ir_baseline[:20]:
        fit = np.polyval(np.polyfit(t, row, 2), t)
        np.testing.assert_allclose(fit, row, rtol=0, atol=1e-12)
    assert (np.diff(data.xrd_baseline, axis=1) < 0).all()


def test_smallest_parameters_are_accepted():
    data = make_spectra(
        n_samples=1,
        n_classes=1,
        n_modes=1,
        n_reflections=1,
        n_ir_points=2,
        n_raman_points=2,
        n_xrd_points=2,
        shift=0.0,
        random_state=0,
    )
    assert data.ir.shape == (1, 2) and data.peaks["xrd"]["center"].shape == (1, 1)


def test_modes_shared_but_intensities_differ(data):
    ir, raman = data.peaks["ir"], data.peaks["raman"]
    np.testing.assert_array_equal(ir["center"], raman["center"])
    ratio = ir["height"] / raman["height"]
    # Selection-rule-like: every sample has IR-strong and Raman-strong modes.
    assert (ratio.max(axis=1) > 3).all() and (ratio.min(axis=1) < 1 / 3).all()
    # Not a copy: on the common 400-1250 cm-1 range the two spectra differ.
    overlap = data.raman_axis >= 400.0
    r = [
        np.corrcoef(
            np.interp(data.raman_axis[overlap], data.ir_axis, data.ir_clean[i]),
            data.raman_clean[i, overlap],
        )[0, 1]
        for i in range(20)
    ]
    assert np.mean(r) < 0.6


def test_peak_arrays_are_independent():
    data = make_spectra(n_samples=5, n_ir_points=20, n_raman_points=20, random_state=0)
    raman = data.peaks["raman"]["center"].copy()
    data.peaks["ir"]["center"] += 10.0
    np.testing.assert_array_equal(data.peaks["raman"]["center"], raman)


def test_within_class_variation_and_separable_classes(data):
    same = np.flatnonzero(data.y == data.y[0])[:2]
    c = data.peaks["ir"]["center"][same]
    assert 0 < np.abs(c[0] - c[1]).max() < 15.0
    assert not np.allclose(data.raman_clean[same[0]], data.raman_clean[same[1]])
    X_tr, X_te, y_tr, y_te = train_test_split(data.raman_clean, data.y, random_state=0)
    assert NearestCentroid().fit(X_tr, y_tr).score(X_te, y_te) > 0.95


def test_raman_predictable_from_ir(data):
    X_tr, X_te, Y_tr, Y_te = train_test_split(
        data.ir_clean, data.raman_clean, random_state=0
    )
    assert Ridge(alpha=1e-2).fit(X_tr, Y_tr).score(X_te, Y_te) > 0.7


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_samples": 0}, r"n_samples must be in \[1, inf\)"),
        ({"n_classes": 0}, r"n_classes must be in \[1, inf\)"),
        ({"n_modes": 0}, r"n_modes must be in \[1, inf\)"),
        ({"n_reflections": 0}, r"n_reflections must be in \[1, inf\)"),
        ({"n_ir_points": 1}, "n_ir_points"),
        ({"noise": -0.1}, "noise"),
        ({"shift": np.nan}, "shift"),
        ({"shift": -1.0}, r"shift must be in \[0, inf\)"),
        ({"baseline": "no"}, "baseline must be True or False, got 'no'"),
        ({"weights": [0.5, 0.5]}, "n_classes=4 or n_classes - 1 entries, got 2"),
        ({"weights": [0.5, -0.1, 0.3, 0.3]}, "weights"),
        ({"weights": [0.5, 0.0, 0.3, 0.3]}, "positive and finite"),
        ({"weights": [0.5, np.nan, 0.3, 0.3]}, "positive and finite"),
        ({"weights": [0.5, np.inf, 0.3, 0.3]}, "positive and finite"),
        # n_classes - 1 entries leave the last class 1 - their sum
        ({"weights": [0.6, 0.25, 0.15]}, "they sum to 1; give .* or n_classes=3"),
        ({"weights": [0.6, 0.25, 0.25]}, "they sum to 1.1"),
        # sums to 1 up to rounding (0.9999999999999999), not to less than 1
        ({"weights": [0.7, 0.2, 0.1]}, "they sum to 1; give .* or n_classes=3"),
        ({"weights": "abc"}, "weights must be an array-like of numbers, got 'abc'"),
        ({"weights": [1j, 1, 1, 1]}, "weights must be an array-like of numbers"),
        # a 2 x 2 table was flattened into four class weights
        ({"weights": [[0.4, 0.3], [0.2, 0.1]]}, "one-dimensional, got shape"),
        ({"weights": 0.5}, "one-dimensional, got shape"),
        ({"n_samples": 3}, "without samples"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        make_spectra(**params)


def test_weights_not_modified():
    weights = np.array([3.0, 1.0, 1.0, 1.0])
    make_spectra(n_samples=12, weights=weights, random_state=0)
    np.testing.assert_array_equal(weights, [3.0, 1.0, 1.0, 1.0])
