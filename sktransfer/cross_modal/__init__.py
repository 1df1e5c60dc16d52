"""Cross-modal spectral transfer: predict one modality's spectrum from another's.

:class:`SpectroGenRegressor` is a compact SpectroGen (arXiv 2407.16094): a
variational autoencoder from a source spectrum (for example IR) to a target
spectrum (for example Raman), wrapped as a skorch/sklearn regressor.
:class:`SpectroGenVAE` is its plain torch module.
"""

from ._modules import SpectroGenVAE
from ._regressor import SpectroGenRegressor

__all__ = ["SpectroGenRegressor", "SpectroGenVAE"]
