"""Peak profile functions in torch: differentiable, any device, float32/64.

Parameter conventions, shared by every profile and by
:class:`~sktransfer.peaks.PeakProfileFitter`:

- ``center`` : position of the maximum, in the units of the spectral axis.
- ``height`` : value of the peak at its maximum (not the area).
- ``fwhm`` : full width at half maximum, in axis units.
- ``shape`` : Lorentzian character in [0, 1]. For ``"pseudo_voigt"`` it is
  the mixing fraction eta, ``eta * L + (1 - eta) * G`` with G and L of the
  same FWHM. For the exact ``"voigt"`` it is the Lorentzian share of the
  width, ``f_L = shape * fwhm``, with the Gaussian width ``f_G`` chosen so
  that the Olivero-Longbothum relation
  ``fwhm = 0.5346 f_L + sqrt(0.2166 f_L**2 + f_G**2)`` holds (that relation
  is accurate to about 0.025 %, so ``fwhm`` is the Voigt FWHM to that accuracy).
  ``shape=0`` is a Gaussian and ``shape=1`` a Lorentzian. ``shape`` is
  ignored by ``"gaussian"`` and ``"lorentzian"``.
"""

import math

import numpy as np
import torch

from sktransfer.utils._chunks import row_slices

PROFILES = ("gaussian", "lorentzian", "voigt", "pseudo_voigt")

_LN2 = math.log(2.0)
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * _LN2))
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / _SQRT_PI
_OL_A, _OL_B = 0.5346, 0.2166
# Inside |z| < _R the rational approximation is used, outside the
# asymptotic (Laplace) series, which is exact there to ~1e-8 and far cheaper.
_R = 6.0
_N_WEIDEMAN = 40
# (2n-1)!! for n = 8, ..., 1: Horner coefficients of the asymptotic series,
# and the four terms that suffice beyond |z| = _R_FAR (error < 3e-9).
_SERIES = [float(np.prod(np.arange(1, 2 * n, 2))) for n in range(8, -1, -1)]
_SERIES_FAR = _SERIES[-4:]
_R_FAR = 15.0
# Points per chunk of the analytic Voigt derivatives on the CPU (see
# _voigt_derivative_rows).
_CHUNK = 1 << 17


def _weideman_coefficients(n):
    """Coefficients of Weideman's (1994) rational approximation of w(z)."""
    m = 2 * n
    k = np.arange(-m + 1, m)
    ell = np.sqrt(n / np.sqrt(2.0))
    t = ell * np.tan(k * np.pi / (2 * m))
    # exp(-t**2) of the outermost nodes is 0 (an underflow, as intended):
    # also under np.seterr(all="raise")
    with np.errstate(under="ignore"):
        f = np.concatenate([[0.0], np.exp(-(t**2)) * (ell**2 + t**2)])
    a = np.real(np.fft.fft(np.fft.fftshift(f))) / (2 * m)
    return np.flipud(a[1 : n + 1]).copy(), float(ell)


_WEIDEMAN_A, _WEIDEMAN_L = _weideman_coefficients(_N_WEIDEMAN)


def _horner(x, coefs):
    """``coefs[0] * x**n + ... + coefs[n]`` by Horner's rule.

    The steps work in place on one new tensor unless autograd has to keep
    them (``x`` needs a gradient): on large arrays, allocating a tensor
    per step costs about as much as the arithmetic.
    """
    in_place = not (torch.is_grad_enabled() and x.requires_grad)
    p = x * coefs[0] + coefs[1]
    for coef in coefs[2:]:
        p = p.mul_(x).add_(coef) if in_place else p * x + coef
    return p


def _w_inner(z):
    ell = _WEIDEMAN_L
    denom = ell - 1j * z
    p = _horner((ell + 1j * z) / denom, _WEIDEMAN_A)
    return 2.0 * p / denom**2 + (1.0 / _SQRT_PI) / denom


def _w_series(z, coefs):
    # w(z) ~ i / (sqrt(pi) z) * sum_n (2n-1)!! / (2 z^2)^n
    s = _horner(0.5 / (z * z), [1.0, *coefs])
    return (1j / _SQRT_PI) * s / z


