"""``sktransfer augment``: balance a labelled spectra set with WGAN-GP spectra."""

import argparse
import csv
import io
import json
import os
import re
import warnings
from collections import Counter
from dataclasses import replace

import numpy as np

from sktransfer.cli import CLIError
from sktransfer.cli._common import (
    HelpFormatter,
    add_output,
    add_torch_options,
    check_device,
    estimator_error,
    finite_float,
    non_negative_float,
    positive_int,
)
from sktransfer.cli._files import (
    Outputs,
    check_finite,
    overlap_grid,
    range_grid,
    range_limits,
    read_csv_rows,
    read_spectra,
    spectra_on_grid,
)

DESCRIPTION = """\
Generate spectra for the under-represented classes with WGANGPOverSampler.

INPUT is one CSV file (first column the axis, one spectrum per further column)
with --labels naming each column's class, or RRUFF files and directories
whose class is a header field (--label-key, default NAMES, the mineral name).
Baselines should be removed first (`sktransfer baseline`).

Output, in the input's format: a CSV file holding the original and the
generated columns, with a labels file beside it (-o augmented.csv writes
augmented.labels.csv); or a
directory with copies of the original RRUFF files and one RRUFF file per
generated spectrum. RRUFF files that sktransfer wrote (generated spectra,
GENERATED=true, or predictions) are no measurements: they are left out, and
counted in a note. Files on different axes are put on one grid: the range
all of them cover (the files that set its ends are named), or --range.

--strategy says how many spectra each class gets: a name (auto, minority,
not minority, not majority, all; see imbalanced-learn), a ratio for two
classes, or a JSON object of class: total count. WGANGPOverSampler needs two
spectra of a class to generate more; --min-spectra 2 keeps the classes that
have only one as they are (RRUFF folders often hold one file per species).

examples:
  sktransfer augment corrected/ -o augmented/ --strategy auto --min-spectra 2
  sktransfer augment corrected/ -o augmented/ --strategy '{"Quartz": 10}'
  sktransfer augment spectra.csv --labels labels.csv -o augmented.csv
"""

STRATEGY_NAMES = ("auto", "minority", "not minority", "not majority", "all")


def _strategy(text):
    """``--strategy``: a name, a ratio or a JSON object of class: count."""
    if text in STRATEGY_NAMES:
        return text
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a JSON object of class: count ({exc.msg})"
            ) from None
        bad = [k for k, v in value.items() if type(v) is not int or v < 0]
        if bad:
            raise argparse.ArgumentTypeError(
                f"the count of class {bad[0]!r} must be an integer >= 0, "
                f"got {value[bad[0]]!r}"
            )
        return value
    try:
        ratio = float(text)
    except ValueError:
        ratio = None
    if ratio is None or not np.isfinite(ratio):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not one of {', '.join(STRATEGY_NAMES)}, a ratio or a "
            "JSON object such as '{\"Quartz\": 10}'"
        )
    return ratio


_strategy.__name__ = "sampling strategy"


def _header_key(text):
    """Return a RRUFF header key as read_rruff gives it: stripped, upper case."""
    key = text.strip().upper()
    if not key or "=" in key:
        raise argparse.ArgumentTypeError(f"{text!r} is not a RRUFF header key")
    return key


_header_key.__name__ = "header key"


