"""``sktransfer baseline``: remove baselines from spectra files."""

import os
import re
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sktransfer._validation import check_x_axis
from sktransfer.cli import CLIError
from sktransfer.cli._common import (
    HelpFormatter,
    add_output,
    estimator_error,
    parse_params,
    positive_float,
)
from sktransfer.cli._files import Outputs, check_finite, first_break, read_spectra

DESCRIPTION = """\
Remove the baseline of every spectrum with a pybaselines method.

INPUT is one CSV file (first column the axis, one spectrum per further column)
or RRUFF text files and directories. The output has the input's format: a CSV
file for CSV input, a directory of RRUFF files (same names, headers kept) for
RRUFF input.

examples:
  sktransfer baseline raw/ -o corrected/ --method airpls --lam 1e5
  sktransfer baseline spectra.csv -o corrected.csv --method snip \\
      --param max_half_window=40
"""


def register(subparsers):
    """Add the ``baseline`` verb."""
    parser = subparsers.add_parser(
        "baseline",
        help="remove baselines from spectra files (airPLS, arPLS, SNIP, ...)",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="spectra to correct: one CSV file, or RRUFF files and directories",
    )
    add_output(parser, "output CSV file (CSV input) or directory (RRUFF input)")
    parser.add_argument(
        "--method", default="airpls", help="pybaselines method name (default airpls)"
    )
    parser.add_argument(
        "--lam", type=positive_float, help="smoothness lam of Whittaker methods"
    )
    parser.add_argument(
        "--param",
        action="append",
        metavar="KEY=VALUE",
        help="further keyword of the method (repeatable)",
    )
    parser.add_argument(
        "--keep-baseline",
        action="store_true",
        help="write the baselines instead of the corrected spectra",
    )
    parser.set_defaults(func=run)
    return parser


def _filetype(meta, name, modality, what):
    """Return the ``FILETYPE`` of an output file, None to keep the input's.

    A corrected RAW spectrum is a Processed one (``load_rruff``'s ``kind``
    then says so); a baseline is no measurement, and ``load_rruff`` leaves
    it out.
    """
    from sktransfer.datasets._records import _kind

    filetype = meta.get("FILETYPE", "").strip()
    if what == "baseline":
        return f"baseline of {filetype or name} (sktransfer)"
    if _kind(meta, name, modality, "spectrum") != "RAW":
        return None
    if "raw" in filetype.lower().split():
        return " ".join(
            "Processed" if w.lower() == "raw" else w for w in filetype.split()
        )
    # RAW by its file name only
    return f"{filetype} Processed".strip()


def _plan(args, spectra, results, what, kwargs):
    # corrected spectra may replace their input (a correction in place);
    # baselines are no measurement, and never replace one
    kind = "baselines" if what == "baseline" else "spectra"
    if spectra.format == "csv":
        outputs = Outputs(args.overwrite)
        outputs.add_csv(
            args.output,
            spectra.axes[0],
            np.vstack(results),
            spectra.names,
            spectra.axis_name,
            spectra.paths[0],
            kind,
        )
    else:
        outputs = Outputs(args.overwrite, directory=args.output)
        _plan_rruff(args, spectra, results, what, kwargs, outputs, kind)
    outputs.add_inputs(spectra.paths, "an input")
    return outputs


def _plan_rruff(args, spectra, results, what, kwargs, outputs, kind):
    setting = f"{args.method}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
    for i, name in enumerate(spectra.names):
        # the input's header as it is (fields given twice, comment lines),
        # its FILETYPE changed where it changes, then what was done
        header = spectra.headers[i]
        meta = {"BASELINE": f"{what} with {setting} (sktransfer)"}
        filetype = _filetype(spectra.metadata[i], name, spectra.modalities[i], what)
        if filetype is not None:
            header = [_with_filetype(line, filetype) for line in header]
            if header == spectra.headers[i]:  # none to change
                meta["FILETYPE"] = filetype
        path = os.path.join(args.output, name)
        outputs.add_rruff(
            path, spectra.axes[i], results[i], meta, spectra.paths[i], kind, header
        )


def _with_filetype(line, filetype):
    """Return a header line, a ``FILETYPE`` line with ``filetype`` instead."""
    from sktransfer.datasets._rruff import _line_field
    from sktransfer.datasets._write import _header_value

    field = _line_field(line)
    if field is None or field[0] != "FILETYPE":
        return line
    return f"##FILETYPE={_header_value(filetype)}"


