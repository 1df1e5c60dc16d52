"""Arguments and helpers shared by the command-line verbs."""

import argparse

from sktransfer.cli import CLIError


def add_output(parser, what):
    """Add ``-o/--output`` and ``--overwrite``."""
    parser.add_argument("-o", "--output", required=True, help=what)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the output if it exists (default: refuse)",
    )


def add_torch_options(parser):
    """Add ``--device`` and ``--random-state``."""
    parser.add_argument(
        "--device", default="cpu", help="torch device: cpu, cuda, cuda:N (default cpu)"
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed for reproducible results"
    )


def parse_params(items):
    """Turn ``key=value`` strings into a dict of numbers, booleans or strings."""
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"--param expects key=value, got {item!r}")
        params[key.strip()] = _literal(value.strip())
    return params


def _literal(text):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def check_device(device):
    """Raise a one-line error for an absent torch device."""
    from sktransfer.utils._torch import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def estimator_error(exc):
    """Turn an estimator's ValueError about bad input into a CLI error."""
    return CLIError(str(exc).strip().splitlines()[0])


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the line breaks of verb descriptions."""
