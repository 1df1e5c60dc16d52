"""Discovery of the public estimators of sktransfer."""

import importlib
import inspect
import pkgutil

from sklearn.base import BaseEstimator

from sktransfer._validation import InvalidParameterError

_TYPES = {
    "classifier": "classifier",
    "regressor": "regressor",
    "transformer": "transformer",
    "sampler": "sampler",
}


def all_estimators(type_filter=None):
    """List the public estimators of sktransfer.

    Every public subpackage is imported and each class named in its
    ``__all__`` that derives from :class:`~sklearn.base.BaseEstimator`
    is returned.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "sampler"} or None
        Keep only estimators of this kind; ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)
        Pairs of class name and class, sorted by name.

    Examples
    --------
    >>> from sktransfer.utils import all_estimators
    >>> names = [name for name, _ in all_estimators()]
    >>> isinstance(names, list)
    True
    """
    import sktransfer

    found = {}
    for info in pkgutil.iter_modules(sktransfer.__path__, "sktransfer."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf.startswith("_") or leaf in {"utils", "cli"}:
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
            ):
                found[name] = obj
    estimators = sorted(found.items())
    if type_filter is None:
        return estimators
    if type_filter not in _TYPES:
        raise InvalidParameterError(
            f"type_filter must be one of {sorted(_TYPES)} or None; got {type_filter!r}."
        )
    return [(n, c) for n, c in estimators if _is_type(c, type_filter)]


def _is_type(cls, kind):
    if kind == "sampler":
        return hasattr(cls, "fit_resample")
    if kind == "transformer":
        return hasattr(cls, "transform")
    # by the mixins, as scikit-learn's own all_estimators: an instance made
    # without __init__ cannot report its tags
    from sklearn.base import ClassifierMixin, RegressorMixin

    return issubclass(cls, ClassifierMixin if kind == "classifier" else RegressorMixin)
