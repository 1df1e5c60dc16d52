"""Resolution of ``sampling_strategy`` with imbalanced-learn's semantics.

The rules mirror :func:`imblearn.utils.check_sampling_strategy` for
over-sampling, so that ``sampling_strategy_`` holds, for every targeted class,
the number of samples to generate. The test suite checks the equality.
"""

import numbers
from collections import OrderedDict

import numpy as np
from sklearn.utils.multiclass import type_of_target

_STRINGS = ("auto", "minority", "not majority", "not minority", "all")


def _counts(y):
    classes, counts = np.unique(y, return_counts=True)
    return dict(zip(classes.tolist(), counts.tolist(), strict=True))


def _from_string(strategy, counts):
    n_major = max(counts.values())
    major = max(counts, key=counts.get)
    minor = min(counts, key=counts.get)
    keep = {
        "all": lambda c: True,
        "minority": lambda c: c == minor,
        "not minority": lambda c: c != minor,
        "not majority": lambda c: c != major,
        "auto": lambda c: c != major,
    }[strategy]
    return {c: n_major - n for c, n in counts.items() if keep(c)}


def _from_dict(strategy, counts):
    missing = set(strategy) - set(counts)
    if missing:
        raise ValueError(
            f"sampling_strategy names class(es) {sorted(missing, key=str)} that "
            f"are not present in y; classes are {sorted(counts, key=str)}."
        )
    out = {}
    for c, n in strategy.items():
        if n < 0:
            raise ValueError(
                f"sampling_strategy asks a negative number of samples ({n}) "
                f"for class {c!r}."
            )
        if n < counts[c]:
            raise ValueError(
                f"sampling_strategy asks {n} samples for class {c!r}, which has "
                f"{counts[c]}: an over-sampler cannot remove samples."
            )
        out[c] = n - counts[c]
    return out


def _from_float(strategy, y, counts):
    if type_of_target(y) != "binary":
        raise ValueError(
            "sampling_strategy can be a float only when y is binary; "
            f"y has {len(counts)} classes. Use a dict for multi-class y."
        )
    if not 0 < strategy <= 1:
        raise ValueError(
            f"sampling_strategy as a float must be in (0, 1]; got {strategy}."
        )
    n_major = max(counts.values())
    major = max(counts, key=counts.get)
    out = {c: int(n_major * strategy - n) for c, n in counts.items() if c != major}
    if any(n <= 0 for n in out.values()):
        raise ValueError(
            f"sampling_strategy={strategy} would remove samples from the minority "
            "class instead of generating new ones; increase the ratio."
        )
    return out


def resolve_sampling_strategy(sampling_strategy, y):
    """Return the number of samples to generate for each targeted class.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable
        As in imbalanced-learn's over-samplers: a float ratio minority/majority
        (binary y only), one of ``"auto"``, ``"minority"``, ``"not majority"``,
        ``"not minority"``, ``"all"``, a dict ``{class: target count}`` or a
        callable ``y -> dict``.
    y : ndarray of shape (n_samples,)
        The class labels.

    Returns
    -------
    strategy : OrderedDict
        ``{class: n_samples_to_generate}``, sorted by class.

    Raises
    ------
    ValueError
        If ``y`` has fewer than two classes or the strategy is invalid for it.
    """
    counts = _counts(y)
    if len(counts) < 2:
        plural = "" if len(counts) == 1 else "es"
        raise ValueError(
            "y needs at least 2 classes to be over-sampled; got "
            f"{len(counts)} class{plural}."
        )
    if isinstance(sampling_strategy, str):
        if sampling_strategy not in _STRINGS:
            raise ValueError(
                f"sampling_strategy must be one of {_STRINGS}, a float, a dict "
                f"or a callable; got {sampling_strategy!r}."
            )
        out = _from_string(sampling_strategy, counts)
    elif isinstance(sampling_strategy, dict):
        out = _from_dict(sampling_strategy, counts)
    elif isinstance(sampling_strategy, numbers.Real) and not isinstance(
        sampling_strategy, bool
    ):
        out = _from_float(sampling_strategy, y, counts)
    elif callable(sampling_strategy):
        out = _from_dict(sampling_strategy(y), counts)
    else:
        raise ValueError(
            "sampling_strategy must be a float, a str, a dict or a callable; "
            f"got {type(sampling_strategy).__name__}."
        )
    return OrderedDict(sorted(out.items()))
