"""``sktransfer demo``: the sktransfer chain end to end.

The demo is a list of stages (:data:`STAGES`). A stage is a function
``stage(ctx) -> list[Row]`` that reads what earlier stages left in the shared
context ``ctx`` (a :class:`~sklearn.utils.Bunch`), may add to it, and
returns rows for the results table. Each row shows a measured value beside a
reference (the truth, a simple baseline method, a competing method or
chance), so every number can be judged at a glance. New stages are added by
writing one function and inserting it in :data:`STAGES`.

On built-in synthetic data (:func:`~sktransfer.datasets.make_spectra`) the
truth is known and every stage is scored against it; with ``--data DIR`` the
same chain runs on RRUFF files and stages that need the truth say so.
"""

import os
import time
import warnings

from sktransfer.cli._demo_learning import stage_augmentation, stage_transfer
from sktransfer.cli._demo_report import Row, format_table, write_report
from sktransfer.cli._demo_stages import (
    stage_baseline,
    stage_data,
    stage_metrics,
    stage_peaks,
    stage_preprocessing,
)

__all__ = ["STAGES", "Row", "format_table", "register", "run", "run_stages"]

MIN_SAMPLES = 50
#: Smallest number of paired RRUFF samples the demo trains on.
MIN_PAIRED = 6
#: Smallest number of Raman spectra of a species to enter the classification.
MIN_PER_SPECIES = 5
#: (synthetic materials, VAE epochs, GAN generator updates) of a full and a
#: ``--quick`` run.
FULL = (200, 80, 400)
QUICK = (80, 4, 8)


