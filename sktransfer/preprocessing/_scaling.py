"""Per-spectrum scaling: min-max, standard normal variate, area/vector norm."""

import math
import numbers
import warnings

import numpy as np

from sktransfer._base import SpectralTransformer
from sktransfer._validation import (
    InvalidParameterError,
    check_fits_dtype,
    check_option,
)
from sktransfer.preprocessing._functions import (
    min_max_rows,
    normalize_rows,
    row_norms,
    snv_rows,
)


def _warn_one_point(estimator, X):
    """Warn that spectra of one point scale to a constant.

    A spectrum passed as a column ``(n_points, 1)`` is read as ``n_points``
    spectra of one point each, and every one of them has no range and no
    spread: the result would be constant without a word.
    """
    if X.shape[1] == 1 and X.shape[0] > 0:
        warnings.warn(
            f"{type(estimator).__name__}: spectra with 1 point have no range "
            "or spread to scale; every value becomes the same constant. Each "
            "row is one spectrum: pass a single spectrum as a row, "
            "X.reshape(1, -1), not as a column.",
            UserWarning,
            stacklevel=5,  # through _transform, transform and its output wrapper
        )


def _finite_span(low, high):
    """Whether ``high - low`` is a finite float (the bounds too)."""
    try:
        return math.isfinite(float(high) - float(low))
    except OverflowError:  # an integer beyond the float range
        return False


