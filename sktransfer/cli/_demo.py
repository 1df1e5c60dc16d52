"""``sktransfer demo``: argument parsing of the demo verb.

The demo itself is the private package :mod:`sktransfer._demo`: stages that
return result records, and the table, figures and report rendered from them.
"""

import os
import time

from sktransfer._demo._run import FULL, MIN_SAMPLES, QUICK
from sktransfer.cli._common import non_negative_int

__all__ = ["register", "run"]


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
        f"--quick; at least {MIN_SAMPLES}; not with --data)",
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
        type=non_negative_int,
        default=0,
        metavar="SEED",
        help="seed of the data and of every estimator (default 0)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run the demo, print the results table and write the report.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``demo`` verb.

    Returns
    -------
    status : int
        0 when the demo ran.
    """
    from sktransfer._demo import DemoSettings
    from sktransfer.cli import CLIError
    from sktransfer.cli._common import check_device
    from sktransfer.cli._files import check_output

    settings = DemoSettings(
        n_samples=args.n_samples,
        quick=args.quick,
        random_state=args.random_state,
        device=args.device,
    )
    if args.n_samples is not None and args.data is not None:
        raise CLIError(
            "--n-samples sets the number of synthetic materials; with --data "
            "the RRUFF files are the samples: leave one of them out"
        )
    n_samples = settings.sizes[0]
    if n_samples < MIN_SAMPLES:
        raise CLIError(f"--n-samples must be at least {MIN_SAMPLES}, got {n_samples}.")
    if args.threads < 1:
        raise CLIError(f"--threads must be at least 1, got {args.threads}.")
    check_device(args.device)
    if args.data is not None and not os.path.isdir(args.data):
        what = "not a directory" if os.path.exists(args.data) else "no such directory"
        raise CLIError(f"{args.data}: {what}")
    created = not os.path.exists(args.output)
    check_output(args.output, args.overwrite, directory=True)
    try:
        return _run(args, settings, n_samples)
    except BaseException:
        # a folder this run made and left empty goes with it
        if created and os.path.isdir(args.output) and not os.listdir(args.output):
            os.rmdir(args.output)
        raise


def _run(args, settings, n_samples):
    """Run the demo into the checked output folder (see :func:`run`)."""
    import torch
    from threadpoolctl import threadpool_limits

    from sktransfer import __version__
    from sktransfer._demo import DemoSettings, format_table, run_demo, write_outputs
    from sktransfer._demo._data import read_rruff_folder
    from sktransfer.cli import CLIError

    reading = None
    if args.data is not None:
        print(f"Reading RRUFF files in {args.data} ...", flush=True)
        start = time.perf_counter()
        try:
            rruff = read_rruff_folder(args.data)
        except ValueError as exc:
            raise CLIError(str(exc).splitlines()[0]) from None
        reading = time.perf_counter() - start
        settings = DemoSettings(
            quick=args.quick,
            random_state=args.random_state,
            device=args.device,
            rruff=rruff,
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
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        with threadpool_limits(args.threads):
            demo = run_demo(settings, progress=lambda line: print(line, flush=True))
    finally:
        torch.set_num_threads(threads)
    if reading is not None:
        # the files were read before the stages: their time counts too
        demo.timings = {"reading files": reading, **demo.timings}
        demo.total += reading
    print("\n" + format_table(demo.rows()))
    times = ", ".join(f"{k} {v:.1f} s" for k, v in demo.timings.items())
    print(f"\nTotal {demo.total:.1f} s ({times}).")
    try:
        _, notes = write_outputs(demo, args.output)
    except OSError as exc:
        raise CLIError(f"cannot write to {args.output}: {exc.strerror}") from None
    for note in notes:
        print(f"Note: {note}.")
    print(f"Report: {os.path.join(args.output, 'report.md')}", flush=True)
    return 0