def register(subparsers):
    """Add the ``demo`` verb to ``subparsers``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``sktransfer`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``demo`` parser.
    """
    parser = subparsers.add_parser(
        "demo",
        help="run the whole sktransfer chain on built-in data (or RRUFF files)",
        description="Run baseline correction, peak fitting, IR -> Raman transfer "
        "and WGAN-GP augmentation on built-in synthetic spectra (or on RRUFF "
        "files with --data), print a table of results, each beside a reference "
        "value, and write figures and a Markdown report to an output folder.",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=None,
        metavar="N",
        help=f"number of synthetic materials (default {FULL[0]}, {QUICK[0]} with "
        f"--quick; at least {MIN_SAMPLES})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast run with little training (for a first look and for tests)",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="directory of RRUFF files to use instead of synthetic spectra",
    )
    parser.add_argument(
        "-o",
        "--output",
        default="sktransfer-demo",
        metavar="DIR",
        help="folder for the figures and report.md (default ./sktransfer-demo)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace files in an output folder that is not empty",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="torch device of the neural estimators: cpu, cuda, cuda:N (default cpu)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="CPU threads of torch and of the BLAS (default 1: the demo's "
        "models are small, and more threads slow them down on a busy machine)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the data and of every estimator (default 0)",
    )
    parser.set_defaults(func=run)
    return parser


#: The demo's stages, in order: (name, function).
STAGES = [
    ("data", stage_data),
    ("preprocessing", stage_preprocessing),
    ("metrics", stage_metrics),
    ("baseline", stage_baseline),
    ("peaks", stage_peaks),
    ("transfer", stage_transfer),
    ("augmentation", stage_augmentation),
]


def run_stages(ctx, stages=None, progress=False):
    """Run the stages in order and collect their rows.

    A stage that raises does not stop the others: its error becomes a row
    and is listed in ``ctx.failed``; stages that need what it would have
    left in ``ctx`` then fail too.

    Parameters
    ----------
    ctx : Bunch
        Shared context with at least ``n_samples`` and ``random_state``.
    stages : list of (str, callable) or None, default=None
        The stages; ``None`` runs :data:`STAGES`.
    progress : bool, default=False
        Print a line when a stage starts and ends, with the elapsed time.

    Returns
    -------
    rows : list of Row
        The results table, in stage order.
    """
    rows = []
    ctx.setdefault("failed", [])
    ctx.setdefault("timings", {})
    ctx.setdefault("quick", False)
    ctx.setdefault("device", "cpu")
    stages = STAGES if stages is None else stages
    begin = time.perf_counter()
    for k, (name, stage) in enumerate(stages, 1):
        if progress:
            print(f"[{k}/{len(stages)}] {name} ...", flush=True)
        start = time.perf_counter()
        try:
            rows.extend(stage(ctx))
            status = "done"
        except Exception as exc:  # noqa: BLE001 - reported in the table
            ctx.failed.append(name)
            rows.append(Row(name, "FAILED", f"{type(exc).__name__}: {exc}"))
            status = "FAILED"
        ctx.timings[name] = time.perf_counter() - start
        if progress:
            print(
                f"[{k}/{len(stages)}] {name} {status} in {ctx.timings[name]:.1f} s "
                f"(elapsed {time.perf_counter() - begin:.1f} s)",
                flush=True,
            )
    return rows


def _load_rruff(directory):
    """Paired IR/Raman samples and species-labelled Raman spectra of a folder."""
    import numpy as np
    from sklearn.utils import Bunch

    from sktransfer.cli import CLIError
    from sktransfer.datasets import load_rruff

    options = {"outside": "zero", "normalize": "max", "on_error": "skip"}
    try:
        paired = load_rruff(directory, pair=True, **options)
    except ValueError as exc:
        raise CLIError(f"{directory}: {str(exc).splitlines()[0]}") from None
    if len(paired.rruff_ids) < MIN_PAIRED:
        raise CLIError(
            f"{directory}: {len(paired.rruff_ids)} RRUFF samples with both IR and "
            f"Raman files; the demo needs at least {MIN_PAIRED}"
        )
    rruff = Bunch(paired=paired, labelled=None, labelled_note="")
    try:
        spectra = load_rruff(
            directory, pair=False, modality="raman", kind="Processed", **options
        )
        names, y, counts = np.unique(
            spectra.species.astype(str), return_inverse=True, return_counts=True
        )
    except ValueError as exc:
        rruff.labelled_note = f"no labelled Raman spectra: {str(exc).splitlines()[0]}"
        return rruff
    groups = np.asarray(spectra.rruff_ids).astype(str)
    n_ids = np.array([len(set(groups[y == k])) for k in range(len(names))])
    keep = (counts >= MIN_PER_SPECIES) & (n_ids >= 2)
    if keep.sum() < 2:
        rruff.labelled_note = (
            f"fewer than 2 species with {MIN_PER_SPECIES}+ Raman spectra "
            "from 2+ RRUFF samples"
        )
        return rruff
    mask = keep[y]
    rruff.labelled = Bunch(
        X=spectra.raman[mask],
        y=np.searchsorted(np.flatnonzero(keep), y[mask]),
        groups=groups[mask],
        axis=spectra.raman_axis,
        names=names[keep],
        note=f"species with {MIN_PER_SPECIES}+ Raman spectra, 2+ samples",
    )
    return rruff


def run(args):
    """Run the demo, print the results table and write the report.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``demo`` verb.

    Returns
    -------
    status : int
        0 if every stage ran, 1 otherwise.
    """
    import torch
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils import Bunch
    from threadpoolctl import threadpool_limits

    from sktransfer import __version__
    from sktransfer.cli import CLIError
    from sktransfer.cli._common import check_device
    from sktransfer.cli._files import check_output

    n_samples, epochs, gan_iter = QUICK if args.quick else FULL
    if args.n_samples is not None:
        n_samples = args.n_samples
    if n_samples < MIN_SAMPLES:
        raise CLIError(f"--n-samples must be at least {MIN_SAMPLES}, got {n_samples}.")
    if args.threads < 1:
        raise CLIError(f"--threads must be at least 1, got {args.threads}.")
    check_device(args.device)
    if args.data is not None and not os.path.isdir(args.data):
        what = "not a directory" if os.path.exists(args.data) else "no such directory"
        raise CLIError(f"{args.data}: {what}")
    check_output(args.output, args.overwrite, directory=True)
    if args.data is not None:
        print(f"Reading RRUFF files in {args.data} ...", flush=True)
    ctx = Bunch(
        n_samples=n_samples,
        random_state=args.random_state,
        device=args.device,
        quick=args.quick,
        epochs=epochs,
        gan_iter=gan_iter,
        data_dir=args.data,
        rruff=None if args.data is None else _load_rruff(args.data),
    )
    source = (
        f"RRUFF files in {args.data}"
        if args.data
        else f"{n_samples} synthetic materials"
    )
    print(
        f"sktransfer {__version__} demo: {source}, random state "
        f"{args.random_state}, device {args.device}"
        + (", quick run" if args.quick else "")
        + "\n",
        flush=True,
    )
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        with threadpool_limits(args.threads), warnings.catch_warnings():
            # Convergence and parameter notes of the baseline and peak solvers
            # on noisy spectra would bury the progress lines; the table scores
            # them.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", module=r"pybaselines\.")
            rows = run_stages(ctx, progress=True)
    finally:
        torch.set_num_threads(threads)
    print("\n" + format_table(rows))
    total = time.perf_counter() - start
    times = ", ".join(f"{k} {v:.1f} s" for k, v in ctx.timings.items())
    print(f"\nTotal {total:.1f} s ({times}).")
    figures, notes = _write_outputs(ctx, args, rows, source, total, times)
    for note in notes:
        print(f"Note: {note}.")
    print(f"Report: {os.path.join(args.output, 'report.md')}", flush=True)
    if ctx.failed:
        print(f"Failed stages: {', '.join(ctx.failed)}.")
        return 1
    return 0


def _write_outputs(ctx, args, rows, source, total, times):
    from sktransfer import __version__
    from sktransfer.cli import CLIError
    from sktransfer.cli._demo_figures import write_figures

    try:
        figures, notes = write_figures(ctx, args.output)
        write_report(
            os.path.join(args.output, "report.md"),
            title=f"sktransfer {__version__} demo",
            settings=[
                f"data: {source}",
                f"random state {args.random_state}, device {args.device}"
                + (", quick run" if args.quick else ""),
                f"total {total:.1f} s ({times})",
            ],
            rows=rows,
            figures=figures,
            notes=notes,
        )
    except OSError as exc:
        raise CLIError(f"cannot write to {args.output}: {exc.strerror}") from None
    return figures, notes
