"""Private peak helper shared by peak detection and ``peak_recall``."""

from scipy.signal import find_peaks


def plateau_peaks(y, x, **find_peaks_kwargs):
    """Find the peaks of ``y``, each at the middle of its plateau.

    A flat-topped peak (a clipped detector, integer counts) is at the middle
    of its plateau of equal values, in axis units: scipy's sample, the middle
    one rounded down, would move with the direction of the axis.

    Parameters
    ----------
    y : ndarray of shape (n_points,)
        The spectrum.
    x : ndarray of shape (n_points,)
        Its axis.
    **find_peaks_kwargs
        Passed to :func:`scipy.signal.find_peaks` (e.g. ``prominence``).

    Returns
    -------
    peaks : ndarray of int
        Indices of the peaks, as :func:`~scipy.signal.find_peaks` gives them.
    positions : ndarray
        Axis position of each peak: the middle of its plateau.
    properties : dict
        The properties :func:`~scipy.signal.find_peaks` returns.
    """
    peaks, props = find_peaks(y, plateau_size=1, **find_peaks_kwargs)
    positions = 0.5 * (x[props["left_edges"]] + x[props["right_edges"]])
    return peaks, positions, props
