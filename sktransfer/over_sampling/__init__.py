"""Generative over-sampling of imbalanced spectral data sets (needs torch)."""

from sktransfer.over_sampling._sampler import WGANGPOverSampler

__all__ = ["WGANGPOverSampler"]
