"""The parts of ``sktransfer transfer`` that need no training."""

import numpy as np
import pytest

from sktransfer.cli import CLIError, build_parser
from sktransfer.cli._files import Spectra
from sktransfer.cli._transfer import (
    _check_modality,
    _one_line,
    _paired_csv,
    run_fit,
    run_predict,
)


def _write(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(r) for r in rows)]))
    return str(path)


def test_csv_spectra_are_paired_by_name(tmp_path, capsys):
    source = _write(
        tmp_path / "ir.csv",
        ["wavenumber", "a", "b", "only_ir"],
        [["1", "1", "2", "3"], ["2", "4", "5", "6"]],
    )
    target = _write(
        tmp_path / "raman.csv",
        ["shift", "b", "a", "x", "y"],
        [
            ["10", "7", "8", "0", "0"],
            ["20", "9", "10", "0", "0"],
            ["30", "1", "2", "0", "0"],
        ],
    )
    X, Y, x_src, x_tgt, src_name, tgt_name = _paired_csv(source, target)
    np.testing.assert_array_equal(X, [[1.0, 4.0], [2.0, 5.0]])  # a, b
    np.testing.assert_array_equal(Y, [[8.0, 10.0, 2.0], [7.0, 9.0, 1.0]])
    np.testing.assert_array_equal(x_src, [1.0, 2.0])
    np.testing.assert_array_equal(x_tgt, [10.0, 20.0, 30.0])
    assert (src_name, tgt_name) == ("wavenumber", "shift")
    assert capsys.readouterr().out == "note: 3 spectra without a partner are not used\n"
    _paired_csv(source, source)
    assert capsys.readouterr().out == ""


def test_csv_spectra_need_two_pairs(tmp_path):
    source = _write(
        tmp_path / "ir.csv", ["x", "a", "b"], [["1", "1", "2"], ["2", "3", "4"]]
    )
    target = _write(
        tmp_path / "raman.csv", ["x", "a", "c"], [["1", "1", "2"], ["2", "3", "4"]]
    )
    with pytest.raises(CLIError) as exc:
        _paired_csv(source, target)
    assert str(exc.value) == (
        f"{source} and {target} share fewer than 2 spectrum names; spectra are "
        "paired by column name"
    )


def test_load_rruff_errors_are_one_line():
    assert _one_line(ValueError("one line")) == "one line"
    assert _one_line(ValueError("")) == "ValueError"
    two = ValueError("2 files cannot be read (pass on_error='skip'):\n  a.txt: bad\n")
    assert _one_line(two) == "2 files cannot be read: a.txt: bad"
    many = ValueError("3 files cannot be read:\n a.txt: bad\n b.txt: bad\n c.txt: x")
    assert _one_line(many) == "3 files cannot be read: a.txt: bad (and 2 more)"
    three = ValueError("2 files cannot be read:\n a.txt: bad\n b.txt: bad")
    assert _one_line(three) == "2 files cannot be read: a.txt: bad (and 1 more)"


def _rruff(names, modalities):
    n = len(names)
    return Spectra(
        axes=[np.arange(2.0)] * n,
        values=[np.zeros(2)] * n,
        names=names,
        format="rruff",
        metadata=[{}] * n,
        paths=names,
        modalities=modalities,
    )


def test_input_of_another_modality_is_refused():
    spectra = _rruff(["a.txt", "b.txt", "c.txt", "d.txt"], ["ir", None, "raman", "xrd"])
    _check_modality(spectra, None)
    _check_modality(_rruff(["a.txt", "b.txt"], ["ir", None]), "ir")
    with pytest.raises(CLIError) as exc:
        _check_modality(spectra, "ir")
    # each other modality counted (this said "2 input file(s) hold raman")
    assert str(exc.value).startswith(
        "the model was trained on ir spectra, but 2 input file(s) hold other "
        "spectra (1 raman, 1 xrd), e.g. c.txt (its header or name says so); "
        "give --any-modality"
    )
    with pytest.raises(
        CLIError, match="but 1 input file.s. hold raman spectra, e.g. c"
    ):
        _check_modality(_rruff(["a.txt", "c.txt"], ["ir", "raman"]), "ir")


def test_transfer_arguments_and_their_defaults(capsys):
    parse = build_parser().parse_args
    args = parse(["transfer", "fit", "--source", "a", "b", "--target", "c", "-o", "m"])
    assert args.func is run_fit
    assert (args.source, args.target, args.output) == (["a", "b"], ["c"], "m")
    # RRUFF input defaults to IR -> Raman; CSV input records only what is told
    assert (args.source_modality, args.target_modality) == (None, None)
    assert (args.max_epochs, args.beta, args.device, args.random_state) == (
        None,
        None,
        "cpu",
        0,
    )
    args = parse(
        ["transfer", "fit", "--source", "a", "--target", "c", "-o", "m",
         "--source-modality", "xrd", "--target-modality", "ir", "--max-epochs",
         "3", "--beta", "0", "--random-state", "5", "--overwrite"]
    )  # fmt: skip
    assert (args.source_modality, args.target_modality) == ("xrd", "ir")
    assert (args.max_epochs, args.beta, args.random_state) == (3, 0.0, 5)
    args = parse(["transfer", "predict", "in/", "-m", "m.skmodel", "-o", "out"])
    assert args.func is run_predict and args.inputs == ["in/"]
    assert (args.model, args.device, args.trust_pickle, args.any_modality) == (
        "m.skmodel",
        "cpu",
        False,
        False,
    )
    with pytest.raises(SystemExit):
        parse(["transfer", "fit", "--source", "a", "--target", "c", "-o", "m",
               "--source-modality", "uv"])  # fmt: skip
    assert "invalid choice: 'uv'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["transfer", "fit", "--source", "a", "--target", "c", "-o", "m",
               "--target-modality", "nmr"])  # fmt: skip
    assert "invalid choice: 'nmr'" in capsys.readouterr().err
    for missing, given in [("--source", "--target"), ("--target", "--source")]:
        with pytest.raises(SystemExit):
            parse(["transfer", "fit", given, "a", "-o", "m"])
        assert f"required: {missing}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["transfer", "predict", "in/", "-o", "out"])
    assert "required: -m/--model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["transfer"])
    assert "required: ACTION" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["transfer", "predict", "--help"])
    text = capsys.readouterr().out
    assert "Predict target spectra with a model saved by" in text
    assert "\n  sktransfer transfer predict new_ir/ -m" in text


