"""Fit spectra that each have their own peaks, batch by batch (numpy in and out).

The one driver behind :class:`~sktransfer.peaks.PeakProfileFitter` (every
spectrum with the same initial peaks) and
:func:`~sktransfer.peaks.fit_peak_table` (every spectrum with its own): a
batch holds up to ``n_peaks`` peaks per spectrum, and a spectrum with fewer
has its remaining blocks masked.
"""

import numbers
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch

from sktransfer._validation import (
    InvalidParameterError,
    check_option,
    check_param,
    check_real,
)
from sktransfer.peaks._layout import BASELINES
from sktransfer.peaks._profiles import PROFILES, unit_peaks
from sktransfer.peaks._solver import Bounds, levenberg_marquardt
from sktransfer.utils._memory import available_memory as _available_memory
from sktransfer.utils._torch import resolve_device

#: Initial shape (Lorentzian character) of every peak.
SHAPE_INIT = 0.5
#: Share of its tolerance beyond which a fitted centre counts as held by it.
_PINNED = 0.98
#: Working memory of the fit of one batch, in bytes: a batch whose fit would
#: need more (see :func:`_fit_bytes`) is fitted a few spectra at a time.
_FIT_MEMORY_BUDGET = 512 * 2**20
#: Arrays the size of a spectrum's Jacobian (n_params x n_points values)
#: alive at once at the peak of its fit: 3.1 for Gaussian and Lorentzian
#: peaks, 3.6 for Voigt and pseudo-Voigt ones (the complex Faddeeva values
#: of the initial heights), 4.7 for Voigt peaks on a GPU (their derivatives
#: on every row at once). Batches are sized by the most; a single spectrum
#: that needs more than the free memory by the least cannot be fitted.
_JACOBIANS_MOST, _JACOBIANS_LEAST = 5, 3


def _fit_bytes(n_params, n_points, itemsize, jacobians=_JACOBIANS_MOST):
    """Bytes of working memory of the fit of one spectrum.

    ``jacobians`` arrays of its Jacobian's size, and the normal equations
    (a few float64 matrices of ``n_params**2`` values, which matter only
    where the parameters approach the points in number).
    """
    return n_params * (jacobians * n_points * itemsize + 32 * n_params)