def _w_outer(z):
    """``w(z)`` and ``w'(z)`` for ``|z| >= _R`` from one asymptotic series.

    With ``S = sum_n (2n-1)!! / (2 z**2)**n``, ``w = i S / (sqrt(pi) z)``
    and ``w' = 2i / sqrt(pi) - 2 z w = -2i (S - 1) / sqrt(pi)``. The two
    terms of the first form of ``w'`` agree to ``1 / (2 z**2)`` of their
    size there: near the Lorentzian limit of a Voigt peak (``|z|`` up to
    ~1e6) float32 keeps no digit of their difference. The series gives
    ``S - 1`` directly, and ``w`` from it at no further cost. Values only
    (no autograd): the steps work in place.
    """
    inv = z.reciprocal()
    s_minus_1 = _series_minus_one(inv.square().mul_(0.5))
    dw = s_minus_1 * (-1j * _TWO_OVER_SQRT_PI)
    return s_minus_1.add_(1.0).mul_(inv).mul_(1j / _SQRT_PI), dw


def _faddeeva_and_derivative(z):
    """``w(z)`` and ``w'(z)`` for the analytic derivatives (values only).

    The asymptotic series is evaluated on the whole array (the points
    inside ``|z| < _R`` moved to ``_R``, where it is finite), then the
    rational approximation, and ``w' = 2i / sqrt(pi) - 2 z w``, replace it
    inside: most points of a spectrum lie far from each of its peaks, so
    that only the few near one are gathered and scattered.
    """
    inside = z.real.square().add_(z.imag.square()) < _R**2
    w, dw = _w_outer(z.masked_fill(inside, _R))
    if bool(inside.any()):
        z_in = z[inside]
        w_in = _w_inner(z_in)
        w[inside] = w_in
        dw[inside] = z_in.mul_(w_in).mul_(-2.0).add_(1j * _TWO_OVER_SQRT_PI)
    return w, dw


def _series_minus_one(q):
    """``S - 1`` of the asymptotic series ``S = sum_n (2n-1)!! q**n``."""
    return _horner(q, [1.0, *_SERIES[:-1], 0.0])


def faddeeva(z):
    """Faddeeva function ``w(z) = exp(-z**2) erfc(-iz)`` in the upper half plane.

    Weideman's rational approximation with 40 terms for ``|z| < 6`` and the
    asymptotic series outside (9 terms, 4 beyond ``|z| = 15``); relative
    error below 1e-6 wherever
    ``Re w(z)`` is not negligible (it is absolute, ~1e-13, elsewhere).
    Differentiable (autograd through complex ops).

    Parameters
    ----------
    z : torch.Tensor, complex
        Arguments with ``z.imag >= 0``.

    Returns
    -------
    w : torch.Tensor, complex
        ``w(z)``, same shape, dtype and device as ``z``.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.peaks._profiles import faddeeva
    >>> w = faddeeva(torch.tensor([0.0 + 1.0j], dtype=torch.complex128))
    >>> round(float(w.real[0]), 6)  # erfcx(1)
    0.427584
    """
    r2 = z.real.square() + z.imag.square()
    inner = r2 < _R**2
    far = r2 >= _R_FAR**2
    if bool(far.all()):
        return _w_series(z, _SERIES_FAR)
    # Masking (not torch.where) so that each formula only sees its region:
    # this keeps both the cost and the gradients finite.
    out = torch.empty_like(z)
    mid = ~(inner | far)
    for mask, fn in (
        (inner, _w_inner),
        (mid, lambda v: _w_series(v, _SERIES)),
        (far, lambda v: _w_series(v, _SERIES_FAR)),
    ):
        if bool(mask.any()):
            out = out.masked_scatter(mask, fn(z[mask]))
    return out


