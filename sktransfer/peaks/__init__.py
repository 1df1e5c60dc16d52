"""Peak-profile fitting: spectra as sums of Gaussian, Lorentzian or Voigt peaks.

The torch profile functions (:func:`~sktransfer.peaks._profiles.render_peaks`)
are importable from :mod:`sktransfer.peaks._profiles` for reuse in models.
"""

from sktransfer.peaks._fitter import PeakProfileFitter

__all__ = ["PeakProfileFitter"]
