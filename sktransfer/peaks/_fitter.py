"""PeakProfileFitter: spectra to peak parameters and back, fitted in batches."""

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils import Bunch, check_array

from sktransfer._base import FLOAT_DTYPES, FeatureChangingTransformer
from sktransfer._validation import InvalidParameterError, check_option, validate_spectra
from sktransfer.peaks._batch import (
    check_centers,
    check_fit_params,
    default_fwhm_bounds,
    fit_spectra,
    initial_widths,
    pad_ragged,
    warn_given_centres_at_bound,
    warn_not_converged,
)
from sktransfer.peaks._detect import detect_each, detect_peaks, widths_at
from sktransfer.peaks._layout import PeakLayout
from sktransfer.peaks._profiles import render_peaks
from sktransfer.utils._chunks import row_slices
from sktransfer.utils._torch import device_after_unpickling, resolve_device

#: Peak points (rows x peaks x points) rendered at once by
#: ``inverse_transform``: the temporaries of a chunk stay near 100 MiB.
_RENDER_CHUNK_POINTS = 2**20

#: What a fit of shared peaks learns, and ``centers="each"`` does not.
_SHARED_PEAK_ATTRIBUTES = (
    "centers_",
    "fwhm_init_",
    "center_tolerance_",
    "n_peaks_",
    "center_at_bound_",
)


