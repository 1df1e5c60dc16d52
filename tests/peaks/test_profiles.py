import math
import warnings

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.special import voigt_profile, wofz

from sktransfer.peaks._layout import PeakLayout
from sktransfer.peaks._profiles import (
    faddeeva,
    peak_area,
    peak_profiles,
    render_peaks,
    voigt_widths,
)
from sktransfer.peaks._solver import Bounds, _model, levenberg_marquardt

F64 = torch.float64


def _t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _one(x, center, height, fwhm, shape, profile):
    return peak_profiles(
        _t(x), _t([center]), _t([height]), _t([fwhm]), _t([shape]), profile
    )[0].numpy()


@pytest.mark.parametrize("y", [0.0, 1e-8, 1e-4, 1e-2, 0.1, 1.0, 5.0, 10.0, 1e2, 1e4])
def test_faddeeva_matches_scipy_wofz(y):
    x = np.concatenate([np.linspace(-15, 15, 3001), np.geomspace(15, 1e5, 300)])
    w = faddeeva(torch.complex(_t(x), torch.full((x.size,), y, dtype=F64))).numpy()
    ref = wofz(x + 1j * y)
    assert np.max(np.abs(w - ref) / np.abs(ref)) < 1e-8


@pytest.mark.parametrize("shape", [0.0, 1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1.0])
def test_voigt_matches_scipy_voigt_profile(shape):
    # nearly Gaussian to nearly Lorentzian, out to far tails (40 FWHM)
    x = np.linspace(-400.0, 400.0, 8001)
    sigma, gamma = voigt_widths(_t(10.0), _t(shape))
    ref = voigt_profile(x, float(sigma), float(gamma))
    ref /= voigt_profile(0.0, float(sigma), float(gamma))
    got = _one(x, 0.0, 1.0, 10.0, shape, "voigt")
    big = ref > 1e-10
    assert np.max(np.abs(got - ref)[big] / ref[big]) < 1e-6
    assert np.max(np.abs(got - ref)) < 1e-9


@pytest.mark.parametrize("profile", ["gaussian", "lorentzian", "pseudo_voigt"])
@pytest.mark.parametrize("shape", [0.0, 0.3, 1.0])
def test_height_and_fwhm_are_exact(profile, shape):
    x = np.array([7.0 - 2.5, 7.0, 7.0 + 2.5])
    got = _one(x, 7.0, 3.0, 5.0, shape, profile)
    np.testing.assert_allclose(got, [1.5, 3.0, 1.5], rtol=1e-12)


