"""Metrics for spectra: per-spectrum agreement and "generated looks real" tests.

:func:`spectral_correlation` and :func:`spectral_rmse` compare matching rows
of two spectra matrices (with sklearn scorers for model selection),
:func:`peak_recall` checks that a predicted spectrum has the measured peaks;
:func:`two_sample_accuracy` and :func:`kmeans_indistinguishability` measure
how well generated spectra can be told apart from real ones.
"""

from sktransfer.metrics._peak_recall import peak_recall
from sktransfer.metrics._scorer import (
    get_scorer,
    get_scorer_names,
    spectral_correlation_scorer,
    spectral_rmse_scorer,
)
from sktransfer.metrics._spectral import spectral_correlation, spectral_rmse
from sktransfer.metrics._two_sample import (
    kmeans_indistinguishability,
    two_sample_accuracy,
)

__all__ = [
    "get_scorer",
    "get_scorer_names",
    "kmeans_indistinguishability",
    "peak_recall",
    "spectral_correlation",
    "spectral_correlation_scorer",
    "spectral_rmse",
    "spectral_rmse_scorer",
    "two_sample_accuracy",
]
