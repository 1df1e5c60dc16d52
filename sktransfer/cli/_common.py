"""Arguments and helpers shared by the command-line verbs."""

import argparse
import math

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
        "--random-state",
        type=non_negative_int,
        default=0,
        help="seed for reproducible results",
    )


def _number_type(kind, low, strict, what):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    parse.__name__ = what
    return parse


positive_int = _number_type(int, 0, True, "a positive integer")
non_negative_int = _number_type(int, 0, False, "an integer >= 0")
positive_float = _number_type(float, 0.0, True, "a positive number")
non_negative_float = _number_type(float, 0.0, False, "a finite number >= 0")
finite_float = _number_type(float, -math.inf, False, "a finite number")


def parse_params(items):
    """Turn ``key=value`` strings into a dict of numbers, booleans or strings."""
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise CLIError(f"--param expects key=value, got {item!r}")
        if key in params:
            raise CLIError(f"--param {key} is given twice")
        params[key] = _literal(value.strip())
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


def estimator_error(exc, where=None):
    """Turn an estimator's error about bad input into a one-line CLI error."""
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else type(exc).__name__
    return CLIError(f"{where}: {message}" if where else message)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keep the line breaks of verb descriptions."""