@pytest.mark.parametrize("shape", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_voigt_fwhm_within_olivero_longbothum_accuracy(shape):
    x = np.array([-2.5, 0.0, 2.5])
    got = _one(x, 0.0, 3.0, 5.0, shape, "voigt")
    assert got[1] == pytest.approx(3.0, rel=1e-12)
    # 0.02 % on the width; the slope at half height turns it into < 5e-4
    np.testing.assert_allclose(got[[0, 2]], 1.5, rtol=5e-4)


def test_voigt_limits_are_gaussian_and_lorentzian():
    x = np.linspace(-60, 60, 1201)
    for shape, profile in [(0.0, "gaussian"), (1.0, "lorentzian")]:
        v = _one(x, 1.0, 2.0, 6.0, shape, "voigt")
        ref = _one(x, 1.0, 2.0, 6.0, shape, profile)
        np.testing.assert_allclose(v, ref, rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize("profile", ["gaussian", "lorentzian", "pseudo_voigt", "voigt"])
@pytest.mark.parametrize("shape", [0.0, 0.4, 1.0])
def test_area_formula_matches_integral(profile, shape):
    def f(x):
        return _one([x], 0.0, 1.7, 3.0, shape, profile)[0]

    num = sum(quad(f, a, b, limit=200)[0] for a, b in [(-np.inf, 0), (0, np.inf)])
    area = peak_area(_t(1.7), _t(3.0), _t(shape), profile)
    assert float(area) == pytest.approx(num, rel=1e-6)


def test_voigt_area_matches_scipy_normalisation():
    sigma, gamma = voigt_widths(_t(4.0), _t(0.35))
    area = peak_area(_t(2.0), _t(4.0), _t(0.35), "voigt")
    expected = 2.0 / voigt_profile(0.0, float(sigma), float(gamma))
    assert float(area) == pytest.approx(expected, rel=1e-9)


def test_render_peaks_sums_batches_and_keeps_dtype_and_device():
    x = torch.linspace(0, 100, 101)
    c = torch.tensor([[20.0, 50.0], [30.0, 70.0], [10.0, 90.0]])
    h = torch.ones(3, 2)
    f = torch.full((3, 2), 5.0)
    s = torch.full((3, 2), 0.5)
    y = render_peaks(x, c, h, f, s)
    assert y.shape == (3, 101) and y.dtype == torch.float32
    assert y.device == c.device
    each = peak_profiles(x, c, h, f, s)
    torch.testing.assert_close(y, each.sum(-2))
    y64 = render_peaks(x.double(), c.double(), h.double(), f.double(), s.double())
    torch.testing.assert_close(y, y64.float(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("profile", ["gaussian", "lorentzian", "pseudo_voigt", "voigt"])
def test_render_peaks_is_differentiable(profile):
    x = torch.linspace(-20, 20, 41, dtype=F64)
    params = [
        torch.tensor([-3.0, 4.0], dtype=F64, requires_grad=True),
        torch.tensor([1.0, 0.5], dtype=F64, requires_grad=True),
        torch.tensor([4.0, 7.0], dtype=F64, requires_grad=True),
        torch.tensor([0.3, 0.7], dtype=F64, requires_grad=True),
    ]

    def fn(c, h, f, s):
        return render_peaks(x, c, h, f, s, profile)

    # the rational approximation's own derivative is exact to ~1e-8
    assert torch.autograd.gradcheck(fn, params, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "profile, npp",
    [("gaussian", 3), ("lorentzian", 3), ("pseudo_voigt", 4), ("voigt", 4)],
)
@pytest.mark.parametrize("baseline", ["constant", "linear"])
@pytest.mark.parametrize("padded", [False, True])
def test_solver_jacobian_matches_autograd(profile, npp, baseline, padded):
    gen = torch.Generator().manual_seed(0)
    n, k = 2, 3
    x = torch.linspace(0, 100, 60, dtype=F64)
    u = (x - 50) / 50
    full = torch.full((n, k), 1.0, dtype=F64)
    # padding: the spectra have two peaks and one peak
    mask = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=F64)
    bounds = Bounds(
        torch.tensor([[20.0, 50.0, 80.0]] * n, dtype=F64),
        3 * full,
        full,
        30 * full,
        2 * full,
        mask if padded else None,
    )
    assert bounds.padded == padded
    n_base = {"constant": 1, "linear": 2}[baseline]
    layout = PeakLayout(profile, k, baseline)
    assert layout.n_params == k * npp + n_base
    theta = torch.randn(n, layout.n_params, dtype=F64, generator=gen)
    _, jac = _model(x, u, theta, bounds, layout, jac=True)
    ref = torch.autograd.functional.jacobian(
        lambda t: _model(x, u, t, bounds, layout, jac=False)[0],
        theta,
        vectorize=True,
    )
    ref = torch.stack([ref[i, :, i, :] for i in range(n)])
    # the analytic w' = -2zw + 2i/sqrt(pi) amplifies the series' 3e-9 error
    torch.testing.assert_close(jac.transpose(1, 2), ref, rtol=1e-6, atol=1e-6)
    # the model is the sum of the (real) peaks and the baseline terms
    fields, base = layout.unpack(bounds.physical(theta, layout))
    if padded:
        assert not fields[1][mask == 0].any()
    shape = fields[3] if npp == 4 else None
    expected = render_peaks(x, *fields[:3], shape, profile) + base[:, :1]
    if baseline == "linear":
        expected = expected + base[:, 1:] * u
    y, _ = _model(x, u, theta, bounds, layout, jac=False)
    torch.testing.assert_close(y, expected, rtol=1e-12, atol=1e-12)


def test_free_parameters_map_back_to_the_physical_ones():
    # Inside the box the free parameters give back the physical ones; on or
    # beyond its edges they are finite and give values just inside it.
    def box(*rows):
        return torch.tensor(rows, dtype=F64)

    bounds = Bounds(
        box([20.0] * 4), box([3.0] * 4), box([1.0] * 4), box([30.0] * 4), box([2.0] * 4)
    )
    inside = (
        box([21.5, 18.0, 22.9, 20.0]),
        box([0.5, 3.0, 0.01, 2.0]),
        box([4.0, 25.0, 1.5, 29.0]),
        box([0.2, 0.9, 0.5, 0.01]),
    )
    phys, _ = bounds.from_theta(*bounds.to_theta(*inside))
    for got, expected in zip(phys, inside):
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=0)
    edges = (
        box([10.0, 23.0, 17.0, 30.0]),
        box([1.0, 1.0, 1.0, 1.0]),
        box([1.0, 30.0, 0.5, 40.0]),
        box([0.0, 1.0, 0.0, 1.0]),
    )
    theta = bounds.to_theta(*edges)
    assert all(bool(torch.isfinite(t).all()) for t in theta)
    (c, _, f, s), _ = bounds.from_theta(*theta)
    torch.testing.assert_close(c, box([17.0, 23.0, 17.0, 23.0]), rtol=1e-5, atol=0)
    torch.testing.assert_close(f, box([1.0, 30.0, 1.0, 30.0]), rtol=1e-4, atol=0)
    torch.testing.assert_close(s, box([0.0, 1.0, 0.0, 1.0]), rtol=0, atol=1e-5)


def test_solver_stays_at_an_exact_start_and_counts_its_iterations():
    x = torch.linspace(0, 100, 80, dtype=F64)
    u = (x - 50) / 50
    full = torch.ones(3, 2, dtype=F64)
    bounds = Bounds(
        torch.tensor([[30.0, 60.0]] * 3, dtype=F64), 5 * full, full, 40 * full, full
    )
    layout = PeakLayout("gaussian", 2, "linear")
    gen = torch.Generator().manual_seed(0)
    theta = torch.randn(3, layout.n_params, dtype=F64, generator=gen)
    Y, _ = _model(x, u, theta, bounds, layout, jac=False)
    # started at the solution: nothing to improve, one iteration, converged
    got, fitted, converged, n_iter = levenberg_marquardt(
        x, u, Y, theta, bounds, layout, max_iter=50, tol=1e-6
    )
    torch.testing.assert_close(got, theta, rtol=0, atol=0)
    torch.testing.assert_close(fitted, Y, rtol=0, atol=0)
    assert converged.all()
    assert n_iter.tolist() == [1, 1, 1]
    # off the solution, noisy and with tol=0: every iteration up to max_iter
    noisy = Y + 0.01 * torch.randn(Y.shape, dtype=F64, generator=gen)
    start = theta + 0.3
    *_, converged, n_iter = levenberg_marquardt(
        x, u, noisy, start, bounds, layout, max_iter=3, tol=0.0
    )
    assert not converged.any()
    assert n_iter.tolist() == [3, 3, 3]
    # a spectrum left alone in the batch iterates on to its own solution
    start = theta.clone()
    start[2] += 0.3
    _, fitted, converged, n_iter = levenberg_marquardt(
        x, u, Y, start, bounds, layout, max_iter=100, tol=1e-8
    )
    assert converged.all()
    assert n_iter[:2].tolist() == [1, 1] and n_iter[2] > 2
    torch.testing.assert_close(fitted, Y, rtol=0, atol=1e-6)


def test_profile_errors():
    x = torch.linspace(0, 1, 5)
    one = torch.ones(1)
    with pytest.raises(ValueError, match="profile must be one of"):
        render_peaks(x, one, one, one, one, profile="cauchy")
    with pytest.raises(ValueError, match="needs the shape"):
        render_peaks(x, one, one, one, None, profile="voigt")


@pytest.mark.parametrize(
    "args, match",
    [
        ({"center": None}, "center must be numbers; got None"),
        ({"height": "junk"}, "height must be numbers"),
        ({"fwhm": torch.tensor([True])}, "fwhm must be real numbers"),
        ({"center": torch.tensor([float("nan")])}, "center must not contain NaN"),
        ({"fwhm": torch.tensor([0.0])}, "fwhm must be > 0"),
        ({"fwhm": torch.tensor([-1.0])}, "fwhm must be > 0"),
        ({"shape": torch.tensor([1.5])}, r"shape must lie in \[0, 1\]"),
        ({"shape": torch.tensor([float("nan")])}, "shape must not contain NaN"),
        ({"x": torch.ones(2, 5)}, "x must be 1-D"),
        (
            {"center": torch.full((2,), 0.5), "height": torch.ones(3)},
            r"must broadcast to one shape \(\.\.\., n_peaks\); got center \(2,\)",
        ),
        (
            {"center": torch.full((2,), 0.5), "shape": torch.full((3,), 0.5)},
            "center, height, fwhm, shape must broadcast",
        ),
        (
            {k: torch.tensor(0.5) for k in ("center", "height", "fwhm", "shape")},
            "need a last dimension of peaks",
        ),
    ],
)
def test_bad_render_inputs_are_clear_errors(args, match):
    # each of these used to return NaN or out-of-range spectra, or fail
    # inside torch with a message that did not name the argument
    kwargs = {
        "x": torch.linspace(0, 1, 5),
        "center": torch.tensor([0.5]),
        "height": torch.ones(1),
        "fwhm": torch.ones(1),
        "shape": torch.tensor([0.5]),
        **args,
    }
    with pytest.raises(ValueError, match=match):
        render_peaks(**kwargs, profile="pseudo_voigt")


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a[::-1].copy()[::-1],  # negative strides: a reversed view
        lambda a: a.astype(">f8"),
        lambda a: a.astype(np.longdouble),
        lambda a: a.astype(object),
    ],
    ids=["reversed-view", "big-endian", "longdouble", "object"],
)
def test_render_peaks_takes_numpy_arrays_torch_cannot_wrap(convert):
    # torch.as_tensor refuses these; they were reported as not numbers
    x = np.linspace(0.0, 10.0, 11)
    center, height, fwhm = np.array([4.0, 6.0]), np.array([1.0, 2.0]), np.ones(2)
    expected = render_peaks(x, center, height, fwhm, profile="gaussian")
    y = render_peaks(
        convert(x), convert(center), convert(height), convert(fwhm), profile="gaussian"
    )
    assert y.dtype == torch.float64
    torch.testing.assert_close(y, expected)
    # a descending axis renders the same spectrum, reversed
    down = render_peaks(x[::-1], center, height, fwhm, profile="gaussian")
    torch.testing.assert_close(down, expected.flip(-1))


