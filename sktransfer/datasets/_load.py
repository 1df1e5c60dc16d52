"""Load a directory of RRUFF files onto common grids, paired by RRUFF id."""

import os
import reprlib
import warnings

import numpy as np
from sklearn.utils import Bunch

from sktransfer._validation import (
    InvalidParameterError,
    check_bool,
    check_option,
    check_param,
    check_real,
    check_x_axis,
    import_pandas,
)
from sktransfer.datasets._records import MODALITIES, scan
from sktransfer.datasets._render import PROFILES, profile_eta, render_peaks
from sktransfer.preprocessing._functions import normalize_rows

DEFAULT_AXES = {
    "ir": (400.0, 4000.0, 1024),
    "raman": (150.0, 1250.0, 1024),
    "xrd": (5.0, 90.0, 1701),
}
_LASER_PREFERENCE = (532.0, 514.0, 785.0, 780.0)
_UNITS = {"ir": "cm-1", "raman": "cm-1", "xrd": "degrees 2-theta"}


def _grid(axis, modality):
    name = f"{modality}_axis"
    if axis is None:
        return np.linspace(*DEFAULT_AXES[modality])
    wrong = (
        f"{name} must be a 1-D array of numbers (the grid points, e.g. "
        f"np.linspace(*{DEFAULT_AXES[modality]})), got {reprlib.repr(axis)}."
    )
    if isinstance(axis, str | bytes):
        raise ValueError(wrong)
    check_real(axis, name)
    try:
        axis = np.asarray(axis, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(wrong) from exc
    if axis.ndim != 1 or axis.size < 2:
        raise ValueError(f"{name} must be 1-D with at least 2 points.")
    return check_x_axis(axis, axis.size, name)


def _covered(x_min, x_max, grid):
    # Half a grid step of slack: a file ending at 3999.6 cm-1 covers 4000.
    slack = 0.5 * np.abs(np.diff(grid)).min()
    return (grid >= x_min - slack) & (grid <= x_max + slack)


def on_grid(x, y, grid):
    """Interpolate ``y(x)`` linearly onto ``grid``.

    ``x`` may be in any order (a repeated ``x`` keeps its first ``y``). Grid
    points more than half a grid step outside the range of ``x`` are NaN;
    within that slack the first/last measured value is used.
    """
    x, first = np.unique(np.asarray(x, dtype=np.float64), return_index=True)
    values = np.interp(grid, x, np.asarray(y, dtype=np.float64)[first])
    values[~_covered(x[0], x[-1], grid)] = np.nan
    return values


def _to_grid(data, modality, grid, xrd_profile, xrd_fwhm):
    """One file on ``grid``: values, with NaN where the file has no data."""
    if modality != "xrd" or data.format != "dif":  # measured spectra and scans
        return on_grid(data.x, data.y, grid)
    lo, hi = data.metadata.get("TWO_THETA_RANGE", (-np.inf, np.inf))
    eta = profile_eta(xrd_profile)
    values = render_peaks(grid, data.x, data.y, xrd_fwhm, eta)
    values[~_covered(lo, hi, grid)] = np.nan
    return values


def _fill_outside(values, policy):
    if policy in ("nan", "drop"):
        return values
    out = values.copy()
    for row in out:
        missing = np.isnan(row)
        if not missing.any() or missing.all():
            continue
        if policy == "zero":
            row[missing] = 0.0
        else:  # edge: repeat the first / last measured value
            idx = np.flatnonzero(~missing)
            row[: idx[0]] = row[idx[0]]
            row[idx[-1] + 1 :] = row[idx[-1]]
    return out


def _normalize(values, grid, how):
    if how is None:
        return values
    if how == "max":
        return normalize_rows(values, lambda v: np.max(np.nan_to_num(v), axis=1))
    return normalize_rows(
        values, lambda v: np.abs(np.trapezoid(np.nan_to_num(v), grid, axis=1))
    )


def _preference(desc, data, grid, xrd_prefer="measured"):
    """Sort key of candidate files of one id and modality (smallest wins)."""
    lo, hi = np.min(data.x), np.max(data.x)
    coverage = _covered(lo, hi, grid).mean() if desc["modality"] != "xrd" else 1.0
    laser = desc["laser_nm"]
    laser_rank = (
        _LASER_PREFERENCE.index(laser)
        if laser in _LASER_PREFERENCE
        else len(_LASER_PREFERENCE)
    )
    preferred = ("Processed", "DIF" if xrd_prefer == "dif" else "XY")
    kind_rank = 0 if desc["kind"] in preferred else 1
    # an oriented single crystal's band intensities depend on the direction
    orientation = desc.get("orientation")
    oriented = orientation is not None and "unoriented" not in orientation
    # coverage in tenths first: a hundredth of coverage (a grid a little
    # wider or narrower) decides over the orientation and the laser only
    # where it crosses a tenth
    return (
        kind_rank,
        -round(coverage, 1),
        oriented,
        laser_rank,
        -coverage,
        desc["file"],
    )


def _header_fields(data, reserved):
    fields = {}
    for key, value in data.metadata.items():
        if isinstance(value, str):
            key = key.lower().replace(" ", "_").replace("-", "_")
            fields[f"header_{key}" if key in reserved else key] = value
    return fields


def as_modalities(value, name):
    """Return a tuple of modality names; one name alone gives a 1-tuple."""
    if isinstance(value, str):
        value = (value,)
    else:
        try:
            value = tuple(value)
        except TypeError:
            valid = ", ".join(repr(m) for m in MODALITIES)
            raise InvalidParameterError(
                f"{name} must be one of {valid} or a tuple of them; got {value!r}."
            ) from None
    for m in value:
        check_option(m, name, MODALITIES)
    return value


_DEFAULT_REQUIRE = ("ir", "raman")


def check_load_args(
    *,
    pair,
    require,
    modality,
    kind,
    ir_axis,
    raman_axis,
    xrd_axis,
    normalize,
    outside,
    xrd_profile,
    xrd_fwhm,
    xrd_prefer,
    on_error,
    as_frame,
):
    """Validate the parameters of :func:`load_rruff` before any file is read.

    Returns the required modalities as a tuple and the grid of each
    modality.
    """
    check_bool(pair, "pair")
    require = as_modalities(require, "require")
    if modality is not None:
        check_option(modality, "modality", MODALITIES)
    if pair and modality is not None:
        raise ValueError(
            "modality only applies with pair=False (the one modality loaded, "
            "a file per row); with pair=True every modality is loaded and "
            f"require names those a sample must have. Got modality={modality!r} "
            "with pair=True."
        )
    if not pair and set(require) != set(_DEFAULT_REQUIRE):
        raise ValueError(
            "require only applies with pair=True (the modalities every paired "
            "sample must have); with pair=False, modality names the one "
            f"modality loaded. Got require={require!r} with pair=False."
        )
    if kind is not None:
        check_option(kind, "kind", ("Processed", "RAW"))
    if normalize is not None:
        check_option(normalize, "normalize", ("max", "area"))
    check_option(outside, "outside", ("nan", "zero", "edge", "drop"))
    check_option(xrd_profile, "xrd_profile", PROFILES)
    check_param(xrd_fwhm, "xrd_fwhm", low=0, closed="neither")
    check_option(xrd_prefer, "xrd_prefer", ("measured", "dif"))
    check_option(on_error, "on_error", ("raise", "skip"))
    if check_bool(as_frame, "as_frame"):
        import_pandas("as_frame=True")  # before any file is read
    grids = {
        "ir": _grid(ir_axis, "ir"),
        "raman": _grid(raman_axis, "raman"),
        "xrd": _grid(xrd_axis, "xrd"),
    }
    return require, grids


def _shortfall(coverage, grid):
    """Say how much of ``grid`` a spectrum of this coverage leaves uncovered."""
    missing = round((1.0 - coverage) * grid.size)
    return (
        f"covers {grid.size - missing} of the {grid.size} grid points "
        f"({grid.min():g}-{grid.max():g})"
    )


def _check_coverage(coverage, descs, datas, grid, outside, modality, given):
    """Refuse a given grid no file covers; warn about rows mostly filled.

    ``descs`` holds the file description of each row (None where a sample
    has no file of ``modality``), ``datas`` the read files, ``given`` which
    grids the caller gave.
    """
    _check_any_covered(coverage, datas, grid, modality, given[modality])
    files = [None if d is None else d["file"] for d in descs]
    _warn_filled(coverage, files, grid, outside, modality)
    _warn_raw_zeros(coverage, descs, outside, modality)


def _warn_filled(coverage, files, grid, outside, modality):
    """Warn about spectra mostly filled by ``outside`` (a file in other units?)."""
    if outside not in ("zero", "edge"):
        return
    low = [(f, c) for f, c in zip(files, coverage, strict=True) if 0 < c < 0.5]
    if not low:
        return
    # on a grid of one's own, most rows short alike mean a grid chosen wider
    # than the data, which is no mistake; on the default grid of the
    # modality (or for a few rows among many) a file in other units, say
    default = np.array_equal(grid, np.linspace(*DEFAULT_AXES[modality]))
    if not default and 2 * len(low) >= np.count_nonzero(coverage > 0):
        return
    first, cover = low[0]
    more = f" and {len(low) - 1} more" if len(low) > 1 else ""
    warnings.warn(
        f"{len(low)} {modality} spectra cover less than half of the grid and "
        f"were filled with outside={outside!r} ({first} {_shortfall(cover, grid)}"
        f"{more}): is that axis in other units? Check the `coverage` of the "
        "result.",
        UserWarning,
        stacklevel=5,
    )


def _warn_raw_zeros(coverage, records, outside, modality):
    """Warn about RAW spectra covering the grid in part, filled with zeros.

    A RAW spectrum stands on its baseline (thousands of counts): the step
    from there to zero where the file ends is followed by any baseline
    method, and the corrected spectrum is spoilt (r 0.53 against RRUFF's
    Processed spectra on such files, 0.99 with ``outside="edge"``).
    ``records`` holds the file description of each row, or None.
    """
    if outside != "zero":
        return
    raw = [
        r["file"]
        for r, c in zip(records, coverage, strict=True)
        if r is not None and r.get("kind") == "RAW" and 0 < c < 1
    ]
    if not raw:
        return
    more = f" and {len(raw) - 1} more" if len(raw) > 1 else ""
    warnings.warn(
        f"{len(raw)} RAW {modality} spectra cover the grid in part and were "
        f"filled with zeros ({raw[0]}{more}): a baseline correction follows "
        "the step from their baseline to zero. Load RAW spectra with "
        "outside='edge' or 'drop'.",
        UserWarning,
        stacklevel=5,
    )


def _span(data, modality):
    """Return the range of grid values one file can cover, as ``_to_grid`` sees."""
    if modality == "xrd" and data.format == "dif":
        lo, hi = data.metadata.get("TWO_THETA_RANGE", (-np.inf, np.inf))
        return float(lo), float(hi)
    return float(np.min(data.x)), float(np.max(data.x))


def _check_any_covered(coverage, datas, grid, modality, given):
    """Raise if no file covers any point of a given ``grid`` (other units?).

    A result of only NaN rows (or only dropped rows) says nothing; a grid
    that some files cover, even in part, is left to ``outside``. The
    default grid is not the caller's choice: files beyond it (NIR spectra
    on the IR grid) give NaN rows, as documented.
    """
    if not given or len(datas) == 0 or np.any(coverage > 0):
        return
    spans = np.array([_span(data, modality) for data in datas])
    name = f"{modality}_axis"
    raise ValueError(
        f"No {modality} file covers any point of {name} "
        f"({grid.min():g}-{grid.max():g}, {grid.size} points): the "
        f"{len(datas)} {modality} spectra span {spans[:, 0].min():g}-"
        f"{spans[:, 1].max():g}. Is {name} in other units than the files "
        f"({_UNITS[modality]})? Pass as {name} a grid within the range the "
        "spectra span."
    )


def _finish(values, grid, outside, normalize):
    coverage = 1.0 - np.isnan(values).mean(axis=1)
    values = _normalize(_fill_outside(values, outside), grid, normalize)
    return values, coverage


def load_rruff(
    directory,
    *,
    pair=True,
    require=("ir", "raman"),
    modality=None,
    kind=None,
    ir_axis=None,
    raman_axis=None,
    xrd_axis=None,
    normalize=None,
    outside="nan",
    xrd_profile="gaussian",
    xrd_fwhm=0.2,
    xrd_prefer="measured",
    on_error="raise",
    as_frame=False,
):
    r"""Load a directory tree of RRUFF files onto common spectral grids.

    Every ``*.txt`` file under ``directory`` (the suffix in any case) is read
    with :func:`read_rruff`; hidden files and folders (names starting with
    ``.``, such as macOS ``._*`` resource forks) are left out. Spectra that
    sktransfer wrote are no measurements and never loaded: predictions of
    ``sktransfer transfer predict`` (``FILETYPE=predicted ... (sktransfer)``),
    spectra generated by ``sktransfer augment`` (``GENERATED=true``) and
    baselines of ``sktransfer baseline --keep-baseline`` (``FILETYPE=baseline
    of ... (sktransfer)``) are left out and listed in ``skipped``, whatever
    ``on_error``.
    Its modality (Raman, infrared, powder XRD) comes from the ``FILETYPE``
    header, else from the RRUFF file name (``__Raman__``, ``__Infrared__``),
    else from the DIF table layout. Files are joined on the base RRUFF id
    (``R040129`` for ``R040129-1``), taken from the ``RRUFFID`` header, else
    from the file name; two different ids are never paired. Each spectrum is
    linearly interpolated onto the grid of its modality (measured powder-XRD
    scans too, ``kind="XY"``); DIF peak lists (``kind="DIF"``) are rendered
    as a sum of ``xrd_profile`` peaks of width ``xrd_fwhm``.

    Read more in the :ref:`User Guide <datasets>`.

    Parameters
    ----------
    directory : str, os.PathLike or list of them
        Root(s) of the directory tree(s) to scan (recursively).
    pair : bool, default=True
        If True, return one row per RRUFF id with one array per modality.
        If False, return every file of one modality as its own row (e.g. the
        many Raman spectra, RAW and Processed, of one sample).
    require : {"ir", "raman", "xrd"} or tuple of them, default=("ir", "raman")
        Only with ``pair=True``: modalities every returned sample must have
        (``()``: none). Other modalities are filled where a sample has them
        (NaN rows and a False ``has_<modality>`` entry elsewhere). Another
        value than the default with ``pair=False`` raises a ValueError.
    modality : {"ir", "raman", "xrd"} or None, default=None
        Only with ``pair=False``: the modality to load. None means the only
        modality present (an error if there are several). Given with
        ``pair=True``, a ValueError.
    kind : {"Processed", "RAW"} or None, default=None
        Keep only IR/Raman files of this kind. None keeps every file with
        ``pair=False`` and prefers Processed files with ``pair=True``.
    ir_axis, raman_axis, xrd_axis : array-like of shape (n_points,), default=None
        Common grids, in the units of the files (cm-1 for IR and Raman,
        degrees 2-theta for XRD). None gives IR 400-4000 cm-1 and Raman
        150-1250 cm-1 in 1024 points each (3.52 and 1.08 cm-1 steps), XRD
        5-90 degrees 2-theta in 0.05 degree steps (1701 points). A grid
        given here that no file of its modality covers at any point (one
        in other units, say) raises a ValueError.
    normalize : {"max", "area"} or None, default=None
        Per-spectrum scaling after interpolation: maximum 1, or trapezoidal
        area 1 (NaN counted as 0). A spectrum with nothing to scale by (a
        maximum that is not positive, or a zero area) is left unscaled.
    outside : {"nan", "zero", "edge", "drop"}, default="nan"
        Grid points more than half a grid step outside a file's measured
        range are never interpolated from data (within half a step the
        first/last measured value is used): they are NaN (``"nan"``), set
        to 0 (``"zero"``, natural for baseline-removed spectra), set to the
        first/last measured value
        (``"edge"``), or the rows that do not cover the whole grid are
        dropped and listed in ``dropped`` (``"drop"``). A file that covers
        no point of its grid (NIR spectra on the IR grid, say) has nothing
        to fill from: its row stays NaN with ``"zero"`` and ``"edge"`` too.
        ``coverage`` always gives the covered fraction of each row.
    xrd_profile : {"gaussian", "lorentzian", "pseudo_voigt"}, default="gaussian"
        Peak shape used to render DIF peak lists (pseudo-Voigt: half/half).
    xrd_fwhm : float, default=0.2
        Full width at half maximum of rendered DIF peaks, degrees 2-theta;
        under two steps of the XRD grid, a warning (peaks fall between grid
        points).
    xrd_prefer : {"measured", "dif"}, default="measured"
        With ``pair=True``, which XRD file a sample gets when it has both a
        measured scan and a DIF peak list: the measured diffractogram, or the
        computed stick pattern of the DIF file.
    on_error : {"raise", "skip"}, default="raise"
        ``"raise"``: one ValueError listing every file that could not be read.
        ``"skip"``: leave them out and list them in ``skipped``. Files that
        sktransfer wrote as predictions or generated spectra are no errors:
        they are always left out and listed in ``skipped``.
    as_frame : bool, default=False
        Return ``metadata`` as a pandas DataFrame instead of a list of dicts.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``pair=True``: ``ir``, ``raman``, ``xrd`` (arrays of shape
        (n_samples, n_points), or None when no file of that modality exists),
        ``ir_axis``, ``raman_axis``, ``xrd_axis``, ``has_ir``, ``has_raman``,
        ``has_xrd`` (boolean masks), ``xrd_peaks`` (per sample the XRD
        data as read, a ``(two_theta, intensity)`` tuple: the peak list of a
        DIF file, or every point of a measured scan; None without XRD),
        ``rruff_ids``, ``species`` (the name the sample's Raman file gives,
        else its IR file, else its XRD file), ``species_groups``,
        ``metadata``, ``files`` (per sample a dict modality -> path),
        ``coverage`` (dict modality -> covered fraction per row), ``dropped``
        and ``skipped`` (lists of ``(name, reason)``), and ``unpaired``: the
        RRUFF ids left out for want of a modality in ``require``, as
        ``(rruff_id, reason)`` such as ``("R050001", "no raman file")``.

        ``species_groups`` is ``species`` where the files of each sample
        agree. Where the files of one RRUFF id name different species (RRUFF
        keeps an older name in some headers or file names), a warning lists
        them and ``species_groups`` joins the names (e.g. ``"Hauyne/Lazurite"``)
        for every sample that bears one of them, so that a split grouped by it
        keeps both on one side.

        With ``pair=False``: ``data`` and ``axis`` (also under the modality's
        own names, e.g. ``raman`` and ``raman_axis``), ``modality``,
        ``rruff_ids``, ``sample_ids`` (with sub-sample suffix, e.g.
        ``R040068-3``), ``species``, ``species_groups``, ``kind``
        ("RAW"/"Processed"/"DIF"/"XY"),
        ``laser_nm``, ``orientation``, ``pair_key`` (shared by the RAW and
        the Processed file of one measurement), ``metadata``, ``files``,
        ``coverage``, ``dropped`` and ``skipped``.

    Raises
    ------
    OSError
        If ``directory`` does not exist or is a file.
    ValueError
        If it holds no RRUFF files, no sample has the required modalities,
        (with ``on_error="raise"``) some files cannot be read, or no file
        of a modality covers any point of the grid given for it (the
        message names the grid's range and the range the spectra span); if
        a parameter is
        not valid (an ``ir_axis``, ``raman_axis`` or ``xrd_axis`` that is
        no 1-D array of numbers, say), or ``modality`` is given with
        ``pair=True``, or ``require`` other than its default with
        ``pair=False``.

    See Also
    --------
    read_rruff : Read one RRUFF file.
    fetch_rruff : Download, cache and load the RRUFF archives.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktransfer.datasets import load_rruff
    >>> root = tempfile.mkdtemp()
    >>> for name, x0 in [("Quartz__R040031-1__Infrared__Infrared_Data_Processed__1",
    ...                   400), ("Quartz__R040031__Raman__532__0__unoriented__"
    ...                          "Raman_Data_Processed__2", 150)]:
    ...     rows = "".join(f"{x0 + i}, {i % 7}\n" for i in range(4000))
    ...     with open(os.path.join(root, name + ".txt"), "w") as f:
    ...         _ = f.write("##NAMES=Quartz\n##RRUFFID=R040031\n" + rows)
    >>> data = load_rruff(root)
    >>> data.ir.shape, data.raman.shape, list(data.rruff_ids)
    ((1, 1024), (1, 1024), ['R040031'])
    """
    require, grids = check_load_args(
        pair=pair,
        require=require,
        modality=modality,
        kind=kind,
        ir_axis=ir_axis,
        raman_axis=raman_axis,
        xrd_axis=xrd_axis,
        normalize=normalize,
        outside=outside,
        xrd_profile=xrd_profile,
        xrd_fwhm=xrd_fwhm,
        xrd_prefer=xrd_prefer,
        on_error=on_error,
        as_frame=as_frame,
    )
    given = {"ir": ir_axis, "raman": raman_axis, "xrd": xrd_axis}
    given = {m: axis is not None for m, axis in given.items()}
    step = float(np.abs(np.diff(grids["xrd"])).max(initial=0.0))
    if xrd_fwhm < 2.0 * step * (1.0 - 1e-9):  # a rounded step is not "less"
        warnings.warn(
            f"xrd_fwhm={xrd_fwhm:g} is less than two steps of the XRD grid "
            f"({step:g} degrees): rendered DIF peaks fall between grid points "
            "and lose height unevenly. Use a wider xrd_fwhm or a finer xrd_axis.",
            UserWarning,
            stacklevel=2,
        )
    records, failures, left_out = scan(directory)
    if failures and on_error == "raise":
        listing = "\n".join(
            f"  {reason}" if path in reason else f"  {path}: {reason}"
            for path, reason in failures
        )
        raise ValueError(
            f"{len(failures)} RRUFF file(s) could not be read "
            f"(pass on_error='skip' to leave them out):\n{listing}"
        )
    if kind is not None:
        unknown = [r for r in records if r[0]["modality"] != "xrd" and not r[0]["kind"]]
        records = [
            r for r in records if r[0]["modality"] == "xrd" or r[0]["kind"] == kind
        ]
        if unknown:
            # files of the other kind are left out on purpose; these say none
            names = ", ".join(os.path.basename(d["file"]) for d, _ in unknown[:3])
            message = (
                f"{len(unknown)} IR/Raman file(s) say no kind (neither their "
                "FILETYPE nor their name gives Processed or RAW), so "
                f"kind={kind!r} leaves them out: {names}"
                + (", ..." if len(unknown) > 3 else "")
                + ". Pass kind=None to load them."
            )
            if not records:
                raise ValueError(f"No RRUFF file of kind {kind!r} found: {message}")
            warnings.warn(message, UserWarning, stacklevel=2)
    if not records:
        written = ""
        if left_out:  # predictions, generated spectra or baselines
            shown = ", ".join(os.path.basename(p) for p, _ in left_out[:3])
            written = (
                f"; {len(left_out)} file(s) written by sktransfer were left out "
                f"as no measurements: {shown}" + (", ..." if len(left_out) > 3 else "")
            )
        raise ValueError(
            f"No readable RRUFF files found{written}."
            if kind is None
            else f"No readable RRUFF file of kind {kind!r} found{written}."
        )
    found = sorted({d["modality"] for d, _ in records})
    args = (grids, normalize, outside, xrd_profile, xrd_fwhm, as_frame, given)
    if pair:
        data = _load_paired(records, found, require, *args, xrd_prefer=xrd_prefer)
    else:
        data = _load_unpaired(records, found, modality, *args)
    data.skipped = failures + left_out
    disagree = data.pop("_species_disagree")
    if disagree:
        listing = "; ".join(
            f"{rid} ({', '.join(names)})" for rid, names in disagree[:5]
        ) + ("; ..." if len(disagree) > 5 else "")
        warnings.warn(
            f"The files of {len(disagree)} sample(s) name different species: "
            f"{listing}. 'species' gives one name per "
            f"{'sample (of its Raman file, else IR, else XRD)' if pair else 'file'}; "
            "'species_groups' joins the names, for splits that keep a species "
            "on one side.",
            UserWarning,
            stacklevel=2,
        )
    return data


def _named_species(records):
    """Return the species names that ``records`` give by name.

    The ``NAMES`` header or a RRUFF file name (``Species__R040031__...``);
    the stem of another file name names no species.
    """
    return {
        desc["species"]
        for desc, data in records
        if data.metadata.get("NAMES") or "__" in os.path.basename(desc["file"])
    }


def _species_groups(rruff_ids, species, names):
    """Join the species names that the files of one sample disagree on.

    ``names`` holds, per row, the species names its files give. Names that
    the files of one RRUFF id give are one group, and so transitively.
    Returns the group of each row's ``species`` (its names, sorted and joined
    by "/") and the ``(rruff_id, names)`` whose files disagree.
    """
    by_id = {}
    for rid, row in zip(rruff_ids, names):
        by_id.setdefault(rid, set()).update(row)
    parent = {}

    def root(name):
        parent.setdefault(name, name)
        while parent[name] != name:
            name = parent[name]
        return name

    for found in by_id.values():
        found = sorted(found)
        for name in found[1:]:
            parent[root(name)] = root(found[0])
    for name in species:
        root(name)
    members = {}
    for name in list(parent):
        members.setdefault(root(name), set()).add(name)
    groups = np.array(
        ["/".join(sorted(members[root(name)])) for name in species], dtype=object
    )
    disagree = [(rid, sorted(n)) for rid, n in sorted(by_id.items()) if len(n) > 1]
    return groups, disagree


def _frame(rows, as_frame):
    if not as_frame:
        return rows
    return import_pandas("as_frame=True").DataFrame(rows)


def _load_unpaired(records, found, modality, grids, normalize, outside, *rest):
    xrd_profile, xrd_fwhm, as_frame, given = rest
    if modality is None:
        if len(found) > 1:
            raise ValueError(
                f"modality must be given with pair=False: files of {found} found."
            )
        modality = found[0]
    check_option(modality, "modality", MODALITIES)
    records = [r for r in records if r[0]["modality"] == modality]
    if not records:
        raise ValueError(f"No {modality} files found; found modalities {found}.")
    grid = grids[modality]
    values = np.vstack(
        [_to_grid(d, modality, grid, xrd_profile, xrd_fwhm) for _, d in records]
    )
    values, coverage = _finish(values, grid, outside, normalize)
    datas = [d for _, d in records]
    _check_coverage(
        coverage, [r[0] for r in records], datas, grid, outside, modality, given
    )
    keep = np.ones(len(records), dtype=bool)
    dropped = []
    if outside == "drop":
        keep = coverage == 1.0
        dropped = [
            (r[0]["file"], f"{modality} {_shortfall(c, grid)}")
            for r, c, k in zip(records, coverage, keep)
            if not k
        ]
    records = [r for r, k in zip(records, keep) if k]
    values = values[keep]
    descs = [d for d, _ in records]
    meta = [{**_header_fields(data, d), **d} for d, data in records]
    column = lambda key: np.array([d[key] for d in descs], dtype=object)  # noqa: E731
    groups, disagree = _species_groups(
        column("rruff_id"), column("species"), [_named_species([r]) for r in records]
    )
    return Bunch(
        data=values,
        axis=grid,
        modality=modality,
        **{modality: values, f"{modality}_axis": grid},
        rruff_ids=column("rruff_id"),
        sample_ids=column("sample_id"),
        species=column("species"),
        species_groups=groups,
        _species_disagree=disagree,
        kind=column("kind"),
        laser_nm=np.array([np.nan if v is None else v for v in column("laser_nm")]),
        orientation=column("orientation"),
        pair_key=column("pair_key"),
        metadata=_frame(meta, as_frame),
        files=[d["file"] for d in descs],
        coverage=coverage[keep],
        dropped=dropped,
    )


def _load_paired(
    records, found, require, grids, normalize, outside, *rest, xrd_prefer="measured"
):
    xrd_profile, xrd_fwhm, as_frame, given = rest
    for m in require:
        if m not in found:
            raise ValueError(
                f"No {m} files found, but require={require}; found {found}."
            )
    by_id = {}
    for desc, data in records:
        by_id.setdefault(desc["rruff_id"], {}).setdefault(desc["modality"], []).append(
            (desc, data)
        )
    ids = sorted(rid for rid, mods in by_id.items() if all(m in mods for m in require))
    if not ids:
        raise ValueError(f"No RRUFF id has all required modalities {require}.")
    # the samples left out for want of a required modality, and which
    unpaired = [
        (rid, "no " + " or ".join(m for m in require if m not in by_id[rid]) + " file")
        for rid in sorted(set(by_id) - set(ids))
    ]
    chosen = []
    for rid in ids:
        picks = {}
        for m, candidates in by_id[rid].items():
            picks[m] = min(
                candidates, key=lambda r, m=m: _preference(*r, grids[m], xrd_prefer)
            )
        chosen.append(picks)
    out = Bunch()
    keep = np.ones(len(ids), dtype=bool)
    coverage = {}
    short_of = [[] for _ in ids]  # why each pair falls short, per modality
    for m in MODALITIES:
        has = np.array([m in p for p in chosen])
        out[f"{m}_axis"] = grids[m]
        out[f"has_{m}"] = has
        if not has.any():
            out[m] = None
            continue
        values = np.full((len(ids), grids[m].size), np.nan)
        for i, p in enumerate(chosen):
            if m in p:
                values[i] = _to_grid(p[m][1], m, grids[m], xrd_profile, xrd_fwhm)
        values, cov = _finish(values, grids[m], outside, normalize)
        cov[~has] = 0.0
        datas = [p[m][1] for p in chosen if m in p]
        descs = [p[m][0] if m in p else None for p in chosen]
        _check_coverage(cov, descs, datas, grids[m], outside, m, given)
        out[m], coverage[m] = values, cov
        if outside == "drop":
            short = has & (cov < 1.0)
            for i in np.flatnonzero(short):
                short_of[i].append(f"{m} {_shortfall(cov[i], grids[m])}")
            keep &= ~short
    dropped = [(ids[i], "; ".join(r)) for i, r in enumerate(short_of) if r]
    for m in MODALITIES:
        if out[m] is not None:
            out[m] = out[m][keep]
            coverage[m] = coverage[m][keep]
        out[f"has_{m}"] = out[f"has_{m}"][keep]
    chosen = [p for p, k in zip(chosen, keep) if k]
    ids = [rid for rid, k in zip(ids, keep) if k]
    meta, files, species = [], [], []
    for rid, picks in zip(ids, chosen):
        first = next(picks[m] for m in ("raman", "ir", "xrd") if m in picks)
        row = {**_header_fields(first[1], ("rruff_id", "species")), "rruff_id": rid}
        for m, (desc, _) in picks.items():
            row[f"{m}_file"] = desc["file"]
            row[f"{m}_sample_id"] = desc["sample_id"]
            row[f"{m}_kind"] = desc["kind"]
        row["raman_laser_nm"] = (
            picks["raman"][0]["laser_nm"] if "raman" in picks else None
        )
        row["species"] = first[0]["species"]
        species.append(first[0]["species"])
        meta.append(row)
        files.append({m: desc["file"] for m, (desc, _) in picks.items()})
    out.xrd_peaks = [
        (p["xrd"][1].x, p["xrd"][1].y) if "xrd" in p else None for p in chosen
    ]
    out.rruff_ids = np.array(ids, dtype=object)
    out.species = np.array(species, dtype=object)
    out.species_groups, out._species_disagree = _species_groups(
        ids, species, [_named_species(p.values()) for p in chosen]
    )
    out.metadata = _frame(meta, as_frame)
    out.files = files
    out.coverage = coverage
    out.dropped = dropped
    out.unpaired = unpaired
    return out
