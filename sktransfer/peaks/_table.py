"""fit_peak_table: the peak table of a collection whose spectra have their own peaks."""

import warnings

import numpy as np
import torch

from sktransfer._base import FLOAT_DTYPES
from sktransfer._validation import (
    InvalidParameterError,
    check_bool,
    check_param,
    check_spectra,
    check_x_axis,
    import_pandas,
)
from sktransfer.peaks._batch import (
    check_centers,
    check_fit_params,
    default_fwhm_bounds,
    fit_spectra,
    initial_widths,
    pad_ragged,
    warn_given_centres_at_bound,
    warn_not_converged,
)
from sktransfer.peaks._detect import DEFAULT_MIN_PROMINENCE, detect_each, widths_at
from sktransfer.peaks._layout import PeakLayout
from sktransfer.peaks._profiles import peak_area


def fit_peak_table(
    X,
    x_axis=None,
    *,
    profile="voigt",
    centers=None,
    n_peaks=None,
    min_prominence=DEFAULT_MIN_PROMINENCE,
    baseline="linear",
    center_tolerance=None,
    fwhm_bounds=None,
    max_iter=100,
    tol=1e-6,
    batch_size=32,
    device="cpu",
    return_summary=False,
    as_frame=None,
):
    """Fit every spectrum with its own peaks and return one row per peak.

    A collection of different samples (minerals, tablets, cells) has a
    different set of peaks in every spectrum. Each spectrum gets its own
    initial centres, detected on it or given, and all spectra are fitted in
    one batched Levenberg-Marquardt solve (the solver of
    :class:`PeakProfileFitter`): spectra with fewer peaks are padded with
    masked peaks, and spectra with similar numbers of peaks share a batch.

    Read more in the :ref:`User Guide <peak_table>`.

    Parameters
    ----------
    X : array-like of shape (n_spectra, n_points)
        Spectra, one per row, on a common axis.
    x_axis : array-like of shape (n_points,) or None, default=None
        Strictly monotonic spectral axis. None means ``0, 1, ..., n - 1``.
    profile : {"voigt", "gaussian", "lorentzian", "pseudo_voigt"}, default="voigt"
        Peak profile.
    centers : list of array-like or None, default=None
        One array of initial centres (axis units) per spectrum; an empty
        array fits that spectrum with the baseline alone. None detects the
        peaks of every spectrum: once a straight line under its background
        is taken off, its local maxima inside the axis (not on its first or
        last point) whose prominence is at least ``min_prominence`` times
        the range (maximum minus minimum) of that detrended spectrum and at
        least 8 times its noise level (the standard deviation of white
        noise, estimated from the median absolute second difference), the
        ``n_peaks`` most prominent of them if more.
    n_peaks : int or None, default=None
        Most peaks detected per spectrum (``centers=None`` only); None keeps
        every peak over the prominence threshold.
    min_prominence : float, default=0.05
        Prominence threshold of the detection, relative to each detrended
        spectrum's range. The noise threshold applies as well, so 0 does not
        keep every local maximum.
    baseline : {"linear", "constant", "none"}, default="linear"
        Baseline term fitted with the peaks of each spectrum.
    center_tolerance : float or None, default=None
        How far (axis units) a centre may move from its initial value. None
        means half of each peak's initial FWHM (at least one axis step).
    fwhm_bounds : tuple of (float, float) or None, default=None
        Lower and upper bound of every FWHM (axis units). None means one
        axis step and a quarter of the axis span.
    max_iter : int, default=100
        Maximum number of Levenberg-Marquardt iterations.
    tol : float, default=1e-6
        Stopping tolerance (see :class:`PeakProfileFitter`).
    batch_size : int, default=32
        Number of spectra fitted together. The fit of one spectrum needs
        about ``28 * n_params * n_points`` bytes of memory in float64 (half
        that in float32, up to a third more for "voigt" on a GPU), where
        ``n_params`` counts 3 values per peak (4 for "voigt" and
        "pseudo_voigt") of the spectrum of the batch with the most peaks,
        plus the baseline terms: 450 MB for 200 Voigt peaks on 20000
        points. A batch that would need more than 512 MiB is fitted a few
        spectra at a time (down to one), which changes its results only by
        rounding. The time of an iteration grows with the square of the
        number of peaks (dense normal equations) and with ``n_points``.
    device : str, default="cpu"
        Torch device of the fit: "cpu", "cuda" or "cuda:N".
    return_summary : bool, default=False
        Also return a table with one row per spectrum, including spectra
        without any peak.
    as_frame : bool or None, default=None
        Return pandas DataFrames (True), dicts of equal-length arrays
        (False), or DataFrames when pandas is installed (None).

    Returns
    -------
    peaks : DataFrame or dict
        One row per fitted peak, spectra in input order and each spectrum's
        peaks in increasing order of their initial centres (given centres
        are sorted), with the columns ``spectrum`` (row index into ``X``),
        ``peak`` (index within the spectrum), ``center``, ``height``
        (maximum, not area), ``fwhm``, ``shape`` ("voigt") or ``eta``
        ("pseudo_voigt"), ``area``, ``center_at_bound`` (the centre ended
        at the edge of its ``center_tolerance``: the fit was held there, so
        the peak is further away, weak or absent), ``fwhm_at_bound`` (the
        width ended at one of ``fwhm_bounds``, within 0.1 % of the lower
        bound or of their range below the upper: a peak as wide as the
        upper bound is taking up baseline, one as narrow as the lower bound,
        by default a grid step, is not resolved), and the spectrum's
        ``r2``, ``rmse``, ``n_iter`` and ``converged`` repeated on each of
        its rows.
    summary : DataFrame or dict
        Only with ``return_summary=True``: one row per spectrum with
        ``spectrum``, ``n_peaks``, ``r2``, ``rmse``, ``n_iter``,
        ``converged`` and the baseline terms (``baseline_offset`` at the axis
        midpoint, ``baseline_slope`` per axis unit) that ``baseline`` fits.

    Raises
    ------
    MemoryError
        If the fit of the single spectrum with the most peaks needs more
        memory than is free on ``device``.

    Warns
    -----
    ConvergenceWarning
        When some spectra did not converge (their ``converged`` is False).
    UserWarning
        When some spectra have no peak and ``return_summary`` is False:
        they have no row in ``peaks``.

    See Also
    --------
    PeakProfileFitter : The transformer for spectra that share their peaks.
    render_peaks : Draw peaks from their parameters.

    Notes
    -----
    ``r2`` is the coefficient of determination of the whole fitted model
    (peaks and baseline) and ``rmse`` the root mean squared residual, in the
    units of ``X``. A spectrum with no peak is fitted with the baseline
    alone, so its ``r2`` says how much of it the baseline explains.
    ``converged`` is False where ``max_iter`` was reached or the fit stalled;
    such rows are kept, and a ``ConvergenceWarning`` lists them.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.peaks import fit_peak_table
    >>> x = np.linspace(0, 100, 201)
    >>> def peak(c, f):
    ...     return np.exp(-4 * np.log(2) * ((x - c) / f) ** 2)
    >>> X = np.stack([peak(30, 6) + 0.5 * peak(70, 8), 2 * peak(50, 10)])
    >>> table = fit_peak_table(X, x, profile="gaussian", baseline="none",
    ...                        as_frame=False)
    >>> table["spectrum"].tolist(), np.round(table["center"], 2).tolist()
    ([0, 0, 1], [30.0, 70.0, 50.0])
    >>> np.round(table["height"], 3).tolist()
    [1.0, 0.5, 2.0]
    >>> bool(table["r2"].min() > 0.9999)
    True
    """
    device = check_fit_params(
        profile, baseline, n_peaks, center_tolerance, max_iter, tol, batch_size, device
    )
    check_param(min_prominence, "min_prominence", low=0)
    check_bool(return_summary, "return_summary")
    pd = _pandas(as_frame)
    X = check_spectra(X, dtype=FLOAT_DTYPES, ensure_min_features=2, input_name="X")
    x = check_x_axis(x_axis, X.shape[1])
    bounds = default_fwhm_bounds(x, fwhm_bounds)

    if centers is None:
        c_list, f_list = detect_each(x, X, n_peaks, min_prominence)
    else:
        c_list = _check_center_list(centers, x, X.shape[0])
        f_list = [widths_at(x, y, c) for y, c in zip(X, c_list, strict=True)]
    c0, counts = pad_ragged(c_list)
    f0, c_tol = initial_widths(
        x,
        pad_ragged(f_list)[0],
        bounds,
        center_tolerance,
        given=fwhm_bounds is not None,
        stacklevel=2,
    )
    layout = PeakLayout(profile, c0.shape[1], baseline)
    # Spectra with similar numbers of peaks share a batch: little padding.
    order = np.argsort(counts, kind="stable")
    res = fit_spectra(
        X[order],
        x,
        c0[order],
        f0[order],
        c_tol[order],
        counts[order],
        fwhm_bounds=bounds,
        layout=layout,
        max_iter=max_iter,
        tol=tol,
        batch_size=batch_size,
        device=device,
    )
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    keys = ("peaks", "baseline", "r2", "rmse", "converged", "n_iter")
    for key in (*keys, "center_at_bound"):
        res[key] = res[key][inverse]
    warn_not_converged(res.converged, max_iter, stacklevel=2)
    if centers is not None:  # given, not detected
        real = np.arange(res.center_at_bound.shape[1]) < counts[:, None]
        warn_given_centres_at_bound(
            res.center_at_bound, real, res.r2, "fit_peak_table", 2
        )

    peaks, summary = _tables(res, counts, layout, bounds)
    if not return_summary and (counts == 0).any():
        empty = np.flatnonzero(counts == 0)
        warnings.warn(
            f"{empty.size} spectra have no peak and no row in the peak table "
            f"(spectra {', '.join(map(str, empty[:10]))}"
            f"{', ...' if empty.size > 10 else ''}); pass return_summary=True "
            "for their r2 and baseline.",
            UserWarning,
            stacklevel=2,
        )
    if pd is not None:
        peaks, summary = pd.DataFrame(peaks), pd.DataFrame(summary)
    return (peaks, summary) if return_summary else peaks


