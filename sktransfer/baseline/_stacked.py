"""airPLS, arPLS, AsLS and ModPoly baselines of many spectra at once.

The spectra of a chunk share one axis, so their fits share most of the
work. The Whittaker methods (airPLS, arPLS, AsLS) stack their weighted
systems into one block-diagonal banded system, solved with one call per
reweighting pass; ModPoly's polynomial fits are one matrix product with the
pseudo-inverse of the shared Vandermonde matrix. The reweighting or clipping
is vectorised over the spectra, and each spectrum leaves the stack when it
stops. A per-spectrum loop spends most of its time on per-call overhead of a
small problem; here that overhead is paid once per pass for the whole stack.

Every spectrum follows the passes of the pybaselines method of the same name
(version 1.2): the same initial weights, weighting rules, tolerances,
stopping rules and early exits, and for the Whittaker methods the same
banded solver (pentapy for ``diff_order=2`` where it is installed, LAPACK's
banded Cholesky otherwise). Baselines agree with a pybaselines loop to
rounding; the number of passes is the same unless a tolerance lands within
rounding of ``tol``.
"""

import inspect
import warnings
from math import comb

import numpy as np
from numpy.polynomial import polyutils
from numpy.polynomial.polynomial import polyvander
from pybaselines import Baseline
from pybaselines.utils import ParameterWarning
from scipy import sparse
from scipy.linalg import solveh_banded
from scipy.special import expit

try:
    import pentapy
except ImportError:  # pragma: no cover - pentapy is a dependency
    pentapy = None

#: Keyword arguments each stacked method understands; any other (such as
#: initial ``weights``) leaves the spectra to pybaselines' own loop.
_KWARGS = {
    "airpls": {"lam", "diff_order", "max_iter", "tol", "normalize_weights"},
    "arpls": {"lam", "diff_order", "max_iter", "tol"},
    "asls": {"lam", "p", "diff_order", "max_iter", "tol"},
    "modpoly": {"poly_order", "max_iter", "tol", "use_original", "mask_initial_peaks"},
}

#: Points per stack: bounds the memory beyond the output (about 100 bytes a
#: point; stacks are converted to float64 one at a time) whatever the
#: chunk's size; the sizes were the fastest on 1024-point
#: spectra (a stack that fits in the CPU's caches).
_STACK_POINTS = {"whittaker": 2**17, "modpoly": 2**15}

#: Smallest standard deviation and norm used in a division, as in pybaselines.
_EPS = np.finfo(float).eps


def stacks(method, kwargs):
    """Whether ``method`` with ``kwargs`` is computed here.

    Parameters
    ----------
    method : str
        pybaselines method name.
    kwargs : dict
        Keyword arguments the method is called with.

    Returns
    -------
    bool
        True for airPLS, arPLS and AsLS with difference orders 1 to 3, and
        ModPoly without ``mask_initial_peaks``, when no other arguments
        (such as initial ``weights``) are given.
    """
    known = _KWARGS.get(method)
    if known is None or not set(kwargs) <= known:
        return False
    kwargs = _with_defaults(method, kwargs)
    if method == "modpoly":
        return not kwargs["mask_initial_peaks"]
    return int(kwargs["diff_order"]) in (1, 2, 3)


def method_default(method, name):
    """Default value of keyword ``name`` of a pybaselines method, or None."""
    param = inspect.signature(getattr(Baseline, method)).parameters.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def _with_defaults(method, kwargs):
    """``kwargs`` completed with the defaults of the pybaselines method."""
    return {name: method_default(method, name) for name in _KWARGS[method]} | kwargs


def penalty_bands(n_points, diff_order):
    """Bands of the difference penalty ``D.T @ D`` of one spectrum.

    Parameters
    ----------
    n_points : int
        Points per spectrum (more than ``diff_order``).
    diff_order : int
        Order of the finite differences.

    Returns
    -------
    bands : ndarray of shape (2 * diff_order + 1, n_points)
        LAPACK's general banded layout: ``bands[diff_order + i - j, j]`` is
        entry ``(i, j)``; the corners outside the matrix are zero.
    """
    d = diff_order
    coef = [(-1) ** (d - k) * comb(d, k) for k in range(d + 1)]
    D = sparse.diags_array(
        coef, offsets=list(range(d + 1)), shape=(n_points - d, n_points), dtype=float
    )
    penalty = (D.T @ D).todia()
    bands = np.zeros((2 * d + 1, n_points))
    for k in range(-d, d + 1):
        diagonal = penalty.diagonal(k)
        if k >= 0:
            bands[d - k, k:] = diagonal
        else:
            bands[d - k, : n_points + k] = diagonal
    return bands