def test_fit_inputs_are_one_csv_file_each_or_rruff_folders(tmp_path, capsys):
    from sktransfer.cli import main

    folder = tmp_path / "rruff"
    folder.mkdir()
    ir = _write(
        tmp_path / "ir.csv", ["x", "a", "b"], [["1", "1", "2"], ["2", "3", "4"]]
    )
    raman = _write(tmp_path / "raman.csv", ["x", "a", "b"], [["1", "1", "2"]])
    spectrum = tmp_path / "Quartz__R040031__Raman.txt"
    spectrum.write_text("##NAMES=Quartz\n100, 1\n101, 2\n")
    model = tmp_path / "m.skmodel"
    for source, target, message in [
        ([ir], [str(folder)], "give one CSV file each for --source and --target"),
        ([str(folder)], [raman], "give one CSV file each for --source and --target"),
        ([ir, ir], [raman], "give one CSV file each for --source and --target"),
        ([ir], [raman, raman], "give one CSV file each for --source and --target"),
        ([str(spectrum)], [str(folder)], f"{spectrum}: RRUFF input must be a dir"),
    ]:
        args = ["transfer", "fit", "--source", *source, "--target", *target]
        assert main([*args, "-o", str(model)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"sktransfer transfer: error: {message}"), err
        assert err.count("\n") == 1
    assert not model.exists()


def _rruff_folder(path, files):
    path.mkdir()
    x = np.arange(400.0, 1400.0, 10.0)
    rows = "".join(f"{a}, {b:.6f}\n" for a, b in zip(x, np.exp(-((x - 500) ** 2))))
    for name in files:
        rid = name.split("__")[1]
        (path / name).write_text(f"##NAMES=Min\n##RRUFFID={rid}\n{rows}##END=\n")
    return str(path)


def test_rruff_folders_without_a_pair_of_the_modalities_are_refused(tmp_path, capsys):
    from sktransfer.cli import main

    folder = _rruff_folder(
        tmp_path / "rruff",
        [
            "Min__R050001-1__Infrared__Infrared_Data_Processed__1.txt",
            "Min__R050002__Raman__532__0__unoriented__Raman_Data_Processed__2.txt",
        ],
    )
    model = tmp_path / "m.skmodel"
    fit = ["transfer", "fit", "--source", folder, "--target", folder]
    assert main([*fit, "-o", str(model)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sktransfer transfer: error: no RRUFF id in {folder} has both ir spectra "
        "(--source-modality) and raman spectra (--target-modality)\n"
    )
    assert main([*fit, "-o", str(model), "--target-modality", "xrd"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sktransfer transfer: error: --target-modality xrd: no xrd spectra in "
        f"{folder} (found: ir, raman)\n"
    )
    assert not model.exists()


def test_fit_refuses_spectra_of_one_point_in_the_command_line_s_terms(tmp_path, capsys):
    from sktransfer.cli import main

    one = _write(tmp_path / "one.csv", ["x", "a", "b", "c"], [["1", "1", "2", "3"]])
    two = _write(
        tmp_path / "two.csv",
        ["x", "a", "b", "c"],
        [["1", "1", "2", "3"], ["2", "3", "4", "5"]],
    )
    model = tmp_path / "m.skmodel"
    for source, target, option in [(one, two, "--source"), (two, one, "--target")]:
        args = ["transfer", "fit", "--source", source, "--target", target]
        assert main([*args, "-o", str(model), "--max-epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"sktransfer transfer: error: the {option} spectra have 1 point each; "
            "transfer needs spectra of at least 2 points\n"
        )
    assert not model.exists()
    # one pair: the message speaks of the command line, not of the
    # regressor's module__retrieval, which it does not offer
    single = _rruff_folder(
        tmp_path / "rruff",
        [
            "Min__R050001-1__Infrared__Infrared_Data_Processed__1.txt",
            "Min__R050001__Raman__532__0__unoriented__Raman_Data_Processed__2.txt",
        ],
    )
    args = ["transfer", "fit", "--source", single, "--target", single]
    assert main([*args, "-o", str(model), "--max-epochs", "1"]) == 2
    assert capsys.readouterr().err == (
        "sktransfer transfer: error: found 1 pair of spectra; transfer fit needs "
        "at least 2 (in training, each pair learns from the others)\n"
    )
    assert not model.exists()
