"""Small private checkers shared by the estimators."""

import math
import numbers
import operator

import numpy as np

# Python's comparisons: NumPy's ufuncs failed on integers beyond 64 bits
_INTERVALS = {
    "both": (operator.ge, operator.le, "[", "]"),
    "left": (operator.ge, operator.lt, "[", ")"),
    "right": (operator.gt, operator.le, "(", "]"),
    "neither": (operator.gt, operator.lt, "(", ")"),
}


class InvalidParameterError(ValueError, TypeError):
    """A hyper-parameter of the wrong type or value.

    Both a ``ValueError`` and a ``TypeError``, as scikit-learn's parameter
    validation raises: ``except ValueError`` and ``except TypeError`` both
    catch it.
    """


def check_param(value, name, kind="real", low=None, high=None, closed="both"):
    """Check a scalar hyper-parameter and return it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Parameter name used in the error message.
    kind : {"real", "int"}, default="real"
        Accepted type. Booleans are never accepted as numbers.
    low, high : float or None, default=None
        Bounds of the accepted interval; ``None`` means unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds are included.

    Returns
    -------
    value : int or float
        The value, unchanged.

    Raises
    ------
    InvalidParameterError
        A ``ValueError`` and ``TypeError``: if the value has the wrong type
        or lies outside the interval.
    """
    types = numbers.Integral if kind == "int" else numbers.Real
    if isinstance(value, bool | np.bool_) or not isinstance(value, types):
        what = "an integer" if kind == "int" else "a real number"
        raise InvalidParameterError(f"{name} must be {what}, got {value!r}.")
    # an integer is finite, also beyond the float range
    if not isinstance(value, numbers.Integral) and not math.isfinite(value):
        raise InvalidParameterError(f"{name} must be finite, got {value!r}.")
    ge, le, lb, rb = _INTERVALS[closed]
    if (low is not None and not ge(value, low)) or (
        high is not None and not le(value, high)
    ):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        lb = "(" if low is None else lb
        rb = ")" if high is None else rb
        raise InvalidParameterError(
            f"{name} must be in {lb}{lo}, {hi}{rb}, got {value!r}."
        )
    return value


def check_sequence(value, name, kind="real", length=None, **bounds):
    """Check a sequence of scalar hyper-parameters and return it as a tuple.

    Parameters
    ----------
    value : object
        The value to check: a non-empty sequence (not a string).
    name : str
        Parameter name used in the error messages; an item is named
        ``name[i]``.
    kind : {"real", "int"}, default="real"
        Accepted type of the items (see :func:`check_param`).
    length : int or None, default=None
        Required number of items; ``None`` accepts any non-zero number.
    **bounds
        ``low``, ``high`` and ``closed`` of :func:`check_param`, for every item.

    Returns
    -------
    value : tuple
        The items, unchanged.
    """
    sized = not isinstance(value, str | bytes) and hasattr(value, "__len__")
    n = len(value) if sized else 0
    if n == 0 or (length is not None and n != length):
        size = "non-empty" if length is None else f"{length}-item"
        what = "integers" if kind == "int" else "numbers"
        raise InvalidParameterError(
            f"{name} must be a {size} sequence of {what}; got {value!r}."
        )
    return tuple(
        check_param(v, f"{name}[{i}]", kind=kind, **bounds) for i, v in enumerate(value)
    )


def check_bool(value, name):
    """Return ``value`` if it is a bool, else raise a ValueError naming it.

    Parameters
    ----------
    value : object
        The value to check; ``True``, ``False`` or a NumPy bool.
    name : str
        Parameter name used in the error message.

    Returns
    -------
    value : bool
        The value, unchanged.
    """
    if not isinstance(value, bool | np.bool_):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}.")
    return value


def import_pandas(what):
    """Import and return pandas, or raise an ImportError saying what needs it.

    Parameters
    ----------
    what : str
        The option that needs pandas, e.g. ``"as_frame=True"``.

    Returns
    -------
    pandas : module
    """
    try:
        import pandas
    except ImportError:
        raise ImportError(
            f"{what} needs pandas, which is not installed: pip install pandas"
        ) from None
    return pandas


def check_verbose(value):
    """Return ``value`` if it is a bool or a non-negative integer.

    Parameters
    ----------
    value : object
        The ``verbose`` parameter of an estimator.

    Returns
    -------
    value : bool or int
        The value, unchanged.
    """
    if not isinstance(value, bool | np.bool_):
        check_param(value, "verbose", kind="int", low=0)
    return value