def test_shape_is_not_checked_where_the_profile_ignores_it():
    x = torch.linspace(0, 1, 5)
    one = torch.ones(1)
    y = render_peaks(x, one / 2, one, one, torch.tensor([7.0]), profile="gaussian")
    assert float(y[2]) == pytest.approx(1.0)


def test_voigt_widths_conventions():
    sigma, gamma = voigt_widths(_t(3.0), _t(1.0))
    assert float(gamma) == pytest.approx(1.5)
    assert float(sigma) < 1e-5
    sigma, gamma = voigt_widths(_t(3.0), _t(0.0))
    assert float(sigma) == pytest.approx(3.0 / (2 * math.sqrt(2 * math.log(2))))
    assert float(gamma) == 0.0


def test_numpy_renderer_of_datasets_uses_the_same_profiles():
    from sktransfer.datasets._render import render_peaks as render_np

    x = np.linspace(0.0, 100.0, 301)
    c = np.array([[20.0, 55.0], [40.0, 80.0]])
    h = np.array([[1.0, 0.5], [2.0, 0.3]])
    f = np.array([[6.0, 9.0], [4.0, 12.0]])
    eta = np.array([[0.0, 0.3], [1.0, 0.7]])
    got = render_np(x, c, h, f, eta, chunk=1)
    ref = render_peaks(*(_t(a) for a in (x, c, h, f, eta)), profile="pseudo_voigt")
    np.testing.assert_allclose(got, ref.numpy(), rtol=1e-14, atol=1e-15)
    # an independent formula: eta * L + (1 - eta) * G of the same FWHM
    t = (x - 55.0) / 9.0
    one = 0.5 * (0.3 / (1 + 4 * t**2) + 0.7 * np.exp(-4 * math.log(2) * t**2))
    np.testing.assert_allclose(render_np(x, [55.0], [0.5], [9.0], 0.3), one, rtol=1e-13)


