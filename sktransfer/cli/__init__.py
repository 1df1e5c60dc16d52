"""The ``sktransfer`` command line.

Each verb lives in its own module and registers a sub-parser through a
``register(subparsers)`` function that sets ``func`` on its parser. Expected
user errors are raised as :class:`CLIError` and printed as one line, with a
non-zero exit status and no traceback; warnings are printed as one line too.
"""

import argparse
import importlib
import sys
import warnings

_VERBS = (
    "sktransfer.cli._demo",
    "sktransfer.cli._baseline",
    "sktransfer.cli._transfer",
    "sktransfer.cli._augment",
)


class CLIError(Exception):
    """An expected user error: printed as one line, exit status 2."""


def build_parser():
    """Build the argument parser with every verb registered.

    Returns
    -------
    parser : argparse.ArgumentParser
        The top-level parser.
    """
    from sktransfer import __version__

    parser = argparse.ArgumentParser(
        prog="sktransfer",
        description="Spectroscopy with scikit-learn: baselines, peak fitting, "
        "cross-modal transfer and generative augmentation.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sktransfer {__version__}"
    )
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in _VERBS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 for a user error, 130 when interrupted (Ctrl-C).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings(args.verb)
            return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"sktransfer {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # files are staged and renamed into place: none stays half-written
        print(f"sktransfer {args.verb}: interrupted", file=sys.stderr)
        return 130


def _one_line_warnings(verb):
    """Return a ``warnings.showwarning`` printing ``sktransfer VERB: warning: ...``.

    The source line of the code that warned means nothing to a user of the
    command line; the message is what they need, on one line.
    """

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"sktransfer {verb}: warning: {text}", file=file or sys.stderr)

    return show
