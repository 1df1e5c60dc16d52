"""Per-spectrum Pearson correlation and root-mean-square error."""

import warnings

import numpy as np
from sklearn.utils import check_array

from sktransfer._validation import check_spectra
from sktransfer.preprocessing._functions import (
    rescaled_where_not_finite,
    root_sum_squares_rows,
)
from sktransfer.utils._chunks import row_slices

_AGGREGATES = ("raw_values", "uniform_average")

#: Points (rows x points per row) of each spectra matrix computed on at once:
#: every metric works on chunks of rows in float64, about 8 MiB per array,
#: so that its memory does not grow with the number of spectra.
_CHUNK_POINTS = 2**20


def _check_spectra_pair(y_true, y_pred, return_one_d=False):
    """Validate two spectra matrices of the same shape; 1-D is one spectrum.

    A column of shape (n, 1) beside a 1-D array of length n is 1-D too.
    ``return_one_d`` also returns whether the pair was given 1-D (a target
    of one value per sample, whose ``sample_weight`` weights the points),
    as a matrix of one row is not.

    The matrices keep their (numeric) dtype: the metrics convert them to
    float64 a chunk of rows at a time (:func:`_row_chunks`).
    """
    arrays = [
        # NaN in y_pred is a model's doing, not load_rruff's
        check(y, ensure_2d=False, dtype="numeric", input_name=name)
        for name, y, check in (
            ("y_true", y_true, check_spectra),
            ("y_pred", y_pred, check_array),
        )
    ]
    shapes = {a.shape for a in arrays}
    if len(shapes) == 2 and any(
        a.ndim == 2 and a.shape[1] == 1 and (len(a),) in shapes for a in arrays
    ):
        # a column beside a 1-D array of its length: one target, as
        # scikit-learn's regressors fitted on y of shape (n, 1) may predict it
        arrays = [a.ravel() for a in arrays]
    one_d = any(a.ndim == 1 for a in arrays)
    y_true, y_pred = (a.reshape(1, -1) if a.ndim == 1 else a for a in arrays)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} "
            f"and {y_pred.shape}."
        )
    return (y_true, y_pred, one_d) if return_one_d else (y_true, y_pred)


def _row_chunks(*arrays):
    """Yield ``(rows, chunks)``: a slice of rows and those rows in float64.

    Consecutive rows of about ``_CHUNK_POINTS`` points each. Every metric is
    computed row by row, so the chunks change a result at most in its last
    bit (as the position of a row in memory already could).
    """
    for rows in row_slices(*arrays[0].shape, _CHUNK_POINTS):
        yield rows, [a[rows].astype(np.float64, copy=False) for a in arrays]


def _check_aggregate_name(multioutput):
    """Raise a ValueError for a ``multioutput`` string that is no aggregate.

    Called before any spectrum is scored, so that a misspelt name does not
    wait for the whole computation.
    """
    if isinstance(multioutput, str) and multioutput not in _AGGREGATES:
        raise ValueError(
            f"multioutput must be one of {_AGGREGATES} or an array of "
            f"weights; got {multioutput!r}."
        )


def _weighting(multioutput, sample_weight):
    """Return ``multioutput``, or ``sample_weight`` as its weights."""
    if sample_weight is None or (
        isinstance(multioutput, str) and multioutput == "raw_values"
    ):
        return multioutput
    if not isinstance(multioutput, str):
        raise ValueError(
            "give the weights of the spectra once: as multioutput or as "
            "sample_weight, not both."
        )
    return _check_weights(sample_weight, "sample_weight")


def _aggregate(values, multioutput):
    """Return the per-spectrum values or their (weighted) average."""
    if isinstance(multioutput, str):
        _check_aggregate_name(multioutput)
        if multioutput == "raw_values":
            return values
        weights = None
    else:
        weights = _check_weights(multioutput)
        if len(weights) != len(values):
            raise ValueError(
                f"{len(weights)} weights of spectra (multioutput or "
                f"sample_weight) for {len(values)} spectra: give one per "
                "spectrum."
            )
        # a spectrum of weight 0 does not count, even with an infinite value
        # (inf times 0 is NaN)
        values, weights = values[weights > 0], weights[weights > 0]
        # weights of 1e308 would overflow their sum: only their ratios count
        weights = weights / weights.max()
    # Values near the largest float (RMSEs of 1e308) would overflow their
    # sum: averaged in units of the largest one, which is exact scaling by
    # a power of two. Infinite values average to infinity.
    largest = float(np.abs(values).max(initial=0.0))
    if not (np.isfinite(largest) and largest > 0):
        return float(np.average(values, weights=weights))
    exponent = int(np.frexp(largest)[1])
    mean = np.average(np.ldexp(values, -exponent), weights=weights)
    return float(np.ldexp(mean, exponent))


