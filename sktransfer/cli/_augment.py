"""``sktransfer augment``: balance a labelled spectra set with WGAN-GP spectra."""

import csv
import os
import re
import shutil
from collections import Counter

import numpy as np

from sktransfer.cli import CLIError
from sktransfer.cli._common import (
    HelpFormatter,
    add_output,
    add_torch_options,
    check_device,
    estimator_error,
)
from sktransfer.cli._files import (
    check_new_file,
    check_output,
    on_grid,
    overlap_grid,
    read_spectra,
    write_csv_spectra,
    write_rruff,
)

DESCRIPTION = """\
Generate spectra for the under-represented classes with WGANGPOverSampler.

INPUT is one CSV file (first column the axis, one spectrum per further column)
with --labels naming each column's class, or RRUFF files and directories
whose class is a header field (--label-key, default NAMES, the mineral name).
Baselines should be removed first (`sktransfer baseline`).

Output, in the input's format: a CSV file holding the original and the
generated columns, with a labels file beside it (OUTPUT.labels.csv); or a
directory with copies of the original RRUFF files and one RRUFF file per
generated spectrum.

examples:
  sktransfer augment corrected/ -o augmented/ --strategy auto
  sktransfer augment spectra.csv --labels labels.csv -o augmented.csv
"""


def register(subparsers):
    """Add the ``augment`` verb."""
    parser = subparsers.add_parser(
        "augment",
        help="balance a labelled data set with WGAN-GP generated spectra",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT")
    add_output(parser, "output CSV file (CSV input) or directory (RRUFF input)")
    parser.add_argument("--labels", help="CSV of name,label rows (CSV input)")
    parser.add_argument(
        "--label-key", default="NAMES", help="RRUFF header field used as class"
    )
    parser.add_argument(
        "--strategy",
        default="auto",
        help="sampling_strategy: auto, minority, not minority, not majority, all",
    )
    parser.add_argument("--max-iter", type=int, help="generator iterations")
    add_torch_options(parser)
    parser.set_defaults(func=run)
    return parser


def _read_labels(path, names):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [(i + 1, r) for i, r in enumerate(csv.reader(f)) if r]
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror}") from None
    mapping = {}
    for line_no, row in rows:
        if len(row) < 2:
            raise CLIError(f"{path}, line {line_no}: expected name,label")
        mapping[row[0].strip()] = row[1].strip()
    missing = [n for n in names if n not in mapping]
    if missing:
        raise CLIError(
            f"{path} has no label for {len(missing)} spectra, e.g. {missing[0]!r}"
        )
    return [mapping[n] for n in names]


def _safe(text):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "class"


def run(args):
    """Augment the input spectra."""
    from sktransfer.over_sampling import WGANGPOverSampler

    check_device(args.device)
    spectra = read_spectra(args.inputs)
    if spectra.format == "csv":
        if not args.labels:
            raise CLIError("CSV input needs --labels FILE (rows of name,label)")
        y = _read_labels(args.labels, spectra.names)
    else:
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
    if grid is None:
        grid = overlap_grid(spectra)
        X, _ = on_grid(spectra, grid)
        print(
            f"spectra put on a common grid of {grid.size} points "
            f"({grid[0]:g}-{grid[-1]:g})"
        )
    else:
        X = spectra.matrix()
    y = np.asarray(y, dtype=object)
    params = {"random_state": args.random_state, "device": args.device}
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    sampler = WGANGPOverSampler(sampling_strategy=args.strategy, **params)
    print(f"training WGAN-GP on {len(y)} spectra of {len(set(y))} classes")
    try:
        X_res, y_res = sampler.fit_resample(X, y)
    except ValueError as exc:
        raise estimator_error(exc) from None
    X_new, y_new = X_res[len(y) :], y_res[len(y) :]
    counts = Counter(y_new)
    names_new = []
    seen = Counter()
    for label in y_new:
        seen[label] += 1
        names_new.append(f"generated_{_safe(label)}_{seen[label]}")
    if spectra.format == "csv":
        check_output(args.output, args.overwrite)
        labels_out = os.path.splitext(args.output)[0] + ".labels.csv"
        check_new_file(labels_out, args.overwrite)
        write_csv_spectra(
            args.output, grid, X_res, list(spectra.names) + names_new, spectra.axis_name
        )
        with open(labels_out, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for name, label in zip(list(spectra.names) + names_new, y_res):
                writer.writerow([name, label])
    else:
        check_output(args.output, args.overwrite, directory=True)
        for path, name in zip(spectra.paths, spectra.names):
            dest = os.path.join(args.output, name)
            check_new_file(dest, args.overwrite)
            shutil.copyfile(path, dest)
        for name, label, row in zip(names_new, y_new, X_new):
            meta = {
                args.label_key: label,
                "DESCRIPTION": "generated by WGANGPOverSampler (sktransfer)",
                "GENERATED": "true",
            }
            write_rruff(os.path.join(args.output, name + ".txt"), grid, row, meta)
    summary = ", ".join(f"{k}: +{v}" for k, v in sorted(counts.items(), key=str))
    print(
        f"generated {len(y_new)} spectra ({summary or 'none needed'}) -> {args.output}"
    )
    return 0