def voigt_widths(fwhm, shape):
    """Gaussian sigma and Lorentzian gamma of a Voigt peak.

    Parameters
    ----------
    fwhm : torch.Tensor
        Total FWHM of the Voigt peak.
    shape : torch.Tensor
        Lorentzian share of the width, ``f_L = shape * fwhm``, in [0, 1].

    Returns
    -------
    sigma : torch.Tensor
        Standard deviation of the Gaussian component, ``f_G / (2 sqrt(2 ln 2))``.
    gamma : torch.Tensor
        Half width at half maximum of the Lorentzian component, ``f_L / 2``.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.peaks._profiles import voigt_widths
    >>> s, g = voigt_widths(torch.tensor(2.0), torch.tensor(0.0))
    >>> round(float(s), 4), float(g)
    (0.8493, 0.0)
    """
    fwhm, shape = torch.broadcast_tensors(fwhm, shape)
    f_l = shape * fwhm
    f_g2 = (fwhm - _OL_A * f_l).square() - _OL_B * f_l.square()
    # At shape=1 f_G is exactly zero; a floor keeps z = (x + i gamma) / sigma
    # finite (the profile is then Lorentzian to ~1e-8).
    f_g = torch.sqrt(torch.clamp(f_g2, min=0.0) + (1e-6 * fwhm).square())
    return f_g * _FWHM_TO_SIGMA, 0.5 * f_l


def _erfcx_log_derivative(a, inv_e):
    """``erfcx'(a) / erfcx(a) = 2a - 2 / (sqrt(pi) erfcx(a))`` for ``a >= 0``.

    For large ``a`` (near the Lorentzian limit, up to ~1e6) the two terms
    agree to ``1 / (2 a**2)`` of their size, and even float64 keeps only a
    few digits of the difference. With ``sqrt(pi) a erfcx(a) = S``, it is
    ``2a (S - 1) / S``, and the asymptotic series gives ``S - 1`` directly.
    The direct form loses about ``2 eps a**2`` of the result, the series
    (8 terms) ~5e-8 at ``a = 6`` and ~1e-13 at ``a = 15``: float64 switches
    at 15, float32 at 6.
    """
    direct = 2.0 * a - _TWO_OVER_SQRT_PI * inv_e
    start = _R_FAR if a.dtype == torch.float64 else _R
    far = torch.clamp(a, min=start)
    s_minus_1 = _series_minus_one(-0.5 / (far * far))  # q = 1 / (2 z**2), z = i a
    return torch.where(a >= start, 2.0 * far * s_minus_1 / (1.0 + s_minus_1), direct)


def _voigt_unit(dx, f, s, derivatives):
    # In units of the FWHM: sigma = f * alpha, gamma = f * beta, so that the
    # derivatives with respect to f and s stay short.
    q = (1.0 - _OL_A * s).square() - _OL_B * s.square()
    # At s=1 the Gaussian width is exactly zero; the floor (1e-6 of the FWHM)
    # keeps z = (x + i gamma) / sigma finite, Lorentzian to ~1e-8.
    root = torch.sqrt(torch.clamp(q, min=0.0) + 1e-12)
    alpha = _FWHM_TO_SIGMA * root
    beta = 0.5 * s
    scale = math.sqrt(2.0) * f * alpha
    a = beta / (math.sqrt(2.0) * alpha)
    if not derivatives:
        u = dx / scale
        if u.dtype in (torch.float16, torch.bfloat16):
            # torch has no complex bfloat16 and few complex half operations:
            # the Faddeeva function is evaluated in float32
            low = u.dtype
            u, a = u.float(), a.float()
            z = torch.complex(u, a.expand_as(u))
            return (faddeeva(z).real * (1.0 / torch.special.erfcx(a))).to(low)
        z = torch.complex(u, a.expand_as(u))
        return faddeeva(z).real * (1.0 / torch.special.erfcx(a))
    # The analytic derivatives are values for the solver, not a graph.
    with torch.no_grad():
        inv_e = 1.0 / torch.special.erfcx(a)
        dq = torch.where(q > 0, -2.0 * _OL_A * (1.0 - _OL_A * s) - 2.0 * _OL_B * s, 0.0)
        dalpha = _FWHM_TO_SIGMA * 0.5 * dq / root
        da = (0.5 * alpha - beta * dalpha) / (math.sqrt(2.0) * alpha.square())
        de = _erfcx_log_derivative(a, inv_e)
        # per-peak factors of g and of its derivatives by centre, FWHM, shape
        factors = (
            inv_e,
            -inv_e / scale,
            -inv_e / f,
            -inv_e * dalpha / alpha,
            -inv_e * da,
            -de * da,
        )
        return _voigt_derivative_rows(dx, scale, a, factors)