def check_option(value, name, options):
    """Check that ``value`` is one of ``options`` and return it.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Parameter name used in the error message.
    options : iterable of str
        The accepted values.

    Returns
    -------
    value : str
        The value, unchanged.
    """
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise InvalidParameterError(f"{name} must be one of {valid}; got {value!r}.")
    return value


def check_real(value, name):
    """Raise a ValueError if ``value`` holds complex numbers.

    NumPy casts a complex array to float by dropping the imaginary part
    (with a ``ComplexWarning`` only); complex numbers are refused instead,
    as scikit-learn's ``check_array`` does. Call it before the conversion.

    Parameters
    ----------
    value : array-like
        The numbers.
    name : str
        Parameter name used in the error message.
    """
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must hold real numbers; got complex numbers.")


def check_fits_dtype(values, dtype, what, remedy):
    """Raise a ValueError if finite ``values`` overflow when cast to ``dtype``.

    For settings written into the output of float32 spectra (a range, a
    fill value): ``what`` names the setting, ``remedy`` what to pass instead.
    """
    with np.errstate(over="ignore"):
        cast = np.asarray(values, dtype=np.float64).astype(dtype)
    if not np.isfinite(cast).all():
        raise ValueError(
            f"{what} is beyond the range of {np.dtype(dtype)} spectra (largest "
            f"{np.finfo(dtype).max:.3g}); pass float64 spectra or {remedy}."
        )


def check_x_axis(x_axis, n_features, name="x_axis", of="X has {} features"):
    """Validate a spectral axis against the number of features.

    Parameters
    ----------
    x_axis : array-like of shape (n_features,) or None
        The spectral axis (wavenumbers, 2-theta, ...). ``None`` means the
        feature index ``0, 1, ..., n_features - 1``.
    n_features : int
        Number of features of the data the axis belongs to.
    name : str, default="x_axis"
        Parameter name used in error messages.
    of : str, default="X has {} features"
        What the axis must match, for the length error; ``{}`` is replaced
        by ``n_features``.

    Returns
    -------
    x : ndarray of shape (n_features,), dtype float64
        A validated copy of the axis.

    Raises
    ------
    ValueError
        If the axis is not 1-D, not real and finite, of the wrong length, or
        not strictly monotonic.
    """
    if x_axis is None:
        return np.arange(n_features, dtype=np.float64)
    check_real(x_axis, name)
    try:
        x = np.array(x_axis, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers.") from exc
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {x.shape}.")
    if x.shape[0] != n_features:
        hint = ""
        if name == "x_axis":
            hint = (
                " (spectra cut or resampled, by RangeCut or Resampler say, "
                "need the axis they return: RangeCut's x_[support_], "
                "Resampler's grid_)"
            )
        raise ValueError(
            f"{name} has {x.shape[0]} values but {of.format(n_features)}; "
            f"they must match{hint}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinity.")
    if n_features > 1:
        d = np.diff(x)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise ValueError(f"{name} must be strictly monotonic.")
    return x


_NAN_HINT = (
    "Spectra from load_rruff hold NaN at the grid points a file does not "
    "cover (outside='nan', the default): load them with outside='zero', "
    "'edge' or 'drop', or cut the spectra to the range they all cover."
)


def validate_spectra(estimator, *args, **kwargs):
    """Run scikit-learn's ``validate_data``; a NaN error says why spectra hold NaN.

    scikit-learn's message for NaN in the input suggests an imputer or a
    model that accepts NaN; spectra have NaN where they were put on a grid
    they do not cover, which ``load_rruff``'s ``outside`` settles.
    """
    from sklearn.utils.validation import validate_data

    return _nan_hinted(validate_data, estimator, *args, **kwargs)


def check_spectra(X, **kwargs):
    """Run scikit-learn's ``check_array``; a NaN error says why spectra hold NaN.

    For functions (no estimator to validate for); see :func:`validate_spectra`.
    """
    from sklearn.utils import check_array

    return _nan_hinted(check_array, X, **kwargs)


def _nan_hinted(check, *args, **kwargs):
    """Call a scikit-learn input check; add :data:`_NAN_HINT` to a NaN error."""
    try:
        return check(*args, **kwargs)
    except ValueError as exc:
        first = str(exc).split("\n", 1)[0]
        if not first.startswith("Input") or not first.endswith("contains NaN."):
            raise
        raise ValueError(f"{first} {_NAN_HINT}") from exc