def register(subparsers):
    """Add the ``augment`` verb."""
    parser = subparsers.add_parser(
        "augment",
        help="balance a labelled data set with WGAN-GP generated spectra",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="spectra to over-sample: one CSV file, or RRUFF files and directories",
    )
    add_output(parser, "output CSV file (CSV input) or directory (RRUFF input)")
    parser.add_argument("--labels", help="CSV of name,label rows (CSV input)")
    parser.add_argument(
        "--label-key",
        type=_header_key,
        default="NAMES",
        help="RRUFF header field used as class (any case)",
    )
    parser.add_argument(
        "--strategy",
        type=_strategy,
        default="auto",
        help="sampling_strategy: auto, minority, not minority, not majority, all; "
        "a ratio (two classes); or JSON such as '{\"Quartz\": 10}' (total counts)",
    )
    parser.add_argument(
        "--min-spectra",
        type=positive_int,
        help="keep classes with fewer spectra as they are, without generating "
        "(they are listed); default: refuse a class too small to learn from",
    )
    parser.add_argument(
        "--range",
        nargs=2,
        type=finite_float,
        metavar=("LOW", "HIGH"),
        help="the axis range to put the spectra on, in 1024 points at most "
        "(points a file does not cover are set to 0); default: the range all "
        "files cover, or their own axis when they share one",
    )
    parser.add_argument(
        "--shared-variation",
        type=non_negative_float,
        help="scale of the within-class variation borrowed from the other "
        "classes (WGANGPOverSampler's shared_variation, default 1); 0 keeps "
        "each class to its own variation: try it when classes are species, "
        "whose differences are bands the other classes lack",
    )
    parser.add_argument("--max-iter", type=positive_int, help="generator iterations")
    add_torch_options(parser)
    parser.set_defaults(func=run)
    return parser


def _read_labels(path, names):
    def fits(rows):
        # two cells a row, and a label for every spectrum
        rows = [r for r in rows if r]
        named = {r[0].strip() for r in rows}
        return all(len(r) == 2 for r in rows) and set(names) <= named

    rows = [(i + 1, r) for i, r in enumerate(read_csv_rows(path, fits)) if r]
    if rows and [c.strip().casefold() for c in rows[0][1]] == ["name", "label"]:
        # a header, as augment writes one, unless it labels a spectrum
        # called "name" that no later row labels
        first = rows[0][1][0].strip()
        if first not in names or any(r[0].strip() == first for _, r in rows[1:]):
            rows = rows[1:]
    mapping = {}
    for line_no, row in rows:
        if len(row) != 2:
            # a third cell would be dropped: "s1,Quartz, low" is no label
            raise CLIError(
                f"{path}, line {line_no}: expected name,label, got {len(row)} "
                "cell(s) (quote a label that holds a comma)"
            )
        name, label = row[0].strip(), row[1].strip()
        if mapping.get(name, label) != label:
            raise CLIError(f"{path}, line {line_no}: a second label for {name!r}")
        mapping[name] = label
    missing = [n for n in names if n not in mapping]
    if missing:
        raise CLIError(
            f"{path} has no label for {len(missing)} spectra, e.g. {missing[0]!r}"
        )
    wanted = set(names)
    unused = [n for n in mapping if n not in wanted]
    if unused:
        print(
            f"note: {len(unused)} row(s) of {path} name no input spectrum "
            f"({_listing(unused)})"
        )
    return [mapping[n] for n in names]


def _safe(text):
    # Short enough that the whole file name stays within common limits.
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_")[:100] or "class"


def _generated_names(labels, taken, suffix=""):
    """``generated_<label>_<n>`` names, unique among themselves and ``taken``.

    Labels that differ but sanitise to the same text ("Quartz a", "Quartz/a")
    share one counter, so their names never clash; names already taken by
    inputs (compared without case) are skipped.
    """
    used = {t.casefold() for t in taken}
    counters = Counter()
    names = []
    for label in labels:
        stem = f"generated_{_safe(label)}"
        while True:
            counters[stem] += 1
            name = f"{stem}_{counters[stem]}"
            if (name + suffix).casefold() not in used:
                break
        used.add((name + suffix).casefold())
        names.append(name)
    return names


def _copy(path):
    def write(f):
        with open(path, "rb") as src:
            while chunk := src.read(1 << 20):
                f.write(chunk)

    return write