def _pandas(as_frame):
    if not (as_frame is None or isinstance(as_frame, bool | np.bool_)):
        raise ValueError(f"as_frame must be None, True or False; got {as_frame!r}.")
    if as_frame is not None and not as_frame:
        return None
    if as_frame:
        return import_pandas("as_frame=True")
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def _check_center_list(centers, x, n_spectra):
    if isinstance(centers, str) or not hasattr(centers, "__len__"):
        raise InvalidParameterError(
            "centers must be None or a list with one array of centres per "
            f"spectrum; got {centers!r}."
        )
    if len(centers) != n_spectra:
        raise ValueError(
            f"centers has {len(centers)} entries but X has {n_spectra} spectra; "
            "give one array of centres per spectrum."
        )
    out = []
    for i, c in enumerate(centers):
        if np.ndim(c) != 1:
            raise ValueError(
                f"centers[{i}] must be a 1-D array of centres (possibly empty); "
                f"got {c!r}."
            )
        out.append(check_centers(c, x, where=f"[{i}]"))
    return out


def _tables(res, counts, layout, fwhm_bounds):
    """Build the peak table and the per-spectrum summary as dicts of arrays."""
    spectrum = np.repeat(np.arange(counts.size), counts)
    peak = np.concatenate([np.arange(k) for k in counts]) if counts.size else []
    real = np.arange(res.peaks.shape[1]) < counts[:, None]
    p = res.peaks[real]  # (n_rows, 4), spectra in order
    table = {"spectrum": spectrum, "peak": np.asarray(peak, dtype=np.int64)}
    for i, field in enumerate(layout.fields):
        table[field] = p[:, i]
    shape = torch.from_numpy(p[:, 3]) if layout.has_shape else None
    table["area"] = peak_area(
        torch.from_numpy(p[:, 1]), torch.from_numpy(p[:, 2]), shape, layout.profile
    ).numpy()
    table["center_at_bound"] = res.center_at_bound[real]
    # within 0.1 % of one of them: the width was held there (a peak as wide
    # as the limit is taking up baseline, one as narrow as a grid step is
    # not resolved); 0.1 % of the lower bound itself, as a margin of the
    # range (span/4000 by default) would take in resolved narrow lines
    lo, hi = fwhm_bounds
    fwhm = p[:, 2]
    table["fwhm_at_bound"] = (fwhm - lo < 1e-3 * lo) | (hi - fwhm < 1e-3 * (hi - lo))
    for key in ("r2", "rmse", "n_iter", "converged"):
        table[key] = res[key][spectrum]
    summary = {"spectrum": np.arange(counts.size), "n_peaks": counts}
    for key in ("r2", "rmse", "n_iter", "converged"):
        summary[key] = res[key]
    for i, name in enumerate(("baseline_offset", "baseline_slope")[: layout.n_base]):
        summary[name] = res.baseline[:, i]
    return table, summary