def _relative_change(old, new):
    """``norm(new - old) / norm(old)`` of every row, as pybaselines has it."""
    change = new - old
    change = np.sqrt(np.einsum("ij,ij->i", change, change))
    return change / np.maximum(np.sqrt(np.einsum("ij,ij->i", old, old)), _EPS)


def _negative_parts(state, baseline):
    """Residuals and their negative part: mask, count, sum, values, early stop.

    A row with fewer than two negative residuals stops early, as in
    pybaselines' airPLS and arPLS.
    """
    residual = state["y"] - baseline
    negative = residual < 0
    count = np.count_nonzero(negative, axis=1)
    kept = np.where(negative, residual, 0.0)
    return residual, negative, count, kept.sum(axis=1), kept, count < 2


def _asls_weights(state, baseline, kwargs, _):
    p = kwargs["p"]
    new = np.where(state["y"] > baseline, p, 1 - p)
    return new, _relative_change(state["weights"], new), None


def _arpls_weights(state, baseline, kwargs, _):
    residual, negative, count, total, kept, early = _negative_parts(state, baseline)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / count
        kept -= mean[:, None]
        kept *= negative
        std = np.sqrt(np.einsum("ij,ij->i", kept, kept) / (count - 1))
        # residuals above about 1e154 overflow when squared, and below about
        # 1e-154 underflow: those rows are scaled first (the others keep
        # their numbers bit for bit)
        big = ~early & (np.isinf(std) | ((std == 0) & np.any(kept != 0, axis=1)))
        if big.any():
            top = np.abs(kept[big]).max(axis=1, keepdims=True)
            unit = kept[big] / top
            std[big] = top[:, 0] * np.sqrt(
                np.einsum("ij,ij->i", unit, unit) / (count[big] - 1)
            )
    std[early | (std == 0)] = _EPS
    residual -= (2 * std - mean)[:, None]
    residual *= (-2 / std)[:, None]
    new = expit(residual, out=residual)
    return new, _relative_change(state["weights"], new), early


def _airpls_weights(state, baseline, kwargs, iteration):
    residual, negative, _, total, _, early = _negative_parts(state, baseline)
    log_max = np.log(np.finfo(float).max)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a row without negative residuals (it stops early) gives inf * 0
        scale = min(iteration, 50) / total
        tol_value = np.abs(total) / state["y_l1_norm"]
        inner = np.clip(scale[:, None] * residual, 0, log_max - np.spacing(log_max))
    new = np.where(negative, np.exp(inner), 0.0)
    if kwargs["normalize_weights"]:
        # only the negative residuals have non-zero weights
        new /= np.maximum(new.max(axis=1, keepdims=True), _EPS)
    return new, tol_value, early


#: Methods whose ``tol_history`` holds one tolerance per iteration, at most
#: ``max_iter``; the others with a 1-D history record one more, for the fit
#: before the first reweighting (``dietrich`` one fewer: its first fit has no
#: predecessor to compare with).
_ONE_TOL_PER_ITER = frozenset({"imodpoly", "modpoly", "penalized_poly", "ria"})


def max_tolerances(method, max_iter):
    """Most tolerances pybaselines records for ``method`` before it stops.

    A spectrum whose ``tol_history`` is this long, the last entry not below
    ``tol``, has run out of iterations without converging.

    Parameters
    ----------
    method : str
        pybaselines method name.
    max_iter : int
        The method's ``max_iter``.

    Returns
    -------
    n : int
        Length of a full ``tol_history``.
    """
    if method in _ONE_TOL_PER_ITER:
        return max_iter
    if method == "dietrich":
        return max_iter - 1
    return max_iter + 1


_WEIGHTS = {"airpls": _airpls_weights, "arpls": _arpls_weights, "asls": _asls_weights}


