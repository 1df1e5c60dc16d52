"""Row-wise numerics of the preprocessing transformers (pure functions)."""

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator
from scipy.sparse import csr_array

from sktransfer.utils._chunks import row_slices

#: Points (rows x points per row) interpolated at once by the cubic and PCHIP
#: splines of :func:`resample_rows`: about 32 MiB of float64 coefficients.
_SPLINE_CHUNK_POINTS = 2**20


def rescaled_where_not_finite(rows_of, *arrays):
    """``rows_of(*arrays)`` row by row, rows that overflow computed rescaled.

    For a row-wise computation whose result does not change when a row (of
    each array) is multiplied by a positive number: a row whose values come
    near the largest float can overflow on the way (a sum, a range) while its
    result is representable. Such rows are divided by their largest
    magnitude first. Results that are finite are left as computed.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = rows_of(*arrays)
    bad = ~np.isfinite(out.reshape(len(out), -1)).all(axis=1)
    if np.any(bad):
        scaled = [divide_rows(a[bad], np.abs(a[bad]).max(axis=1)) for a in arrays]
        out[bad] = rows_of(*scaled)
    return out


def min_max_rows(X, low, high):
    """Scale each row to ``[low, high]``; constant rows become ``low``."""

    def scale(X):
        xmin = X.min(axis=1, keepdims=True)
        span = X.max(axis=1, keepdims=True) - xmin
        out = np.divide(X - xmin, span, out=np.zeros_like(X), where=span > 0)
        lo, hi = X.dtype.type(low), X.dtype.type(high)
        if np.isfinite(hi - lo):
            out *= hi - lo
            out += lo
        else:  # the range spans more than the dtype: a convex combination
            out = out * hi + (1 - out) * lo
        out[np.isinf(span[:, 0])] = np.nan  # the range overflowed: recompute
        return out

    return rescaled_where_not_finite(scale, X)


def pow2_scaled_rows(X):
    """``X`` with each row scaled exactly into ``[0.5, 1)`` by a power of two.

    Returns the scaled rows and the exponents, shape (n, 1): ``X`` is
    ``np.ldexp(scaled, exponent)``. Multiplying by a power of two is exact,
    so a computation on the scaled rows rounds exactly as on ``X``, without
    the squares of tiny values underflowing to zero (or of huge ones
    overflowing). Rows of zeros are left as they are.
    """
    _, exponent = np.frexp(np.abs(X).max(axis=1, keepdims=True))
    return np.ldexp(X, -exponent), exponent


def _snv(X):
    # SNV does not depend on the scale of a row: computed on rows scaled by
    # a power of two, tiny spectra keep their standard deviation.
    X = pow2_scaled_rows(X)[0]
    centred = X - X.mean(axis=1, keepdims=True)
    std = centred.std(axis=1, keepdims=True)
    out = np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)
    out[~np.isfinite(std[:, 0])] = np.nan  # overflowed on the way: recompute
    return out


def root_sum_squares_rows(X, divisor=1):
    """``sqrt(sum(X**2, axis=1) / divisor)`` without underflow or overflow.

    Computed on rows scaled by a power of two (exact), so the squares of
    tiny values do not underflow to zero, nor huge ones overflow; the result
    is scaled back the same way (dividing by 1 changes no bit).
    """
    scaled, exponent = pow2_scaled_rows(X)
    roots = np.sqrt(np.einsum("ij,ij->i", scaled, scaled) / divisor)
    with np.errstate(over="ignore"):
        return np.ldexp(roots, exponent[:, 0])


def snv_rows(X):
    """Centre each row and divide by its standard deviation; constant rows -> 0.

    Float32 rows are computed in float64 and the result rounded to float32:
    a float32 mean of a spectrum on a large offset (1e4 +- 1) is off by
    about 1e-4 of the spread, which the centred values keep.
    """
    if X.dtype != np.float64:
        return _snv(X.astype(np.float64)).astype(X.dtype)
    return rescaled_where_not_finite(_snv, X)


def row_norms(X, norm, x):
    """Area (trapezoid of ``|X|`` over ``x``), l1 or l2 norm of each row."""
    if norm == "l1":
        return np.abs(X).sum(axis=1)
    if norm == "l2":
        return root_sum_squares_rows(X)
    if X.shape[1] == 1:
        return np.zeros(X.shape[0], dtype=X.dtype)
    # The axis stays float64: rounded to float32, the steps of an axis far
    # from zero (4000 cm-1 in 0.05 steps) are off by up to a percent.
    # The area stays float64 too: the rows are divided by it in float64
    # (into their own dtype), so a float32 row of values near 1e-33 on an
    # axis of 1e-12 is not divided by an area rounded to float32's
    # subnormals (or to 0, which left the row unchanged).
    area = np.trapezoid(np.abs(X), x=x, axis=1)
    return np.abs(area)


def divide_rows(X, norms):
    """Divide each row by its norm; rows with a zero norm are left unchanged."""
    norms = norms[:, None]
    return np.divide(X, norms, out=X.copy(), where=norms > 0)


def normalize_rows(X, norm_of):
    """Divide each row of ``X`` by ``norm_of(rows)``, also when the norm overflows.

    A row of values near the largest float can have an area or a norm that
    is not representable (infinite) while the normalised row is; such rows
    are divided by their largest magnitude first. Rows with a zero norm are
    left unchanged; NaN entries are carried through.
    """
    with np.errstate(over="ignore"):
        norms = norm_of(X)
    out = divide_rows(X, norms)
    over = np.isinf(norms)
    if np.any(over):
        peak = np.nanmax(np.abs(X[over]), axis=1, keepdims=True)
        scaled = X[over] / peak
        out[over] = divide_rows(scaled, norm_of(scaled))
    return out


def linear_interp_matrix(x, grid):
    """Sparse matrix ``W`` such that ``X @ W`` interpolates rows of ``X`` linearly.

    ``x`` is strictly monotonic (either direction). Each column holds the two
    weights of the neighbouring points of one grid point; points outside the
    range of ``x`` are extrapolated from the end segment.
    """
    n, m = len(x), len(grid)
    if n == 1:
        return csr_array(np.ones((1, m)))
    ascending = x[0] < x[-1]
    xa = x if ascending else x[::-1]
    i = np.clip(np.searchsorted(xa, grid) - 1, 0, n - 2)
    w = (grid - xa[i]) / (xa[i + 1] - xa[i])
    rows = np.r_[i, i + 1]
    if not ascending:
        rows = n - 1 - rows
    cols = np.r_[np.arange(m), np.arange(m)]
    return csr_array((np.r_[1 - w, w], (rows, cols)), shape=(n, m))


def end_tolerance(x):
    """How far beyond an end of the axis ``x`` a value still is that end.

    1e-9 of the axis span or of its largest magnitude, whichever is larger:
    such overshoots come from rounding (an axis accumulated from 400 in
    36,000 steps of 0.1 ends at 3999.999999997, not 4000), and the end value
    is what is meant. Never more than 1 % of the axis's smallest step, so
    that on an axis far from zero with fine steps (400 MHz in steps of
    0.25 Hz) the next point is not taken for the end.
    """
    x = np.asarray(x, dtype=np.float64)
    tol = 1e-9 * max(float(np.ptp(x)), float(np.abs(x).max()))
    if x.size > 1:
        steps = np.diff(np.sort(x))
        steps = steps[steps > 0]
        if steps.size:
            tol = min(tol, 0.01 * float(steps.min()))
    return tol


def outside_range(grid, x):
    """Mask of the points of ``grid`` outside the range of the axis ``x``.

    A point beyond an end of ``x`` by less than :func:`end_tolerance` counts
    as inside.
    """
    lo, hi = min(x[0], x[-1]), max(x[0], x[-1])
    tol = end_tolerance(x)
    return (grid < lo - tol) | (grid > hi + tol)


def resample_rows(X, x, grid, method, fill_value, matrix=None):
    """Interpolate rows of ``X`` sampled on ``x`` at the points ``grid``.

    ``x`` must be strictly monotonic. Points of ``grid`` outside the range of
    ``x`` receive ``fill_value``. ``matrix`` is a precomputed
    :func:`linear_interp_matrix` for ``method="linear"``.
    """
    if method == "linear":
        if matrix is None:
            matrix = linear_interp_matrix(x, grid)
        # A sparse product is several times faster than per-row np.interp.
        out = np.asarray(X @ matrix.astype(X.dtype))
    else:
        if x[0] > x[-1]:
            x, X = x[::-1], X[:, ::-1]
        interp = CubicSpline if method == "cubic" else PchipInterpolator
        # A spline holds four float64 coefficients per point and row, and
        # its solver a few copies of the rows: rows in chunks bound that to
        # a few tens of MiB whatever the number of spectra. Each row's
        # spline depends on that row only, so the chunks change nothing.
        out = np.empty((X.shape[0], len(grid)), dtype=X.dtype)
        for rows in row_slices(X.shape[0], len(x), _SPLINE_CHUNK_POINTS):
            out[rows] = interp(x, X[rows], axis=1)(grid)
    outside = outside_range(grid, x)
    if np.any(outside):
        out[:, outside] = fill_value
    return out