@pytest.mark.parametrize(
    "profile, fields",
    [
        ("gaussian", ["center", "height", "fwhm"]),
        ("voigt", ["center", "height", "fwhm", "shape"]),
        ("pseudo_voigt", ["center", "height", "fwhm", "eta"]),
    ],
)
def test_layout_packs_unpacks_and_names(profile, fields):
    layout = PeakLayout(profile, 3, "linear")
    npp = len(fields)
    assert layout.n_params == 3 * npp + 2
    assert layout.names()[: npp + 1] == [f"peak0_{f}" for f in fields] + [
        f"peak1_{fields[0]}"
    ]
    assert layout.names()[-2:] == ["baseline_offset", "baseline_slope"]
    rows = np.arange(2.0 * layout.n_params).reshape(2, -1)
    peaks, base = layout.unpack(rows)
    np.testing.assert_array_equal(peaks[1], rows[:, 1 : 3 * npp : npp])
    np.testing.assert_array_equal(base, rows[:, -2:])
    np.testing.assert_array_equal(layout.pack(peaks, base), rows)
    again = layout.pack(
        [torch.from_numpy(p) for p in peaks], torch.from_numpy(base), lib=torch
    )
    np.testing.assert_array_equal(again.numpy(), rows)
    assert PeakLayout(profile, 0, "none").n_params == 0


@pytest.mark.parametrize("shape", [0.3, 0.99, 1.0])
def test_voigt_float32_centre_and_width_derivatives(shape):
    # Away from the core, w'(z) = 2i/sqrt(pi) - 2 z w(z) is the difference of
    # two nearly equal terms: at shape 1 (|z| ~ 1e6) float32 kept no digit of
    # it, and the centre and width of a Lorentzian-limit peak froze in a fit.
    from sktransfer.peaks._profiles import unit_peaks

    dx = torch.linspace(-60.0, 60.0, 241, dtype=F64)[None]
    f, s = torch.tensor([[8.0]], dtype=F64), torch.tensor([[shape]], dtype=F64)
    profile = "lorentzian" if shape == 1.0 else "voigt"
    ref = unit_peaks(dx, f, s, profile, derivatives=True)
    got = unit_peaks(dx.float(), f.float(), s.float(), "voigt", derivatives=True)
    for r, g in zip(ref[:3], got[:3], strict=True):
        np.testing.assert_allclose(g.double(), r, rtol=0, atol=1e-5 * r.abs().max())


