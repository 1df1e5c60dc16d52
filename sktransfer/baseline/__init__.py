"""Baseline correction transformers backed by pybaselines.

Each transformer subtracts a per-spectrum baseline (``transform(X)`` is
``X - baseline(X)``), with pybaselines' parameter names and defaults, a
spectral axis ``x_axis`` and row-parallel ``n_jobs``.
"""

from sktransfer.baseline._generic import PybaselinesCorrector
from sktransfer.baseline._polynomial import ModPoly
from sktransfer.baseline._smooth import SNIP
from sktransfer.baseline._whittaker import AirPLS, ArPLS, AsLS

__all__ = ["AirPLS", "ArPLS", "AsLS", "ModPoly", "PybaselinesCorrector", "SNIP"]