class MinMaxNormalizer(SpectralTransformer):
    """Scale each spectrum on its own to a given range.

    Every row is mapped linearly so that its smallest value becomes
    ``feature_range[0]`` and its largest ``feature_range[1]``. Unlike
    :class:`sklearn.preprocessing.MinMaxScaler`, which scales each feature
    (wavenumber) across samples, this scales each spectrum across its axis,
    so it learns nothing and works on one spectrum at a time.

    Read more in the :ref:`User Guide <preprocessing>`.

    Parameters
    ----------
    feature_range : tuple (min, max), default=(0.0, 1.0)
        Range of each transformed spectrum: finite numbers with
        ``min < max`` and a finite ``max - min`` (in float64), representable
        in the dtype of the spectra (float32 input refuses bounds beyond
        about 3.4e38).

    Attributes
    ----------
    x_ : ndarray of shape (n_features,)
        The feature index (this transformer has no spectral axis).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    StandardNormalVariate : Centre and scale each spectrum by its own mean
        and standard deviation.
    AreaNormalizer : Divide each spectrum by its area or norm.

    Notes
    -----
    A constant spectrum (zero range) has no scale; it is mapped to
    ``feature_range[0]`` everywhere, as
    :class:`~sklearn.preprocessing.MinMaxScaler` does for a constant feature;
    spectra of one point (a spectrum passed as a column) warn.
    The transformer is stateless; float32 input gives float32 output.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.preprocessing import MinMaxNormalizer
    >>> X = np.array([[1.0, 3.0, 2.0], [10.0, 20.0, 30.0], [5.0, 5.0, 5.0]])
    >>> MinMaxNormalizer().fit_transform(X)
    array([[0. , 1. , 0.5],
           [0. , 0.5, 1. ],
           [0. , 0. , 0. ]])
    """

    def __init__(self, *, feature_range=(0.0, 1.0)):
        self.feature_range = feature_range

    def _check_params(self):
        fr = self.feature_range
        if (
            not isinstance(fr, tuple | list)
            or len(fr) != 2
            or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
                for v in fr
            )
            or not fr[0] < fr[1]
            # infinite bounds, or a span that overflows, give NaN spectra
            or not _finite_span(*fr)
        ):
            raise InvalidParameterError(
                "feature_range must be a pair (min, max) of finite numbers with "
                f"min < max and a finite max - min; got {fr!r}."
            )

    def _transform(self, X):
        low, high = self.feature_range
        check_fits_dtype(
            [low, high],
            X.dtype,
            f"feature_range {tuple(self.feature_range)!r}",
            "a narrower range",
        )
        _warn_one_point(self, X)
        return min_max_rows(X, low, high)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class StandardNormalVariate(SpectralTransformer):
    """Standard normal variate (SNV): centre and scale each spectrum on its own.

    Each row has its mean subtracted and is divided by its (population)
    standard deviation, which removes multiplicative scatter and offset
    effects between spectra. It is the row-wise counterpart of
    :class:`sklearn.preprocessing.StandardScaler`.

    Read more in the :ref:`User Guide <preprocessing>`.

    Attributes
    ----------
    x_ : ndarray of shape (n_features,)
        The feature index (this transformer has no spectral axis).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    MinMaxNormalizer : Scale each spectrum to a fixed range.
    AreaNormalizer : Divide each spectrum by its area or norm.

    Notes
    -----
    A constant spectrum (zero standard deviation) becomes all zeros, as
    :class:`~sklearn.preprocessing.StandardScaler` does for a constant
    feature; spectra of one point (a spectrum passed as a column) warn. The
    transformer is stateless; float32 input gives float32
    output.

    References
    ----------
    .. [1] R. J. Barnes, M. S. Dhanoa and S. J. Lister, "Standard normal
       variate transformation and de-trending of near-infrared diffuse
       reflectance spectra", Applied Spectroscopy 43(5), 772-777, 1989.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.preprocessing import StandardNormalVariate
    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    >>> StandardNormalVariate().fit_transform(X).round(4)
    array([[-1.2247,  0.    ,  1.2247],
           [-1.2247,  0.    ,  1.2247]])
    """

    def _transform(self, X):
        _warn_one_point(self, X)
        return snv_rows(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class AreaNormalizer(SpectralTransformer):
    """Divide each spectrum by its area or its vector norm.

    Read more in the :ref:`User Guide <preprocessing>`.

    Parameters
    ----------
    norm : {"area", "l1", "l2"}, default="area"
        What each spectrum is divided by:

        - ``"area"``: the area under ``|spectrum|`` along ``x_axis``
          (trapezoidal rule), so the area under the result is 1 on that
          axis whatever its spacing and direction (``np.trapezoid`` along a
          descending axis gives -1 for a positive spectrum);
        - ``"l1"``: the sum of absolute values;
        - ``"l2"``: the Euclidean norm (vector normalisation), as
          :func:`sklearn.preprocessing.normalize` does.
    x_axis : array-like of shape (n_features,) or None, default=None
        Spectral axis (wavenumbers, 2-theta, ...), strictly monotonic; used
        by ``norm="area"``. ``None`` means unit spacing.

    Attributes
    ----------
    x_ : ndarray of shape (n_features,)
        The spectral axis validated by ``fit``; ``transform`` uses
        ``x_axis`` as it is set then.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    MinMaxNormalizer : Scale each spectrum to a fixed range.
    StandardNormalVariate : Centre and scale each spectrum.
    sklearn.preprocessing.Normalizer : Row-wise l1/l2/max normalisation
        without a spectral axis.

    Notes
    -----
    A spectrum whose norm is zero (all zeros) is left unchanged. With a
    single feature the area is zero, so nothing is divided. The transformer
    is stateless (``fit`` only validates; ``transform`` also works without
    it); float32 input gives float32 output.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.preprocessing import AreaNormalizer
    >>> x = np.array([0.0, 1.0, 2.0, 4.0])
    >>> X = np.array([[0.0, 2.0, 2.0, 0.0]])
    >>> AreaNormalizer(x_axis=x).fit_transform(X)
    array([[0. , 0.4, 0.4, 0. ]])
    >>> AreaNormalizer(norm="l2").fit_transform([[3.0, 4.0]])
    array([[0.6, 0.8]])
    """

    def __init__(self, *, norm="area", x_axis=None):
        self.norm = norm
        self.x_axis = x_axis

    def _check_params(self):
        check_option(self.norm, "norm", ("area", "l1", "l2"))

    def _transform(self, X):
        return normalize_rows(
            X, lambda rows: row_norms(rows, self.norm, self._axis(X.shape[1]))
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