def test_coefficients_computed_under_strict_floating_point_errors():
    # importing sktransfer.peaks failed under np.seterr(all="raise"): the
    # coefficients of the Faddeeva approximation underflow to 0 on purpose
    from sktransfer.peaks import _profiles

    with np.errstate(all="raise"):
        a, ell = _profiles._weideman_coefficients(_profiles._N_WEIDEMAN)
    np.testing.assert_array_equal(a, _profiles._WEIDEMAN_A)
    assert ell == _profiles._WEIDEMAN_L


@pytest.mark.parametrize("shape", [0.0, 0.4, 1.0])
def test_voigt_widths_scale_with_the_fwhm(shape):
    # sigma and gamma are lengths: a peak k times wider has k times both,
    # down to the floor that keeps the Lorentzian limit finite
    s1, g1 = voigt_widths(_t(2.0), _t(shape))
    s2, g2 = voigt_widths(_t(2000.0), _t(shape))
    assert float(s2) == pytest.approx(1000 * float(s1), rel=1e-9)
    assert float(g2) == pytest.approx(1000 * float(g1), rel=1e-12)
    assert float(g1) == pytest.approx(shape, rel=1e-12)


@pytest.mark.parametrize("profile", ["gaussian", "lorentzian", "pseudo_voigt", "voigt"])
@pytest.mark.parametrize("shape, rtol", [(0.0, 1e-7), (0.5, 1e-7), (1.0, 1e-3)])
def test_analytic_derivatives_match_autograd_up_to_the_lorentzian_limit(
    profile, shape, rtol
):
    # one point per row, so that every derivative is elementwise; at shape 1
    # the Voigt's Gaussian width sits on its floor and no longer moves with
    # the shape, and autograd through erfcx keeps only ~1e-4 of the shape
    # derivative (the analytic one is checked against exact values below)
    from sktransfer.peaks._profiles import unit_peaks

    dx = torch.linspace(-30.0, 30.0, 61, dtype=F64)[:, None].requires_grad_(True)
    f = torch.full((61, 1), 7.0, dtype=F64, requires_grad=True)
    s = torch.full((61, 1), shape, dtype=F64, requires_grad=True)
    g, dg_dc, dg_df, dg_ds = unit_peaks(dx, f, s, profile, derivatives=True)
    has_shape = profile in ("pseudo_voigt", "voigt")
    wrt = (dx, f, s) if has_shape else (dx, f)
    ref = torch.autograd.grad(unit_peaks(dx, f, s, profile).sum(), wrt)
    torch.testing.assert_close(g, unit_peaks(dx, f, s, profile))
    got = (-dg_dc, dg_df, dg_ds) if has_shape else (-dg_dc, dg_df)
    for a, b in zip(got, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=rtol * float(b.abs().max()))
    assert (dg_ds is None) == (not has_shape)


def test_render_peaks_computes_in_the_dtype_of_center():
    # an axis in float64 (or as a NumPy array) does not promote float32 peaks
    x = np.linspace(0.0, 10.0, 21)
    c = torch.tensor([4.0])
    one = torch.ones(1)
    y = render_peaks(x, c, one, one * 2, profile="gaussian")
    assert y.dtype == torch.float32
    shape = torch.tensor([0.5], dtype=F64)
    assert render_peaks(torch.from_numpy(x), c, one, 2 * one, shape).dtype == (
        torch.float32
    )
    # a float64 height or width does not either, and integer centres take
    # torch's default dtype
    y = render_peaks(x, c, one.double(), 2 * one.double(), profile="lorentzian")
    assert y.dtype == torch.float32
    y = render_peaks(x, torch.tensor([4]), 1, 2.0, profile="gaussian")
    assert y.dtype == torch.get_default_dtype()
    assert float(y[8]) == pytest.approx(1.0)
    # whole numbers given as a list or an array promote as in NumPy
    for c in ([4], np.array([4])):
        y = render_peaks(x, c, [1.0], [2.0], profile="gaussian")
        assert y.dtype == F64
        assert float(y[8]) == 1.0


def test_whole_number_centres_render_in_float64_also_in_chunks(monkeypatch):
    # rows rendered in chunks took integer centres for float32
    from sktransfer.peaks import _profiles

    x = np.linspace(0.0, 10.0, 21)
    centres = np.full((6, 1), 4)
    whole = render_peaks(x, centres, 1.0, 2.0, profile="gaussian")
    monkeypatch.setattr(_profiles, "_RENDER_CHUNK_VALUES", 2 * len(x))
    chunked = render_peaks(x, centres, 1.0, 2.0, profile="gaussian")
    assert whole.dtype == chunked.dtype == F64
    torch.testing.assert_close(chunked, whole, rtol=0, atol=0)


