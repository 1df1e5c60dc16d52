"""Peak recall: the share of a measured spectrum's strongest peaks predicted."""

import warnings

import numpy as np

from sktransfer._validation import check_param, check_real, check_x_axis
from sktransfer.metrics._spectral import (
    _aggregate,
    _check_aggregate_name,
    _check_spectra_pair,
    _check_weights,
    _row_chunks,
)
from sktransfer.preprocessing._functions import min_max_rows
from sktransfer.utils._peaks import plateau_peaks


def _peak_positions(y, x, prominence):
    """Axis positions (plateau middles) and prominences of the peaks of ``y``."""
    _, position, props = plateau_peaks(y, x, prominence=prominence)
    return position, props["prominences"]


def _recall_rows(true01, pred01, x, n_peaks, tolerance, prominence):
    """Peak recall of each pair of rows scaled to [0, 1] (NaN: no peak)."""
    recall = np.full(len(true01), np.nan)
    # a distance over the tolerance by rounding only is within it, as
    # RangeCut counts an axis value off an end by rounding as inside
    within = tolerance + 1e-9 * np.abs(x).max()
    for i, (t, p) in enumerate(zip(true01, pred01)):
        position, prom = _peak_positions(t, x, prominence)
        if len(position) == 0:
            continue
        # Most prominent first; equal prominences in increasing axis order,
        # so that the choice does not depend on the direction of the axis.
        order = np.lexsort((position, -prom))
        top = position[order[:n_peaks]]
        found = _peak_positions(p, x, prominence)[0]
        if len(found) == 0:
            recall[i] = 0.0
            continue
        distance = np.abs(top[:, None] - found[None, :]).min(axis=1)
        recall[i] = np.mean(distance <= within)
    return recall


