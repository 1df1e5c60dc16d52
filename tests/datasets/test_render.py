import numpy as np
import pytest

from sktransfer.datasets._render import PROFILES, profile_eta, render_peaks
from tests.datasets._files import pseudo_voigt

X = np.linspace(0.0, 100.0, 201)


@pytest.mark.parametrize("profile", PROFILES)
def test_named_profiles_render_their_closed_forms(profile):
    eta = {"gaussian": 0.0, "lorentzian": 1.0, "pseudo_voigt": 0.5}[profile]
    assert profile_eta(profile) == eta
    y = render_peaks(X, [30.0, 60.0], [2.0, 0.5], [8.0, 4.0], profile_eta(profile))
    expected = pseudo_voigt(X, 30.0, 2.0, 8.0, eta) + pseudo_voigt(
        X, 60.0, 0.5, 4.0, eta
    )
    assert y.shape == (201,) and y.dtype == np.float64
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-15)


def test_default_profiles_are_gaussian_and_even_pseudo_voigt():
    np.testing.assert_array_equal(
        render_peaks(X, 50.0, 1.0, 10.0), render_peaks(X, 50.0, 1.0, 10.0, 0.0)
    )
    assert profile_eta("pseudo_voigt") == 0.5
    assert profile_eta("pseudo_voigt", 0.3) == 0.3


@pytest.mark.parametrize("chunk", [1, 2, 64])
def test_rows_are_rendered_in_chunks_each_on_its_own(chunk):
    centers = np.linspace(20.0, 80.0, 5)[:, None]
    heights = np.arange(1.0, 6.0)[:, None]
    y = render_peaks(X, centers, heights, 6.0, 0.25, chunk=chunk)
    assert y.shape == (5, 201)
    for row, c, h in zip(y, centers[:, 0], heights[:, 0]):
        np.testing.assert_allclose(row, pseudo_voigt(X, c, h, 6.0, 0.25), rtol=1e-12)


def test_inputs_of_any_real_dtype_give_the_float64_result():
    expected = render_peaks(X, [[40.0]], [[3.0]], [[5.0]], [[0.5]])
    y = render_peaks(
        X.astype(np.longdouble),
        np.array([[40.0]], dtype=np.longdouble),
        np.array([[3.0]], dtype=np.float32),
        np.array([[5]], dtype=np.int8),
        np.array([[0.5]], dtype=np.float16),
    )
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, expected)
