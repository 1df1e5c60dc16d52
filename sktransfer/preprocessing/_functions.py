"""Row-wise numerics of the preprocessing transformers (pure functions)."""

import numpy as np
from scipy.interpolate import CubicSpline, PchipInterpolator


def min_max_rows(X, low, high):
    """Scale each row to ``[low, high]``; constant rows become ``low``."""
    xmin = X.min(axis=1, keepdims=True)
    span = X.max(axis=1, keepdims=True) - xmin
    scale = np.where(span > 0, span, 1)
    out = (X - xmin) / scale
    out[np.broadcast_to(span == 0, out.shape)] = 0
    return (out * (high - low) + low).astype(X.dtype, copy=False)


def snv_rows(X):
    """Centre each row and divide by its standard deviation; constant rows -> 0."""
    centred = X - X.mean(axis=1, keepdims=True)
    std = centred.std(axis=1, keepdims=True)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)


def row_norms(X, norm, x):
    """Area (trapezoid of ``|X|`` over ``x``), l1 or l2 norm of each row."""
    if norm == "l1":
        return np.abs(X).sum(axis=1)
    if norm == "l2":
        # Dividing by the largest magnitude first avoids overflow of the squares.
        peak = np.abs(X).max(axis=1)
        safe = np.where(peak > 0, peak, 1)
        return safe * np.sqrt(
            np.einsum("ij,ij->i", X / safe[:, None], X / safe[:, None])
        )
    if X.shape[1] == 1:
        return np.zeros(X.shape[0], dtype=X.dtype)
    return np.abs(np.trapezoid(np.abs(X), x=x.astype(X.dtype), axis=1))


def divide_rows(X, norms):
    """Divide each row by its norm; rows with a zero norm are left unchanged."""
    norms = norms[:, None]
    return np.divide(X, norms, out=X.copy(), where=norms > 0)


def resample_rows(X, x, grid, method, fill_value):
    """Interpolate rows of ``X`` sampled on ``x`` at the points ``grid``.

    ``x`` must be strictly monotonic. Points of ``grid`` outside the range of
    ``x`` receive ``fill_value``.
    """
    if x[0] > x[-1]:
        x, X = x[::-1], X[:, ::-1]
    dtype = X.dtype
    if method == "linear":
        if len(x) == 1:
            out = np.repeat(X, len(grid), axis=1)
        else:
            i = np.clip(np.searchsorted(x, grid) - 1, 0, len(x) - 2)
            w = ((grid - x[i]) / (x[i + 1] - x[i])).astype(dtype)
            out = X[:, i] * (1 - w) + X[:, i + 1] * w
    else:
        interp = CubicSpline if method == "cubic" else PchipInterpolator
        out = interp(x, X, axis=1)(grid).astype(dtype, copy=False)
    outside = (grid < x[0]) | (grid > x[-1])
    if np.any(outside):
        out[:, outside] = fill_value
    return out
