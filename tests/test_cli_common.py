"""Arguments and helpers shared by the command-line verbs."""

import argparse

import pytest

from sktransfer.cli import CLIError, main
from sktransfer.cli._common import (
    check_device,
    estimator_error,
    non_negative_float,
    non_negative_int,
    parse_params,
    positive_float,
    positive_int,
)


@pytest.mark.parametrize(
    "parse, good, bad",
    [
        (positive_int, {"1": 1, "12": 12}, ["0", "-1", "1.5", "x", ""]),
        (non_negative_int, {"0": 0, "3": 3}, ["-1", "2.0", "inf"]),
        (positive_float, {"1e-9": 1e-9, "2": 2.0}, ["0", "-0.0", "-1", "nan", "inf"]),
        (non_negative_float, {"0": 0.0, "0.5": 0.5}, ["-1e-9", "nan", "-inf"]),
    ],
)
def test_number_arguments(parse, good, bad):
    for text, value in good.items():
        parsed = parse(text)
        assert parsed == value and type(parsed) is type(value)
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError) as exc:
            parse(text)
        assert str(exc.value) == f"{text!r} is not {parse.__name__}"
    assert positive_int.__name__ == "a positive integer"
    assert non_negative_float.__name__ == "a finite number >= 0"


def test_params_are_numbers_booleans_none_or_text():
    params = parse_params(
        [" lam = 1e5", "max_iter=50", "flag=TRUE", "other=false", "x=None", "s= a b "]
    )
    assert params == {
        "lam": 1e5,
        "max_iter": 50,
        "flag": True,
        "other": False,
        "x": None,
        "s": "a b",
    }
    assert type(params["max_iter"]) is int and type(params["lam"]) is float
    assert parse_params(None) == {} and parse_params([]) == {}
    assert parse_params(["empty="]) == {"empty": ""}


@pytest.mark.parametrize(
    "items, message",
    [
        (["lam"], "--param expects key=value, got 'lam'"),
        (["=1"], "--param expects key=value, got '=1'"),
        (["max-iter=3"], "--param expects key=value, got 'max-iter=3'"),
        (["lam=1", " lam=2"], "--param lam is given twice"),
    ],
)
def test_bad_params_are_one_line_errors(items, message):
    with pytest.raises(CLIError) as exc:
        parse_params(items)
    assert str(exc.value) == message


def test_estimator_error_keeps_the_first_line():
    error = estimator_error(ValueError("  first line.\nsecond line\n"), "in.csv")
    assert isinstance(error, CLIError) and str(error) == "in.csv: first line."
    assert str(estimator_error(ValueError("only"))) == "only"
    assert str(estimator_error(ValueError(""), "in.csv")) == "in.csv: ValueError"
    assert str(estimator_error(TypeError())) == "TypeError"


def test_absent_device_is_a_one_line_error():
    check_device("cpu")
    with pytest.raises(CLIError) as exc:
        check_device("tpu")
    assert "tpu" in str(exc.value) and "\n" not in str(exc.value)


def test_errors_and_interruptions_set_the_exit_status(monkeypatch, capsys):
    from sktransfer.cli import _baseline

    def fails(args):
        raise CLIError("a reason")

    def interrupted(args):
        raise KeyboardInterrupt

    parse = ["baseline", "in.csv", "-o", "out.csv"]
    for run, status, err in [
        (fails, 2, "sktransfer baseline: error: a reason\n"),
        (interrupted, 130, "sktransfer baseline: interrupted\n"),
        (lambda args: None, 0, ""),
        (lambda args: 3, 3, ""),
    ]:
        monkeypatch.setattr(_baseline, "run", run)
        assert main(parse) == status
        assert capsys.readouterr().err == err


def test_version_and_bare_help(capsys):
    from sktransfer import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"sktransfer {__version__}\n"
    assert main([]) == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: sktransfer [-h] [--version] VERB ...\n")
    assert "Spectroscopy with scikit-learn: baselines, peak fitting" in text


def test_baseline_arguments_and_their_defaults():
    from sktransfer.cli import build_parser
    from sktransfer.cli._baseline import run

    parse = build_parser().parse_args
    args = parse(["baseline", "a.csv", "-o", "b.csv"])
    assert args.func is run and args.inputs == ["a.csv"]
    assert (args.method, args.lam, args.param, args.keep_baseline) == (
        "airpls",
        None,
        None,
        False,
    )
    args = parse(
        ["baseline", "d/", "e/", "-o", "o", "--method", "snip", "--lam", "1e5",
         "--param", "a=1", "--param", "b=2", "--keep-baseline", "--overwrite"]
    )  # fmt: skip
    assert args.inputs == ["d/", "e/"] and args.lam == 1e5
    assert args.param == ["a=1", "b=2"] and args.keep_baseline and args.overwrite


def test_output_is_required_and_overwrite_is_described(capsys):
    from sktransfer.cli import build_parser

    parse = build_parser().parse_args
    with pytest.raises(SystemExit):
        parse(["baseline", "a.csv"])
    assert "the following arguments are required: -o/--output" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit):
        parse(["transfer", "fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "-o OUTPUT, --output OUTPUT file the trained model is saved to" in text
    assert "--overwrite replace the output if it exists (default: refuse)" in text
    assert "--device DEVICE torch device: cpu, cuda, cuda:N (default cpu)" in text
    assert "--random-state RANDOM_STATE seed for reproducible results" in text