def _voigt_derivative_rows(dx, scale, a, factors):
    """Return unit Voigt peaks and their derivatives, a chunk of rows at a time.

    ``dx`` is ``(..., n_points)``; ``scale``, ``a`` and the ``factors`` of
    :func:`_voigt_unit` hold one value per row (``(..., 1)``). On the CPU a
    chunk of about ``_CHUNK`` points keeps the ~40 passes over its complex
    intermediates in the processor's cache, which is faster than passes
    over a whole batch of spectra; a GPU takes all rows at once.
    """
    shape = torch.broadcast_shapes(dx.shape, scale.shape)
    n_rows, n_points = math.prod(shape[:-1]), shape[-1]

    def rows(t):
        return t.expand(*shape[:-1], t.shape[-1]).reshape(n_rows, t.shape[-1])

    dx, scale, a = rows(dx), rows(scale), rows(a)
    f_g, f_dc, f_df, f_ds1, f_ds2, f_ds3 = (rows(t) for t in factors)
    out = dx.new_empty((4, n_rows, n_points))
    g, dg_dc, dg_df, dg_ds = out
    step = max(1, _CHUNK // max(n_points, 1)) if dx.device.type == "cpu" else n_rows
    for i in range(0, n_rows, step):
        c = slice(i, i + step)
        u = dx[c] / scale[c]
        w, dw = _faddeeva_and_derivative(torch.complex(u, a[c].expand_as(u)))
        torch.mul(w.real, f_g[c], out=g[c])
        dwr = dw.real
        torch.mul(dwr, f_dc[c], out=dg_dc[c])
        udwr = u.mul_(dwr)
        torch.mul(udwr, f_df[c], out=dg_df[c])
        torch.mul(udwr, f_ds1[c], out=dg_ds[c])
        dg_ds[c].addcmul_(dw.imag, f_ds2[c]).addcmul_(g[c], f_ds3[c])
    return tuple(t.view(shape) for t in out)


def unit_peaks(dx, fwhm, shape, profile, derivatives=False):
    """Unit-height peaks, and optionally their derivatives: the one kernel.

    Every renderer of sktransfer (:func:`peak_profiles`,
    :func:`render_peaks`, the Levenberg-Marquardt solver and the synthetic
    spectra of :func:`~sktransfer.datasets.make_spectra`) evaluates its
    profiles here.

    Parameters
    ----------
    dx : torch.Tensor of shape (..., n_peaks, n_points)
        ``x - center``.
    fwhm, shape : torch.Tensor of shape (..., n_peaks, 1)
        FWHM and shape (``shape`` is unused by "gaussian" and "lorentzian"
        and may be None there).
    profile : {"gaussian", "lorentzian", "voigt", "pseudo_voigt"}
        Peak profile.
    derivatives : bool, default=False
        Also return the analytic derivatives.

    Returns
    -------
    g : torch.Tensor of shape (..., n_peaks, n_points)
        The unit-height profiles, when ``derivatives`` is False.
    g, dg_dc, dg_df, dg_ds : tuple of torch.Tensor
        With ``derivatives``: the profiles and their derivatives with respect
        to the centre, the FWHM and the shape (``dg_ds`` is None without a
        shape).
    """
    if profile == "voigt":
        return _voigt_unit(dx, fwhm, shape, derivatives)
    t = dx / fwhm
    k = 8.0 * _LN2
    gauss = torch.exp(-0.5 * k * t.square()) if profile != "lorentzian" else None
    lor = 1.0 / (1.0 + 4.0 * t.square()) if profile != "gaussian" else None
    if profile == "gaussian":
        g = gauss
    elif profile == "lorentzian":
        g = lor
    else:
        g = shape * lor + (1.0 - shape) * gauss
    if not derivatives:
        return g
    dgauss = gauss * k * t / fwhm if gauss is not None else None  # d/dc
    dlor = 8.0 * t * lor.square() / fwhm if lor is not None else None
    if profile == "gaussian":
        return g, dgauss, t * dgauss, None  # d/df = t * d/dc
    if profile == "lorentzian":
        return g, dlor, t * dlor, None
    dg_dc = shape * dlor + (1.0 - shape) * dgauss
    return g, dg_dc, t * dg_dc, lor - gauss


#: Peak values (spectra x peaks x points) that render_peaks renders at once.
_RENDER_CHUNK_VALUES = 2**21


def _as_tensor(value):
    """``torch.as_tensor``, but lists of floats read as float64, as in NumPy."""
    if isinstance(value, torch.Tensor):
        return value
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, RuntimeError, ValueError):
        # a list of tensors that NumPy cannot hold (on a GPU, or requiring
        # gradients): torch stacks them in their own dtype
        return torch.as_tensor(value)