def test_render_peaks_reads_pandas_columns_by_position():
    # rows of a peak table: the index of a selection is not 0..n-1
    pd = pytest.importorskip("pandas")
    x = np.linspace(0.0, 100.0, 201)
    table = pd.DataFrame(
        {"center": [30.0, 70.0, 50.0], "height": [1.0, 0.5, 2.0], "fwhm": [6.0, 8, 10]}
    )
    for rows in (table.iloc[[2]], table.iloc[[0, 2]], table.iloc[::-1]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nor a warning of read-only arrays
            y = render_peaks(
                pd.Series(x, index=x[::-1]),
                rows.center,
                rows.height,
                rows.fwhm,
                profile="gaussian",
            )
        ref = render_peaks(
            x,
            rows.center.to_numpy(copy=True),
            rows.height.to_numpy(copy=True),
            rows.fwhm.to_numpy(copy=True),
            profile="gaussian",
        )
        torch.testing.assert_close(y, ref, rtol=0, atol=0)


@pytest.mark.parametrize(
    "center, match",
    [
        (np.array([0.5 + 0j]), "center must be real numbers"),
        (np.array([0.5 + 0j], dtype=np.clongdouble), "center must be real numbers"),
        (np.array([0.5 + 0j], dtype=">c16"), "center must be real numbers"),
        (np.array(["0.5", "centre"]), "center must be numbers"),
    ],
    ids=["complex128", "clongdouble", "big-endian-complex", "strings"],
)
def test_complex_or_text_arrays_are_named_as_not_real_numbers(center, match):
    x = np.linspace(0.0, 1.0, 5)
    with pytest.raises(ValueError, match=match):
        render_peaks(x, center, np.ones(1), np.ones(1), profile="gaussian")


@pytest.mark.parametrize(
    "baseline, names",
    [
        ("none", []),
        ("constant", ["baseline_offset"]),
        ("linear", ["baseline_offset", "baseline_slope"]),
    ],
)
def test_layout_names_one_column_per_baseline_term(baseline, names):
    layout = PeakLayout("lorentzian", 2, baseline)
    assert (
        layout.names()
        == [f"peak{i}_{f}" for i in range(2) for f in ("center", "height", "fwhm")]
        + names
    )
    assert len(layout.names()) == layout.n_params == 6 + len(names)
    assert not layout.has_shape and PeakLayout("voigt", 1, baseline).has_shape
    wider = layout.with_peaks(5)
    assert (wider.profile, wider.n_peaks, wider.baseline) == ("lorentzian", 5, baseline)
    assert wider.n_params == 15 + len(names)
    rows = np.arange(2.0 * layout.n_params).reshape(2, -1)
    peaks, base = layout.unpack(rows)
    assert base.shape == (2, len(names))
    np.testing.assert_array_equal(layout.pack(peaks + [np.zeros((2, 2))], base), rows)


@pytest.mark.parametrize("shape", [0.5, 0.9, 0.99, 0.999, 1.0])
def test_voigt_derivatives_match_exact_values_up_to_the_lorentzian_limit(shape):
    # Near shape 1 the derivatives are small differences of large terms
    # (2i/sqrt(pi) - 2zw and 2a - 2/(sqrt(pi) erfcx(a))); the float64 shape
    # derivative at shape 1 was off by ~1e-4 of its size. The truth is the
    # same profile in 40-digit arithmetic, differentiated numerically.
    mp = pytest.importorskip("mpmath")
    from sktransfer.peaks._profiles import _FWHM_TO_SIGMA, _OL_A, _OL_B, unit_peaks

    ctx = mp.mp.clone()
    ctx.dps = 40

    def profile(x, f, s):
        q = (1 - ctx.mpf(_OL_A) * s) ** 2 - ctx.mpf(_OL_B) * s**2
        alpha = ctx.mpf(_FWHM_TO_SIGMA) * ctx.sqrt(max(q, 0) + ctx.mpf("1e-12"))
        a = s / 2 / (ctx.sqrt(2) * alpha)
        z = x / (ctx.sqrt(2) * f * alpha) + 1j * a
        w = ctx.exp(-(z**2)) * ctx.erfc(-1j * z)
        return ctx.re(w) / (ctx.exp(a * a) * ctx.erfc(a))

    xs, f0, s0 = list(range(-30, 31, 3)), ctx.mpf(7), ctx.mpf(str(shape))
    h = ctx.mpf("1e-15")
    # one-sided in the shape at 1, where the profile is defined on one side
    exact = [
        [(profile(x + h, f0, s0) - profile(x - h, f0, s0)) / (2 * h) for x in xs],
        [(profile(x, f0 + h, s0) - profile(x, f0 - h, s0)) / (2 * h) for x in xs],
        [(profile(x, f0, s0) - profile(x, f0, s0 - h)) / h for x in xs],
    ]
    dx = torch.tensor(xs, dtype=F64)[:, None]
    f = torch.full((len(xs), 1), 7.0, dtype=F64)
    s = torch.full((len(xs), 1), shape, dtype=F64)
    _, dg_dc, dg_df, dg_ds = unit_peaks(dx, f, s, "voigt", derivatives=True)
    for got, ref in zip((-dg_dc, dg_df, dg_ds), exact, strict=True):
        ref = np.array([float(v) for v in ref])[:, None]
        # the Faddeeva approximation is good to ~1e-6 of the profile
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6 * np.abs(ref).max())


