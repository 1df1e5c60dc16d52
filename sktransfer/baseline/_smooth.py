"""Peak-clipping baselines: SNIP."""

import numbers

from sktransfer._validation import InvalidParameterError, check_bool, check_param
from sktransfer.baseline._base import BaselineCorrector


def _check_half_window(value):
    if value is None:
        return
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        check_param(value, "max_half_window", kind="int", low=1)
        return
    if isinstance(value, list | tuple) and len(value) == 2:
        for item in value:
            check_param(item, "max_half_window", kind="int", low=1)
        return
    raise InvalidParameterError(
        "max_half_window must be None, a positive integer or a pair of "
        f"positive integers, got {value!r}."
    )


class SNIP(BaselineCorrector):
    """Statistics-sensitive non-linear iterative peak-clipping (SNIP).

    Replaces every point by the mean of its neighbours ``k`` points away
    when that mean is lower, for ``k`` up to ``max_half_window``, which
    clips the peaks and leaves the baseline; subtracts it. Calls
    :meth:`pybaselines.Baseline.snip` on each spectrum with the same
    parameters and defaults.

    Read more in the :ref:`User Guide <baseline>`.

    Parameters
    ----------
    max_half_window : int or tuple of (int, int), default=None
        Largest clipping distance in points, about half the width of the
        widest peak; a pair gives the left and right half widths. ``None``
        lets pybaselines estimate it for each spectrum.
    decreasing : bool, default=False
        If True, clip from ``max_half_window`` down to 1, which gives a
        smoother baseline.
    smooth_half_window : int, default=None
        Half window of a moving average applied at each clipping step
        (useful for noisy spectra); ``None`` or 0 means no smoothing.
    filter_order : {2, 4, 6, 8}, default=2
        Order of the clipping filter; higher orders follow curved baselines.
    x_axis : array-like of shape (n_features,), default=None
        Spectral axis (strictly increasing or decreasing). SNIP works on
        point indices, so the axis only orders the points.
    n_jobs : int, default=None
        Number of joblib workers over chunks of rows. ``None`` means 1
        unless in a :func:`joblib.parallel_config` context; ``-1`` uses all
        processors. The result does not depend on it.

    Attributes
    ----------
    n_features_in_ : int
        Number of points per spectrum seen in :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in :meth:`fit`, if all are strings.
    x_ : ndarray of shape (`n_features_in_`,)
        The axis validated by ``fit`` (the feature index when ``x_axis`` is
        None); ``transform`` uses ``x_axis`` as it is set then.

    See Also
    --------
    AirPLS : Whittaker-smoothing baseline.

    Notes
    -----
    The transformer is stateless (``fit`` only validates; ``transform`` also
    works without it, except for a pandas output from ``set_output``, whose
    column names ``fit`` records). SNIP is not iterative to convergence, so
    there is no ``n_iter_``.
    Spectra with fewer than 3 points have no interior point to clip: the
    baseline equals the spectrum, the corrected spectrum is zero and a
    warning says so.

    References
    ----------
    Ryan, C. G., Clayton, E., Griffin, W. L., Sie, S. H. and Cousens, D. R.
    SNIP, a statistics-sensitive background treatment for the quantitative
    analysis of PIXE spectra in geoscience applications. Nuclear Instruments
    and Methods in Physics Research B, 1988, 34, 396-402.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.baseline import SNIP
    >>> rng = np.random.default_rng(0)
    >>> x = np.linspace(0, 1, 200)
    >>> peak = np.exp(-0.5 * ((x - 0.5) / 0.02) ** 2)
    >>> X = (peak + 2 * x + 1 + rng.normal(0, 0.01, 200))[None, :]  # one spectrum
    >>> corrector = SNIP(max_half_window=20)
    >>> Xc = corrector.fit(X).transform(X)
    >>> Xc.shape
    (1, 200)
    >>> print(f"peak {Xc[0, 100]:.1f}, ends {abs(Xc[0, [0, -1]]).max():.1f}")
    peak 1.0, ends 0.0
    """

    def __init__(
        self,
        max_half_window=None,
        *,
        decreasing=False,
        smooth_half_window=None,
        filter_order=2,
        x_axis=None,
        n_jobs=None,
    ):
        self.max_half_window = max_half_window
        self.decreasing = decreasing
        self.smooth_half_window = smooth_half_window
        self.filter_order = filter_order
        self.x_axis = x_axis
        self.n_jobs = n_jobs

    def _method_name(self):
        return "snip"

    def _method_kwargs(self):
        return {
            "max_half_window": self.max_half_window,
            "decreasing": self.decreasing,
            "smooth_half_window": self.smooth_half_window,
            "filter_order": self.filter_order,
        }

    def _check_params(self):
        super()._check_params()
        _check_half_window(self.max_half_window)
        check_bool(self.decreasing, "decreasing")
        if self.smooth_half_window is not None:
            check_param(self.smooth_half_window, "smooth_half_window", "int", low=0)
        if isinstance(self.filter_order, bool) or self.filter_order not in (2, 4, 6, 8):
            raise InvalidParameterError(
                f"filter_order must be one of 2, 4, 6, 8; got {self.filter_order!r}."
            )
