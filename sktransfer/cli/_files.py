"""Reading and writing the spectra files the command-line verbs work on.

Two formats are understood: RRUFF text files (``##KEY=value`` headers, then
``x, y`` rows; one spectrum per file, read with
:func:`sktransfer.datasets.read_rruff`) and CSV tables with an axis column
(first column the spectral axis, every further column one spectrum, the
header row naming them). Outputs are written in the format of the input.
"""

import csv
import os
from dataclasses import dataclass, field

import numpy as np

from sktransfer._validation import check_x_axis
from sktransfer.cli import CLIError


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
    """

    axes: list
    values: list
    names: list
    format: str
    metadata: list = field(default_factory=list)
    paths: list = field(default_factory=list)
    axis_name: str = "x"

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


def _number(text, path, line_no):
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"{path}, line {line_no}: {text!r} is not a number") from None


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
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path} is not a text CSV file") from None
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise CLIError(f"{path} is empty")
    first_no, first = numbered[0]
    try:
        [float(c) for c in first]
        header = [f"spectrum{i}" for i in range(1, len(first))]
        axis_name = "x"
    except ValueError:
        header, axis_name = [c.strip() for c in first[1:]], first[0].strip() or "x"
        numbered = numbered[1:]
    if not header:
        raise CLIError(f"{path}: needs an axis column and at least one spectrum")
    if not numbered:
        raise CLIError(f"{path}: no numeric rows after the header")
    data = np.empty((len(numbered), len(header) + 1))
    for k, (line_no, row) in enumerate(numbered):
        if len(row) != len(header) + 1:
            raise CLIError(
                f"{path}, line {line_no}: {len(row)} columns, expected "
                f"{len(header) + 1}"
            )
        data[k] = [_number(c.strip(), path, line_no) for c in row]
    if not np.all(np.isfinite(data)):
        bad = numbered[int(np.where(~np.isfinite(data))[0][0])][0]
        raise CLIError(f"{path}, line {bad}: NaN or infinity")
    try:
        axis = check_x_axis(data[:, 0], data.shape[0], name="the axis column")
    except ValueError as exc:
        raise CLIError(f"{path}: {exc}") from None
    return Spectra(
        axes=[axis] * len(header),
        values=[data[:, j + 1].copy() for j in range(len(header))],
        names=header,
        format="csv",
        metadata=[{} for _ in header],
        paths=[path] * len(header),
        axis_name=axis_name,
    )


def _rruff_files(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in sorted(os.walk(p)):
                files += [
                    os.path.join(root, n) for n in sorted(names) if n.endswith(".txt")
                ]
        elif os.path.exists(p):
            files.append(p)
        else:
            raise CLIError(f"{p}: no such file or directory")
    return files


def read_spectra(paths):
    """Read spectra from one CSV file or from RRUFF files and directories.

    Parameters
    ----------
    paths : list of str
        One CSV file, or RRUFF text files and directories (searched
        recursively for ``*.txt``).

    Returns
    -------
    spectra : Spectra
        The spectra read, in file order.
    """
    from sktransfer.datasets import read_rruff

    if any(p.lower().endswith(".csv") for p in paths):
        if len(paths) != 1:
            raise CLIError("give one CSV file, or RRUFF files and directories")
        return read_csv_spectra(paths[0])
    files = _rruff_files(paths)
    axes, values, names, metadata, used = [], [], [], [], []
    for path in files:
        try:
            data = read_rruff(path)
        except (OSError, ValueError) as exc:
            raise CLIError(str(exc)) from None
        if data.format != "spectrum":
            continue
        axes.append(data.x)
        values.append(data.y)
        names.append(os.path.basename(path))
        metadata.append(dict(data.metadata))
        used.append(path)
    if not values:
        raise CLIError(f"no RRUFF spectra found in {', '.join(paths)}")
    return Spectra(axes, values, names, "rruff", metadata, used)


def on_grid(spectra, grid):
    """Interpolate every spectrum linearly onto ``grid``.

    Grid points outside a spectrum's measured range are set to 0; the number
    of spectra that needed this is returned so that callers can say so.

    Returns
    -------
    X : ndarray of shape (n_spectra, len(grid))
        The spectra on the grid.
    n_padded : int
        How many spectra did not cover the whole grid.
    """
    X = np.empty((len(spectra), len(grid)))
    n_padded = 0
    for i, (x, y) in enumerate(zip(spectra.axes, spectra.values)):
        order = np.argsort(x)
        x, y = x[order], y[order]
        X[i] = np.interp(grid, x, y, left=0.0, right=0.0)
        n_padded += bool(grid.min() < x[0] or grid.max() > x[-1])
    return X, n_padded


def overlap_grid(spectra, max_points=1024):
    """Return an evenly spaced grid over the range every spectrum covers."""
    lo = max(a.min() for a in spectra.axes)
    hi = min(a.max() for a in spectra.axes)
    if not hi > lo:
        raise CLIError("the spectra share no common range of the axis")
    n = int(min(max_points, np.median([len(a) for a in spectra.axes])))
    return np.linspace(lo, hi, max(n, 2))


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


def check_new_file(path, overwrite):
    """Refuse to replace an existing file inside an output directory."""
    if os.path.exists(path) and not overwrite:
        raise CLIError(f"{path} exists; pass --overwrite to replace it")


def write_csv_spectra(path, axis, Y, names, axis_name="x"):
    """Write spectra as a CSV table with the axis in the first column."""
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([axis_name, *names])
            for k, xv in enumerate(axis):
                writer.writerow([repr(float(xv)), *(repr(float(v)) for v in Y[:, k])])
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror}") from None


def write_rruff(path, x, y, metadata):
    """Write one spectrum as a RRUFF text file (headers, ``x, y`` rows)."""
    lines = [f"##{key}={value}" for key, value in metadata.items()]
    lines += [f"{float(a):.6g}, {float(b):.9g}" for a, b in zip(x, y)]
    lines.append("##END=")
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as exc:
        raise CLIError(f"cannot write {path}: {exc.strerror}") from None