@pytest.mark.parametrize("dtype, rtol", [(F64, 1e-12), (torch.float32, 5e-6)])
def test_erfcx_log_derivative_is_accurate_at_every_width_ratio(dtype, rtol):
    # 2a - 2 / (sqrt(pi) erfcx(a)): the two terms agree to 1 / (2 a**2) of
    # their size, and a reaches ~1e6 at the Lorentzian limit
    mp = pytest.importorskip("mpmath")
    from sktransfer.peaks._profiles import _erfcx_log_derivative

    ctx = mp.mp.clone()
    ctx.dps = 40
    values = [0.0, 0.5, 3.0, 5.9, 6.0, 8.0, 14.9, 15.0, 30.0, 1e3, 1e5, 3.5e5, 1e6]
    a = torch.tensor(values, dtype=dtype)
    got = _erfcx_log_derivative(a, 1.0 / torch.special.erfcx(a))
    assert got.dtype == dtype
    for v, g in zip(a.tolist(), got.tolist(), strict=True):
        x = ctx.mpf(v)
        exact = 2 * x - 2 / (ctx.sqrt(ctx.pi) * ctx.exp(x * x) * ctx.erfc(x))
        assert abs(g - float(exact)) <= rtol * abs(float(exact)), v


@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_voigt_derivatives_are_the_same_a_chunk_of_rows_at_a_time(monkeypatch, dtype):
    # On the CPU the analytic derivatives are computed a few rows at a time;
    # the chunks (one row, two rows with a shorter last chunk, all rows)
    # must give what one pass over every row gives, broadcast rows included
    from sktransfer.peaks import _profiles
    from sktransfer.peaks._profiles import unit_peaks

    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(0.0, 200.0, 50, dtype=dtype)
    centers = 200.0 * torch.rand(3, 4, 1, generator=gen, dtype=dtype)
    fwhm = 2.0 + 20.0 * torch.rand(3, 4, 1, generator=gen, dtype=dtype)
    shape = torch.rand(3, 4, 1, generator=gen, dtype=dtype)
    shape[0, 0], shape[0, 1] = 0.0, 1.0
    dx = x - centers
    # points near a peak (rational approximation) and far from one (series)
    z2 = (dx / fwhm).square()
    assert (z2 < 1).any() and (z2 > 100).any()
    monkeypatch.setattr(_profiles, "_CHUNK", 10**9)
    whole = unit_peaks(dx, fwhm, shape, "voigt", derivatives=True)
    # vectorised and scalar loops may round the last bit differently; in
    # float32 the shape derivative near shape 1 is good to ~7e-5 of its
    # size whatever the chunks (cancellation), so rounding moves it that much
    tol = 1e-13 if dtype == F64 else 2e-4
    for chunk in (50, 100, 150):
        monkeypatch.setattr(_profiles, "_CHUNK", chunk)
        got = unit_peaks(dx, fwhm, shape, "voigt", derivatives=True)
        for g, ref in zip(got, whole, strict=True):
            assert g.dtype == dtype
            atol = tol * float(ref.abs().max())
            torch.testing.assert_close(g, ref, rtol=0, atol=atol)
    # one row of points against a batch of widths: broadcast, not copied
    row = unit_peaks(dx[:1, :1], fwhm[:, :1], shape[:, :1], "voigt", derivatives=True)
    ref = unit_peaks(
        dx[:1, :1].expand(3, 1, 50),
        fwhm[:, :1],
        shape[:, :1],
        "voigt",
        derivatives=True,
    )
    for got, want in zip(row, ref, strict=True):
        assert got.shape == (3, 1, 50)
        torch.testing.assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("profile", ["gaussian", "lorentzian", "pseudo_voigt", "voigt"])
def test_render_peaks_in_half_precision(dtype, profile):
    # the Voigt profile used to fail in float16 ("div_cpu" not implemented
    # for 'ComplexHalf') and in bfloat16 (no complex bfloat16)
    x = torch.linspace(0.0, 100.0, 201, dtype=torch.float64)
    args = [
        torch.tensor([30.0, 60.0]),
        torch.tensor([1.0, 2.0]),
        torch.tensor([5.0, 8.0]),
    ]
    shape = torch.tensor([0.5, 0.2])
    reference = render_peaks(x, *args, shape, profile=profile)
    got = render_peaks(
        x, *(a.to(dtype) for a in args), shape.to(dtype), profile=profile
    )
    assert got.dtype == dtype
    # the half-precision rounding of the result and of the axis, at most
    # a few units in the last place of values up to 2
    tol = 0.02 if dtype == torch.float16 else 0.06
    np.testing.assert_allclose(got.double().numpy(), reference.numpy(), atol=tol)
    # computed in half precision throughout when the axis is half too
    got = render_peaks(
        x.to(dtype), *(a.to(dtype) for a in args), shape.to(dtype), profile=profile
    )
    assert got.dtype == dtype
    np.testing.assert_allclose(got.double().numpy(), reference.numpy(), atol=tol)
    if dtype == torch.float16:  # NumPy has float16 (and no bfloat16)
        half = [a.numpy().astype(np.float16) for a in (*args, shape)]
        got_np = render_peaks(x.numpy(), *half, profile=profile)
        assert got_np.dtype == torch.float16
        np.testing.assert_allclose(got_np.double().numpy(), reference.numpy(), atol=tol)


