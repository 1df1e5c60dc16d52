"""Any row-wise pybaselines method as a transformer."""

import inspect

from pybaselines import Baseline

from sktransfer._validation import InvalidParameterError, check_option, check_param
from sktransfer.baseline._base import BaselineCorrector
from sktransfer.baseline._kernels import pybaselines_methods
from sktransfer.baseline._stacked import method_default

# Common keyword arguments checked here so that bad values raise a ValueError
# naming them before any spectrum is processed.
_KWARG_CHECKS = {
    "lam": {"low": 0, "closed": "neither"},
    "p": {"low": 0, "high": 1, "closed": "neither"},
    "poly_order": {"kind": "int", "low": 0},
    "diff_order": {"kind": "int", "low": 1},
    "max_iter": {"kind": "int", "low": 1},
    "tol": {"low": 0},
}


class PybaselinesCorrector(BaselineCorrector):
    """Baseline correction with any 1-D pybaselines method, by name.

    Calls ``pybaselines.Baseline().<method>(spectrum, **method_kwargs)`` on
    every spectrum and subtracts the baseline. ``"airpls"``, ``"arpls"`` and
    ``"asls"`` (without initial ``weights``, ``diff_order`` at most 3) and
    ``"modpoly"`` (without ``weights`` or ``mask_initial_peaks``) are
    computed for all spectra at once, as in :class:`AirPLS` and
    :class:`ModPoly` (whose batched fit, unlike pybaselines, does not
    depend on the units of the spectra). Use it for the methods
    without a class of their own (``"iarpls"``, ``"imodpoly"``, ``"mor"``,
    ``"rubberband"``, ``"fabc"``, ...).

    Read more in the :ref:`User Guide <baseline>`.

    Parameters
    ----------
    method : str, default="airpls"
        Name of a :class:`pybaselines.Baseline` method that works on one
        spectrum (all but ``"collab_pls"``).
    method_kwargs : dict, default=None
        Keyword arguments of the method, with pybaselines' names; missing
        ones take pybaselines' defaults. ``set_params(method_kwargs__lam=...)``
        sets one of them (and so a grid search can tune it).
    x_axis : array-like of shape (n_features,), default=None
        Spectral axis (strictly increasing or decreasing) passed to
        pybaselines as ``x_data``. ``None`` uses pybaselines' default axis.
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
    n_iter_ : int
        Only for methods with ``max_iter`` and ``tol`` arguments: the largest
        number of tolerances pybaselines recorded (the length of its
        ``tol_history``; for nested solvers such as ``brpls`` its number of
        rows) over the spectra corrected by :meth:`fit_transform`. Most
        methods record one for the fit before the first reweighting too, so
        up to ``max_iter + 1``; ``modpoly``, ``imodpoly``, ``penalized_poly``
        and ``ria`` up to ``max_iter``, ``dietrich`` up to ``max_iter - 1``.
        ``fit`` alone leaves it unset, as does ``ipsa`` with
        ``original_criteria=True`` and ``tol=None``, whose tolerance depends
        on each spectrum.

    See Also
    --------
    AirPLS, ArPLS, AsLS, ModPoly, SNIP : The common methods as classes.

    Notes
    -----
    The transformer is stateless (``fit`` only validates; ``transform`` also
    works without it, except for a pandas output from ``set_output``, whose
    column names ``fit`` records). Methods with ``max_iter`` and ``tol``
    arguments record ``n_iter_`` in ``fit_transform`` and warn with a
    :class:`~sklearn.exceptions.ConvergenceWarning` as :class:`AirPLS`
    does, when a spectrum's ``tol_history`` is full and its last tolerance
    not below ``tol``; the nested solvers (``brpls``, ``pspline_brpls``,
    ``goldindec``, ``jbcd``), with no single final tolerance, do not warn.
    Whittaker methods on spectra with at most ``diff_order`` points, and
    SNIP on fewer than 3, return the spectrum as its own baseline with a
    warning.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.baseline import PybaselinesCorrector
    >>> rng = np.random.default_rng(0)
    >>> x = np.linspace(0, 1, 200)
    >>> peak = np.exp(-0.5 * ((x - 0.5) / 0.02) ** 2)
    >>> X = (peak + 2 * x + 1 + rng.normal(0, 0.01, 200))[None, :]  # one spectrum
    >>> corrector = PybaselinesCorrector("iarpls", method_kwargs={"lam": 1e4})
    >>> Xc = corrector.fit(X).transform(X)
    >>> Xc.shape
    (1, 200)
    >>> print(f"peak {Xc[0, 100]:.1f}, ends {abs(Xc[0, [0, -1]]).max():.1f}")
    peak 1.0, ends 0.0
    """

    def __init__(
        self, method="airpls", *, method_kwargs=None, x_axis=None, n_jobs=None
    ):
        self.method = method
        self.method_kwargs = method_kwargs
        self.x_axis = x_axis
        self.n_jobs = n_jobs

    def set_params(self, **params):
        """Set the parameters; ``method_kwargs__<name>`` sets one keyword.

        ``method_kwargs__lam=1e5`` replaces ``method_kwargs`` with a new dict
        that holds ``lam=1e5`` besides the other keywords (the dict given
        before is not changed), so that a grid search can tune one keyword
        of the method: ``{"pybaselinescorrector__method_kwargs__lam": [...]}``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : PybaselinesCorrector
            This estimator.
        """
        prefix = "method_kwargs__"
        keywords = {
            k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)
        }
        if keywords:
            params = {k: v for k, v in params.items() if not k.startswith(prefix)}
            given = params.get("method_kwargs", self.method_kwargs)
            if given is not None and not isinstance(given, dict):
                raise InvalidParameterError(
                    f"method_kwargs must be a dict or None to set "
                    f"{prefix}{next(iter(keywords))}; got {given!r}."
                )
            params["method_kwargs"] = {**(given or {}), **keywords}
        return super().set_params(**params)

    def _method_name(self):
        return self.method

    def _method_kwargs(self):
        return dict(self.method_kwargs or {})

    def _setting(self, name):
        value = self._method_kwargs().get(name, method_default(self.method, name))
        if name == "tol" and value is None and self.method == "ipsa":
            # what pybaselines' ipsa takes for tol=None; with original_criteria
            # it depends on each spectrum, so there is none to judge by
            return None if self._setting("original_criteria") else 1e-3
        return value

    def _check_params(self):
        super()._check_params()
        check_option(self.method, "method", pybaselines_methods())
        if self.method_kwargs is not None and not isinstance(self.method_kwargs, dict):
            raise InvalidParameterError(
                f"method_kwargs must be a dict or None, got {self.method_kwargs!r}."
            )
        params = inspect.signature(getattr(Baseline, self.method)).parameters
        # A method's **kwargs only take padding or window options, a form
        # pybaselines deprecates (pad_kwargs, window_kwargs): any other name
        # there, a misspelt setting or lam for SNIP, would be ignored.
        accepted = [
            name
            for name, p in params.items()
            if name not in ("self", "data") and p.kind is not p.VAR_KEYWORD
        ]
        for name, value in self._method_kwargs().items():
            if name not in accepted:
                raise ValueError(
                    f"method_kwargs has {name!r}, which {self.method!r} does not "
                    f"accept; it accepts {', '.join(accepted)}."
                )
            if value is None and params[name].default is None:
                continue  # the method's own default, passed explicitly
            if name in _KWARG_CHECKS:
                check = _KWARG_CHECKS[name]
                if name == "p" and params[name].default == 0.0:
                    # mpls, mpspline, pspline_mpls: a weight in [0, 1],
                    # 0 by default
                    check = {**check, "closed": "both"}
                check_param(value, f"method_kwargs[{name!r}]", **check)