def _whole_as_float64(value):
    """``value`` as float64 if it is a list or array of whole numbers, else as is."""
    if isinstance(value, torch.Tensor):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, RuntimeError, ValueError):
        return value  # a list of tensors: torch stacks them
    return array.astype(np.float64) if array.dtype.kind in "iu" else value


def _prepare(x, center, height, fwhm, shape):
    """Return the arguments as tensors in the dtype to compute in, and the output's.

    That is the wider of the floating dtypes of ``x`` and ``center``: a
    float64 axis far from zero keeps its resolution under float32 centres
    (``x - center`` near 20000 would be rounded to 2e-3 in float32). The
    output takes the dtype of ``center``.
    """
    center = _as_tensor(center)
    out = center.dtype if center.is_floating_point() else torch.get_default_dtype()
    dtype = out
    x = _as_tensor(x).to(center.device)
    if x.is_floating_point():
        dtype = torch.promote_types(dtype, x.dtype)
    center = center.to(dtype)
    x = x.to(dtype)
    height = torch.as_tensor(height, dtype=dtype, device=center.device)
    fwhm = torch.as_tensor(fwhm, dtype=dtype, device=center.device)
    if shape is not None:
        shape = torch.as_tensor(shape, dtype=dtype, device=center.device)
    return x, center, height, fwhm, shape, out


