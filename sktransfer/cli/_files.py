"""Reading and writing the spectra files the command-line verbs work on.

Two formats are understood: RRUFF text files (``##KEY=value`` headers, then
``x, y`` rows; one spectrum per file, read with
:func:`sktransfer.datasets.read_rruff`) and CSV tables with an axis column
(first column the spectral axis, every further column one spectrum, the
header row naming them). Outputs are written in the format of the input,
through :class:`Outputs`: every name is checked before anything is written,
and each file is written to a temporary file and renamed into place.
"""

import collections
import contextlib
import csv
import io
import itertools
import os
import re
import shutil
import signal
import stat
import threading
from dataclasses import dataclass, field

import numpy as np

from sktransfer._validation import check_x_axis
from sktransfer.cli import CLIError
from sktransfer.datasets._load import on_grid
from sktransfer.datasets._rruff import decode_text
from sktransfer.datasets._write import (
    SEPARATORS,
    publish,
    rruff_text,
    special_file,
    stage_file,
)


@dataclass
class Spectra:
    """Spectra read from files, each with its own axis.

    Attributes
    ----------
    axes, values : list of ndarray
        Axis and intensities of each spectrum.
    names : list of str
        Spectrum names: CSV column headers, or RRUFF file names.
    format : {"csv", "rruff"}
        The format the spectra were read from.
    metadata : list of dict
        RRUFF header fields of each spectrum (empty dicts for CSV).
    paths : list of str
        The file each spectrum came from.
    axis_name : str
        Header of the CSV axis column (``"x"`` for RRUFF input).
    modalities : list
        The modality of each RRUFF spectrum (``"ir"``, ``"raman"``,
        ``"xrd"``) as its header or file name says, None where neither says
        (empty for CSV).
    headers : list of list of str
        The header lines of each RRUFF file as it holds them (empty for CSV).
    """

    axes: list
    values: list
    names: list
    format: str
    metadata: list = field(default_factory=list)
    paths: list = field(default_factory=list)
    axis_name: str = "x"
    modalities: list = field(default_factory=list)
    headers: list = field(default_factory=list)

    def __len__(self):
        return len(self.values)

    def common_axis(self):
        """Return the axis shared by every spectrum, or None if they differ."""
        first = self.axes[0]
        same = all(
            a.shape == first.shape and np.array_equal(a, first) for a in self.axes
        )
        return first if same else None

    def matrix(self):
        """Stack the spectra; they must share one axis."""
        return np.vstack(self.values)


def _number(text, path, line_no, decimal_comma=False):
    cell = text.strip()
    where = f"{path}, line {line_no}: {cell!r}"
    if decimal_comma and "." in cell:
        raise CLIError(
            f"{where} has a decimal point, but this ';'-separated file writes "
            "decimal commas"
        )
    try:
        return float(cell.replace(",", ".") if decimal_comma else cell)
    except ValueError:
        pass
    hint = ""
    if "," in cell and not decimal_comma:
        hint = " (decimal commas are read in ';'-separated files only)"
    raise CLIError(f"{where} is not a number{hint}") from None


def _is_number(cell):
    """Whether a cell reads as a number, with a decimal point or comma."""
    try:
        float(cell.strip().replace(",", "."))
    except ValueError:
        return False
    return True


_ROWS_HINT = (
    "runs monotonically across the columns, as an axis of spectra stored one "
    "per row would: the command line reads one spectrum per column, the axis "
    "first, so transpose the table"
)


def _runs_across(first, path, decimal_comma):
    """Whether a numeric first row of 3 or more cells runs like an axis.

    Monotonic, with fewer repeated neighbours than steps: an axis written
    with too few digits repeats a value here and there (``400,400,401``),
    while the first points of spectra stored one per column, padded with
    zeros, repeat most of theirs (``400,0,0,0``).
    """
    if len(first) < 3:
        return False
    steps = np.diff([_number(c, path, 1, decimal_comma) for c in first])
    # scikit-learn's layout: one spectrum per row, the axis across the header
    monotonic = np.all(steps >= 0) or np.all(steps <= 0)
    return bool(monotonic and 2 * np.count_nonzero(steps == 0) < len(steps))