def run(args):
    """Augment the input spectra."""
    from sktransfer.over_sampling import WGANGPOverSampler

    check_device(args.device)
    spectra = _measured(read_spectra(args.inputs))
    counts = Counter(m for m in spectra.modalities if m is not None)
    if len(counts) > 1:
        # one generator for IR and Raman spectra cut to their common range
        # would mix what it learns of both
        shown = ", ".join(f"{n} {m}" for m, n in sorted(counts.items()))
        raise CLIError(
            f"the spectra are of {len(counts)} modalities ({shown}); augment "
            "learns from one: give the files of one modality"
        )
    if spectra.format == "csv":
        if not args.labels:
            raise CLIError("CSV input needs --labels FILE (rows of name,label)")
        if args.range is not None:
            # one table, one axis: its columns would be interpolated too
            raise CLIError(
                "--range is for RRUFF files on different axes; the spectra of a "
                "CSV file share its axis (cut the table to change its range)"
            )
        y = _read_labels(args.labels, spectra.names)
    else:
        if args.labels:
            raise CLIError(
                "--labels is for CSV input; RRUFF files take their class from "
                f"a header field (--label-key, now {args.label_key})"
            )
        missing = [
            n
            for n, m in zip(spectra.names, spectra.metadata)
            if args.label_key not in m
        ]
        if missing:
            raise CLIError(
                f"{missing[0]} has no ##{args.label_key}= header to use as label"
            )
        y = [m[args.label_key] for m in spectra.metadata]
    grid = spectra.common_axis()
    if args.range is not None:
        grid = range_grid(spectra, *args.range)
        X = spectra_on_grid(spectra, grid, "--range")
        print(f"spectra put on a grid of {grid.size} points ({grid[0]:g}-{grid[-1]:g})")
    elif grid is None:
        grid = overlap_grid(spectra)
        X = spectra_on_grid(spectra, grid)
        print(
            f"spectra put on a common grid of {grid.size} points "
            f"({grid[0]:g}-{grid[-1]:g}), the range all of them cover: "
            f"{range_limits(spectra)} (--range LOW HIGH takes another, "
            "points a file does not cover set to 0)"
        )
    else:
        X = spectra.matrix()
    y = np.asarray(y, dtype=object)
    # Check the inputs' copies before training: clashes and existing files.
    _plan(args, spectra, grid, X, y, X[:0], y[:0]).check()
    params = {"random_state": args.random_state, "device": args.device}
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    if args.shared_variation is not None:
        params["shared_variation"] = args.shared_variation
    strategy = _class_targets(args.strategy, y, args.min_spectra)
    if strategy:
        sampler = WGANGPOverSampler(sampling_strategy=strategy, **params)
        print(f"training WGAN-GP on {len(y)} spectra of {len(set(y))} classes")
        try:
            with warnings.catch_warnings():
                # labels here are class names, never a regression target
                warnings.filterwarnings("ignore", "The number of unique classes")
                X_res, y_res = sampler.fit_resample(X, y)
        except ValueError as exc:
            raise estimator_error(exc) from None
        X_new, y_new = X_res[len(y) :], y_res[len(y) :]
    else:
        # a generator trained for nothing would only cost time
        print("no class to augment: the inputs are copied, no WGAN-GP trained")
        X_new, y_new = X[:0], y[:0]
    check_finite(X_new, "the generated spectra")
    _note_dips(X, y, X_new, y_new, args.shared_variation)
    _plan(args, spectra, grid, X, y, X_new, y_new).write()
    counts = Counter(y_new)
    summary = ", ".join(f"{k}: +{v}" for k, v in sorted(counts.items(), key=str))
    print(
        f"generated {len(y_new)} spectra ({summary or 'none needed'}) -> {args.output}"
    )
    return 0


def _note_dips(X, y, X_new, y_new, shared_variation):
    """Note generated spectra that dip far below their class's measured ones.

    Variation borrowed from other classes can put their bands into a class
    upside down; below the lowest measured value by a fifth of the class's
    range is counted.
    """
    deep = Counter()
    for label in set(y_new.tolist()):
        measured = X[y == label]
        low, span = measured.min(), np.ptp(measured)
        rows = X_new[y_new == label]
        deep[label] = int((rows.min(axis=1) < low - 0.2 * span).sum())
    n = sum(deep.values())
    if n:
        classes = _listing(sorted((k for k, v in deep.items() if v), key=str))
        advice = (
            " (--shared-variation 0 keeps each class to its own variation)"
            if shared_variation is None or shared_variation > 0
            else ""
        )
        print(
            f"note: {n} generated spectra ({classes}) dip below their class's "
            f"lowest measured value by over a fifth of its range{advice}"
        )