# the corrector's warning of spectra that stopped at max_iter
_STOPPED = re.compile(
    r"(\d+) of \d+ spectra reached max_iter=(\S+) before the tolerance tol=(\S+);"
)


class _Notes:
    """The warnings of the corrections of all groups of files, said once.

    Files on axes of their own are corrected one group at a time: each
    group's warnings would come once per group (a warning of one spectrum
    for each of 70 files). Spectra that stopped at ``max_iter`` are counted
    over all groups, naming some of their files and the command's options;
    any other warning is said once.
    """

    def __init__(self, method, n_spectra):
        self.method, self.n_spectra = method, n_spectra
        self.stopped, self.files, self.limits = 0, [], None
        self.others = {}

    def add(self, caught, paths):
        for w in caught:
            found = None
            if issubclass(w.category, ConvergenceWarning):
                found = _STOPPED.search(str(w.message))
            if found is None:
                self.others.setdefault((w.category, str(w.message)), None)
                continue
            self.stopped += int(found[1])
            if int(found[1]) == len(paths):  # every spectrum of the group
                self.files.extend(p for p in paths if p not in self.files)
            self.limits = found[2], found[3]

    def show(self):
        for category, message in self.others:
            warnings.warn(message, category, stacklevel=3)
        if self.stopped:
            max_iter, tol = self.limits
            names = ", ".join(os.path.basename(p) for p in self.files[:2])
            more = ", ..." if len(self.files) > 2 else ""
            # files are named where all their spectra stopped: in a group
            # of several, which did is not known
            where = f" (files such as {names}{more})" if names else ""
            warnings.warn(
                f"{self.method}: {self.stopped} of {self.n_spectra} spectra "
                f"reached max_iter={max_iter} before the tolerance tol={tol}"
                f"{where}; raise the limit with --param max_iter=... or loosen "
                "--param tol=....",
                ConvergenceWarning,
                stacklevel=3,
            )


def run(args):
    """Correct the baselines of the input files."""
    from sktransfer.baseline import PybaselinesCorrector

    spectra = read_spectra(args.inputs)
    for path, axis in zip(spectra.paths, spectra.axes):
        try:
            check_x_axis(axis, axis.size, "its axis")
        except ValueError as exc:
            message = str(exc).rstrip(".")
            if (broken := first_break(axis)) is not None:
                i, detail = broken
                message += f" (point {i + 1}: {detail})"
            raise CLIError(f"{path}: {message}") from None
    kwargs = parse_params(args.param)
    if args.lam is not None:
        if "lam" in kwargs:
            raise CLIError("lam given twice: by --lam and by --param lam=...")
        kwargs["lam"] = args.lam
    try:  # the method and its settings, before any file is blamed for them
        PybaselinesCorrector(args.method, method_kwargs=kwargs or None)._check_params()
    except ValueError as exc:
        raise estimator_error(exc) from None
    what = "baseline" if args.keep_baseline else "corrected"
    # Check the output names before the work; refuse clashes up front.
    zeros = [np.zeros_like(v) for v in spectra.values]
    _plan(args, spectra, zeros, what, kwargs).check()
    # Spectra on one axis are corrected together; files with other axes apart.
    groups = {}
    for i, axis in enumerate(spectra.axes):
        groups.setdefault((axis.shape[0], axis.tobytes()), []).append(i)
    results = [None] * len(spectra)
    notes = _Notes(args.method, len(spectra))
    for idx in groups.values():
        X = np.vstack([spectra.values[i] for i in idx])
        est = PybaselinesCorrector(
            args.method, method_kwargs=kwargs or None, x_axis=spectra.axes[idx[0]]
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                Y = est.fit_transform(X)
                if args.keep_baseline:
                    Y = X - Y
            except (ValueError, TypeError) as exc:
                raise estimator_error(exc, spectra.paths[idx[0]]) from None
        notes.add(caught, [spectra.paths[i] for i in idx])
        for k, i in enumerate(idx):
            results[i] = Y[k]
    notes.show()
    check_finite(results, f"the {what} spectra")
    _plan(args, spectra, results, what, kwargs).write()
    print(f"{what} {len(spectra)} spectra with {args.method} -> {args.output}")
    return 0
