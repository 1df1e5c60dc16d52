"""sklearn scorers for the spectral metrics."""

import copy

from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import get_scorer_names as _sklearn_get_scorer_names
from sklearn.metrics import make_scorer

from sktransfer.metrics._spectral import spectral_correlation, spectral_rmse

#: Scorer for :func:`spectral_correlation` (greater is better).
spectral_correlation_scorer = make_scorer(spectral_correlation)

#: Scorer for :func:`spectral_rmse`; sklearn scorers maximise, so it returns
#: the negated error, like sklearn's ``"neg_root_mean_squared_error"``.
spectral_rmse_scorer = make_scorer(spectral_rmse, greater_is_better=False)

_SCORERS = {
    "spectral_correlation": spectral_correlation_scorer,
    "neg_spectral_rmse": spectral_rmse_scorer,
}


def get_scorer_names():
    """Names accepted by ``get_scorer``: sktransfer's and sklearn's.

    Read more in the :ref:`User Guide <metrics>`.

    Returns
    -------
    names : list of str
        Sorted scorer names.

    Examples
    --------
    >>> from sktransfer.metrics import get_scorer_names
    >>> "neg_spectral_rmse" in get_scorer_names()
    True
    """
    return sorted(set(_SCORERS) | set(_sklearn_get_scorer_names()))


def get_scorer(scoring):
    """Get a scorer by name, sktransfer's spectral scorers included.

    ``"spectral_correlation"`` and ``"neg_spectral_rmse"`` give the spectral
    scorers; every other value is passed to :func:`sklearn.metrics.get_scorer`.
    sklearn does not know sktransfer's names, so pass the returned object (not
    the string) to ``GridSearchCV(scoring=...)`` or ``cross_validate``.
    As with sklearn's ``get_scorer``, a name gives a new copy of the scorer,
    so that its metadata requests (``set_score_request``) stay its own.

    Read more in the :ref:`User Guide <metrics>`.

    Parameters
    ----------
    scoring : str, callable or None
        Scorer name, or anything :func:`sklearn.metrics.get_scorer` accepts.

    Returns
    -------
    scorer : callable
        A scorer ``scorer(estimator, X, y)``; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sktransfer.metrics import get_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 5))
    >>> Y = X @ rng.normal(size=(5, 30))
    >>> search = GridSearchCV(
    ...     Ridge(), {"alpha": [0.1, 10.0]}, cv=3,
    ...     scoring=get_scorer("spectral_correlation"),
    ... ).fit(X, Y)
    >>> search.best_params_
    {'alpha': 0.1}
    """
    if isinstance(scoring, str) and scoring in _SCORERS:
        return copy.deepcopy(_SCORERS[scoring])
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError:
        if not isinstance(scoring, str):
            raise
    # sklearn's message sends the user to sklearn's names, without these
    hint = {"spectral_rmse": " (the scorer of spectral_rmse: 'neg_spectral_rmse')"}
    raise ValueError(
        f"{scoring!r} is not a valid scoring value{hint.get(scoring, '')}. Use "
        "sktransfer.metrics.get_scorer_names() to get valid options."
    ) from None
