"""Peak detection and initial widths on a mean spectrum (numpy/scipy only)."""

import warnings

import numpy as np
from scipy.signal import find_peaks, peak_widths

#: Without ``n_peaks``, peaks whose prominence is at least this fraction of
#: the mean spectrum's range are kept.
DEFAULT_MIN_PROMINENCE = 0.05


def _padded(y):
    # A sample below the minimum on each side lets edge maxima count as peaks.
    low = y.min() - 1e-12 * (1.0 + abs(y.min()))
    return np.concatenate([[low], y, [low]])


def detect_peaks(x, y, n_peaks=None):
    """Find the most prominent peaks of a spectrum.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Strictly monotonic axis.
    y : ndarray of shape (n_points,)
        Spectrum (typically the mean training spectrum).
    n_peaks : int or None, default=None
        Number of peaks to keep, the most prominent first. None keeps the
        peaks whose prominence is at least 5 % of the range of ``y``.

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
    padded = _padded(np.asarray(y, dtype=np.float64))
    idx, props = find_peaks(padded, prominence=0.0)
    prom = props["prominences"]
    # a flat mean gives plateaus whose prominence is only the padding step
    keep = prom > 1e-9 * max(np.abs(y).max(), np.ptp(y))
    idx, prom = idx[keep], prom[keep]
    if idx.size == 0:
        raise ValueError(
            "No peak found in the training spectra (their mean is flat); "
            "pass centers= explicitly."
        )
    order = np.argsort(-prom, kind="stable")
    if n_peaks is None:
        order = order[prom[order] >= DEFAULT_MIN_PROMINENCE * np.ptp(y)]
    elif n_peaks > idx.size:
        warnings.warn(
            f"n_peaks={n_peaks} but only {idx.size} peak(s) were found in the "
            "training spectra; fitting those.",
            UserWarning,
            stacklevel=3,
        )
    order = order[:n_peaks]
    idx = np.sort(idx[order])
    widths = peak_widths(padded, idx, rel_height=0.5)[0]
    step = np.abs(np.gradient(x)) if x.size > 1 else np.ones(1)
    fwhm = widths * step[idx - 1]
    centers = x[idx - 1]
    order = np.argsort(centers)
    return centers[order], fwhm[order]


def widths_at(x, y, centers):
    """Full widths at half height of ``y`` at given positions.

    From the sample nearest each position, walk outwards until ``y`` drops
    below half-way between its value there and the minimum of ``y``.

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
    half = 0.5 * (y[np.abs(x[:, None] - centers[None, :]).argmin(axis=0)] + y.min())
    fwhm = np.zeros(centers.shape)
    for j, (c, level) in enumerate(zip(centers, half, strict=True)):
        i = int(np.abs(x - c).argmin())
        below = y < level
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