def first_break(axis):
    """``(i, "V follows W")``: ``axis[i]`` is where it first stops running one way.

    None for an axis of finite values that is strictly monotonic, or one
    with a value that is not finite.
    """
    if not np.isfinite(axis).all():
        return None
    steps = np.diff(axis)
    moving = steps[steps != 0]
    ahead = np.sign(moving[0]) if len(moving) else 1.0
    breaks = np.flatnonzero(np.sign(steps) != ahead)
    if not len(breaks):
        return None
    k = int(breaks[0])
    return k + 1, f"{axis[k + 1]:g} follows {axis[k]:g}"


def read_csv_spectra(path):
    """Read a CSV table: first column the axis, every other column a spectrum.

    Parameters
    ----------
    path : str
        The CSV file.

    Returns
    -------
    spectra : Spectra
        The spectra, all on the axis of the first column.
    """
    # The rows are read twice, one at a time, rather than kept: a list of
    # every cell (a Python string each) took about 25 times the memory of
    # the numbers, 10 times that of the file.
    text, separator = _csv_text(path)

    def numbered_rows():
        """``(line_no, row)`` of the rows with a non-blank cell."""
        for i, row in enumerate(_csv_rows(text, separator, path)):
            if any(c.strip() for c in row):
                yield i + 1, row

    line_nos, first, decimal_comma = [], None, False
    for line_no, row in numbered_rows():
        line_nos.append(line_no)
        if first is None:
            first = row
        elif separator == ";" and not decimal_comma:
            # European spreadsheets separate by ';' because they write
            # decimal commas.
            decimal_comma = any("," in c for c in row)
    if first is None:
        raise CLIError(f"{path} is empty")
    titled = not all(map(_is_number, first))
    if not titled:
        header = [f"spectrum{i}" for i in range(1, len(first))]
        axis_name = "x"
        if len(first) > len(line_nos) and _runs_across(first, path, decimal_comma):
            # more columns than rows, the first row an axis: the spectra are
            # in rows, and each column would be read as a spectrum of a few
            # points whose first "axis" value is a wavenumber
            raise CLIError(
                f"{path}: {len(first)} columns and {len(line_nos)} rows, and "
                f"the first row {_ROWS_HINT}"
            )
    else:
        header, axis_name = [c.strip() for c in first[1:]], first[0].strip() or "x"
        line_nos = line_nos[1:]
    if not header:
        raise CLIError(
            f"{path}: needs an axis column and at least one spectrum, separated "
            "by ',', ';' or tab"
        )
    repeated = sorted(n for n, k in collections.Counter(header).items() if k > 1)
    if repeated:
        raise CLIError(f"{path}: spectrum names must be unique; repeated: {repeated}")
    if not line_nos:
        raise CLIError(f"{path}: no numeric rows after the header")
    data = np.empty((len(line_nos), len(header) + 1))
    rows = numbered_rows()
    if titled:
        next(rows)  # the header
    for k, (line_no, row) in enumerate(rows):
        if len(row) != len(header) + 1:
            raise CLIError(
                f"{path}, line {line_no}: {len(row)} columns, expected "
                f"{len(header) + 1}"
            )
        data[k] = [_number(c, path, line_no, decimal_comma) for c in row]
    if not np.all(np.isfinite(data)):
        bad = line_nos[int(np.where(~np.isfinite(data))[0][0])]
        raise CLIError(f"{path}, line {bad}: NaN or infinity")
    try:
        axis = check_x_axis(data[:, 0], data.shape[0], name="the axis column")
    except ValueError as exc:
        hint = ""
        if not titled and _runs_across(first, path, decimal_comma):
            hint = f"; its first row {_ROWS_HINT}"
        where, message = path, str(exc).rstrip(".")
        if (broken := first_break(data[:, 0])) is not None:
            i, detail = broken
            where, message = f"{path}, line {line_nos[i]}", f"{message} ({detail})"
        raise CLIError(f"{where}: {message}{hint}") from None
    if not first[0].strip() and np.array_equal(axis, np.arange(len(axis))):
        # pandas' to_csv writes its row index first, under an empty name
        raise CLIError(
            f"{path}: the first column has no name and holds the row numbers "
            f"0, 1, ..., {len(axis) - 1}, as pandas' to_csv writes its index; "
            "write the table with index=False so that the axis comes first, "
            "or name the column if it is the axis"
        )
    return Spectra(
        axes=[axis] * len(header),
        values=[data[:, j + 1].copy() for j in range(len(header))],
        names=header,
        format="csv",
        metadata=[{} for _ in header],
        paths=[path] * len(header),
        axis_name=axis_name,
    )