def _measured(spectra):
    """Return the spectra less those sktransfer wrote (no measurements)."""
    from sktransfer.datasets._records import written_by_sktransfer

    keep = [written_by_sktransfer(m) is None for m in spectra.metadata]
    if all(keep):
        return spectra
    left_out = [n for n, k in zip(spectra.names, keep) if not k]
    if not any(keep):
        raise CLIError(
            f"every input file was written by sktransfer ({_listing(left_out)}); "
            "generated or predicted spectra and baselines are no measurements to "
            "learn from"
        )
    print(
        f"left out {len(left_out)} file(s) that sktransfer wrote, generated or "
        f"predicted spectra or baselines, not measurements ({_listing(left_out)})"
    )

    def kept(values):
        return [v for v, k in zip(values, keep) if k]

    return replace(
        spectra,
        axes=kept(spectra.axes),
        values=kept(spectra.values),
        names=kept(spectra.names),
        metadata=kept(spectra.metadata),
        paths=kept(spectra.paths),
        modalities=kept(spectra.modalities),
        headers=kept(spectra.headers),
    )


def _class_targets(strategy, y, min_spectra):
    """Resolve ``strategy`` to the total count of every class to augment.

    Classes with fewer than ``min_spectra`` spectra are left out (and
    listed); without ``min_spectra``, a class of one spectrum that the
    strategy would augment is an error that says how to proceed.
    """
    from imblearn.utils import check_sampling_strategy

    try:
        n_new = check_sampling_strategy(strategy, y, "over-sampling")
    except ValueError as exc:
        raise estimator_error(exc, "--strategy") from None
    counts = Counter(y.tolist())
    wanted = {c: n for c, n in n_new.items() if n > 0}
    small = sorted((c for c in wanted if counts[c] < (min_spectra or 2)), key=str)
    if small and min_spectra is None:
        raise CLIError(
            f"{len(small)} class(es) to augment have a single spectrum "
            f"({_listing(small)}); WGANGPOverSampler needs at least 2. Keep "
            "them as they are with --min-spectra 2, or name the classes to "
            "augment with --strategy '{\"class\": total count, ...}'"
        )
    if small:
        print(
            f"not augmented, fewer than {min_spectra} spectra: {len(small)} "
            f"class(es) ({_listing(small)})"
        )
    return {c: counts[c] + int(n) for c, n in wanted.items() if c not in small}


def _listing(names, at_most=5):
    shown = ", ".join(map(str, names[:at_most]))
    return shown + (
        f", ... {len(names) - at_most} more" if len(names) > at_most else ""
    )


def _plan(args, spectra, grid, X, y, X_new, y_new):
    """Plan the output files: the inputs (copies or columns) and the new spectra."""
    if spectra.format == "csv":
        names = list(spectra.names)
        names += _generated_names(y_new, names)
        labels_out = os.path.splitext(args.output)[0] + ".labels.csv"
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["name", "label"])  # a header, also for pandas
        writer.writerows(zip(names, np.concatenate([y, y_new])))
        outputs = Outputs(args.overwrite)
        outputs.add_csv(
            args.output,
            grid,
            np.vstack([X, X_new]),
            names,
            spectra.axis_name,
            spectra.paths[0],
        )
        outputs.add_text(labels_out, buffer.getvalue(), "the labels", "labels")
        outputs.add_inputs(spectra.paths[:1], "an input")
        outputs.add_inputs([args.labels], "the --labels file", "labels")
        return outputs
    outputs = Outputs(args.overwrite, directory=args.output)
    for path, name in zip(spectra.paths, spectra.names):
        outputs.add(os.path.join(args.output, name), _copy(path), path)
    names = _generated_names(y_new, spectra.names, ".txt")
    for name, label, row in zip(names, y_new, X_new):
        # the label last but one: --label-key DESCRIPTION keeps its label,
        # and GENERATED=true always marks the file as no measurement
        meta = {
            "DESCRIPTION": "generated by WGANGPOverSampler (sktransfer)",
            args.label_key: label,
            "GENERATED": "true",
        }
        path = os.path.join(args.output, name + ".txt")
        outputs.add_rruff(path, grid, row, meta, "a generated spectrum")
    return outputs
