"""Shared base class of the row-wise spectral transformers."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sktransfer._validation import check_x_axis

FLOAT_DTYPES = (np.float64, np.float32)


class SpectralTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base of transformers that map each spectrum on its own axis.

    Subclasses keep the number of features, take the spectral axis as the
    ``x_axis`` parameter and implement ``_transform(X)`` on a validated
    float array (never modifying it). ``fit`` validates X, learns
    ``n_features_in_`` and stores the validated axis in ``x_``; it then calls
    ``_fit(X)`` for anything else to learn.
    """

    #: Minimum number of points a spectrum needs (``ensure_min_features``).
    _min_features = 1

    def _check_params(self):
        """Validate hyper-parameters; subclasses extend it."""

    def _validate_X(self, X, reset):
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=FLOAT_DTYPES,
            ensure_min_features=self._min_features,
        )

    def fit(self, X, y=None):
        """Validate the spectra and the spectral axis.

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
        self._fit_validated(X)
        return self

    def _fit_validated(self, X):
        """Check the parameters, validate X and the axis, learn; return X."""
        self._check_params()
        X = self._validate_X(X, reset=True)
        self.x_ = check_x_axis(getattr(self, "x_axis", None), X.shape[1])
        self._fit(X)
        return X

    def _fit(self, X):
        """Learn data-dependent state; nothing by default."""

    def transform(self, X):
        """Transform each spectrum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Transformed spectra, in the input's float dtype.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._transform(X)

    def _transform(self, X):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
