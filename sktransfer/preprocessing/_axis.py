"""Transformers that change the spectral axis: resampling and range cutting."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from sktransfer._base import (
    FLOAT_DTYPES,
    FeatureChangingTransformer,
    kept_if_refused,
)
from sktransfer._validation import (
    InvalidParameterError,
    check_fits_dtype,
    check_option,
    check_param,
    check_x_axis,
)
from sktransfer.preprocessing._functions import (
    end_tolerance,
    linear_interp_matrix,
    outside_range,
    resample_rows,
)


def _axis_feature_names(grid, prefix="x"):
    """Feature names ``x400.0``, ... from axis values, rounded when unambiguous."""
    names = [f"{prefix}{float(v)!r}" for v in np.round(grid, 6)]
    if len(set(names)) < len(names):
        names = [f"{prefix}{float(v)!r}" for v in grid]
    return np.asarray(names, dtype=object)


class Resampler(FeatureChangingTransformer):
    """Interpolate spectra from their axis onto a new grid.

    Spectra measured on different or irregular axes (instruments, RRUFF
    files) must share one grid before any estimator can use them. The
    output has one feature per grid point, named after its position
    (``x400.0``, ``x402.0``, ...).

    Read more in the :ref:`User Guide <preprocessing>`.

    Parameters
    ----------
    grid : int, array-like of shape (n_points,) or None, default=None
        The new axis. An array gives the points themselves (strictly
        monotonic, in the units of ``x_axis``); an integer gives that many
        evenly spaced points over the range of ``x_axis``; ``None`` keeps
        the number of points and spaces them evenly (regularising an
        irregular axis).
    x_axis : array-like of shape (n_features,) or None, default=None
        Axis of the input spectra, strictly monotonic. ``None`` means the
        feature index ``0, 1, ..., n_features - 1``.
    method : {"linear", "cubic", "pchip"}, default="linear"
        Interpolation: piecewise linear (:func:`numpy.interp`), a not-a-knot
        cubic spline (:class:`scipy.interpolate.CubicSpline`) or the
        shape-preserving monotone cubic (:class:`scipy.interpolate.PchipInterpolator`).
        The cubic methods need at least two input points.
    fill_value : float or None, default=None
        Value for grid points outside the range of ``x_axis``: a finite
        number (that the spectra's dtype holds), or ``np.nan`` to mark them
        as missing (as :func:`~sktransfer.datasets.load_rruff` does;
        estimators refuse NaN, so fill them, or cut them away with
        :class:`RangeCut`, before one).
        ``None`` makes such points an error (no silent extrapolation). A
        grid with no point in that range is an error either way.

    Attributes
    ----------
    x_ : ndarray of shape (n_features,)
        The validated input axis.
    grid_ : ndarray of shape (n_points,)
        The output axis.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    RangeCut : Keep the part of the axis inside a range, without
        interpolating.

    Notes
    -----
    Interpolation is row-wise and needs no data to learn from; ``fit`` only
    validates the axes. Float32 input gives float32 output.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.preprocessing import Resampler
    >>> x = np.array([400.0, 401.0, 403.0, 404.0])
    >>> X = 2.0 * x[None, :]
    >>> resampler = Resampler(grid=[400.0, 402.0, 404.0], x_axis=x)
    >>> resampler.fit_transform(X)
    array([[800., 804., 808.]])
    >>> resampler.get_feature_names_out()
    array(['x400.0', 'x402.0', 'x404.0'], dtype=object)
    """

    def __init__(self, *, grid=None, x_axis=None, method="linear", fill_value=None):
        self.grid = grid
        self.x_axis = x_axis
        self.method = method
        self.fill_value = fill_value

    def _check_params(self):
        check_option(self.method, "method", ("linear", "cubic", "pchip"))
        fill = self.fill_value
        nan = isinstance(fill, numbers.Real) and not isinstance(fill, bool)
        if fill is not None and not (nan and np.isnan(fill)):
            check_param(fill, "fill_value")

    def _fit(self, X):
        x = self.x_
        if self.method != "linear" and len(x) < 2:
            raise ValueError(
                f"method={self.method!r} needs at least 2 features; got "
                f"{len(x)} feature(s)."
            )
        grid = self.grid
        if grid is None or np.ndim(grid) == 0:
            # a scalar is a number of points: 3.0 is refused as one, not as
            # a 0-D array of points
            if grid is not None and (
                isinstance(grid, bool) or not isinstance(grid, numbers.Integral)
            ):
                raise InvalidParameterError(
                    "grid must be a number of points (an integer), an array of "
                    f"points or None; got {grid!r}."
                )
            n = len(x) if grid is None else grid
            check_param(n, "grid", kind="int", low=1)
            if len(x) == 1 and n > 1:
                # a one-point axis has no range: the points would coincide
                raise ValueError(
                    f"grid={n} points need an x_axis with a range; X has 1 "
                    "feature. Give the grid points themselves."
                )
            self.grid_ = np.linspace(x[0], x[-1], n)
        else:
            if np.size(grid) == 0:
                raise ValueError("grid must hold at least one point; got none.")
            self.grid_ = check_x_axis(self.grid, np.size(self.grid), "grid")
        self._refuse_points_outside()
        self._matrix = (
            linear_interp_matrix(x, self.grid_) if self.method == "linear" else None
        )

    def _refuse_points_outside(self):
        """Refuse grid points outside ``x_``: any without ``fill_value``, else all.

        A grid wholly outside the axis (in other units, say) would give
        spectra of nothing but ``fill_value``.
        """
        x = self.x_
        outside = outside_range(self.grid_, x)
        lo, hi = min(x[0], x[-1]), max(x[0], x[-1])
        if self.fill_value is not None:
            if np.all(outside):
                raise ValueError(
                    f"no point of grid (it spans [{self.grid_.min():.10g}, "
                    f"{self.grid_.max():.10g}]) lies in the range [{lo:.10g}, "
                    f"{hi:.10g}] of x_axis: every value would be fill_value. Are "
                    "the grid and x_axis in the same units?"
                )
            return
        if np.any(outside):
            raise ValueError(
                f"grid has {int(outside.sum())} point(s) outside the range "
                f"[{lo:.10g}, {hi:.10g}] of x_axis (the grid spans "
                f"[{self.grid_.min():.10g}, {self.grid_.max():.10g}]); narrow "
                "the grid or set fill_value."
            )

    def _transform(self, X):
        # fill_value may have been set to None after fit
        self._refuse_points_outside()
        if self.fill_value is not None and np.isfinite(self.fill_value):
            # it would be written as inf
            check_fits_dtype(
                self.fill_value,
                X.dtype,
                f"fill_value={self.fill_value!r}",
                "a smaller fill_value",
            )
        return resample_rows(
            X, self.x_, self.grid_, self.method, self.fill_value, self._matrix
        )

    def get_feature_names_out(self, input_features=None):
        """Get output feature names: ``x`` followed by the grid position.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored except for a consistency check with the fitted input.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per grid point, e.g. ``x400.0``.
        """
        self._input_feature_names(input_features)
        return _axis_feature_names(self.grid_)


class RangeCut(SelectorMixin, BaseEstimator):
    """Keep the part of each spectrum inside an axis range.

    The features whose axis position lies in ``[start, end]`` (both ends
    included) are kept; nothing is interpolated. An axis value beyond an end
    by less than 1e-9 of the axis's span or largest magnitude (and less than
    1 % of its smallest step) counts as inside: it is rounding
    (``np.linspace(0, 0.4, 5)`` holds 0.30000000000000004, not 0.3). Output
    feature names are the input names of the kept features.

    Read more in the :ref:`User Guide <preprocessing>`.

    Parameters
    ----------
    start : float or None, default=None
        One end of the range, in the units of ``x_axis``; ``None`` means the
        smallest axis value.
    end : float or None, default=None
        The other end; ``None`` means the largest axis value. ``start`` and
        ``end`` may be given in either order, so ranges follow descending
        axes too.
    x_axis : array-like of shape (n_features,) or None, default=None
        Axis of the spectra, strictly monotonic. ``None`` means the feature
        index ``0, 1, ..., n_features - 1``.

    Attributes
    ----------
    x_ : ndarray of shape (n_features,)
        The validated axis.
    support_ : ndarray of shape (n_features,), dtype bool
        Mask of the kept features.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    Resampler : Interpolate spectra onto a new grid.

    Notes
    -----
    A range that contains no axis point raises a ``ValueError`` in
    ``fit``. The output keeps the input dtype. NaN is accepted (it passes
    through in the kept features), so the points that
    :func:`~sktransfer.datasets.load_rruff` or :class:`Resampler` mark as
    missing beyond a spectrum's measured range can be cut away; infinity is
    refused.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.preprocessing import RangeCut
    >>> x = np.array([100.0, 200.0, 300.0, 400.0])
    >>> X = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> cut = RangeCut(start=150.0, end=300.0, x_axis=x).fit(X)
    >>> cut.transform(X)
    array([[2., 3.]])
    >>> cut.x_[cut.support_]
    array([200., 300.])
    """

    def __init__(self, *, start=None, end=None, x_axis=None):
        self.start = start
        self.end = end
        self.x_axis = x_axis

    def fit(self, X, y=None):
        """Find the features inside the range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        # a refit that refuses its data leaves a fitted RangeCut as it was
        with kept_if_refused(self):
            self._find_support(X)
        return self

    def _find_support(self, X):
        for name in ("start", "end"):
            if getattr(self, name) is not None:
                check_param(getattr(self, name), name)
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan")
        self.x_ = check_x_axis(self.x_axis, X.shape[1])
        lo = self.x_.min() if self.start is None else self.start
        hi = self.x_.max() if self.end is None else self.end
        if self.start is not None and self.end is not None:
            lo, hi = min(lo, hi), max(lo, hi)
        # an axis value off an end by rounding is that end (see above)
        tol = end_tolerance(self.x_)
        self.support_ = (self.x_ >= lo - tol) & (self.x_ <= hi + tol)
        if not self.support_.any():
            raise ValueError(
                f"The range start={self.start!r}, end={self.end!r} contains no "
                f"point of x_axis, which spans [{self.x_.min():g}, "
                f"{self.x_.max():g}]."
            )

    def transform(self, X):
        """Keep the features inside the range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row; NaN is accepted, infinity is not.

        Returns
        -------
        X_cut : ndarray of shape (n_samples, n_kept)
            The kept features, in their order.
        """
        check_is_fitted(self, "support_")
        # SelectorMixin lets infinity through when NaN is allowed
        check_array(X, dtype=None, ensure_all_finite="allow-nan")
        return super().transform(X)

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