@pytest.mark.parametrize("profile", ["gaussian", "lorentzian", "pseudo_voigt", "voigt"])
def test_a_float64_axis_far_from_zero_keeps_its_resolution(profile):
    # float32 centres put x - center on float32's 2e-3 grid near 20000:
    # the peak was 4 % off its height; lists were read as float32 too
    x = np.linspace(20000.0, 20010.0, 1001)
    args = ([20004.3203125], [1.0], [0.05], [0.5])  # exact in float32
    reference = render_peaks(x, *map(np.array, args), profile=profile).numpy()
    got = render_peaks(x, *args, profile=profile)
    assert got.dtype == torch.float64  # lists of floats, as in NumPy
    np.testing.assert_allclose(got.numpy(), reference, rtol=0, atol=1e-15)
    got = render_peaks(x, *(np.array(a, dtype=np.float32) for a in args), profile)
    assert got.dtype == torch.float32  # the dtype of the centres
    np.testing.assert_allclose(got.numpy(), reference, rtol=0, atol=1e-6)


def test_read_only_arrays_render_without_a_warning(monkeypatch):
    # pandas' to_numpy() gives read-only arrays; torch warns on wrapping one
    # (once a process, so the arrays torch is given are checked too)
    x = np.linspace(0.0, 100.0, 201)
    args = [np.array([30.0]), np.array([1.0]), np.array([5.0]), np.array([0.5])]
    for a in (x, *args):
        a.flags.writeable = False
    given = []
    as_tensor = torch.as_tensor

    def recorded(value, *rest, **kwargs):
        if isinstance(value, np.ndarray):
            given.append(value.flags.writeable)
        return as_tensor(value, *rest, **kwargs)

    monkeypatch.setattr(torch, "as_tensor", recorded)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = render_peaks(x, *args)
    assert float(y.max()) == pytest.approx(1.0)
    assert given and all(given)


def test_a_list_of_tensors_renders_as_before():
    # lists of floats are read as float64; a list of tensors (which NumPy
    # cannot hold when they require gradients) is stacked by torch
    x = np.linspace(0.0, 40.0, 41)
    centre = torch.tensor(10.0, requires_grad=True)
    y = render_peaks(
        x, [centre, torch.tensor(20.0)], [1.0, 1.0], [2.0, 2.0], profile="gaussian"
    )
    assert y.dtype == torch.float32
    assert float(y[10]) == pytest.approx(1.0) and float(y[20]) == pytest.approx(1.0)


@pytest.mark.parametrize("profile", ["gaussian", "voigt"])
def test_many_spectra_render_in_chunks_of_rows(monkeypatch, profile):
    # every peak was rendered on every point at once: 2000 spectra x 50
    # Voigt peaks x 1000 points took over 10 GB for a 15 MB result
    from sktransfer.peaks import _profiles

    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 100.0, 40)
    center = torch.from_numpy(rng.uniform(10, 90, (2, 3, 5)))
    center.requires_grad_(True)
    height = rng.uniform(0.5, 2.0, 5)  # broadcast over the rows
    fwhm = rng.uniform(2.0, 9.0, (3, 5))
    shape = rng.uniform(0.0, 1.0, (2, 1, 5))
    whole = render_peaks(x, center, height, fwhm, shape, profile)
    sizes = []

    def recorded(x, center, *args):
        sizes.append(center.numel() * len(x))
        return render(x, center, *args)

    render = _profiles._render_peaks
    monkeypatch.setattr(_profiles, "_RENDER_CHUNK_VALUES", 2 * 5 * 40)
    monkeypatch.setattr(_profiles, "_render_peaks", recorded)
    chunked = render_peaks(x, center, height, fwhm, shape, profile)
    assert sizes == [400, 400, 400]  # 6 rows, 2 at a time
    assert chunked.shape == (2, 3, 40) and chunked.dtype == torch.float64
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-15)
    # still differentiable
    (grad_chunked,) = torch.autograd.grad(chunked.sum(), center)
    (grad_whole,) = torch.autograd.grad(whole.sum(), center)
    torch.testing.assert_close(grad_chunked, grad_whole, rtol=0, atol=1e-15)
