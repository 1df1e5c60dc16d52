"""Shared base classes of the row-wise spectral transformers.

Two bases, so that each transformer inherits only what is true of it:
:class:`SpectralTransformer` for transformers that keep the features (one
output column per input point, named like the input), and
:class:`FeatureChangingTransformer` for those whose output columns differ
(resampling onto a new grid, peak parameters), which name them themselves.
"""

import contextlib

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sktransfer._validation import check_x_axis, validate_spectra

FLOAT_DTYPES = (np.float64, np.float32)


@contextlib.contextmanager
def kept_if_refused(estimator):
    """Put the estimator's attributes back as they were if the block raises.

    ``validate_data(reset=True)`` sets ``n_features_in_`` before the checks
    after it: a refit that refuses its data must leave a fitted estimator
    as it was, not half updated.
    """
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


class _RowwiseTransformer(TransformerMixin, BaseEstimator):
    """Validation, ``fit`` and ``transform`` shared by both bases.

    Subclasses take the spectral axis as the ``x_axis`` parameter (if they
    have one) and implement ``_transform(X)`` on a validated float array
    (never modifying it). ``fit`` validates X, learns ``n_features_in_`` and
    stores the validated axis in ``x_``; it then calls ``_fit(X)`` for
    anything else to learn.

    A subclass that learns nothing from the data declares
    ``requires_fit=False`` in its tags, as :class:`~sklearn.preprocessing.Normalizer`
    does; its ``transform`` then also works before ``fit``, checking the
    parameters and the axis on every call.
    """

    #: Minimum number of points a spectrum needs (``ensure_min_features``).
    _min_features = 1

    def _check_params(self):
        """Validate hyper-parameters; subclasses extend it."""

    def _validate_X(self, X, reset):
        return validate_spectra(
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
        """Check the parameters, validate X and the axis, learn; return X.

        If any of it fails, the attributes are left as they were.
        """
        with kept_if_refused(self):
            self._check_params()
            X = self._validate_X(X, reset=True)
            self.x_ = check_x_axis(getattr(self, "x_axis", None), X.shape[1])
            self._fit(X)
        return X

    def _fit(self, X):
        """Learn data-dependent state; nothing by default."""

    def _is_fitted(self):
        return hasattr(self, "n_features_in_")

    def _axis(self, n_features):
        """Return the validated axis: ``x_`` of a fitted estimator that learns.

        A stateless transformer (``requires_fit=False``) checks its
        ``x_axis`` now, as it does its other parameters: one changed by
        ``set_params`` after ``fit`` takes effect at once (it was ignored,
        even with the wrong length).
        """
        if self._is_fitted() and self.__sklearn_tags__().requires_fit:
            return self.x_
        return check_x_axis(getattr(self, "x_axis", None), n_features)

    def _check_fitted_params(self):
        """Check that the estimator is fitted, and its parameters.

        Also after ``fit``: ``set_params`` may have changed them since.
        """
        check_is_fitted(self)
        self._check_params()

    def _validate_transform_X(self, X):
        """Validate X for ``transform``, and the parameters it reads."""
        self._check_fitted_params()
        return self._validate_X(X, reset=False)

    def transform(self, X):
        """Transform each spectrum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            Transformed spectra, in the input's float dtype.
        """
        return self._transform(self._validate_transform_X(X))

    def _transform(self, X):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SpectralTransformer(OneToOneFeatureMixin, _RowwiseTransformer):
    """Base of transformers that keep the features of every spectrum.

    The output has one column per input point, on the same axis, so the
    output feature names are the input's (:class:`~sklearn.base.OneToOneFeatureMixin`).
    See :class:`FeatureChangingTransformer` for the others.
    """


class FeatureChangingTransformer(_RowwiseTransformer):
    """Base of row-wise transformers whose output columns differ from the input's.

    Subclasses (a new grid, peak parameters) implement
    ``get_feature_names_out``; :meth:`_input_feature_names` gives the checked
    input names for outputs that do keep them.
    """

    def _input_feature_names(self, input_features=None):
        """Input feature names, checked against those seen in ``fit``."""
        return OneToOneFeatureMixin.get_feature_names_out(self, input_features)

    def get_feature_names_out(self, input_features=None):
        """Get output feature names; each subclass defines them.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Output feature names.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must define get_feature_names_out."
        )
