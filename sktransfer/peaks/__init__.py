"""Peak-profile fitting: spectra as sums of Gaussian, Lorentzian or Voigt peaks.

:class:`PeakProfileFitter` fits spectra that share their peaks (a
transformer), :func:`fit_peak_table` a collection whose spectra each have
their own peaks (a long peak table), and :func:`render_peaks` draws peaks
from their parameters (differentiable torch, any device).
"""

from sktransfer.peaks._fitter import PeakProfileFitter
from sktransfer.peaks._profiles import render_peaks
from sktransfer.peaks._table import fit_peak_table

__all__ = ["PeakProfileFitter", "fit_peak_table", "render_peaks"]
