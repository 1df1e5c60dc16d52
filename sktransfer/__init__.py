"""sktransfer: scikit-learn estimators for spectroscopy.

Baseline correction and peak-profile fitting as transformers, cross-modal
spectral transfer (IR to Raman or XRD) as a regressor, and generative
augmentation of small, imbalanced spectral data sets as a resampler.

Importing :mod:`sktransfer` does not import torch; the torch-backed
subpackages (:mod:`sktransfer.cross_modal`, :mod:`sktransfer.over_sampling`,
:mod:`sktransfer.peaks`) load it when they are imported.
"""

__version__ = "0.1.0"

__all__ = [
    "baseline",
    "cross_modal",
    "datasets",
    "metrics",
    "over_sampling",
    "peaks",
    "pipeline",
    "preprocessing",
    "__version__",
]