def check_regular_file(path):
    """Raise a one-line error unless ``path`` is a regular file.

    Pipes and devices are refused: reading one could block for ever.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise CLIError(f"{path} is not a regular file")


def read_csv_rows(path, fits=None):
    """Rows of a text CSV file, with one-line errors for unreadable files.

    The text is UTF-8 (with or without a byte-order mark), UTF-16 with a
    byte-order mark or, failing those, Windows-1252 (Latin-1), as
    spreadsheets on Windows save "°", "µ", "Å" or "–" in headers. Columns
    are separated by ``,``, or by ``;`` or tab where every one of the first
    lines holds as many of them.

    ``fits``, a function of the rows, settles a guess the text alone cannot:
    when the rows at the guessed separator do not fit and those at another
    separator do, the other is taken (``s1,a;b`` is the name ``s1`` and the
    label ``a;b``, though every line also splits in two at ``;``).
    """
    text, separator = _csv_text(path)
    rows = list(_csv_rows(text, separator, path))
    if fits is None or fits(rows):
        return rows
    for other in (",", ";", "\t"):
        if other != separator:
            other_rows = list(_csv_rows(text, other, path))
            if fits(other_rows):
                return other_rows
    return rows


def _separator(text):
    """Return the column separator of a CSV text: ``;``, tab or ``,``.

    A separator fits when each of the first five non-empty lines (the header
    and the first rows) splits into the same number of columns, more than
    one, at it. ``;`` is taken when it fits (numbers never hold one); tab
    when it fits and ``,`` does not (tabs may pad a comma-separated table).
    """
    lines = (line for line in _lines(text) if line.strip())
    sample = list(itertools.islice(lines, 5))

    def fits(separator):
        try:
            widths = {len(row) for row in csv.reader(sample, delimiter=separator)}
        except csv.Error:  # a cell over the csv module's limit: no table
            return False
        return len(widths) == 1 and widths != {1}

    if fits(";"):
        return ";"
    return "\t" if fits("\t") and not fits(",") else ","


def _csv_text(path):
    """``(text, separator)`` of a text CSV file (see :func:`read_csv_rows`)."""
    check_regular_file(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = decode_text(raw, path, "a text CSV file")
    except ValueError as exc:
        raise CLIError(str(exc).rstrip(".")) from None
    return text, _separator(text)


#: A line and its end (``\n``, ``\r\n`` or ``\r``), or a last line without one.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _lines(text):
    """Yield the lines of ``text`` with their ends, one at a time.

    The lines ``io.StringIO(text, newline="")`` gives, without its copy of
    the text at 4 bytes a character.
    """
    return (match.group() for match in _LINE_RE.finditer(text))


def _csv_rows(text, separator, path):
    """Yield the rows of a CSV text one at a time (a list of cells each)."""
    try:
        yield from csv.reader(_lines(text), delimiter=separator)
    except csv.Error:
        raise CLIError(f"{path} is not a text CSV file") from None


def _read_csv(path):
    """``(rows, separator)`` of a text CSV file (see :func:`read_csv_rows`)."""
    text, separator = _csv_text(path)
    return list(_csv_rows(text, separator, path)), separator


def input_files(paths):
    """List the files that ``paths`` name: files, and the RRUFF files of folders."""
    from sktransfer.datasets._records import text_files

    files = []
    for p in paths:
        if os.path.isdir(p):
            # *.txt in any case, as load_rruff reads them; no hidden files
            try:
                found = text_files(p)
            except OSError as exc:
                raise CLIError(f"cannot read {exc.filename}: {exc.strerror}") from None
            files += sorted(found, key=lambda f: (os.path.dirname(f), f))
        else:
            check_regular_file(p)
            files.append(p)
    return files


def read_spectra(paths):
    """Read spectra from one CSV file or from RRUFF files and directories.

    Parameters
    ----------
    paths : list of str
        One CSV file, or RRUFF text files and directories (searched
        recursively for ``*.txt`` in any case; hidden files and folders are
        left out).

    Returns
    -------
    spectra : Spectra
        The spectra read, in file order.
    """
    from sktransfer.datasets import read_rruff
    from sktransfer.datasets._records import describe

    if any(p.lower().endswith(".csv") for p in paths):
        if len(paths) != 1:
            raise CLIError("give one CSV file, or RRUFF files and directories")
        return read_csv_spectra(paths[0])
    files = input_files(paths)
    axes, values, names, metadata, used, modalities = [], [], [], [], [], []
    headers = []
    peak_lists = []
    for path in files:
        try:
            data = read_rruff(path)
        except (OSError, ValueError) as exc:
            raise CLIError(str(exc)) from None
        if data.format != "spectrum":
            peak_lists.append(path)
            continue
        axes.append(data.x)
        values.append(data.y)
        names.append(os.path.basename(path))
        metadata.append(dict(data.metadata))
        used.append(path)
        modalities.append(describe(data, path)["modality"])
        headers.append(data.header)
    skipped = ""
    if peak_lists:
        more = f" and {len(peak_lists) - 1} more" if len(peak_lists) > 1 else ""
        skipped = (
            f"{len(peak_lists)} XRD peak list(s) (DIF) left out, {peak_lists[0]}"
            f"{more}: this command reads measured spectra (x, y rows)"
        )
    if not values:
        raise CLIError(
            f"no RRUFF spectra found in {', '.join(paths)}"
            + (f"; {skipped}" if skipped else "")
        )
    if skipped:
        print(f"note: {skipped}")
    return Spectra(
        axes, values, names, "rruff", metadata, used, "x", modalities, headers
    )


def spectra_on_grid(spectra, grid, what="the grid"):
    """Interpolate every spectrum onto ``grid``; 0 where it has no data.

    Grid points more than half a grid step outside a spectrum's measured
    range are set to 0 and reported in a note. A spectrum that covers no
    point of the grid is an error that names its file.
    """
    X = np.vstack([on_grid(x, y, grid) for x, y in zip(spectra.axes, spectra.values)])
    missing = np.isnan(X)
    report_coverage(1.0 - missing.mean(axis=1), spectra.paths, grid, what)
    X[missing] = 0.0
    return X


def report_coverage(covered, paths, grid, what="the grid", kind=""):
    """Refuse spectra that cover none of ``grid``; note those that miss part.

    ``covered`` is the covered fraction of each spectrum, ``paths`` their
    files (named in the error), ``kind`` a word before "spectra" (such as
    "ir ").
    """
    empty = np.flatnonzero(covered == 0)
    if empty.size:
        names = ", ".join(paths[i] for i in empty[:3])
        more = f" and {empty.size - 3} more" if empty.size > 3 else ""
        raise CLIError(
            f"{empty.size} {kind}spectra do not overlap {what} "
            f"({grid.min():g}-{grid.max():g}): {names}{more}"
        )
    n_padded = int((covered < 1).sum())
    if n_padded:
        print(
            f"note: {n_padded} {kind}spectra do not cover all of {what}; the "
            "missing points were set to 0"
        )


def overlap_grid(spectra, max_points=1024):
    """Return an evenly spaced grid over the range every spectrum covers."""
    lo = max(a.min() for a in spectra.axes)
    hi = min(a.max() for a in spectra.axes)
    if not hi > lo:
        raise CLIError("the spectra share no common range of the axis")
    n = int(min(max_points, np.median([len(a) for a in spectra.axes])))
    return np.linspace(lo, hi, max(n, 2))


def range_grid(spectra, low, high, max_points=1024):
    """Return an evenly spaced grid from ``low`` to ``high``.

    Its points are as dense as the median spectrum's over that range, at
    most ``max_points``.
    """
    if not high > low:
        raise CLIError(f"--range {low:g} {high:g}: the end must exceed the start")
    spans = [np.ptp(a) for a in spectra.axes]
    single = [p for p, span in zip(spectra.paths, spans) if not span > 0]
    if single:
        # it would cover one point of the grid, the rest set to 0
        more = f" and {len(single) - 1} more" if len(single) > 1 else ""
        raise CLIError(
            f"{single[0]}{more}: one axis value, no spectrum to put on a grid"
        )
    density = np.median([(len(a) - 1) / span for a, span in zip(spectra.axes, spans)])
    n = int(min(max_points, round(density * (high - low)) + 1))
    return np.linspace(low, high, max(n, 2))


def range_limits(spectra):
    """Say which files set the ends of the range every spectrum covers."""
    starts = [a.min() for a in spectra.axes]
    ends = [a.max() for a in spectra.axes]
    first, last = int(np.argmax(starts)), int(np.argmin(ends))
    return (
        f"{spectra.names[first]} starts at {starts[first]:g}, "
        f"{spectra.names[last]} ends at {ends[last]:g}"
    )


def check_output(path, overwrite, directory=False):
    """Refuse to overwrite an existing output unless asked; create parents."""
    if os.path.exists(path) and not overwrite:
        if not (directory and os.path.isdir(path) and not os.listdir(path)):
            raise CLIError(f"{path} exists; pass --overwrite to replace it")
    target = path if directory else (os.path.dirname(os.path.abspath(path)) or ".")
    try:
        os.makedirs(target, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"cannot create {target}: {exc.strerror}") from None
    if not os.access(target, os.W_OK):
        raise CLIError(f"cannot write to {target}")


def check_finite(rows, what):
    """Refuse to write NaN or infinite results (``rows``: one array per spectrum)."""
    bad = [i for i, row in enumerate(rows) if not np.all(np.isfinite(row))]
    if bad:
        raise CLIError(
            f"{what} hold NaN or infinity ({len(bad)} of {len(rows)} spectra); "
            "nothing was written. Scale the input spectra (for example to a "
            "maximum of 1) and try again"
        )


def _nearest_existing(folder):
    """Return ``folder``, or the nearest existing folder above it."""
    existing = folder
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    return existing


def _check_writable(folder):
    """Raise a one-line error unless files can be created in ``folder``.

    A folder that does not exist yet is judged by the nearest existing
    folder above it, where it would be created.
    """
    existing = _nearest_existing(folder)
    if not os.path.isdir(existing):
        raise CLIError(f"cannot write to {folder}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(
            f"cannot write to {folder}: no permission to create files in {existing}"
        )


def _check_name_length(path):
    """Raise a one-line error if the file name of ``path`` is too long.

    Judged by the nearest existing folder, as :func:`_check_writable`
    does: a name the file system refuses would fail only after the work.
    """
    existing = _nearest_existing(os.path.dirname(os.path.abspath(path)))
    try:
        limit = os.pathconf(existing, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # Windows, or not said
        limit = 255
    name = os.path.basename(path)
    size = len(os.fsencode(name))
    if limit > 0 and size > limit:
        raise CLIError(
            f"the output name {name!r} is {size} bytes long, over the "
            f"{limit} that {existing} allows; nothing was written. Give "
            "inputs or outputs with shorter names"
        )


def _key(path):
    return os.path.normcase(os.path.abspath(path)).casefold()


def _file_id(path, replaced=False):
    """``(device, inode)`` of an existing file, None where there is none.

    With ``replaced``, the file that writing ``path`` replaces: a symbolic
    link given as output is replaced, not the file it names.
    """
    try:
        if replaced and os.path.islink(path):
            return None
        st = os.stat(path)
    except OSError:  # does not exist
        return None
    return st.st_dev, st.st_ino


class Outputs:
    """The files one command writes, written whole and all together or not at all.

    :meth:`add` plans a file; :meth:`check` refuses, before anything is
    written, two planned files with one name (names that differ only in
    case count as one), a file written over an input of another kind (named
    with :meth:`add_inputs`; even with ``overwrite``) and existing files
    unless ``overwrite``; :meth:`write` writes every file to a temporary
    file in its folder and only then moves them all into place (without
    ``overwrite``, by hard links, which refuse a name taken meanwhile).
    """

    def __init__(self, overwrite, directory=None):
        self.overwrite = overwrite
        self.directory = directory
        self._files = []
        self._inputs = []

    def add_inputs(self, paths, role, kind="spectra"):
        """Name input files, which no output of another kind may replace.

        ``role`` says in errors which input they are (``"the --target
        input"``); ``kind`` is what they hold (``"spectra"``, ``"model"``,
        ``"labels"``). An output of the same kind may replace one: an
        in-place correction.
        """
        self._inputs += [(p, role, kind) for p in dict.fromkeys(map(os.fspath, paths))]

    def add(self, path, write, origin, kind="spectra"):
        """Plan ``path``, written by ``write(binary_file)``, made from ``origin``.

        ``kind`` is what the file holds, as for :meth:`add_inputs`.
        """
        self._files.append((os.fspath(path), write, origin, kind))

    def add_text(self, path, text, origin, kind="spectra"):
        """Plan a UTF-8 text file."""
        self.add(path, lambda f: f.write(text.encode("utf-8")), origin, kind)

    def add_rruff(self, path, x, y, metadata, origin, kind="spectra", header=None):
        """Plan a RRUFF file (see :func:`sktransfer.datasets.write_rruff`)."""
        try:
            text = rruff_text(x, y, metadata, header)
        except ValueError as exc:
            raise CLIError(f"cannot write {path}: {exc}") from None
        self.add_text(path, text, origin, kind)

    def add_csv(self, path, axis, Y, names, axis_name, origin, kind="spectra"):
        """Plan a CSV table with the axis in the first column (exact floats)."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow([axis_name, *names])
        for k, xv in enumerate(axis):
            writer.writerow([repr(float(xv)), *(repr(float(v)) for v in Y[:, k])])
        self.add_text(path, buffer.getvalue(), origin, kind)

    def _check_inputs(self):
        """Refuse an output that would replace an input of another kind."""
        inputs = {}  # by file, so that many files are checked in linear time
        for source, role, source_kind in self._inputs:
            if (found := _file_id(source)) is not None:
                inputs.setdefault(found, []).append((role, source_kind))
        for path, _, _, kind in self._files:
            for role, source_kind in inputs.get(_file_id(path, replaced=True), []):
                if kind != source_kind:
                    raise CLIError(
                        f"{path} is {role}; writing the {kind} over it is "
                        "refused, even with --overwrite: give another output name"
                    )

    def check(self):
        """Refuse clashes, outputs over inputs of another kind, existing files.

        Existing files are refused only without ``overwrite``.
        """
        groups = {}
        for path, _, origin, _ in self._files:
            groups.setdefault(_key(path), []).append((path, origin))
        clashes = [g for g in groups.values() if len(g) > 1]
        if clashes:
            shown = "; ".join(
                f"{os.path.basename(g[0][0])} from {', '.join(o for _, o in g)}"
                for g in clashes[:3]
            )
            more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
            raise CLIError(
                f"{len(clashes)} output names would be used twice ({shown}{more}); "
                "nothing was written. Give inputs with distinct file names"
            )
        folders = [p for p, *_ in self._files if os.path.isdir(p)]
        if folders:
            raise CLIError(f"{folders[0]} is a directory; give a file name")
        for path, *_ in self._files:
            special = special_file(path)
            if special is not None:
                raise CLIError(
                    f"{path} is {special}, not a regular file; it is never "
                    "replaced, not even with --overwrite: give a file name"
                )
        # "models/" names a folder even before it exists: writing would fail
        # only after the work
        folders = [p for p, *_ in self._files if p.endswith(SEPARATORS)]
        if folders:
            raise CLIError(f"{folders[0]} names a directory; give a file name")
        self._check_inputs()
        # Before the work (training can take hours), not when writing.
        targets = {os.path.dirname(os.path.abspath(p)) for p, *_ in self._files}
        if self.directory is not None:
            targets.add(os.path.abspath(self.directory))
        for folder in sorted(targets):
            _check_writable(folder)
        for path, *_ in self._files:
            _check_name_length(path)
        if self.overwrite:
            return
        d = self.directory
        if d is not None and os.path.isdir(d) and os.listdir(d):
            raise CLIError(f"{d} exists; pass --overwrite to replace it")
        existing = [p for p, *_ in self._files if os.path.lexists(p)]
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise CLIError(
                f"{existing[0]}{more} exists; pass --overwrite to replace it"
            )

    def write(self):
        """Check, then write every planned file; on failure nothing changes."""
        self.check()
        folders = {os.path.dirname(os.path.abspath(p)) for p, *_ in self._files}
        staged, created = [], []
        path = self.directory
        try:
            for folder in sorted(folders | ({self.directory} - {None})):
                _make_folder(folder, created)
            # One flush of everything is much cheaper than one fsync per file.
            sync_each = not hasattr(os, "sync")
            for path, write, *_ in self._files:
                staged.append((stage_file(path, write, sync=sync_each), path))
            if not sync_each:
                os.sync()
        except BaseException as exc:  # also Ctrl-C: no staged file stays
            for tmp, _ in staged:
                os.unlink(tmp)
            _remove_empty(created)
            if not isinstance(exc, OSError):
                raise
            raise CLIError(
                f"cannot write {path}: {exc.strerror or exc}; nothing was written"
            ) from None
        with _ctrl_c_deferred():  # renaming is quick: a Ctrl-C waits for it
            try:
                self._publish(staged)
            finally:
                for tmp, _ in staged:
                    if os.path.lexists(tmp):
                        os.unlink(tmp)
                # after a failure, the files it took back leave them empty
                _remove_empty(created)
        self._note_kept_files()
        return [p for _, p in staged]

    def _note_kept_files(self):
        """Say how many files of the output folder this command did not write.

        ``--overwrite`` replaces the files of the same names and deletes
        nothing: the others (an earlier run's, or the user's) stay beside
        the new ones, which the note makes visible.
        """
        if self.directory is None:
            return
        written = {_key(p) for p, *_ in self._files}
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        kept = sorted(
            n
            for n in names
            if _key(os.path.join(self.directory, n)) not in written
            and not n.startswith(".")
        )
        if kept:
            more = f" and {len(kept) - 1} more" if len(kept) > 1 else ""
            print(
                f"note: {self.directory} also holds {len(kept)} file(s) that "
                f"this command did not write ({kept[0]}{more}); they were kept"
            )

    def _publish(self, staged):
        """Move the staged files into place.

        Without ``overwrite`` a file is published with a hard link, which
        refuses a name that another program took after :meth:`check`; the
        files of this set published before it are then taken back. With
        ``overwrite`` each file it replaces is kept aside first, and put
        back if a later file of the set cannot be published: the set is
        written whole or not at all either way.
        """
        backups = {}
        try:
            if self.overwrite:
                self._keep_aside(staged, backups)
            self._replace_all(staged, backups)
        finally:
            for backup in backups.values():
                with contextlib.suppress(OSError):
                    os.unlink(backup)

    @staticmethod
    def _keep_aside(staged, backups):
        """Keep the files ``staged`` would replace, in ``{path: backup}``."""
        for k, (_, path) in enumerate(staged):
            if not os.path.isfile(path):
                continue
            backup = os.path.join(
                os.path.dirname(path) or ".",
                f".{os.path.basename(path)}.{os.getpid()}-{k}.sktransfer-old",
            )
            try:
                try:
                    os.link(path, backup)
                except OSError:  # no hard links here: a copy
                    shutil.copy2(path, backup)
            except OSError as exc:
                raise CLIError(
                    f"cannot replace {path}: {exc.strerror or exc}; nothing was written"
                ) from None
            backups[path] = backup

    def _replace_all(self, staged, backups):
        for k, (tmp, path) in enumerate(staged):
            try:
                publish(tmp, path, self.overwrite)
            except OSError as exc:
                # take back the files published so far: remove the new ones,
                # put back those they replaced
                restored = True
                for _, done in staged[:k]:
                    try:
                        if done in backups:
                            os.replace(backups.pop(done), done)
                        else:
                            os.unlink(done)
                    except OSError:
                        restored = False
                if isinstance(exc, FileExistsError) and not self.overwrite:
                    raise CLIError(
                        f"{path} was made by another program while this one "
                        "worked; nothing was written. Pass --overwrite to "
                        "replace it"
                    ) from None
                told = (
                    "nothing was written"
                    if restored
                    else f"{k} of {len(staged)} files were written"
                )
                raise CLIError(
                    f"cannot write {path}: {exc.strerror or exc}; {told}"
                ) from None


def _make_folder(folder, created):
    """Make ``folder`` and its missing parents; add those made to ``created``."""
    missing = []
    while not os.path.isdir(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    if missing:
        os.makedirs(missing[0], exist_ok=True)
    created += reversed(missing)


def _remove_empty(created):
    """Remove the folders a failed write made, deepest first, where empty."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


@contextlib.contextmanager
def _ctrl_c_deferred():
    """Hold a Ctrl-C (SIGINT) back until the block ends, then deliver it.

    Only the main thread receives signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if not received:
        return
    if callable(previous):  # Python's own handler raises KeyboardInterrupt
        previous(signal.SIGINT, None)
    elif previous != signal.SIG_IGN:
        raise KeyboardInterrupt