def _check_weights(multioutput, name="multioutput"):
    """Return weights checked: 1-D, finite, >= 0, not all zero."""
    if np.ndim(multioutput) != 1:
        what = f"one of {_AGGREGATES} or " if name == "multioutput" else ""
        raise ValueError(
            f"{name} must be {what}a 1-D array of weights, one per spectrum; "
            f"got {multioutput!r}."
        )
    weights = check_array(
        multioutput, ensure_2d=False, dtype=np.float64, input_name=name
    )
    if np.any(weights < 0) or not np.any(weights):
        raise ValueError(f"{name} weights must be >= 0 and not all zero.")
    return weights


def _point_weights(y_true, sample_weight, one_d):
    """Return the checked weights of the points of one spectrum, else None.

    A 1-D target (one spectrum: a scalar target across samples) takes
    ``sample_weight`` per point, as scikit-learn's metrics weight samples;
    a matrix of one row is one spectrum, whose weight is one value.
    """
    n_points = y_true.shape[1]
    if sample_weight is None or not one_d or n_points == 1:
        return None
    weights = _check_weights(sample_weight, "sample_weight")
    if len(weights) != n_points:
        raise ValueError(
            f"sample_weight has {len(weights)} weights for a 1-D target of "
            f"{n_points} points: give one per point."
        )
    return weights / weights.max()


def _weights_and_pair(y_true, y_pred, multioutput, sample_weight, one_d):
    """``(point weights or None, y_true, y_pred, multioutput)`` to compute with.

    With weights of the points of a single spectrum, the points of weight 0
    are left out; otherwise ``sample_weight`` becomes the weights of the
    spectra in ``multioutput``.
    """
    points = _point_weights(y_true, sample_weight, one_d)
    if points is None:
        return None, y_true, y_pred, _weighting(multioutput, sample_weight)
    keep = points > 0
    return points[keep], y_true[:, keep], y_pred[:, keep], multioutput


def spectral_correlation(
    y_true, y_pred, *, multioutput="uniform_average", sample_weight=None
):
    """Pearson correlation between matching spectra, row by row.

    Each row of ``y_pred`` is compared with the same row of ``y_true``: the
    Pearson correlation coefficient over the spectral axis measures whether
    the predicted spectrum has the right shape (peak positions and relative
    heights), whatever its offset and scale.

    Read more in the :ref:`User Guide <metrics>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_features) or (n_features,)
        Reference spectra, one per row; a 1-D array is one spectrum.
    y_pred : array-like of the same shape as ``y_true``
        Predicted spectra.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape \
            (n_samples,), default="uniform_average"
        ``"raw_values"`` returns one coefficient per spectrum,
        ``"uniform_average"`` their mean, and an array of non-negative
        weights their weighted mean.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the spectra in the mean (as an array ``multioutput``
        gives them; for a scorer's ``set_score_request(sample_weight=True)``),
        ignored with ``"raw_values"``; for a 1-D target (one spectrum, such
        as a scalar target across samples), weights of its points.

    Returns
    -------
    r : float or ndarray of shape (n_samples,)
        Correlation coefficients in ``[-1, 1]``.

    See Also
    --------
    spectral_rmse : Per-spectrum root-mean-square error.
    spectral_correlation_scorer : The scorer for model selection.

    Notes
    -----
    Pearson's r is undefined for a constant spectrum (zero variance). The rule
    here is explicit and never produces NaN: when both spectra of a pair are
    constant, r is 1 if they are equal and 0 otherwise; when only one of them
    is constant, r is 0 (it carries no shape to agree with). A row counts as
    constant when all its values are identical.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import spectral_correlation
    >>> Y = np.array([[0.0, 1.0, 3.0, 1.0], [2.0, 0.0, 1.0, 0.0]])
    >>> float(spectral_correlation(Y, 2 * Y + 1))
    1.0
    >>> spectral_correlation(Y, -Y, multioutput="raw_values")
    array([-1., -1.])
    """
    _check_aggregate_name(multioutput)
    y_true, y_pred, one_d = _check_spectra_pair(y_true, y_pred, return_one_d=True)
    if y_true.shape[1] == 1 and y_true.shape[0] > 1:
        warnings.warn(
            "the spectra have one point each, which has no shape to correlate: "
            "r is 0 or 1 for each; for one target value per sample, pass 1-D "
            "arrays (then r is taken across the samples)",
            UserWarning,
            stacklevel=2,
        )
    w, y_true, y_pred, multioutput = _weights_and_pair(
        y_true, y_pred, multioutput, sample_weight, one_d
    )
    r = np.empty(y_true.shape[0])
    for rows, (t, p) in _row_chunks(y_true, y_pred):
        r[rows] = rescaled_where_not_finite(
            lambda t, p: _row_correlation(t, p, w), t, p
        )
    return _aggregate(np.clip(r, -1.0, 1.0), multioutput)


