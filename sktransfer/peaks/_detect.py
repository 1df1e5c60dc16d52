"""Peak detection and initial widths on a mean spectrum (numpy/scipy only)."""

import warnings

import numpy as np
from scipy.signal import find_peaks, peak_widths

from sktransfer.utils._peaks import plateau_peaks

#: Without ``n_peaks``, peaks whose prominence is at least this fraction of
#: the mean spectrum's range are kept.
DEFAULT_MIN_PROMINENCE = 0.05


#: Detected peaks (per spectrum) rise at least this many noise levels.
NOISE_FACTOR = 8.0


def noise_level(y):
    """Return the white-noise standard deviation of a spectrum (robust).

    The second difference of white noise of deviation s has deviation
    ``s sqrt(6)``; its median absolute value, divided by 0.6745, estimates
    that deviation whatever smooth signal lies beneath.
    """
    d2 = np.diff(y, 2)
    if d2.size == 0:
        return 0.0
    return float(np.median(np.abs(d2)) / (0.6745 * np.sqrt(6.0)))


def _background_line(x, y, n_iter=3):
    """Return a straight line under the spectrum's background.

    The least-squares line, refitted a few times to the points on or below
    it, so that peaks do not tilt it. Taken off before detection, a sloping
    background adds no prominence to noise maxima.
    """
    t = x - x.mean()
    keep = np.ones(y.size, dtype=bool)
    for _ in range(n_iter):
        coef = np.polyfit(t[keep], y[keep], 1)
        line = np.polyval(coef, t)
        below = y <= line
        if below.sum() < 2:
            break
        keep = below
    return line


def _padded(y):
    # A sample below the minimum on each side lets edge maxima count as peaks.
    # Its depth is relative to the spectrum's magnitude: a peak whose base
    # is the padding would otherwise gain prominence (and width) in spectra
    # of tiny values.
    low = y.min() - 1e-12 * max(abs(y.min()), np.ptp(y))
    return np.concatenate([[low], y, [low]])


def _candidates(x, y):
    """Peak indices into the padded ``y``, the most prominent first."""
    padded = _padded(y)
    idx, props = find_peaks(padded, prominence=0.0)
    prom = props["prominences"]
    # a flat spectrum gives plateaus whose prominence is only the padding step
    # (a constant one, zero included, has no peak at all)
    keep = (prom > 1e-9 * max(np.abs(y).max(), np.ptp(y))) & (np.ptp(y) > 0)
    idx, prom = idx[keep], prom[keep]
    order = np.argsort(-prom, kind="stable")
    return padded, idx[order], prom[order]


def _padded_axis(x):
    """Return the axis of a padded spectrum: each end point repeated once."""
    return np.concatenate([x[:1], x, x[-1:]])


def _plateau_middles(x, padded, idx):
    """Axis position of the peaks ``idx`` of ``padded``: their plateau middles."""
    # the padding samples lie below every peak, never on its plateau: any
    # axis value (of x's dtype) stands for them
    peaks, positions, _ = plateau_peaks(padded, _padded_axis(x))
    return positions[np.searchsorted(peaks, idx)]


def _centers_and_widths(x, padded, idx):
    idx = np.sort(idx)
    widths, _, left, right = peak_widths(padded, idx, rel_height=0.5)
    if x.size > 1:
        # the crossings (fractional sample positions of padded) through the
        # axis itself: one spacing times the width in samples is wrong on an
        # irregular axis, by the ratio of the spacings under the peak
        x_padded = _padded_axis(x).astype(np.float64)
        samples = np.arange(x_padded.size, dtype=np.float64)
        fwhm = np.abs(
            np.interp(right, samples, x_padded) - np.interp(left, samples, x_padded)
        )
    else:
        fwhm = widths
    centers = _plateau_middles(x, padded, idx)
    order = np.argsort(centers)
    return centers[order], fwhm[order]


