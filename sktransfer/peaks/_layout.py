"""The layout of a peak-parameter vector: per-peak blocks, then the baseline."""

import numpy as np

#: Baseline models and their number of terms.
BASELINES = {"none": 0, "constant": 1, "linear": 2}


class PeakLayout:
    """Where each parameter of a peak model sits in a flat parameter row.

    A row holds ``n_peaks`` blocks of ``n_per_peak`` values (centre, height,
    FWHM and, for "voigt" and "pseudo_voigt", the shape), then the baseline
    terms (offset, slope). The same layout serves the solver's free
    parameters, the physical parameter matrix of
    :class:`~sktransfer.peaks.PeakProfileFitter` and its column names. A
    batch whose spectra have fewer peaks than ``n_peaks`` is the same layout
    with a mask of the real peaks.

    Parameters
    ----------
    profile : str
        Peak profile.
    n_peaks : int
        Number of peak blocks.
    baseline : {"none", "constant", "linear"}
        Baseline model.
    """

    def __init__(self, profile, n_peaks, baseline):
        self.profile = profile
        self.n_peaks = int(n_peaks)
        self.baseline = baseline
        self.n_base = BASELINES[baseline]
        shape = {"voigt": ("shape",), "pseudo_voigt": ("eta",)}.get(profile, ())
        self.fields = ("center", "height", "fwhm", *shape)
        self.n_per_peak = len(self.fields)
        self.peak_slice = slice(0, self.n_peaks * self.n_per_peak)
        self.base_slice = slice(self.peak_slice.stop, self.n_params)

    @property
    def n_params(self):
        """Length of a parameter row."""
        return self.n_peaks * self.n_per_peak + self.n_base

    @property
    def has_shape(self):
        """Whether peaks carry a shape parameter."""
        return self.n_per_peak == 4

    def with_peaks(self, n_peaks):
        """Return the same layout with another number of peaks."""
        return PeakLayout(self.profile, n_peaks, self.baseline)

    def unpack(self, rows):
        """Split rows into per-peak fields and baseline terms.

        Parameters
        ----------
        rows : ndarray or torch.Tensor of shape (n, n_params)
            Parameter rows.

        Returns
        -------
        peaks : list of arrays of shape (n, n_peaks)
            One array per field (views where possible), in ``fields`` order.
        base : array of shape (n, n_base)
            Baseline terms.
        """
        block = rows[:, self.peak_slice].reshape(
            rows.shape[0], self.n_peaks, self.n_per_peak
        )
        return [block[..., i] for i in range(self.n_per_peak)], rows[:, self.base_slice]

    def pack(self, peaks, base, lib=np):
        """Join per-peak fields and baseline terms into parameter rows.

        Parameters
        ----------
        peaks : sequence of arrays of shape (n, n_peaks)
            At least ``n_per_peak`` fields, in ``fields`` order (extra
            trailing fields are ignored, so that a shape can be passed to a
            profile without one).
        base : array of shape (n, n_base)
            Baseline terms.
        lib : module, default=numpy
            ``numpy`` or ``torch``.

        Returns
        -------
        rows : array of shape (n, n_params)
        """
        block = lib.stack(list(peaks[: self.n_per_peak]), -1)
        block = block.reshape(block.shape[0], self.n_peaks * self.n_per_peak)
        return lib.concatenate([block, base], axis=-1)

    def names(self):
        """Column names: ``peak{i}_{field}`` then the baseline terms."""
        names = [f"peak{i}_{f}" for i in range(self.n_peaks) for f in self.fields]
        return names + ["baseline_offset", "baseline_slope"][: self.n_base]
