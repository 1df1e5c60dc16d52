"""PeakProfileFitter: spectra to peak parameters and back, fitted in batches."""

import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch, check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from sktransfer._base import FLOAT_DTYPES, FeatureChangingTransformer
from sktransfer._validation import check_option, check_param
from sktransfer.peaks._detect import detect_peaks, widths_at
from sktransfer.peaks._profiles import PROFILES, render_peaks
from sktransfer.peaks._solver import (
    Bounds,
    levenberg_marquardt,
    n_shape_params,
    peak_terms,
)
from sktransfer.utils._torch import resolve_device

_BASELINES = {"none": 0, "constant": 1, "linear": 2}


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
        prominent peaks of the mean training spectrum. None keeps every peak
        whose prominence is at least 5 % of the mean spectrum's range. If
        fewer peaks exist, the ones found are used (with a warning).
    centers : array-like of shape (n_peaks,) or None, default=None
        Initial peak centres in axis units. Overrides detection and
        ``n_peaks``.
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
        ``1 - R2`` is below ``1e-3 * tol``.
    batch_size : int, default=32
        Number of spectra fitted together (memory grows with
        ``batch_size * n_peaks * n_features``). Small batches stay in the
        CPU caches and are fastest there; on a GPU, larger ones (hundreds)
        use the device better.
    device : str, default="cpu"
        Torch device of the fit: "cpu", "cuda" or "cuda:N".
    random_state : int, RandomState instance or None, default=None
        Unused: the fit is deterministic. Accepted for API symmetry.

    Attributes
    ----------
    centers_ : ndarray of shape (n_peaks,)
        Initial peak centres (axis units, increasing axis order).
    fwhm_init_ : ndarray of shape (n_peaks,)
        Initial FWHM of each peak.
    center_tolerance_ : ndarray of shape (n_peaks,)
        Allowed centre movement of each peak.
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
        Coefficient of determination of each training spectrum's fit.
    rmse_ : ndarray of shape (n_samples,)
        Root mean squared residual of each training spectrum's fit.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen during ``fit``; only when X has string
        column names.

    See Also
    --------
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
    :meth:`fit_peaks` returns the diagnostics of new spectra.

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
        random_state=None,
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
        self.random_state = random_state

    def _validate_X(self, X, reset):
        # After fit, let the n_features_in_ check speak first.
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=FLOAT_DTYPES,
            ensure_min_features=self._min_features if reset else 1,
        )

    def _check_params(self):
        check_option(self.profile, "profile", PROFILES)
        check_option(self.output, "output", ("parameters", "reconstruction"))
        check_option(self.baseline, "baseline", tuple(_BASELINES))
        if self.n_peaks is not None:
            check_param(self.n_peaks, "n_peaks", "int", low=1)
        if self.center_tolerance is not None:
            check_param(
                self.center_tolerance, "center_tolerance", low=0, closed="neither"
            )
        check_param(self.max_iter, "max_iter", "int", low=1)
        check_param(self.tol, "tol", low=0)
        check_param(self.batch_size, "batch_size", "int", low=1)
        resolve_device(self.device)

    def _fit(self, X):
        x = self.x_
        step = float(np.abs(np.diff(x)).min())
        span = float(np.ptp(x))
        if self.fwhm_bounds is None:
            lo, hi = step, max(span / 4.0, 2.0 * step)
        else:
            lo, hi = self._check_fwhm_bounds()
        mean = X.mean(axis=0, dtype=np.float64)
        if self.centers is None:
            centers, fwhm = detect_peaks(x, mean, self.n_peaks)
        else:
            centers = self._check_centers(x)
            fwhm = widths_at(x, mean, centers)
        fwhm = np.where(fwhm > 0, fwhm, 4.0 * step)
        self.centers_ = centers
        self.fwhm_init_ = np.clip(fwhm, lo + 0.01 * (hi - lo), hi - 0.01 * (hi - lo))
        if self.center_tolerance is None:
            tol = np.maximum(0.5 * self.fwhm_init_, step)
        else:
            tol = np.full(centers.shape, float(self.center_tolerance))
        self.center_tolerance_ = tol
        self.fwhm_bounds_ = (lo, hi)
        self.n_peaks_ = centers.shape[0]

    def _check_fwhm_bounds(self):
        try:
            lo, hi = (float(v) for v in self.fwhm_bounds)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"fwhm_bounds must be a pair (low, high); got {self.fwhm_bounds!r}."
            ) from exc
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
            raise ValueError(
                f"fwhm_bounds must satisfy 0 < low < high; got {self.fwhm_bounds!r}."
            )
        return lo, hi

    def _check_centers(self, x):
        centers = np.asarray(self.centers, dtype=np.float64).ravel()
        if centers.size == 0 or not np.all(np.isfinite(centers)):
            raise ValueError("centers must be a non-empty array of finite numbers.")
        lo, hi = x.min(), x.max()
        outside = centers[(centers < lo) | (centers > hi)]
        if outside.size:
            raise ValueError(
                f"centers {outside.tolist()} lie outside the axis range "
                f"[{lo:g}, {hi:g}]."
            )
        return np.sort(centers)

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
        """
        self.fit_transform(X)
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
        """
        res = self._fit_spectra(self._fit_validated(X))
        self.n_iter_, self.r2_, self.rmse_ = res.n_iter, res.r2, res.rmse
        return res[self.output]

    def _transform(self, X):
        return self._fit_spectra(X)[self.output]

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
            With ``parameters`` (n_samples, n_features_out), ``reconstruction``
            (n_samples, n_features), ``r2`` and ``rmse`` (n_samples,), the
            per-spectrum coefficient of determination and root mean squared
            residual, ``converged`` (n_samples,) bool and ``n_iter`` (int).
        """
        check_is_fitted(self)
        return self._fit_spectra(self._validate_X(X, reset=False))

    def _fit_spectra(self, X):
        device = resolve_device(self.device)
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        npp = n_shape_params(self.profile)
        n_base = _BASELINES[self.baseline]
        x = torch.tensor(self.x_, dtype=dtype, device=device)
        mid, half = 0.5 * (self.x_[0] + self.x_[-1]), 0.5 * (self.x_[-1] - self.x_[0])
        u = (x - mid) / half
        X = np.ascontiguousarray(X)
        n, k = X.shape[0], self.n_peaks_
        out = np.empty((n, k * npp + n_base), dtype=X.dtype)
        fitted_all = np.empty_like(X)
        n_iter = 0
        converged = np.zeros(n, dtype=bool)
        for start in range(0, n, self.batch_size):
            Y = torch.tensor(
                X[start : start + self.batch_size], dtype=dtype, device=device
            )
            theta, bounds = self._initial_theta(Y, x, u, npp, n_base)
            theta, fitted, conv, it = levenberg_marquardt(
                x, u, Y, theta, bounds, self.profile, n_base, self.max_iter, self.tol
            )
            n_iter = max(n_iter, it)
            rows = slice(start, start + Y.shape[0])
            converged[rows] = conv.cpu().numpy()
            out[rows] = self._physical(theta, bounds, npp, n_base, half)
            fitted_all[rows] = fitted.cpu().numpy()
        if not converged.all():
            warnings.warn(
                f"The peak fit of {int((~converged).sum())} of {n} spectra did "
                f"not converge in max_iter={self.max_iter} iterations; "
                "increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        ss_res = ((X - fitted_all) ** 2).sum(axis=1, dtype=np.float64)
        ss_tot = ((X - X.mean(axis=1, keepdims=True)) ** 2).sum(
            axis=1, dtype=np.float64
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(
                ss_tot > 0, 1.0 - ss_res / ss_tot, np.where(ss_res > 0, 0.0, 1.0)
            )
        return Bunch(
            parameters=out,
            reconstruction=fitted_all,
            r2=r2,
            rmse=np.sqrt(ss_res / X.shape[1]),
            converged=converged,
            n_iter=max(n_iter, 1),
        )

    def _initial_theta(self, Y, x, u, npp, n_base):
        n, k = Y.shape[0], self.n_peaks_
        like = {"dtype": Y.dtype, "device": Y.device}
        top, low = Y.amax(-1, keepdim=True), Y.amin(-1, keepdim=True)
        h_scale = torch.where(top - low > 0, top - low, top.abs().clamp(min=1.0))
        c0 = torch.tensor(self.centers_, **like).expand(n, k)
        bounds = Bounds(
            c0,
            torch.tensor(self.center_tolerance_, **like).expand(n, k),
            torch.full((n, k), self.fwhm_bounds_[0], **like),
            torch.full((n, k), self.fwhm_bounds_[1], **like),
            h_scale.expand(n, k),
        )
        f0 = torch.tensor(self.fwhm_init_, **like)
        s0 = torch.full((k,), 0.5, **like)
        g = peak_terms(x - c0[0, :, None], f0[:, None], s0[:, None], self.profile)[0]
        # Heights and baseline are linear: start from their least-squares fit
        # with the initial centres and widths (one basis for the whole batch).
        basis = torch.cat([g, torch.ones_like(x)[None], u[None]])[: k + n_base]
        coef = torch.linalg.lstsq(basis.T, Y.T).solution.T
        h0 = coef[:, :k].clamp(min=0.0)
        parts = bounds.to_theta(c0, h0, f0.expand(n, k), s0.expand(n, k))
        theta = torch.stack(parts[:npp], dim=-1).reshape(n, k * npp)
        return torch.cat([theta, coef[:, k:]], dim=-1), bounds

    @staticmethod
    def _physical(theta, bounds, npp, n_base, half):
        n, k = bounds.c0.shape
        tp = theta[:, : k * npp].reshape(n, k, npp)
        ts = tp[..., 3] if npp == 4 else tp[..., 0]
        phys, _ = bounds.from_theta(tp[..., 0], tp[..., 1], tp[..., 2], ts)
        cols = torch.stack(phys[:npp], dim=-1).reshape(n, k * npp)
        base = theta[:, k * npp :].clone()
        if n_base == 2:
            base[:, 1] = base[:, 1] / half
        return torch.cat([cols, base], dim=-1).cpu().numpy()

    def inverse_transform(self, X):
        """Render parameter rows back into spectra on ``x_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_out)
            Parameter matrix with the columns of ``get_feature_names_out``.
            With ``output="reconstruction"`` the input already holds spectra
            and is returned validated.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Spectra rendered from the parameters.
        """
        check_is_fitted(self)
        if self.output == "reconstruction":
            return self._validate_X(X, reset=False)
        X = self._check_params_matrix(X)
        npp = n_shape_params(self.profile)
        k, n_base = self.n_peaks_, _BASELINES[self.baseline]
        t = torch.from_numpy(X.astype(np.float64))
        p = t[:, : k * npp].reshape(-1, k, npp)
        shape = p[..., 3] if npp == 4 else None
        x = torch.from_numpy(self.x_)
        Y = render_peaks(x, p[..., 0], p[..., 1], p[..., 2], shape, self.profile)
        if n_base:
            Y = Y + t[:, k * npp : k * npp + 1]
        if n_base == 2:
            mid = 0.5 * (self.x_[0] + self.x_[-1])
            Y = Y + t[:, -1:] * (x - mid)
        return Y.numpy().astype(X.dtype, copy=False)

    def _check_params_matrix(self, X):
        X = check_array(X, dtype=FLOAT_DTYPES)
        n_out = len(self._names())
        if X.shape[1] != n_out:
            raise ValueError(
                f"X has {X.shape[1]} columns but this fitter's parameter matrix "
                f"has {n_out} ({', '.join(self._names()[:4])}, ...)."
            )
        return X

    def _names(self):
        npp = n_shape_params(self.profile)
        fields = [
            "center",
            "height",
            "fwhm",
            "shape" if self.profile == "voigt" else "eta",
        ]
        names = [f"peak{i}_{f}" for i in range(self.n_peaks_) for f in fields[:npp]]
        return (
            names + ["baseline_offset", "baseline_slope"][: _BASELINES[self.baseline]]
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; only used with ``output="reconstruction"``,
            where the output keeps the input's names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``peak{i}_center``, ``peak{i}_height``, ``peak{i}_fwhm``,
            ``peak{i}_shape`` or ``peak{i}_eta``, then the baseline terms;
            or the input names for ``output="reconstruction"``.
        """
        check_is_fitted(self)
        if self.output == "reconstruction":
            return self._input_feature_names(input_features)
        return np.asarray(self._names(), dtype=object)