def _row_correlation(y_true, y_pred, weights=None):
    """Pearson r of each row pair, its points weighted by ``weights`` (> 0)."""
    if weights is None:

        def mean(a):
            return a.mean(axis=1, keepdims=True)

        def dot(a, b):
            return np.einsum("ij,ij->i", a, b)
    else:

        def mean(a):
            return np.average(a, axis=1, weights=weights)[:, None]

        def dot(a, b):
            return np.einsum("ij,ij,j->i", a, b, weights)

    const_t = np.ptp(y_true, axis=1) == 0
    const_p = np.ptp(y_pred, axis=1) == 0
    dt = y_true - mean(y_true)
    dp = y_pred - mean(y_pred)
    # Rescale each row by its largest deviation before the products so that
    # very large or tiny intensities neither overflow nor underflow.
    dt /= np.where(const_t, 1.0, np.abs(dt).max(axis=1))[:, None]
    dp /= np.where(const_p, 1.0, np.abs(dp).max(axis=1))[:, None]
    num = dot(dt, dp)
    den = np.sqrt(dot(dt, dt) * dot(dp, dp))
    either = const_t | const_p
    r = np.divide(num, den, out=np.zeros_like(num), where=~either)
    both = const_t & const_p
    r[both] = np.all(y_true[both] == y_pred[both], axis=1).astype(np.float64)
    return r


def spectral_rmse(y_true, y_pred, *, multioutput="uniform_average", sample_weight=None):
    """Root-mean-square error between matching spectra, row by row.

    Read more in the :ref:`User Guide <metrics>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_features) or (n_features,)
        Reference spectra, one per row; a 1-D array is one spectrum.
    y_pred : array-like of the same shape as ``y_true``
        Predicted spectra.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape \
            (n_samples,), default="uniform_average"
        ``"raw_values"`` returns one error per spectrum,
        ``"uniform_average"`` their mean, and an array of non-negative
        weights their weighted mean.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the spectra in the mean (as an array ``multioutput``
        gives them; for a scorer's ``set_score_request(sample_weight=True)``),
        ignored with ``"raw_values"``; for a 1-D target (one spectrum, such
        as a scalar target across samples), weights of its points.

    Returns
    -------
    rmse : float or ndarray of shape (n_samples,)
        ``sqrt(mean((y_true - y_pred) ** 2))`` over the spectral axis, per
        spectrum, in the units of the intensities.

    See Also
    --------
    spectral_correlation : Per-spectrum Pearson correlation.
    spectral_rmse_scorer : The scorer (negated) for model selection.

    Notes
    -----
    The average of per-spectrum errors differs from
    :func:`sklearn.metrics.root_mean_squared_error`, which takes the root per
    feature (per wavenumber) instead of per spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import spectral_rmse
    >>> Y = np.array([[0.0, 1.0, 3.0, 1.0], [2.0, 0.0, 1.0, 0.0]])
    >>> spectral_rmse(Y, Y + [[1.0], [2.0]], multioutput="raw_values")
    array([1., 2.])
    >>> float(spectral_rmse(Y, Y))
    0.0
    """
    _check_aggregate_name(multioutput)
    y_true, y_pred, one_d = _check_spectra_pair(y_true, y_pred, return_one_d=True)
    w, y_true, y_pred, multioutput = _weights_and_pair(
        y_true, y_pred, multioutput, sample_weight, one_d
    )
    # sqrt(sum(w d**2) / sum(w)): the differences scaled by sqrt(w) <= 1
    root_w = None if w is None else np.sqrt(w)
    divisor = y_true.shape[1] if w is None else w.sum()
    rmse = np.empty(y_true.shape[0])
    for rows, (t, p) in _row_chunks(y_true, y_pred):
        with np.errstate(over="ignore"):
            diff = t - p
        over = ~np.isfinite(diff).all(axis=1)  # finite values, too far apart
        if over.any():
            # halved, the difference fits (halving is exact for such values)
            diff[over] = t[over] * 0.5 - p[over] * 0.5
        if root_w is not None:
            diff *= root_w
        part = root_sum_squares_rows(diff, divisor)
        with np.errstate(over="ignore"):  # beyond the float range: inf
            part[over] *= 2.0
        rmse[rows] = part
    return _aggregate(rmse, multioutput)