class _Whittaker:
    """Passes of airPLS, arPLS or AsLS over a stack of up to ``n_rows`` spectra."""

    def __init__(self, method, kwargs, n_rows, n_points, x):
        self.method, self.kwargs = method, kwargs
        self.n_passes = max_tolerances(method, kwargs["max_iter"])
        diff_order = int(kwargs["diff_order"])
        bands = float(kwargs["lam"]) * penalty_bands(n_points, diff_order)
        self.pentapy = pentapy is not None and diff_order == 2
        if self.pentapy:
            # pybaselines' layout for pentapy: the bands in reverse order,
            # read row-wise (the same matrix, the penalty being symmetric).
            bands, self.main = bands[::-1], diff_order
        else:
            # the lower bands, for the banded Cholesky solver
            bands, self.main = bands[diff_order:], 0
        # Block-diagonal because each block's corners outside its own
        # matrix are zero.
        self.bands = np.tile(bands, (1, n_rows))
        self.penalty_main = self.bands[self.main].copy()

    def start(self, Y):
        state = {"y": Y, "weights": np.ones_like(Y)}
        if self.method == "airpls":
            state["y_l1_norm"] = np.abs(Y).sum(axis=1)
        return state

    def _solve(self, weights, weighted_y):
        size = weights.size
        ab = self.bands[:, :size]
        np.add(self.penalty_main[:size], weights.ravel(), out=ab[self.main])
        if self.pentapy:
            z = pentapy.solve(
                ab, weighted_y.ravel(), is_flat=True, index_row_wise=True, solver=2
            )
        else:
            z = solveh_banded(ab, weighted_y.ravel(), lower=True, check_finite=False)
        if not np.isfinite(z).all():
            raise np.linalg.LinAlgError(
                f"{self.method}: the Whittaker system gave non-finite "
                "baselines; it is ill-conditioned for these settings"
            )
        return z.reshape(weights.shape)

    def step(self, k, state):
        weights = state["weights"]
        z = self._solve(weights, weights * state["y"])
        new, tol_value, early = _WEIGHTS[self.method](state, z, self.kwargs, k + 1)
        state["weights"] = new
        return z, tol_value, early


class _ModPoly:
    """Passes of ModPoly over a stack of spectra."""

    def __init__(self, method, kwargs, n_rows, n_points, x):
        self.n_passes = max_tolerances(method, kwargs["max_iter"])
        self.use_original = kwargs["use_original"]
        # pybaselines maps the axis onto [-1, 1] (its default axis already is)
        x = np.linspace(-1.0, 1.0, n_points) if x is None else x
        if n_points > 1:
            domain = polyutils.getdomain(x)
            mapped = polyutils.mapdomain(x, domain, np.array([-1.0, 1.0]))
        else:  # one point has no domain to map; any place fits it exactly
            mapped = np.zeros(1)
        self.vander = polyvander(mapped, int(kwargs["poly_order"]))
        self.pinv = np.linalg.pinv(self.vander)

    def _fit(self, Y):
        # einsum, unlike a BLAS product, rounds each row the same way whatever
        # the other rows: the result does not depend on how rows are chunked.
        coef = np.einsum("ij,kj->ik", Y, self.pinv)
        return np.einsum("ik,jk->ij", coef, self.vander)

    def start(self, Y):
        state = {"y": Y, "baseline": self._fit(Y)}
        if self.use_original:
            state["original"] = Y
        return state

    def step(self, k, state):
        clipped = state["original"] if self.use_original else state["y"]
        state["y"] = np.minimum(clipped, state["baseline"])
        z = self._fit(state["y"])
        tol_value = _relative_change(state["baseline"], z)
        state["baseline"] = z
        return z, tol_value, None


def _stack(Y, passes, tol):
    """Baselines, pass counts, last tolerances and early stops of a stack."""
    n_rows = Y.shape[0]
    baselines = np.empty_like(Y)
    n_iter = np.zeros(n_rows, dtype=np.intp)
    last_tol = np.full(n_rows, np.nan)
    n_early = 0
    rows = np.arange(n_rows)
    state = passes.start(Y)
    for k in range(passes.n_passes):
        z, tol_value, early = passes.step(k, state)
        if early is None:
            early = np.zeros(rows.size, dtype=bool)
        # An early stop returns this pass's baseline without a tolerance. It
        # is worth a warning unless the baseline is the data (all zero, say).
        if early.any():
            exact = (z[early] == state["y"][early]).all(axis=1)
            n_early += int(early.sum() - exact.sum())
        stop = early | (tol_value < tol) | (k == passes.n_passes - 1)
        n_iter[rows] = np.where(early, k, k + 1)
        last_tol[rows] = np.where(early, last_tol[rows], tol_value)
        if stop.any():
            baselines[rows[stop]] = z[stop]
            go = ~stop
            rows = rows[go]
            if not rows.size:
                break
            state = {key: value[go] for key, value in state.items()}
    return baselines, n_iter, last_tol, n_early


