"""Meta-estimators that put resampling inside ``fit`` of a classifier."""

import numpy as np
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_regressor,
)
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sktransfer._base import kept_if_refused

__all__ = ["AugmentedClassifier"]


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "iloc")


def _is_per_row(value, n_samples):
    """Whether a fit parameter holds one value per training row."""
    if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
        return False
    shape = getattr(value, "shape", None)
    if shape is not None:
        return len(shape) > 0 and shape[0] == n_samples
    return len(value) == n_samples


def _input_tags(estimator):
    """Return the input tags of ``estimator`` (the strictest if it has none)."""
    try:
        return get_tags(estimator).input_tags
    except Exception:  # not a scikit-learn estimator: assume the strictest
        return get_tags(BaseEstimator()).input_tags


def _is_passthrough(sampler):
    """Whether ``sampler`` asks for no resampling (as a Pipeline step does)."""
    return sampler is None or (isinstance(sampler, str) and sampler == "passthrough")


def _classifier_has(attr):
    """Check the fitted classifier if there is one, else the unfitted one."""

    def check(self):
        est = getattr(self, "classifier_", self.classifier)
        getattr(est, attr)
        return True

    return check


class AugmentedClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Classifier trained on data resampled by a sampler, in ``fit`` only.

    ``fit(X, y)`` calls ``sampler.fit_resample(X, y)`` and fits the
    classifier on the result; ``predict``, ``predict_proba``,
    ``decision_function`` and ``score`` use the classifier on the data as
    given. Generated samples therefore only ever enter training folds, and
    augmentation drops into a plain scikit-learn ``Pipeline``,
    ``GridSearchCV`` (``sampler__...`` and ``classifier__...`` parameters)
    or ``cross_val_score`` without imbalanced-learn. It takes the input that
    both the sampler and the classifier take, as their tags say: missing
    values if both allow them (e.g. ``RandomOverSampler`` with
    ``HistGradientBoostingClassifier``), sparse matrices if both accept them.
    The dtype is theirs to check, so categories given as strings reach a
    categorical sampler (``SMOTEN``) and a classifier that encodes them.

    Read more in the :ref:`User Guide <over_sampling>`.

    Parameters
    ----------
    sampler : object, "passthrough" or None
        An estimator with ``fit_resample(X, y)``, e.g.
        :class:`~sktransfer.over_sampling.WGANGPOverSampler` or an
        imbalanced-learn sampler. Cloned in ``fit``, so it needs
        ``get_params`` as scikit-learn estimators have (derive from
        :class:`sklearn.base.BaseEstimator`). ``"passthrough"`` or ``None``
        fits the classifier on the data as given, as for a pipeline step:
        so that ``GridSearchCV`` can weigh resampling against none
        (``{"sampler": ["passthrough", SMOTE(), WGANGPOverSampler()]}``).
    classifier : object
        A scikit-learn classifier. Cloned in ``fit``.

    Attributes
    ----------
    sampler_ : object or "passthrough"
        The fitted clone of ``sampler``; ``"passthrough"`` when there is
        none.
    classifier_ : object
        The fitted clone of ``classifier``.
    classes_ : ndarray of shape (n_classes,)
        Class labels, from the classifier.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen in ``fit``, if X had string column names.

    See Also
    --------
    sktransfer.over_sampling.WGANGPOverSampler : GAN over-sampler of spectra.
    imblearn.pipeline.Pipeline : Pipeline with sampler steps.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer.over_sampling import WGANGPOverSampler
    >>> from sktransfer.pipeline import AugmentedClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(24, 30))
    >>> y = np.array([0] * 20 + [1] * 4)
    >>> X[y == 1] += 1.0
    >>> clf = AugmentedClassifier(
    ...     WGANGPOverSampler(max_iter=5, random_state=0), LogisticRegression()
    ... ).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    >>> clf.classes_.tolist()
    [0, 1]
    """

    def __init__(self, sampler, classifier):
        self.sampler = sampler
        self.classifier = classifier

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if hasattr(self.classifier, "fit"):
            tags.classifier_tags = get_tags(self.classifier).classifier_tags
        tags.target_tags.required = True
        # what both the sampler and the classifier take, this takes
        parts = [self.classifier]
        if not _is_passthrough(self.sampler):
            parts.append(self.sampler)
        inputs = [_input_tags(part) for part in parts]
        tags.input_tags.allow_nan = all(t.allow_nan for t in inputs)
        tags.input_tags.sparse = all(t.sparse for t in inputs)
        return tags

    def _validate(self, X, *args, **kwargs):
        """Validate as the sampler and the classifier both can read.

        The dtype is left as given (``dtype=None``, as in scikit-learn's
        meta-estimators): the sampler and the classifier check it, so
        categories as strings reach e.g. ``SMOTEN`` and an encoding pipeline.
        """
        inputs = self.__sklearn_tags__().input_tags
        return validate_data(
            self,
            X,
            *args,
            accept_sparse=inputs.sparse,
            dtype=None,
            ensure_all_finite="allow-nan" if inputs.allow_nan else True,
            **kwargs,
        )

    def fit(self, X, y, **fit_params):
        """Resample ``(X, y)`` with the sampler, then fit the classifier.

        If it fails, a fitted estimator is left as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. A pandas DataFrame reaches the sampler (and, as
            the sampler returns it, the classifier) as a DataFrame.
        y : array-like of shape (n_samples,)
            Class labels.
        **fit_params : dict
            Passed to the classifier's ``fit``. Per-row parameters (arrays of
            length ``n_samples``, e.g. ``sample_weight``) follow the resampled
            rows through the sampler's ``sample_indices_``; a sampler without
            it (one that generates rows) cannot carry them, and they raise a
            ``ValueError``. With scikit-learn's metadata routing enabled,
            only what the classifier requests (``set_fit_request``) is
            passed, as in any meta-estimator. As with scikit-learn's
            ``Pipeline``, ``sample_weight`` is not in this signature (it
            works with some samplers and classifiers only), so
            meta-estimators that read signatures
            (``CalibratedClassifierCV``, ``BaggingClassifier``) do not pass
            weights to it without metadata routing: enable routing to
            give it weights through them.

        Returns
        -------
        self : AugmentedClassifier
            The fitted estimator.
        """
        # validation sets n_features_in_ before the labels and the per-row
        # parameters are checked: a fitted estimator that refuses new data
        # (or whose sampler or classifier fails) is left as it was
        with kept_if_refused(self):
            return self._fit(X, y, **fit_params)

    def _fit(self, X, y, **fit_params):
        if not (
            hasattr(self.classifier, "fit") and hasattr(self.classifier, "predict")
        ):
            raise ValueError(
                "classifier must be a scikit-learn classifier with fit and "
                f"predict methods; got {self.classifier!r}."
            )
        if is_regressor(self.classifier):
            # it would fit the labels as numbers and predict values between them
            raise ValueError(
                f"classifier must be a classifier; got the regressor "
                f"{self.classifier!r}."
            )
        X_checked, y_checked = self._validate(X, y)
        check_classification_targets(y_checked)
        passthrough = _is_passthrough(self.sampler)
        if not (passthrough or hasattr(self.sampler, "fit_resample")):
            raise ValueError(
                "sampler must have a fit_resample method, or be 'passthrough' "
                f"or None for no resampling; got {self.sampler!r}."
            )
        if get_config().get("enable_metadata_routing", False):
            fit_params = dict(process_routing(self, "fit", **fit_params).classifier.fit)
        X_res, y_res = (X, y) if _is_dataframe(X) else (X_checked, y_checked)
        if passthrough:
            self.sampler_ = "passthrough"
        else:
            self.sampler_ = clone(self.sampler)
            X_res, y_res = self.sampler_.fit_resample(X_res, y_res)[:2]
            per_row = {
                k: v for k, v in fit_params.items() if _is_per_row(v, len(y_checked))
            }
            if per_row:
                fit_params = {**fit_params, **self._resampled_params(per_row)}
        self.classifier_ = clone(self.classifier).fit(X_res, y_res, **fit_params)
        return self

    def get_metadata_routing(self):
        """Say where ``fit`` sends metadata: to the classifier's ``fit``.

        Used with scikit-learn's metadata routing
        (``sklearn.set_config(enable_metadata_routing=True)``); ``score``
        takes its own ``sample_weight`` (``set_score_request``).

        Returns
        -------
        routing : MetadataRouter
            The routing of this estimator.
        """
        router = MetadataRouter(owner=type(self).__name__).add_self_request(self)
        return router.add(
            classifier=self.classifier,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )

    def _resampled_params(self, per_row):
        """Per-row fit parameters taken at the rows the sampler returned."""
        indices = getattr(self.sampler_, "sample_indices_", None)
        if indices is None:
            names = ", ".join(sorted(per_row))
            raise ValueError(
                f"per-row fit parameters ({names}) cannot follow the rows of "
                f"{type(self.sampler_).__name__}, which does not tell which "
                "input row each output row comes from (no sample_indices_): "
                "generated rows have no value. Use a sampler with "
                "sample_indices_ (e.g. imblearn's RandomOverSampler) or fit "
                "without them."
            )
        indices = np.asarray(indices)
        return {
            k: v.iloc[indices] if hasattr(v, "iloc") else np.asarray(v)[indices]
            for k, v in per_row.items()
        }

    @property
    def classes_(self):
        """Class labels, from the fitted classifier."""
        return self.classifier_.classes_

    def _check_X(self, X):
        check_is_fitted(self)
        X_checked = self._validate(X, reset=False)
        # The classifier was fitted on what the sampler returned; if that
        # had column names, it predicts on the DataFrame too.
        named = hasattr(self.classifier_, "feature_names_in_")
        return X if named and _is_dataframe(X) else X_checked

    def predict(self, X):
        """Predict classes with the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted classes.
        """
        X = self._check_X(X)
        return self.classifier_.predict(X)

    @available_if(_classifier_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        X = self._check_X(X)
        return self.classifier_.predict_proba(X)

    @available_if(_classifier_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log probabilities, columns in the order of ``classes_``.
        """
        X = self._check_X(X)
        return self.classifier_.predict_log_proba(X)

    @available_if(_classifier_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Decision scores.
        """
        X = self._check_X(X)
        return self.classifier_.decision_function(X)