def peak_profiles(x, center, height, fwhm, shape=None, profile="voigt"):
    """Render each peak separately.

    Parameters
    ----------
    x : torch.Tensor of shape (n_points,)
        Spectral axis.
    center, height, fwhm : torch.Tensor of shape (..., n_peaks)
        Peak parameters (see the module docstring for the conventions).
    shape : torch.Tensor of shape (..., n_peaks) or None, default=None
        Lorentzian character in [0, 1]; required for "voigt" and
        "pseudo_voigt", ignored otherwise.
    profile : {"gaussian", "lorentzian", "voigt", "pseudo_voigt"}, default="voigt"
        Peak profile.

    Returns
    -------
    peaks : torch.Tensor of shape (..., n_peaks, n_points)
        One rendered peak per row.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.peaks._profiles import peak_profiles
    >>> x = torch.linspace(-5, 5, 11, dtype=torch.float64)
    >>> p = peak_profiles(x, torch.tensor([0.0]), torch.tensor([2.0]),
    ...                   torch.tensor([2.0]), profile="gaussian")
    >>> p.shape, float(p[0, 5]), float(p[0, 4])
    (torch.Size([1, 11]), 2.0, 1.0)
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}; got {profile!r}.")
    x, center, height, fwhm, shape, out = _prepare(x, center, height, fwhm, shape)
    if profile in ("voigt", "pseudo_voigt") and shape is None:
        raise ValueError(f"profile={profile!r} needs the shape parameter.")
    dx = x - center.unsqueeze(-1)
    f = fwhm.unsqueeze(-1)
    if shape is not None:
        dx, f, s = torch.broadcast_tensors(dx, f, shape.unsqueeze(-1))
        s = s[..., :1]
    else:
        dx, f = torch.broadcast_tensors(dx, f)
        s = None
    g = unit_peaks(dx, f[..., :1], s, profile)
    return (height.unsqueeze(-1) * g).to(out)


def render_peaks(x, center, height, fwhm, shape=None, profile="voigt"):
    """Render a sum of peaks on an axis (differentiable torch function).

    Read more in the :ref:`User Guide <peaks>`.

    Parameters
    ----------
    x : torch.Tensor or ndarray of shape (n_points,)
        Spectral axis.
    center : torch.Tensor or ndarray of shape (..., n_peaks)
        Peak positions (maxima), in axis units.
    height : torch.Tensor or ndarray of shape (..., n_peaks)
        Peak maxima (not areas).
    fwhm : torch.Tensor or ndarray of shape (..., n_peaks)
        Full widths at half maximum, in axis units.
    shape : torch.Tensor or ndarray of shape (..., n_peaks) or None, \
            default=None
        Lorentzian character in [0, 1]: eta for "pseudo_voigt", the
        Lorentzian share of the width for "voigt" (Olivero-Longbothum, see
        the module docstring). Required for "voigt" (the default profile)
        and "pseudo_voigt"; ignored for "gaussian" and "lorentzian".
    profile : {"gaussian", "lorentzian", "voigt", "pseudo_voigt"}, default="voigt"
        Peak profile. "voigt" is the exact convolution of a Gaussian and a
        Lorentzian, computed with the Faddeeva function.

    Returns
    -------
    spectrum : torch.Tensor of shape (..., n_points)
        The sum of the peaks, on the device and in the dtype of ``center``
        (float64 for a list or array of numbers, whole or not, as in NumPy;
        torch's default dtype for a tensor of whole numbers), computed in
        the wider of the dtypes of ``x`` and ``center``.

    Raises
    ------
    ValueError
        If ``profile`` is unknown, ``shape`` is missing for "voigt" or
        "pseudo_voigt", an argument is not finite real numbers, ``x`` is not
        1-D, the peak parameters do not broadcast to one shape
        ``(..., n_peaks)``, a ``fwhm`` is not positive or a ``shape`` lies
        outside [0, 1].

    Examples
    --------
    >>> import torch
    >>> from sktransfer.peaks import render_peaks
    >>> x = torch.linspace(0, 100, 201)
    >>> y = render_peaks(x, torch.tensor([30.0, 60.0]), torch.tensor([1.0, 2.0]),
    ...                  torch.tensor([5.0, 8.0]), torch.tensor([0.5, 0.2]))
    >>> y.shape
    torch.Size([201])
    >>> round(float(y[120]), 3)  # x = 60: the second maximum plus a tail
    2.003
    """
    x, center, height, fwhm, shape = map(_wrappable, (x, center, height, fwhm, shape))
    common = _check_render_inputs(x, center, height, fwhm, shape, profile)
    # whole numbers as NumPy promotes them, also where the rows go in chunks
    # (as tensors, which keep torch's default dtype)
    center = _whole_as_float64(center)
    if profile not in ("voigt", "pseudo_voigt"):
        shape = None  # ignored: it need not broadcast with the others
    n_points = len(x)
    rows = math.prod(common[:-1])
    if rows * common[-1] * n_points <= _RENDER_CHUNK_VALUES:
        return _render_peaks(x, center, height, fwhm, shape, profile)
    # Every peak is rendered on every point before the sum (complex
    # temporaries for "voigt"): rows in chunks keep that to tens of MiB.
    params = [_as_tensor(v) for v in (center, height, fwhm, shape) if v is not None]
    flat = [p.expand(common).reshape(rows, common[-1]) for p in params]
    if shape is None:
        flat.append(None)
    parts = [
        _render_peaks(x, *(None if p is None else p[sl] for p in flat), profile)
        for sl in row_slices(rows, common[-1] * n_points, _RENDER_CHUNK_VALUES)
    ]
    return torch.cat(parts).reshape(*common[:-1], n_points)


def _wrappable(value):
    """Return ``value``, or a copy of a NumPy array torch cannot wrap.

    ``torch.as_tensor`` refuses arrays with negative strides (a reversed
    axis), a non-native byte order, ``longdouble`` or ``object`` dtype; those
    are copied as a contiguous native array (``longdouble`` as float64, an
    ``object`` array in the dtype NumPy infers from its items). Read-only
    arrays, which it wraps with a warning, are copied too. Other containers
    with an ``__array__`` (pandas Series) become NumPy arrays first.
    """
    if (
        not isinstance(value, np.ndarray | torch.Tensor)
        and hasattr(value, "__array__")
        and not hasattr(value, "__torch_function__")
    ):
        # a pandas Series (or another array container): torch would read
        # it by label, which fails for any index but 0..n-1
        try:
            value = np.asarray(value)
        except (TypeError, ValueError, RuntimeError):
            return value  # an array on a GPU (CuPy): torch reads it there

    if not isinstance(value, np.ndarray):
        return value
    if value.dtype == object:
        return np.array(value.tolist())
    if value.dtype.kind == "f" and value.dtype.itemsize > 8:
        return value.astype(np.float64)
    if value.dtype.kind == "c" and value.dtype.itemsize > 16:
        return value.astype(np.complex128)
    if not value.dtype.isnative or any(s < 0 for s in value.strides):
        return np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("="))
    if not value.flags.writeable:
        # read-only (pandas' to_numpy): torch would warn that it wraps it
        return value.copy()
    return value


def _render_peaks(x, center, height, fwhm, shape=None, profile="voigt"):
    """:func:`render_peaks` without its input checks.

    For callers whose peak parameters are valid by construction: the peak
    decoder's forward pass, where the checks would cost a device
    synchronisation per batch.
    """
    return peak_profiles(x, center, height, fwhm, shape, profile).sum(dim=-2)


def _check_render_inputs(x, center, height, fwhm, shape, profile):
    """Raise a ValueError naming the first bad argument of :func:`render_peaks`.

    Returns the shape ``(..., n_peaks)`` the peak parameters broadcast to.
    """
    named = {"x": x, "center": center, "height": height, "fwhm": fwhm}
    if profile in ("voigt", "pseudo_voigt") and shape is not None:
        named["shape"] = shape
    values = {}
    for name, value in named.items():
        try:
            t = torch.as_tensor(value)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"{name} must be numbers; got {value!r}.") from exc
        if t.dtype == torch.bool or t.is_complex():
            raise ValueError(f"{name} must be real numbers; got dtype {t.dtype}.")
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must not contain NaN or infinity.")
        values[name] = t.detach()
    if values["x"].ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {tuple(values['x'].shape)}.")
    params = [name for name in values if name != "x"]
    shapes = ", ".join(f"{name} {tuple(values[name].shape)}" for name in params)
    try:
        common = torch.broadcast_shapes(*(values[name].shape for name in params))
    except RuntimeError:
        raise ValueError(
            f"{', '.join(params)} must broadcast to one shape (..., n_peaks); "
            f"got {shapes}."
        ) from None
    if len(common) == 0:
        raise ValueError(
            f"{', '.join(params)} need a last dimension of peaks, shape "
            f"(..., n_peaks); got {shapes}."
        )
    if not bool((values["fwhm"] > 0).all()):
        raise ValueError("fwhm must be > 0.")
    if "shape" in values and not bool(
        ((values["shape"] >= 0) & (values["shape"] <= 1)).all()
    ):
        raise ValueError("shape must lie in [0, 1] (the Lorentzian character).")
    return common


def peak_area(height, fwhm, shape=None, profile="voigt"):
    """Area of peaks from their height, FWHM and shape.

    Parameters
    ----------
    height, fwhm : torch.Tensor
        Peak maxima and full widths at half maximum.
    shape : torch.Tensor or None, default=None
        Lorentzian character (see :func:`render_peaks`).
    profile : {"gaussian", "lorentzian", "voigt", "pseudo_voigt"}, default="voigt"
        Peak profile.

    Returns
    -------
    area : torch.Tensor
        ``height * fwhm * sqrt(pi / (4 ln 2))`` (Gaussian),
        ``height * fwhm * pi / 2`` (Lorentzian), their eta-mix (pseudo-Voigt),
        ``height * sigma * sqrt(2 pi) / erfcx(gamma / (sigma sqrt 2))``
        (Voigt).

    Examples
    --------
    >>> import torch
    >>> from sktransfer.peaks._profiles import peak_area
    >>> round(float(peak_area(torch.tensor(1.0), torch.tensor(2.0), None,
    ...                       "lorentzian")), 4)
    3.1416
    """
    _, _, height, fwhm, shape, _ = _prepare(height, height, height, fwhm, shape)
    g_area = height * fwhm * math.sqrt(math.pi / (4.0 * _LN2))
    l_area = height * fwhm * math.pi / 2.0
    if profile == "gaussian":
        return g_area
    if profile == "lorentzian":
        return l_area
    if profile == "pseudo_voigt":
        return shape * l_area + (1.0 - shape) * g_area
    sigma, gamma = voigt_widths(fwhm, shape)
    a = gamma / (sigma * math.sqrt(2.0))
    return height * sigma * math.sqrt(2.0 * math.pi) / torch.special.erfcx(a)