def _batches(counts, batch_size, layout, n_points, itemsize):
    """Yield slices of the consecutive spectra fitted together.

    ``batch_size`` spectra at a time, each such batch split into fewer
    where the fit of all of them would need more than
    ``_FIT_MEMORY_BUDGET`` bytes (down to one spectrum at a time). The
    fits of the spectra of a batch are independent, so the split changes
    no result beyond rounding.
    """
    n = counts.size
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        k = int(counts[start:stop].max(initial=0))
        need = _fit_bytes(layout.with_peaks(k).n_params, n_points, itemsize)
        step = max(1, _FIT_MEMORY_BUDGET // max(need, 1))
        for first in range(start, stop, step):
            yield slice(first, min(first + step, stop))


def _check_memory(layout, n_points, itemsize, device):
    """Refuse, up front, a fit whose single spectrum cannot fit in memory."""
    need = _fit_bytes(layout.n_params, n_points, itemsize, _JACOBIANS_LEAST)
    free = _available_memory(device)
    if free is not None and need > free:
        raise MemoryError(
            f"Fitting one spectrum of {n_points} points with {layout.n_peaks} "
            f"peaks ({layout.n_params} parameters) needs at least "
            f"{need / 2**30:.3g} GiB of memory, but only {free / 2**30:.3g} GiB "
            f"are free on device {str(device)!r}. Fit fewer peaks (n_peaks or "
            "centers), cut the spectra to a shorter range "
            "(sktransfer.preprocessing.RangeCut) or resample them to fewer "
            "points (sktransfer.preprocessing.Resampler)."
        )


def _initial_theta(x, u, Y, bounds, f0, layout):
    """Heights and baseline from a linear least-squares fit, peaks as given.

    Heights and baseline terms are linear in the model: each spectrum gets
    their least-squares values with its initial centres and widths
    (normal equations solved in float64, padded peaks held at zero).
    """
    n, k = bounds.c0.shape
    s0 = torch.full_like(f0, SHAPE_INIT)
    g = unit_peaks(
        x - bounds.c0[..., None], f0[..., None], s0[..., None], layout.profile
    )
    g = g * bounds.mask[..., None]
    extra = torch.stack([torch.ones_like(x), u])[: layout.n_base]
    basis = torch.cat([g, extra.expand(n, -1, -1)], dim=1).double()
    gram = basis @ basis.transpose(1, 2)
    diag = torch.diagonal(gram, dim1=1, dim2=2)
    # A ridge of 1e-10 of the largest diagonal keeps padded (all-zero) and
    # coincident peaks solvable; padded heights come out as exactly zero.
    ridge = 1e-10 * diag.amax(-1, keepdim=True).clamp(min=1e-300) + (diag == 0)
    gram = gram + torch.diag_embed(ridge.expand_as(diag))
    coef = torch.linalg.solve(gram, (basis @ Y.double().unsqueeze(-1)).squeeze(-1))
    coef = coef.to(Y.dtype)
    h0 = coef[:, :k].clamp(min=0.0)
    parts = bounds.to_theta(bounds.c0, h0, f0, s0)
    return layout.pack(parts, coef[:, k:], lib=torch)


def fit_spectra(
    X,
    x_axis,
    centers,
    fwhm,
    center_tolerance,
    counts,
    *,
    fwhm_bounds,
    layout,
    max_iter,
    tol,
    batch_size,
    device,
):
    """Fit every spectrum with its own initial peaks, in batches.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_points), float32 or float64
        Spectra (validated, finite).
    x_axis : ndarray of shape (n_points,)
        Strictly monotonic axis.
    centers, fwhm, center_tolerance : ndarray of shape (n_spectra, n_peaks)
        Initial centres, initial widths and allowed centre movement of each
        spectrum's peaks; entries beyond ``counts`` are ignored. May be
        broadcast views.
    counts : ndarray of int, shape (n_spectra,)
        Number of peaks of each spectrum (at most ``n_peaks``).
    fwhm_bounds : tuple of (float, float)
        FWHM bounds of every peak.
    layout : PeakLayout
        Layout with ``n_peaks`` blocks.
    max_iter, tol :
        Solver settings (see :func:`levenberg_marquardt`).
    batch_size : int
        Spectra per batch. Consecutive spectra share a batch, and a batch
        carries as many peak blocks as its spectrum with the most peaks. A
        batch whose fit would need more than ``_FIT_MEMORY_BUDGET`` bytes is
        fitted a few spectra at a time (see :func:`_batches`).
    device : torch.device
        Device of the fit.

    Returns
    -------
    result : Bunch
        ``peaks`` (n_spectra, n_peaks, 4) physical centre, height, FWHM and
        shape (NaN beyond ``counts``; shape NaN without one), ``baseline``
        (n_spectra, 2) offset at the axis midpoint and slope per axis unit
        (NaN where the baseline model has no such term), ``reconstruction``,
        ``r2``, ``rmse``, ``converged`` and ``n_iter`` per spectrum, and
        ``center_at_bound`` (n_spectra, n_peaks): whether each peak's centre
        ended at the edge of its tolerance (False beyond ``counts``).

    Raises
    ------
    MemoryError
        If the fit of a single spectrum with ``layout``'s peaks cannot fit
        in the memory available on ``device``.
    """
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    itemsize = torch.finfo(dtype).bits // 8
    _check_memory(layout, X.shape[1], itemsize, device)
    n, k_all = centers.shape
    mid, half = 0.5 * (x_axis[0] + x_axis[-1]), 0.5 * (x_axis[-1] - x_axis[0])
    # A float32 fit works on the axis less its midpoint, taken off in
    # float64: in float32, an axis far from zero (1e5 in steps of 0.01) would
    # lose the positions of its points, and the centres with them. A float64
    # fit keeps the axis as it is (its rounding is harmless there, and the
    # fits of poorly determined peaks follow the last bits).
    shift = mid if dtype == torch.float32 else 0.0
    x = torch.tensor(x_axis - shift, dtype=dtype, device=device)
    u = (x - (mid - shift)) / half
    X = np.ascontiguousarray(X)
    peaks = np.full((n, k_all, 4), np.nan)
    baseline = np.full((n, 2), np.nan)
    fitted_all = np.empty_like(X)
    # Diagnostics on the scaled spectra (no overflow for huge values), taken
    # batch by batch: the whole scaled spectra and their residuals were
    # four float64 copies of X at once.
    ss_res, ss_tot, row_scale = np.empty(n), np.empty(n), np.empty(n)
    converged = np.zeros(n, dtype=bool)
    pinned = np.zeros((n, k_all), dtype=bool)
    n_iter = np.zeros(n, dtype=np.int64)
    like = {"dtype": dtype, "device": device}
    for rows in _batches(counts, batch_size, layout, X.shape[1], itemsize):
        # A float32 fit with an offset term works on each spectrum less its
        # mean, taken off in float64 (the offset takes it back): float32
        # keeps about 7 digits of the values, and a peak of height 1 on an
        # offset of 1000 lost 3 of them (widths and heights off by
        # percents). A float64 fit keeps the values as they are.
        Xr = X[rows].astype(np.float64)
        level = np.zeros((len(Xr), 1))
        if dtype == torch.float32 and layout.n_base:
            level = Xr.mean(axis=1, keepdims=True)
            Xr = Xr - level
        # Each spectrum is fitted divided by its largest magnitude, so that
        # neither the fit nor its tolerances depend on the units of X.
        scale = np.abs(Xr).max(axis=1, keepdims=True)
        # a constant spectrum (nothing left after its mean) keeps the scale
        # of its values, so that its fit does not depend on their units
        flat = scale[:, 0] == 0
        scale[flat] = np.abs(X[rows][flat]).max(axis=1, keepdims=True)
        scale[scale == 0] = 1.0
        row_scale[rows] = scale[:, 0]
        Y = torch.tensor(Xr / scale, **like)
        k = int(counts[rows].max(initial=0))
        sub = layout.with_peaks(k)
        if sub.n_params == 0:
            fitted_all[rows] = 0.0
            ss_res[rows], ss_tot[rows] = _sums_of_squares(Xr, scale, 0.0)
            converged[rows] = True
            continue
        mask = np.arange(k) < counts[rows, None]
        top, low = Y.amax(-1, keepdim=True), Y.amin(-1, keepdim=True)
        h_scale = torch.where(top - low > 0, top - low, top.abs().clamp(min=1.0))
        # Padded blocks get harmless finite values; the mask zeroes them.
        c0 = np.where(mask, centers[rows, :k] - shift, mid - shift)
        f0 = np.where(mask, fwhm[rows, :k], 0.5 * sum(fwhm_bounds))
        bounds = Bounds(
            torch.tensor(c0, **like),
            torch.tensor(np.where(mask, center_tolerance[rows, :k], 1.0), **like),
            torch.full(c0.shape, fwhm_bounds[0], **like),
            torch.full(c0.shape, fwhm_bounds[1], **like),
            h_scale.expand(*c0.shape),
            torch.tensor(mask, **like),
        )
        theta = _initial_theta(x, u, Y, bounds, torch.tensor(f0, **like), sub)
        theta, fitted, conv, it = levenberg_marquardt(
            x, u, Y, theta, bounds, sub, max_iter, tol
        )
        phys = bounds.physical(theta, sub).cpu().numpy().astype(np.float64)
        # a centre held at the edge of its tolerance box: the peak is
        # elsewhere (or absent), the fit stopped against the bound
        moved = np.abs(sub.unpack(phys)[0][0] - c0) / center_tolerance[rows, :k]
        pinned[rows, :k] = (moved > _PINNED) & mask
        (fields, base) = sub.unpack(phys)
        block = np.stack(fields, -1)
        block[..., 0] += shift
        # back to the units of X: a height or baseline term near zero (a
        # peak absent from a spectrum) may underflow, harmlessly, also
        # under np.errstate(all="raise")
        with np.errstate(under="ignore"):
            block[..., 1] *= scale
            if sub.n_base:
                baseline[rows, : sub.n_base] = base * scale
                baseline[rows, 0] += level[:, 0]
                if sub.n_base == 2:
                    baseline[rows, 1] /= half
            scaled = fitted.cpu().numpy().astype(np.float64)
            fitted_all[rows] = scaled * scale + level
        block[~mask] = np.nan
        peaks[rows, :k, : sub.n_per_peak] = block
        ss_res[rows], ss_tot[rows] = _sums_of_squares(Xr, scale, scaled)
        converged[rows] = conv.cpu().numpy()
        n_iter[rows] = it.cpu().numpy()
    # A constant spectrum (of zeros, say) has no variance to explain: its r2
    # is the share of its sum of squares the fit explains, 1 - ss_res / n on
    # the rows scaled to a largest magnitude of 1 (a rounding residual gave
    # 0 for a perfect fit).
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, 1.0 - ss_res / X.shape[1])
    return Bunch(
        peaks=peaks,
        baseline=baseline,
        reconstruction=fitted_all,
        r2=r2,
        rmse=np.sqrt(ss_res / X.shape[1]) * row_scale,
        converged=converged,
        center_at_bound=pinned,
        n_iter=n_iter,
    )