class PeakProfileFitter(FeatureChangingTransformer):
    """Fit every spectrum with a sum of peaks; output their parameters.

    ``fit`` learns the peaks shared by the data set (``centers_``), given or
    detected on the mean training spectrum. ``transform`` fits every
    spectrum with those peaks: heights, widths and shapes vary freely within
    bounds and centres move within ``center_tolerance``. All spectra are
    fitted at once by a batched Levenberg-Marquardt solver in torch on
    ``device`` (no loop over spectra).

    Read more in the :ref:`User Guide <peaks>`.

    Parameters
    ----------
    profile : {"voigt", "gaussian", "lorentzian", "pseudo_voigt"}, default="voigt"
        Peak profile. "voigt" is the exact convolution of a Gaussian and a
        Lorentzian (Faddeeva function); "pseudo_voigt" their weighted sum.
    n_peaks : int or None, default=None
        Number of peaks to detect when ``centers`` is None: the most
        prominent peaks of the mean training spectrum (local maxima inside
        the axis, once a straight background line is taken off; its first
        or last point only if none lies inside). None keeps every peak whose
        prominence is at least 5 % of the range of the mean spectrum less
        that line and 8 times its noise level (the standard deviation of
        white noise, estimated from the median absolute second difference),
        or the most prominent peak if none is. If fewer peaks exist, the
        ones found are used (with a warning).
    centers : array-like of shape (n_peaks,), "each" or None, default=None
        Initial peak centres in axis units. Overrides detection and
        ``n_peaks``. "each" detects the peaks of every spectrum on its own
        (with the rule of :func:`fit_peak_table` and its default
        ``min_prominence``: local maxima inside the axis, once a straight
        background line is taken off, with a prominence of at least 5 % of
        that spectrum's range and 8 times its noise level; at most
        ``n_peaks``) and fits each spectrum with its own peaks, as
        :func:`fit_peak_table` does; it needs ``output="reconstruction"``,
        since the spectra then share no parameter matrix.
    x_axis : array-like of shape (n_features,) or None, default=None
        Spectral axis (e.g. Raman shift). None means ``0, 1, ..., n - 1``.
    output : {"parameters", "reconstruction"}, default="parameters"
        What ``transform`` returns: the parameter matrix, or the fitted
        spectra on ``x_axis``.
    center_tolerance : float or None, default=None
        How far (axis units) a centre may move from ``centers_``. None means
        half of each peak's initial FWHM (at least one axis step).
    fwhm_bounds : tuple of (float, float) or None, default=None
        Lower and upper bound of the FWHM (axis units). None means one axis
        step and a quarter of the axis span.
    baseline : {"linear", "constant", "none"}, default="linear"
        Baseline term fitted with the peaks: ``offset + slope * (x - x_mid)``,
        a constant offset, or none.
    max_iter : int, default=100
        Maximum number of Levenberg-Marquardt iterations.
    tol : float, default=1e-6
        A spectrum has converged when an accepted step lowers its sum of
        squared residuals by less than ``tol`` times that sum, or changes no
        free parameter by more than ``tol`` (relative), or when its
        ``1 - R2`` is below ``1e-3 * tol`` (a spectrum of zeros: when its
        sum of squares falls below ``1e-3 * tol`` times its first).
    batch_size : int, default=32
        Number of spectra fitted together. Small batches stay in the CPU
        caches and are fastest there; on a GPU, larger ones (hundreds) use
        the device better. The fit of one spectrum holds its Jacobian, of
        ``n_params`` (3 per peak, 4 for "voigt" and "pseudo_voigt", plus the
        baseline terms) by ``n_features`` values, and needs about
        ``28 * n_params * n_features`` bytes of memory in float64 (half that
        in float32, up to a third more for "voigt" on a GPU): 450 MB for 200
        Voigt peaks on 20000 points. A batch that would need more than
        512 MiB is fitted a few spectra at a time (down to one), which
        changes its results only by rounding; a fit whose single spectrum
        needs more memory than is free raises a ``MemoryError``. The time
        of an iteration grows with the square of the number of peaks (dense
        normal equations) and with ``n_features``.
    device : str, default="cpu"
        Torch device of the fit: "cpu", "cuda" or "cuda:N".

    Attributes
    ----------
    centers_ : ndarray of shape (n_peaks,)
        Initial peak centres (axis units, increasing axis order). Not set
        with ``centers="each"``, as ``fwhm_init_``, ``center_tolerance_``,
        ``center_at_bound_`` and ``n_peaks_``.
    fwhm_init_ : ndarray of shape (n_peaks,)
        Initial FWHM of each peak.
    center_tolerance_ : ndarray of shape (n_peaks,)
        Allowed centre movement of each peak.
    center_at_bound_ : ndarray of shape (n_peaks,)
        Share of the training spectra in which the peak's fitted centre
        ended at the edge of its tolerance (within 2 % of it): held there,
        so the peak lies further away, is weak, or is absent from those
        spectra. A high share for a given centre means it was given off the
        peak; widen ``center_tolerance`` or correct it (``fit`` warns of a
        given centre held in half of the spectra or more, where their fits
        are poor).
    fwhm_bounds_ : tuple of (float, float)
        FWHM bounds used.
    n_peaks_ : int
        Number of fitted peaks.
    x_ : ndarray of shape (n_features,)
        Validated spectral axis.
    n_iter_ : int
        Iterations run by the fit of the training spectra (the largest over
        batches).
    r2_ : ndarray of shape (n_samples,)
        Coefficient of determination of each training spectrum's fit (for a
        constant spectrum, which has no variance, the share of its sum of
        squares the fit explains).
    rmse_ : ndarray of shape (n_samples,)
        Root mean squared residual of each training spectrum's fit.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``; only when X has string
        column names.

    See Also
    --------
    fit_peak_table : Peak table of spectra that each have their own peaks.
    sktransfer.baseline.AirPLS : Baseline correction to run before the fit.

    Notes
    -----
    Columns of the parameter matrix, per peak ``i`` (``get_feature_names_out``):
    ``peak{i}_center``, ``peak{i}_height`` (the maximum, not the area),
    ``peak{i}_fwhm`` and, for "voigt", ``peak{i}_shape`` (Lorentzian share of
    the width, Olivero-Longbothum) or, for "pseudo_voigt", ``peak{i}_eta``
    (Lorentzian fraction); then ``baseline_offset`` (value at the axis
    midpoint) and ``baseline_slope`` (per axis unit) as ``baseline`` asks.
    Heights are non-negative. ``inverse_transform`` renders such a matrix.

    ``fit`` also fits the training spectra and keeps their diagnostics
    (``n_iter_``, ``r2_``, ``rmse_``); ``transform`` keeps no state, and
    :meth:`fit_peaks` returns the diagnostics of new spectra. The fit is
    deterministic: nothing is random, and identical calls give identical
    results. A spectrum's numbers can differ with the other spectra of its
    batch (rounding, within the solver's tolerance; far, where a peak is
    poorly determined), and so with the memory that splits large batches;
    ``batch_size=1`` fits each one on its own.

    The output has the input's float dtype. The fit itself keeps the
    centres' precision on axes far from zero, but float32 parameters round
    them to float32 steps: about 0.002 at 2e4, 0.008 at 1e5. Pass float64 spectra
    (or use :func:`fit_peak_table`, which returns float64) where centres
    must be finer than that.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.peaks import PeakProfileFitter
    >>> x = np.linspace(0, 100, 200)
    >>> rng = np.random.default_rng(0)
    >>> h = rng.uniform(1, 2, size=(5, 1))
    >>> X = h * np.exp(-4 * np.log(2) * ((x - 40) / 6) ** 2) + 0.5 * np.exp(
    ...     -4 * np.log(2) * ((x - 70) / 8) ** 2)
    >>> fitter = PeakProfileFitter(profile="gaussian", n_peaks=2, x_axis=x,
    ...                            baseline="none")
    >>> P = fitter.fit_transform(X)
    >>> fitter.get_feature_names_out()[:3]
    array(['peak0_center', 'peak0_height', 'peak0_fwhm'], dtype=object)
    >>> bool(np.allclose(P[:, 1], h[:, 0], atol=1e-3))
    True
    >>> bool(fitter.r2_.min() > 0.9999)
    True
    """

    _min_features = 2

    def __init__(
        self,
        profile="voigt",
        *,
        n_peaks=None,
        centers=None,
        x_axis=None,
        output="parameters",
        center_tolerance=None,
        fwhm_bounds=None,
        baseline="linear",
        max_iter=100,
        tol=1e-6,
        batch_size=32,
        device="cpu",
    ):
        self.profile = profile
        self.n_peaks = n_peaks
        self.centers = centers
        self.x_axis = x_axis
        self.output = output
        self.center_tolerance = center_tolerance
        self.fwhm_bounds = fwhm_bounds
        self.baseline = baseline
        self.max_iter = max_iter
        self.tol = tol
        self.batch_size = batch_size
        self.device = device

    def __setstate__(self, state):
        # fitted on a GPU, unpickled where there is none: fit on the CPU
        device_after_unpickling(state, "n_features_in_" in state, "PeakProfileFitter")
        super().__setstate__(state)

    def _validate_X(self, X, reset):
        # After fit, let the n_features_in_ check speak first.
        return validate_spectra(
            self,
            X,
            reset=reset,
            dtype=FLOAT_DTYPES,
            ensure_min_features=self._min_features if reset else 1,
        )

    def _each(self):
        return isinstance(self.centers, str) and self.centers == "each"

    def _check_fitted_params(self):
        super()._check_fitted_params()
        if not self._each() and not hasattr(self, "centers_"):
            # set_params(centers=...) after a fit with centers="each"
            raise NotFittedError(
                "This PeakProfileFitter was fitted with centers='each', which "
                f"learns no shared peaks; with centers={self.centers!r}, fit it "
                "again."
            )

    def _check_params(self):
        check_fit_params(
            self.profile,
            self.baseline,
            self.n_peaks,
            self.center_tolerance,
            self.max_iter,
            self.tol,
            self.batch_size,
            self.device,
        )
        check_option(self.output, "output", ("parameters", "reconstruction"))
        if isinstance(self.centers, str) and not self._each():
            raise InvalidParameterError(
                f"centers must be None, 'each' or an array of centres; "
                f"got {self.centers!r}."
            )
        if self._each() and self.output != "reconstruction":
            raise ValueError(
                "centers='each' gives every spectrum its own peaks, so there is "
                "no common parameter matrix: use output='reconstruction', or "
                "sktransfer.peaks.fit_peak_table for the peak parameters."
            )

    def _fit(self, X):
        x = self.x_
        self.fwhm_bounds_ = default_fwhm_bounds(x, self.fwhm_bounds)
        if self._each():
            # nothing of the shared peaks of an earlier fit may remain
            for name in _SHARED_PEAK_ATTRIBUTES:
                self.__dict__.pop(name, None)
            return
        mean = X.mean(axis=0, dtype=np.float64)
        if self.centers is None:
            centers, fwhm = detect_peaks(
                x, mean, self.n_peaks, stacklevel=self._detect_stacklevel
            )
        else:
            centers = check_centers(self.centers, x)
            if centers.size == 0:
                raise ValueError("centers must be a non-empty array of numbers.")
            fwhm = widths_at(x, mean, centers)
        self.centers_ = centers
        self.fwhm_init_, self.center_tolerance_ = initial_widths(
            x,
            fwhm,
            self.fwhm_bounds_,
            self.center_tolerance,
            given=self.fwhm_bounds is not None,
            stacklevel=self._detect_stacklevel - 1,
        )
        self.n_peaks_ = centers.shape[0]

    def fit(self, X, y=None):
        """Learn the peaks from the spectra and fit them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training spectra, one per row.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer; ``n_iter_``, ``r2_`` and ``rmse_``
            describe the fit of the training spectra.

        Raises
        ------
        MemoryError
            If the fit of a single spectrum needs more memory than is free
            on ``device`` (see ``batch_size``).
        """
        self._fit_all(X, stacklevel=4)
        return self

    def fit_transform(self, X, y=None):
        """Learn the peaks, fit them to every spectrum, return the output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training spectra, one per row.
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            Peak parameters, or fitted spectra (see ``output``).

        Raises
        ------
        MemoryError
            If the fit of a single spectrum needs more memory than is free
            on ``device`` (see ``batch_size``).
        """
        return self._fit_all(X, stacklevel=5)[self.output]

    def _fit_all(self, X, stacklevel):
        # stacklevel: frames from _fit_spectra up to the caller of the public
        # method, which its ConvergenceWarning names
        # detect_peaks warns from _fit, two frames below _fit_validated
        self._detect_stacklevel = stacklevel + 2
        try:
            X = self._fit_validated(X)
        finally:
            del self._detect_stacklevel
        res = self._fit_spectra(X, stacklevel)
        self.n_iter_, self.r2_, self.rmse_ = res.n_iter, res.r2, res.rmse
        if not self._each():
            self.center_at_bound_ = res.center_at_bound.mean(axis=0)
            if self.centers is not None:  # given, not detected
                at_bound = res.center_at_bound
                warn_given_centres_at_bound(
                    at_bound,
                    np.ones_like(at_bound),
                    res.r2,
                    "PeakProfileFitter",
                    stacklevel - 1,  # counted from _fit_spectra, a frame deeper
                    centers=self.centers_,
                )
        return res

    def _transform(self, X):
        return self._fit_spectra(X, stacklevel=5)[self.output]

    def fit_peaks(self, X):
        """Fit the learned peaks to spectra and return every result.

        ``transform`` returns one of these results and keeps no state; this
        method also gives the fit diagnostics of new spectra.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With ``parameters`` (n_samples, n_features_out; None with
            ``centers="each"``), ``reconstruction`` (n_samples, n_features),
            ``r2`` and ``rmse`` (n_samples,), the per-spectrum coefficient of
            determination and root mean squared residual, ``converged``
            (n_samples,) bool, ``n_iter`` (int, the most iterations any
            spectrum took) and ``center_at_bound`` (n_samples, n_peaks)
            bool, whether each peak's centre ended at the edge of its
            ``center_tolerance_`` (None with ``centers="each"``).

        Raises
        ------
        MemoryError
            If the fit of a single spectrum needs more memory than is free
            on ``device`` (see ``batch_size``).
        """
        return self._fit_spectra(self._validate_transform_X(X), stacklevel=3)

    def _layout(self):
        return PeakLayout(self.profile, self.n_peaks_, self.baseline)

    def _fit_spectra(self, X, stacklevel):
        x, n = self.x_, X.shape[0]
        if self._each():
            centers, fwhm = detect_each(x, X, self.n_peaks)
            centers, counts = pad_ragged(centers)
            fwhm, tol = initial_widths(
                x,
                pad_ragged(fwhm)[0],
                self.fwhm_bounds_,
                self.center_tolerance,
                given=self.fwhm_bounds is not None,
                stacklevel=stacklevel,
            )
            layout = PeakLayout(self.profile, centers.shape[1], self.baseline)
        else:
            k = self.n_peaks_
            centers = np.broadcast_to(self.centers_, (n, k))
            fwhm = np.broadcast_to(self.fwhm_init_, (n, k))
            tol = np.broadcast_to(self.center_tolerance_, (n, k))
            counts = np.full(n, k)
            layout = self._layout()
        res = fit_spectra(
            X,
            x,
            centers,
            fwhm,
            tol,
            counts,
            fwhm_bounds=self.fwhm_bounds_,
            layout=layout,
            max_iter=self.max_iter,
            tol=self.tol,
            batch_size=self.batch_size,
            device=resolve_device(self.device),
        )
        warn_not_converged(res.converged, self.max_iter, stacklevel=stacklevel)
        params = None
        if not self._each():
            fields = [res.peaks[..., i] for i in range(4)]
            base = res.baseline[:, : layout.n_base]
            params = layout.pack(fields, base).astype(X.dtype)
        return Bunch(
            parameters=params,
            reconstruction=res.reconstruction,
            r2=res.r2,
            rmse=res.rmse,
            converged=res.converged,
            n_iter=max(int(res.n_iter.max(initial=0)), 1),
            center_at_bound=None if self._each() else res.center_at_bound,
        )

    def inverse_transform(self, X):
        """Render parameter rows back into spectra on ``x_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out)
            Parameter matrix with the columns of ``get_feature_names_out``,
            in that order (a DataFrame's column names are checked).
            With ``output="reconstruction"`` the input already holds spectra
            and is returned validated.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Spectra rendered from the parameters.
        """
        self._check_fitted_params()
        if self.output == "reconstruction":
            # a copy: editing the result must not edit the caller's array
            return np.array(self._validate_X(X, reset=False), copy=True)
        layout = self._layout()
        X = self._check_params_matrix(X, layout)
        x = torch.from_numpy(self.x_)
        out = np.empty((X.shape[0], self.x_.shape[0]), dtype=X.dtype)
        # Rendering makes (rows, n_peaks, n_points) temporaries (complex for
        # "voigt"): rows in chunks keep them to a few tens of MiB.
        size = self.n_peaks_ * self.x_.shape[0]
        for rows in row_slices(X.shape[0], size, _RENDER_CHUNK_POINTS):
            params = torch.from_numpy(X[rows].astype(np.float64))
            (c, h, f, *s), base = layout.unpack(params)
            Y = render_peaks(x, c, h, f, s[0] if s else None, self.profile)
            if layout.n_base:
                Y = Y + base[:, :1]
            if layout.n_base == 2:
                Y = Y + base[:, 1:] * (x - 0.5 * (self.x_[0] + self.x_[-1]))
            out[rows] = Y.numpy()
        return out

    @staticmethod
    def _check_params_matrix(X, layout):
        names = layout.names()
        columns = getattr(X, "columns", None)
        if columns is not None and all(isinstance(c, str) for c in columns):
            # read by position: columns chosen by name in another order
            # would render silently wrong spectra
            wrong = [
                (i, a, b) for i, (a, b) in enumerate(zip(columns, names)) if a != b
            ]
            if wrong and len(columns) == len(names):
                i, found, expected = wrong[0]
                raise ValueError(
                    f"X's columns must be get_feature_names_out() in order; "
                    f"column {i} is {found!r}, expected {expected!r}."
                )
        X = check_array(X, dtype=FLOAT_DTYPES)
        if X.shape[1] != len(names):
            raise ValueError(
                f"X has {X.shape[1]} columns but this fitter's parameter matrix "
                f"has {len(names)} ({', '.join(names[:4])}, ...)."
            )
        return X

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, checked against the input seen in ``fit``
            as in scikit-learn; the output keeps them with
            ``output="reconstruction"``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``peak{i}_center``, ``peak{i}_height``, ``peak{i}_fwhm``,
            ``peak{i}_shape`` or ``peak{i}_eta``, then the baseline terms;
            or the input names for ``output="reconstruction"``.
        """
        self._check_fitted_params()
        input_names = self._input_feature_names(input_features)
        if self.output == "reconstruction":
            return input_names
        return np.asarray(self._layout().names(), dtype=object)
