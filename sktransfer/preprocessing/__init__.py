"""Row-wise preprocessing of spectra that scikit-learn lacks.

Per-spectrum scaling (:class:`MinMaxNormalizer`,
:class:`StandardNormalVariate`, :class:`AreaNormalizer`), interpolation onto a
new spectral grid (:class:`Resampler`) and cutting an axis range
(:class:`RangeCut`).
"""

from sktransfer.preprocessing._axis import RangeCut, Resampler
from sktransfer.preprocessing._scaling import (
    AreaNormalizer,
    MinMaxNormalizer,
    StandardNormalVariate,
)

__all__ = [
    "AreaNormalizer",
    "MinMaxNormalizer",
    "RangeCut",
    "Resampler",
    "StandardNormalVariate",
]