def _sums_of_squares(X, scale, scaled):
    """Residual and total sums of squares of rows ``X / scale`` fitted by ``scaled``."""
    with np.errstate(under="ignore"):  # squares of tiny residuals
        Xs = X / scale
        ss_res = ((Xs - scaled) ** 2).sum(axis=1, dtype=np.float64)
        ss_tot = ((Xs - Xs.mean(axis=1, keepdims=True)) ** 2).sum(
            axis=1, dtype=np.float64
        )
    return ss_res, ss_tot


def warn_not_converged(converged, max_iter, stacklevel):
    """Raise a ConvergenceWarning naming the spectra that did not converge."""
    if converged.all():
        return
    bad = np.flatnonzero(~converged)
    shown = ", ".join(map(str, bad[:10])) + (", ..." if bad.size > 10 else "")
    warnings.warn(
        f"The peak fit of {bad.size} of {converged.size} spectra did not "
        f"converge (spectra {shown}): max_iter={max_iter} was reached or the "
        "fit stalled; increase max_iter or tol, or check those spectra.",
        ConvergenceWarning,
        stacklevel=stacklevel + 1,
    )


def warn_given_centres_at_bound(at_bound, given, r2, name, stacklevel, centers=None):
    """Warn where given centres ended at the edge of their tolerance, in poor fits.

    ``at_bound`` (n_spectra, n_peaks) says whether each fitted centre was
    held at the edge of its tolerance, ``given`` whether there is a given
    centre there, ``r2`` the fit of each spectrum. With ``centers``
    (n_peaks,), the centres every spectrum was given, a peak held in at
    least half of the spectra is named; else half of all the given centres
    held is warned of. Held alone, a centre may mark a band that is weak or
    absent in those spectra (a reference list of bands); held where the
    fits are poor too (median R2 below 0.8 over those spectra), it was
    given off its band (a calibration offset, a table of another
    instrument), and nothing else says so.
    """
    held_rows = (at_bound & given).any(axis=1)
    if not held_rows.any() or np.median(r2[held_rows]) >= 0.8:
        return
    if centers is None:
        n_given, n_held = int(given.sum()), int((at_bound & given).sum())
        if n_given == 0 or 2 * n_held < n_given:
            return
        what = f"{n_held} of {n_given} given centres ended"
    else:
        share = (at_bound & given).mean(axis=0)
        held = np.flatnonzero(share >= 0.5)
        if held.size == 0:
            return
        shown = ", ".join(
            f"{c:.6g} in {s:.0%}" for c, s in zip(centers[held], share[held])
        )
        what = (
            f"{held.size} of {len(share)} given centres ended, in at least half "
            f"of the spectra ({shown}),"
        )
    warnings.warn(
        f"{name}: {what} at the edge of center_tolerance, and the fits of "
        f"those spectra are poor (median R2 {np.median(r2[held_rows]):.2f}): "
        "the peaks lie further away than the tolerance lets them move. "
        "Correct the centres (an axis offset?) or widen center_tolerance.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


def _real_number(value):
    """Whether ``value`` is one real number (also a 0-d array or tensor), not a bool."""
    if isinstance(value, bool | np.bool_ | str | bytes):
        return False
    if isinstance(value, numbers.Real):
        return True
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return False
    return array.ndim == 0 and array.dtype.kind in "iuf"


def default_fwhm_bounds(x, fwhm_bounds):
    """FWHM bounds: validated ``fwhm_bounds``, or one step to a quarter span."""
    step = float(np.abs(np.diff(x)).min())
    if fwhm_bounds is None:
        return step, max(float(np.ptp(x)) / 4.0, 2.0 * step)
    # numbers only: float() read "15" as the pair (1.0, 5.0), and a bool
    # as 0 or 1
    if (
        isinstance(fwhm_bounds, str | bytes)
        or not hasattr(fwhm_bounds, "__len__")
        or len(fwhm_bounds) != 2
        or not all(_real_number(v) for v in fwhm_bounds)
    ):
        raise InvalidParameterError(
            f"fwhm_bounds must be a pair of numbers (low, high); got {fwhm_bounds!r}."
        )
    lo, hi = (float(v) for v in fwhm_bounds)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise ValueError(
            f"fwhm_bounds must satisfy 0 < low < high; got {fwhm_bounds!r}."
        )
    return lo, hi


def initial_widths(x, fwhm, fwhm_bounds, center_tolerance, given=False, stacklevel=2):
    """Return initial FWHM inside the bounds and the allowed centre movement.

    A width that could not be measured (0) starts at four axis steps;
    ``center_tolerance=None`` lets a centre move by half its initial width
    (at least one axis step). Where the bounds were ``given`` and every
    measured width lies more than 3 times beyond them, a ``UserWarning``
    asks whether they are in the units of the axis (every width would be
    held at a bound).
    """
    step = float(np.abs(np.diff(x)).min())
    lo, hi = fwhm_bounds
    measured = np.asarray(fwhm)[np.asarray(fwhm) > 0]
    # (bounds that clip the widths somewhat can be meant: only widths more
    # than 3 times beyond them warn)
    far = measured.size and (measured.max() < lo / 3 or measured.min() > 3 * hi)
    if given and far:
        warnings.warn(
            f"every starting peak width ({measured.min():.3g} to "
            f"{measured.max():.3g}, measured on the spectra) lies far outside "
            f"fwhm_bounds=({lo:g}, {hi:g}), so every width starts held at a "
            f"bound: are the bounds in the units of x_axis (step {step:.3g}, "
            f"span {float(np.ptp(x)):.3g})? Or do the spectra carry a broad "
            "background (correct the baseline first)?",
            UserWarning,
            stacklevel=stacklevel + 1,
        )
    fwhm = np.where(fwhm > 0, fwhm, 4.0 * step)
    # Strictly inside the bounds, where the solver's sigmoid moves; a margin
    # of the span would start every peak narrower than span/400 at that
    # width (a 3 cm-1 line on a 3400-point axis, started at 9.5 cm-1).
    fwhm = np.clip(fwhm, lo + 0.01 * min(lo, hi - lo), hi - 0.01 * (hi - lo))
    if center_tolerance is None:
        return fwhm, np.maximum(0.5 * fwhm, step)
    return fwhm, np.full(fwhm.shape, float(center_tolerance))


def check_centers(centers, x, where=""):
    """Return the centres validated, sorted and inside the axis range."""
    check_real(centers, f"centers{where}")
    try:
        given = np.asarray(centers)
        if given.dtype.kind not in "iuf":  # booleans, text, objects
            raise TypeError("centres are numbers")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"centers{where} must be numbers; got {centers!r}.") from exc
    if given.ndim > 1:
        raise ValueError(
            f"centers{where} must be one centre per peak, a 1-D sequence; got an "
            f"array of shape {given.shape}."
        )
    centers = given.astype(np.float64).ravel()
    if not np.all(np.isfinite(centers)):
        raise ValueError(f"centers{where} must be finite numbers.")
    lo, hi = x.min(), x.max()
    outside = centers[(centers < lo) | (centers > hi)]
    if outside.size:
        raise ValueError(
            f"centers{where} {outside.tolist()} lie outside the axis range "
            f"[{lo:g}, {hi:g}]."
        )
    return np.sort(centers)


def pad_ragged(arrays, n_peaks=None):
    """Stack 1-D arrays of different lengths into a NaN-padded matrix.

    Returns the (n, max_len) matrix and the length of each row.
    """
    counts = np.array([a.size for a in arrays], dtype=np.int64)
    width = int(counts.max(initial=0)) if n_peaks is None else n_peaks
    out = np.full((len(arrays), width), np.nan)
    for i, a in enumerate(arrays):
        out[i, : a.size] = a
    return out, counts


def check_fit_params(
    profile, baseline, n_peaks, center_tolerance, max_iter, tol, batch_size, device
):
    """Validate the settings shared by every peak fit; return the device."""
    check_option(profile, "profile", PROFILES)
    check_option(baseline, "baseline", tuple(BASELINES))
    if n_peaks is not None:
        check_param(n_peaks, "n_peaks", "int", low=1)
    if center_tolerance is not None:
        check_param(center_tolerance, "center_tolerance", low=0, closed="neither")
    check_param(max_iter, "max_iter", "int", low=1)
    check_param(tol, "tol", low=0)
    check_param(batch_size, "batch_size", "int", low=1)
    return resolve_device(device)