def detect_peaks(x, y, n_peaks=None, stacklevel=3):
    """Find the most prominent peaks of a spectrum.

    Peaks are the local maxima inside the axis of the spectrum less a
    straight line under its background (as in :func:`detect_each`): a
    maximum on its first or last point is the end of a slope (a sloping
    background), not a peak, and counts only where the spectrum has no
    maximum inside the axis (as a spectrum of a few points may not).

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Strictly monotonic axis.
    y : ndarray of shape (n_points,)
        Spectrum (typically the mean training spectrum).
    n_peaks : int or None, default=None
        Number of peaks to keep, the most prominent first. None keeps the
        peaks whose prominence is at least 5 % of the range of ``y`` less a
        straight background line (of ``y`` itself if no peak lies inside the
        axis) and at least ``NOISE_FACTOR`` (8) times its noise level (see
        :func:`noise_level`), and the most prominent one if none is.
    stacklevel : int, default=3
        Where the warning that fewer than ``n_peaks`` peaks were found
        points, in frames above this function.

    Returns
    -------
    centers : ndarray of shape (n_found,)
        Peak positions in axis units, in increasing axis order.
    fwhm : ndarray of shape (n_found,)
        Their full widths at half prominence, in axis units.

    Raises
    ------
    ValueError
        If no peak is found.
    """
    y = np.asarray(y, dtype=np.float64)
    # As in detect_each, the peaks are those of the spectrum less a line
    # under its background: off a sloping background, a noise maximum near
    # its higher end is no peak (the end-point rule alone holds only without
    # noise). Rounding noise of a straight spectrum is none either.
    floor = 1e-9 * max(np.abs(y).max(), np.ptp(y))
    detrended = y - _background_line(x, y)
    padded, idx, prom = _candidates(x, detrended)
    inside = (idx > 1) & (idx < y.size) & (prom > floor)
    if inside.any():
        y, idx, prom = detrended, idx[inside], prom[inside]
    else:
        # no maximum inside the axis: the spectrum's higher end is its peak
        padded, idx, prom = _candidates(x, y)
        if idx.size == 0:
            raise ValueError(
                "No peak found in the training spectra (their mean is flat); "
                "pass centers= explicitly."
            )
        inside = (idx > 1) & (idx < y.size)
        if inside.any():
            idx, prom = idx[inside], prom[inside]
    if n_peaks is None:
        level = max(DEFAULT_MIN_PROMINENCE * np.ptp(y), NOISE_FACTOR * noise_level(y))
        # the most prominent peak stays, as in a spectrum of noise only
        idx = idx[: max(1, np.count_nonzero(prom >= level))]
    elif n_peaks > idx.size:
        warnings.warn(
            f"n_peaks={n_peaks} but only {idx.size} peak(s) were found in the "
            "training spectra; fitting those.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return _centers_and_widths(x, padded, idx[:n_peaks])


def detect_each(x, Y, n_peaks=None, min_prominence=DEFAULT_MIN_PROMINENCE):
    """Find the peaks of every spectrum on its own.

    A spectrum's peaks are the local maxima, inside the axis (a maximum at
    either end may be a slope), of the spectrum less a straight line under
    its background (least squares refitted to the points below it), whose
    prominence is at least ``min_prominence`` times that detrended
    spectrum's range and at least ``NOISE_FACTOR`` (8) times
    its noise level, the ``n_peaks`` most prominent of them if more. The
    noise level is the standard deviation of white noise estimated from the
    median absolute second difference, which smooth peaks and baselines
    barely change; 8 noise levels exceed the range of pure noise over a
    few thousand points.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Strictly monotonic axis.
    Y : ndarray of shape (n_spectra, n_points)
        Spectra.
    n_peaks : int or None, default=None
        Most peaks kept per spectrum; None keeps every peak over the
        threshold.
    min_prominence : float, default=0.05
        Prominence threshold, relative to each spectrum's range.

    Returns
    -------
    centers, fwhm : list of ndarray
        Per spectrum, the peak positions (increasing axis order) and their
        widths at half prominence; empty where no peak passes.
    """
    centers, fwhm = [], []
    for y in np.asarray(Y, dtype=np.float64):
        # Rounding noise of a straight spectrum is no peak: a floor of 1e-9
        # of the spectrum's magnitude.
        floor = 1e-9 * max(np.abs(y).max(), np.ptp(y))
        y = y - _background_line(x, y)
        padded, idx, prom = _candidates(x, y)
        inside = (idx > 1) & (idx < y.size)
        level = max(min_prominence * np.ptp(y), NOISE_FACTOR * noise_level(y), floor)
        idx = idx[inside & (prom >= level)][:n_peaks]
        if idx.size:
            c, f = _centers_and_widths(x, padded, idx)
        else:
            c, f = np.empty(0), np.empty(0)
        centers.append(c)
        fwhm.append(f)
    return centers, fwhm


def _uphill(y, i):
    """Index of the local maximum reached by climbing ``y`` from ``i``."""
    while True:
        left = y[i - 1] if i > 0 else -np.inf
        right = y[i + 1] if i + 1 < y.size else -np.inf
        if y[i] >= left and y[i] >= right:
            return i
        i = i - 1 if left > right else i + 1


def widths_at(x, y, centers):
    """Full widths at half height of the peaks of ``y`` at given positions.

    Measured on the spectrum less its background line (as peaks are
    detected) where that line rises by more than 1 % of the spectrum's
    range across the axis: on a sloping background, half the height of a
    peak lies far down the slope, and the width came out at the upper
    bound. (A flatter line is left on: taken off, its rounding-level tilt
    would give the flat stretches a slope to measure.)
    From the sample nearest each position, climb to the top of its peak
    (a position given off the top, on a flank, would otherwise measure the
    narrow side of the peak) unless it lies within 1 % of the range of
    ``y`` above its minimum, then walk outwards until ``y`` drops below
    half-way between the top and the minimum of ``y``; the width is twice
    the nearer of the two crossings, so that a neighbouring peak on the
    other side does not widen it.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Strictly monotonic axis.
    y : ndarray of shape (n_points,)
        Spectrum.
    centers : ndarray of shape (n_peaks,)
        Positions inside the axis range.

    Returns
    -------
    fwhm : ndarray of shape (n_peaks,)
        Widths in axis units (0 where ``y`` does not drop on either side).
    """
    y = np.asarray(y, dtype=np.float64)
    line = _background_line(x, y)
    if abs(line[-1] - line[0]) > 0.01 * np.ptp(y):
        y = y - line
    fwhm = np.zeros(centers.shape)
    floor = y.min() + 0.01 * np.ptp(y)
    for j, c in enumerate(centers):
        i = int(np.abs(x - c).argmin())
        if y[i] > floor:  # on a peak, not on the baseline between peaks
            i = _uphill(y, i)
        below = y < 0.5 * (y[i] + y.min())
        left = np.flatnonzero(below[:i])
        right = np.flatnonzero(below[i:])
        sides = []
        if left.size:
            sides.append(abs(x[i] - x[left[-1]]))
        if right.size:
            sides.append(abs(x[i + right[0]] - x[i]))
        if sides:
            fwhm[j] = 2.0 * min(sides)
    return fwhm
