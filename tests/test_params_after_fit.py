"""Parameters set after fit to values that fit refuses.

Transformers whose ``transform`` reads their parameters (the peak fitter
fits peaks there, the baseline correctors compute baselines) refuse such a
value there too, with the message of ``fit``, rather than fail on it
somewhere inside (a ``KeyError``, an error of torch's) or use it.
"""

import numpy as np
import pytest
from sklearn.base import clone

from sktransfer.baseline import SNIP, AirPLS, PybaselinesCorrector
from sktransfer.peaks import PeakProfileFitter
from sktransfer.preprocessing import AreaNormalizer, MinMaxNormalizer, Resampler

X_AXIS = np.linspace(400.0, 1400.0, 101)


def _spectra():
    rng = np.random.default_rng(0)
    peak = np.exp(-0.5 * ((X_AXIS - 800.0) / 20.0) ** 2)
    return peak * rng.uniform(0.5, 1.5, (6, 1)) + 1e-3 * X_AXIS


CASES = [
    (PeakProfileFitter(n_peaks=2, x_axis=X_AXIS), "output", "residual"),
    (PeakProfileFitter(n_peaks=2, x_axis=X_AXIS), "baseline", "cubic"),
    (PeakProfileFitter(n_peaks=2, x_axis=X_AXIS), "profile", "voigtx"),
    (PeakProfileFitter(n_peaks=2, x_axis=X_AXIS), "tol", -1.0),
    (PeakProfileFitter(n_peaks=2, x_axis=X_AXIS), "batch_size", 0),
    (PeakProfileFitter(n_peaks=2, x_axis=X_AXIS), "max_iter", 0),
    (AirPLS(x_axis=X_AXIS), "max_iter", 0),
    (SNIP(), "max_half_window", 0),
    (PybaselinesCorrector("asls"), "method_kwargs", {"lamb": 1e5}),
    (Resampler(grid=np.linspace(500, 1300, 50), x_axis=X_AXIS), "method", "spline"),
    (AreaNormalizer(x_axis=X_AXIS), "norm", "l7"),
    (MinMaxNormalizer(), "feature_range", (1.0, 0.0)),
]


@pytest.mark.parametrize(
    "est, param, value", CASES, ids=[f"{type(e).__name__}-{p}" for e, p, _ in CASES]
)
def test_a_parameter_fit_refuses_is_refused_after_fit(est, param, value):
    X = _spectra()
    with pytest.raises(ValueError) as refused:
        clone(est).set_params(**{param: value}).fit(X)
    fitted = clone(est).fit(X)
    expected = fitted.transform(X)
    fitted.set_params(**{param: value})
    calls = [("transform", X)]
    if isinstance(est, PeakProfileFitter):
        calls += [
            ("fit_peaks", X),
            ("inverse_transform", expected),
            ("get_feature_names_out", None),
        ]
    for name, data in calls:
        with pytest.raises(ValueError) as exc:
            getattr(fitted, name)(data)
        assert str(exc.value) == str(refused.value), name
    # set back, it transforms as before
    fitted.set_params(**{param: clone(est).get_params()[param]})
    np.testing.assert_array_equal(fitted.transform(X), expected)