def peak_recall(
    y_true,
    y_pred,
    *,
    x_axis=None,
    n_peaks=5,
    tolerance=10.0,
    prominence=0.05,
    multioutput="uniform_average",
):
    """Share of each measured spectrum's strongest peaks found in its prediction.

    For every pair of spectra, the ``n_peaks`` most prominent peaks of the
    measured spectrum are compared with all the peaks of the predicted one: a
    measured peak counts as recalled when the prediction has a peak within
    ``tolerance`` of its position. This is what a spectroscopist identifying a
    material looks at; a smooth "average" prediction can correlate well with
    the measured spectrum and still miss its peaks.

    Read more in the :ref:`User Guide <metrics>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_features) or (n_features,)
        Measured spectra, one per row; a 1-D array is one spectrum.
    y_pred : array-like of the same shape as ``y_true``
        Predicted spectra.
    x_axis : array-like of shape (n_features,), default=None
        The spectral axis (e.g. Raman shift in cm-1), strictly monotonic.
        ``None`` uses the feature index, so ``tolerance`` is then in points.
    n_peaks : int, default=5
        Number of most prominent measured peaks to look for. A spectrum with
        fewer peaks is scored on the peaks it has. Among equally prominent
        peaks, those at smaller axis values come first, whichever the
        direction of the axis.
    tolerance : float, default=10.0
        Largest distance, in the units of ``x_axis``, between a measured peak
        and a predicted one for the peak to count as recalled. A distance
        beyond it by less than 1e-9 of the axis's largest magnitude is
        rounding and counts as within. The default suits Raman or IR
        spectra in cm-1; a tolerance over 5 % of the axis's span and over
        20 of its steps (10 on a 2-theta axis of 5-90 degrees in steps of
        0.1) warns that it is probably in other units.
    prominence : float, default=0.05
        Smallest prominence of a peak, as a fraction of the spectrum's range:
        both spectra are scaled to [0, 1] before the peaks are searched with
        :func:`scipy.signal.find_peaks`.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape \
            (n_samples,), default="uniform_average"
        ``"raw_values"`` returns one recall per spectrum, ``"uniform_average"``
        their mean, and an array of non-negative weights their weighted mean.

    Returns
    -------
    recall : float or ndarray of shape (n_samples,)
        Recall in ``[0, 1]``. With ``"raw_values"``, a measured spectrum
        without any peak gets NaN (there is nothing to recall); the averages
        leave those spectra out.

    Raises
    ------
    ValueError
        If the shapes differ, a parameter is out of range, or no measured
        spectrum has a peak and an average is asked for.

    See Also
    --------
    spectral_correlation : Per-spectrum Pearson correlation.

    Notes
    -----
    Recall does not penalise extra peaks: a prediction with peaks everywhere
    (an average over many different spectra, say) recalls most measured
    peaks. Report it beside :func:`spectral_correlation`, which does.

    A peak is a local maximum with samples on both sides, as in
    :func:`scipy.signal.find_peaks`: a maximum on the first or last point of
    the axis is not a peak, in the measured or the predicted spectrum. Cut
    the axis so that the peaks of interest lie inside it. A flat-topped peak
    (a plateau of equal values) lies at the middle of its plateau.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import peak_recall
    >>> x = np.arange(100.0)
    >>> def peaks(*centres):
    ...     return sum(np.exp(-0.5 * ((x - c) / 2.0) ** 2) for c in centres)
    >>> measured = peaks(20, 50, 80)
    >>> float(peak_recall(measured, peaks(22, 50), x_axis=x, tolerance=3.0))
    0.6666666666666666
    """
    _check_aggregate_name(multioutput)
    y_true, y_pred = _check_spectra_pair(y_true, y_pred)
    x = check_x_axis(x_axis, y_true.shape[1], of="the spectra have {} points")
    check_param(n_peaks, "n_peaks", kind="int", low=1)
    check_param(tolerance, "tolerance", low=0)
    check_param(prominence, "prominence", low=0)
    span = float(abs(x[-1] - x[0]))
    step = float(np.median(np.abs(np.diff(x)))) if len(x) > 1 else span
    if 0 < span and tolerance > 0.05 * span and tolerance > 20 * step:
        # the default of 10 is for cm-1: on a 2-theta axis (5 to 90 degrees)
        # or in nm, a different material's peaks are all "within" it
        warnings.warn(
            f"tolerance={tolerance:g} is {100 * tolerance / span:.0f} % of the "
            f"span of the axis ({x[0]:g} to {x[-1]:g}): peaks that far apart "
            "count as found. Give tolerance in the units of x_axis (a few "
            "axis steps; for example 0.2 degrees 2-theta).",
            UserWarning,
            stacklevel=2,
        )
    if not np.all(np.isfinite(y_true)) or not np.all(np.isfinite(y_pred)):
        raise ValueError("y_true and y_pred must not contain NaN or infinity.")

    recall = np.full(len(y_true), np.nan)
    for rows, (t, p) in _row_chunks(y_true, y_pred):
        recall[rows] = _recall_rows(
            min_max_rows(t, 0.0, 1.0),
            min_max_rows(p, 0.0, 1.0),
            x,
            n_peaks,
            tolerance,
            prominence,
        )

    if isinstance(multioutput, str) and multioutput == "raw_values":
        return recall
    valid = ~np.isnan(recall)
    if not valid.any():
        raise ValueError(
            "No spectrum of y_true has a peak of the given prominence; peak "
            "recall is undefined."
        )
    if not isinstance(multioutput, str):
        check_real(multioutput, "multioutput")
        if np.ndim(multioutput) == 1 and len(multioutput) != len(recall):
            raise ValueError(
                "multioutput weights must be 1-D, one per spectrum; got "
                f"{len(multioutput)} for {len(recall)} spectra."
            )
        # all of them checked, also those of spectra without a peak
        weights = _check_weights(multioutput)
        if not weights[valid].any():
            raise ValueError(
                "multioutput weights are zero for every spectrum of y_true that "
                "has a peak (spectra without one are left out of the average)."
            )
        multioutput = weights[valid]
    return _aggregate(recall[valid], multioutput)