def stacked_baselines(X, method, kwargs, *, x_data=None, reverse=False):
    """airPLS, arPLS, AsLS or ModPoly baselines of every row of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite spectra, with more than ``diff_order`` points for the
        Whittaker methods. Not modified.
    method : {"airpls", "arpls", "asls", "modpoly"}
        pybaselines method whose passes are followed.
    kwargs : dict
        Its keyword arguments (see :func:`stacks`); missing ones take
        pybaselines' defaults.
    x_data : ndarray of shape (n_features,) or None, default=None
        Strictly monotonic axis, or None for pybaselines' default axis.
        Only ModPoly uses its values.
    reverse : bool, default=False
        Whether the spectra run against the axis (a decreasing axis): they
        are then fitted in reverse point order, as pybaselines sorts them.

    Returns
    -------
    baselines : ndarray of shape (n_samples, n_features)
        Baselines in the dtype of ``X``.
    n_iter : ndarray of shape (n_samples,), dtype int
        Length of pybaselines' ``tol_history`` per spectrum.
    last_tol : ndarray of shape (n_samples,)
        Last tolerance per spectrum (NaN where none was recorded).
    n_early : int
        Number of airPLS or arPLS spectra with fewer than two points below
        their baseline, which stops them early as in pybaselines. The caller
        warns of them (:func:`warn_early_stops`), once for all its chunks.

    Raises
    ------
    numpy.linalg.LinAlgError
        When a Whittaker system gives non-finite baselines (pybaselines
        raises it for airPLS; a stack cannot keep the others' NaN to their
        own spectrum).
    """
    kwargs = _with_defaults(method, kwargs)
    n_rows, n_points = X.shape
    x = None if x_data is None else np.asarray(x_data, dtype=np.float64)
    if x is not None and reverse:
        x = x[::-1]
    kind = "modpoly" if method == "modpoly" else "whittaker"
    per_stack = max(1, min(n_rows, _STACK_POINTS[kind] // n_points))
    passes = (_ModPoly if kind == "modpoly" else _Whittaker)(
        method, kwargs, per_stack, n_points, x
    )
    # Each stack is converted to float64 and its baselines written into the
    # output on their own: the memory beyond the output is that of one stack
    # whatever the number of spectra. Every row is computed the same way
    # wherever it is (the stacks are independent), so nothing changes.
    baselines = np.empty(X.shape, dtype=X.dtype)
    out = baselines[:, ::-1] if reverse else baselines
    n_iter = np.empty(n_rows, dtype=np.intp)
    last_tol = np.empty(n_rows)
    n_early = 0
    for start in range(0, n_rows, per_stack):
        rows = slice(start, start + per_stack)
        # contiguous rows, in the axis's increasing order
        Y = np.ascontiguousarray(X[rows, ::-1] if reverse else X[rows], np.float64)
        if kind == "modpoly":
            # A ModPoly baseline is linear in its spectrum, but the relative
            # change that stops it divides by at least _EPS: spectra in tiny
            # units (1e-18) stopped after fewer passes. Each row is fitted
            # scaled exactly by a power of two into [0.5, 1) and scaled back,
            # which changes nothing for spectra in ordinary units.
            exponent = np.frexp(np.abs(Y).max(axis=1, keepdims=True))[1]
            Y = np.ldexp(Y, -exponent)
        found, n_iter[rows], last_tol[rows], early = _stack(Y, passes, kwargs["tol"])
        if kind == "modpoly":
            with np.errstate(over="ignore"):
                found = np.ldexp(found, exponent)
        out[rows] = found
        n_early += early
    return baselines, n_iter, last_tol, n_early


def warn_early_stops(method, n_early, n_rows, stacklevel=2):
    """Warn that ``n_early`` of ``n_rows`` spectra stopped early (if any did)."""
    if n_early:
        warnings.warn(
            f"{method}: almost all baseline points are below the data in "
            f"{n_early} of {n_rows} spectra, which stopped there; tol may be "
            "too low or max_iter too high.",
            ParameterWarning,
            stacklevel=stacklevel + 1,
        )
