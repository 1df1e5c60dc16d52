"""Private base class of the pybaselines-backed transformers."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sktransfer._base import SpectralTransformer
from sktransfer._validation import check_param
from sktransfer.baseline._kernels import min_points, row_baselines
from sktransfer.baseline._stacked import max_tolerances


def check_n_jobs(n_jobs):
    """Return ``n_jobs`` if it is None or a non-zero integer."""
    if n_jobs is not None:
        check_param(n_jobs, "n_jobs", kind="int")
        if n_jobs == 0:
            raise ValueError("n_jobs must be a non-zero integer or None, got 0.")
    return n_jobs


class BaselineCorrector(SpectralTransformer):
    """Subtract a pybaselines baseline from every spectrum.

    Subclasses name the pybaselines method and map their parameters to its
    keyword arguments; everything else (validation, chunked parallel calls,
    tiny spectra, iteration counts, warnings) lives here.
    """

    def _method_name(self):
        raise NotImplementedError

    def _method_kwargs(self):
        raise NotImplementedError

    def _setting(self, name):
        """Return the method's setting ``name`` as pybaselines takes it, or None."""
        return self._method_kwargs().get(name)

    def _convergence_limits(self):
        """``(max_iter, passes, tol)`` of an iterative method, or None.

        A spectrum whose ``tol_history`` has ``passes`` entries, the last not
        below ``tol``, stopped at ``max_iter`` without converging.
        """
        max_iter, tol = self._setting("max_iter"), self._setting("tol")
        if max_iter is None or tol is None:
            return None
        return max_iter, max_tolerances(self._method_name(), max_iter), tol

    def _check_params(self):
        check_n_jobs(self.n_jobs)

    def _fit(self, X):
        # A count from an earlier fit_transform does not describe this fit.
        self.__dict__.pop("n_iter_", None)

    def _baselines(self, X, stacklevel=3):
        """``(baselines, n_iter)``; the baselines are a new array of X's dtype.

        Warnings point ``stacklevel`` frames up: at the call of the public
        method, through the output wrapper of ``transform`` and
        ``fit_transform``.
        """
        method, kwargs = self._method_name(), self._method_kwargs()
        needed = min_points(method, kwargs)
        if X.shape[1] < needed:
            warnings.warn(
                f"{type(self).__name__}: spectra with {X.shape[1]} point(s) are "
                f"too short for {method!r}, which needs at least {needed}; the "
                "baseline equals the spectrum and the corrected spectrum is zero.",
                UserWarning,
                stacklevel=stacklevel,
            )
            return X.copy(), np.ones(X.shape[0], dtype=np.intp)
        x_data = None if self.x_axis is None else self._axis(X.shape[1])
        baselines, n_iter, last_tol = row_baselines(
            X,
            method,
            kwargs,
            x_data=x_data,
            n_jobs=self.n_jobs,
            stacklevel=stacklevel + 1,
        )
        limits = self._convergence_limits()
        if limits is not None:
            max_iter, passes, tol = limits
            stuck = (n_iter >= passes) & (last_tol >= tol)
            if stuck.any():
                warnings.warn(
                    f"{type(self).__name__}: {int(stuck.sum())} of {len(stuck)} "
                    f"spectra reached max_iter={max_iter} before the tolerance "
                    f"tol={tol}; consider increasing max_iter or tol.",
                    ConvergenceWarning,
                    stacklevel=stacklevel,
                )
        return baselines, n_iter

    def fit_transform(self, X, y=None):
        """Fit and return the corrected spectra; record ``n_iter_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.
        y : None
            Ignored.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            ``X`` minus its baselines, in the input's float dtype.
        """
        X = self._fit_validated(X)
        baselines, n_iter = self._baselines(X, stacklevel=4)
        if self._convergence_limits() is not None:
            # The first weighted fit always runs, even when pybaselines stops
            # before recording a tolerance.
            self.n_iter_ = max(1, int(n_iter.max()))
        return _subtract_from(X, baselines)

    def _transform(self, X):
        return _subtract_from(X, self._baselines(X, stacklevel=5)[0])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags

    def baseline(self, X):
        """Return the baseline of every spectrum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Spectra, one per row.

        Returns
        -------
        baselines : ndarray of shape (n_samples, n_features)
            The baselines, in the input's float dtype; ``transform(X)`` is
            ``X - baseline(X)``.
        """
        return self._baselines(self._validate_transform_X(X))[0]


def _subtract_from(X, baselines):
    """``X - baselines``, written over ``baselines`` (a new array of X's dtype)."""
    return np.subtract(X, baselines, out=baselines)


def check_iterative(est):
    """Validate ``max_iter`` and ``tol`` shared by the iterative methods."""
    check_param(est.max_iter, "max_iter", kind="int", low=1)
    check_param(est.tol, "tol", low=0)


def check_lam_diff_order(est):
    """Validate ``lam`` and ``diff_order`` of the Whittaker methods."""
    check_param(est.lam, "lam", low=0, closed="neither")
    check_param(est.diff_order, "diff_order", kind="int", low=1)
