"""The parts of ``sktransfer augment`` that need no training."""

import argparse
import os

import numpy as np
import pytest

from sktransfer.cli import CLIError
from sktransfer.cli._augment import (
    _class_targets,
    _generated_names,
    _header_key,
    _listing,
    _measured,
    _read_labels,
    _safe,
    _strategy,
)
from sktransfer.cli._files import Spectra


def _error(function, *args, kind=CLIError):
    with pytest.raises(kind) as exc:
        function(*args)
    return str(exc.value)


@pytest.mark.parametrize(
    "text, value",
    [
        ("auto", "auto"),
        ("not majority", "not majority"),
        ('{"Quartz": 10, "Albite": 0}', {"Quartz": 10, "Albite": 0}),
        ('  {"Quartz": 3}', {"Quartz": 3}),
        ("0.5", 0.5),
        ("1", 1.0),
    ],
)
def test_strategy_is_a_name_a_json_object_or_a_ratio(text, value):
    parsed = _strategy(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": -1}', "the count of class 'a' must be an integer >= 0, got -1"),
        ('{"a": 2, "b": true}', "the count of class 'b' must be an integer >= 0"),
        ('{"a": "3"}', "the count of class 'a' must be an integer >= 0, got '3'"),
        ("{a: 3}", "'{a: 3}' is not a JSON object of class: count (Expecting"),
        ("1e400", "'1e400' is not one of auto, minority, not minority"),
        ("-inf", "'-inf' is not one of auto"),
        ("majority", "'majority' is not one of auto"),
    ],
)
def test_bad_strategy_is_a_usage_error(text, message):
    assert _error(_strategy, text, kind=argparse.ArgumentTypeError).startswith(message)


def test_header_key_reads_as_read_rruff_gives_it():
    assert _header_key(" names ") == "NAMES"
    assert _header_key("Rruffid") == "RRUFFID"
    for text in ("", "  ", "A=B"):
        message = _error(_header_key, text, kind=argparse.ArgumentTypeError)
        assert message == f"{text!r} is not a RRUFF header key"


def test_labels_file_gives_each_spectrum_its_label(tmp_path, capsys):
    path = tmp_path / "labels.csv"
    path.write_text('b , quartz\n\na,"albite, low"\nb,quartz\nunused,x\n')
    assert _read_labels(str(path), ["a", "b"]) == ["albite, low", "quartz"]
    # rows that name no input spectrum are counted
    assert (
        capsys.readouterr().out
        == f"note: 1 row(s) of {path} name no input spectrum (unused)\n"
    )


def test_a_name_label_header_row_is_no_label(tmp_path, capsys):
    # augment writes its labels file with this header, as pandas reads it
    path = tmp_path / "labels.csv"
    path.write_text("Name,Label\na,x\nb,y\n")
    assert _read_labels(str(path), ["b", "a"]) == ["y", "x"]
    assert capsys.readouterr().out == ""
    # unless a spectrum is called "name"
    assert _read_labels(str(path), ["Name", "a"]) == ["Label", "x"]


def test_labels_file_reads_back_with_a_spectrum_called_name(tmp_path):
    # the header row read as the label of a spectrum "name", then its own
    # row as "a second label for 'name'"
    import argparse

    from sktransfer.cli._augment import _plan

    names = ["name", "s1"]
    spectra = Spectra(
        [np.arange(3.0)] * 2,
        [np.zeros(3)] * 2,
        names,
        "csv",
        paths=[str(tmp_path / "in.csv")],
    )
    y = np.array(["A", "B"], dtype=object)
    args = argparse.Namespace(output=str(tmp_path / "out.csv"), overwrite=False)
    args.labels = str(tmp_path / "labels.csv")
    (tmp_path / "labels.csv").write_text("name,A\ns1,B\n")
    _plan(
        args, spectra, np.arange(3.0), np.zeros((2, 3)), y, np.zeros((0, 3)), y[:0]
    ).write()
    written = tmp_path / "out.labels.csv"
    assert written.read_text().splitlines() == ["name,label", "name,A", "s1,B"]
    assert _read_labels(str(written), names) == ["A", "B"]
    # and with "name" not first
    written.write_text("name,label\ns1,B\nname,A\n")
    assert _read_labels(str(written), names) == ["A", "B"]


@pytest.mark.parametrize(
    "content, labels",
    [
        # every line splits in two at ";" as well: augment's own labels file
        # of labels that hold a ";" read back as "a,x" labelled "y"
        ("a,x;y\nb,z;w\n", ["x;y", "z;w"]),
        ('a,"x;y"\nb,z;w\n', ["x;y", "z;w"]),
        # a ";"-separated file keeps the comma in its labels
        ("a;quartz, low\nb;quartz, high\n", ["quartz, low", "quartz, high"]),
        ("a\tx,y\nb\tz,w\n", ["x,y", "z,w"]),
    ],
)
def test_labels_file_separator_is_the_one_that_labels_the_spectra(
    tmp_path, content, labels
):
    path = tmp_path / "labels.csv"
    path.write_text(content)
    assert _read_labels(str(path), ["a", "b"]) == labels


def test_labels_with_semicolons_read_back_as_augment_writes_them(tmp_path):
    import csv

    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([("a", "x;y"), ("b", "z;w"), ("c", "x;y")])
    assert _read_labels(str(path), ["c", "a", "b"]) == ["x;y", "x;y", "z;w"]


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "a,x\n\nb\n",
            "labels.csv, line 3: expected name,label, got 1 cell(s) (quote a "
            "label that holds a comma)",
        ),
        # a third cell used to be dropped: "quartz, low" and "quartz, high"
        # became one class
        (
            "a,quartz, low\nb,quartz, high\n",
            "labels.csv, line 1: expected name,label, got 3 cell(s) (quote a "
            "label that holds a comma)",
        ),
        ("a,x\nb,y\na, y\n", "labels.csv, line 3: a second label for 'a'"),
        ("a,x\n", "labels.csv has no label for 2 spectra, e.g. 'b'"),
    ],
)
def test_bad_labels_file_is_named_with_its_line(tmp_path, content, message):
    path = tmp_path / "labels.csv"
    path.write_text(content)
    assert _error(_read_labels, str(path), ["a", "b", "c"]).endswith(message)


def test_safe_names_keep_letters_digits_dots_and_dashes():
    assert _safe("Quartz / alpha-2.5") == "Quartz_alpha-2.5"
    assert _safe("__Zircon__") == "Zircon"
    assert _safe("") == _safe("///") == "class"
    assert _safe(7) == "7"
    assert _safe("a" * 150) == "a" * 100


def test_generated_names_never_clash():
    labels = ["a", "a b", "a/b", "a", "c"]
    names = _generated_names(labels, ["GENERATED_A_1", "generated_c_2"])
    assert names == [
        "generated_a_2",
        "generated_a_b_1",
        "generated_a_b_2",
        "generated_a_3",
        "generated_c_1",
    ]
    # with a suffix, names are compared with it
    taken = ["generated_a_1.TXT", "generated_a_2"]
    assert _generated_names(["a", "a"], taken, ".txt") == [
        "generated_a_2",
        "generated_a_3",
    ]
    assert _generated_names([], ["x"]) == []


def test_listing_shows_five_names_at_most():
    assert _listing(list("abcde")) == "a, b, c, d, e"
    assert _listing(list("abcdefg")) == "a, b, c, d, e, ... 2 more"
    assert _listing([1, 2, 3], at_most=2) == "1, 2, ... 1 more"


def _labels(*counts):
    return np.array(
        [name for name, n in zip("abcd", counts) for _ in range(n)], dtype=object
    )


def test_class_targets_are_total_counts(capsys):
    y = _labels(5, 3, 2)
    assert _class_targets("auto", y, None) == {"b": 5, "c": 5}
    assert _class_targets({"b": 4, "a": 5}, y, None) == {"b": 4}
    assert _class_targets("minority", y, None) == {"c": 5}
    assert capsys.readouterr().out == ""
    assert _class_targets("auto", y, 3) == {"b": 5}
    assert capsys.readouterr().out == (
        "not augmented, fewer than 3 spectra: 1 class(es) (c)\n"
    )


def test_classes_of_one_spectrum_are_refused_or_kept(capsys):
    y = _labels(4, 1, 2, 1)
    message = _error(_class_targets, "auto", y, None)
    assert message.startswith(
        "2 class(es) to augment have a single spectrum (b, d); WGANGPOverSampler "
        "needs at least 2."
    )
    # not augmented by the strategy: no error
    assert _class_targets({"c": 3}, y, None) == {"c": 3}
    assert _class_targets("auto", y, 2) == {"c": 4}
    assert "fewer than 2 spectra: 2 class(es) (b, d)" in capsys.readouterr().out
    message = _error(_class_targets, {"e": 3}, y, None)
    assert message.startswith("--strategy: ")


def _rruff_spectra(metadata):
    n = len(metadata)
    return Spectra(
        axes=[np.arange(3.0)] * n,
        values=[np.full(3, float(i)) for i in range(n)],
        names=[f"s{i}.txt" for i in range(n)],
        format="rruff",
        metadata=metadata,
        paths=[f"in/s{i}.txt" for i in range(n)],
        modalities=["raman"] * n,
    )


def test_spectra_that_sktransfer_wrote_are_left_out(capsys):
    measured = _rruff_spectra([{"NAMES": "a"}, {"NAMES": "b"}])
    assert _measured(measured) is measured
    assert capsys.readouterr().out == ""
    metadata = [
        {"NAMES": "a"},
        {"GENERATED": "TRUE"},
        {"NAMES": "b"},
        {"FILETYPE": "predicted raman (sktransfer)"},
    ]
    kept = _measured(_rruff_spectra(metadata))
    assert kept.names == ["s0.txt", "s2.txt"]
    assert kept.paths == ["in/s0.txt", "in/s2.txt"]
    assert kept.metadata == [{"NAMES": "a"}, {"NAMES": "b"}]
    assert kept.modalities == ["raman", "raman"]
    np.testing.assert_array_equal(kept.matrix(), [[0.0] * 3, [2.0] * 3])
    assert len(kept.axes) == 2
    assert capsys.readouterr().out == (
        "left out 2 file(s) that sktransfer wrote, generated or predicted "
        "spectra or baselines, not measurements (s1.txt, s3.txt)\n"
    )
    message = _error(_measured, _rruff_spectra(metadata[1::2]))
    assert message.startswith(
        "every input file was written by sktransfer (s0.txt, s1.txt); "
    )


def test_augment_arguments_and_their_defaults(capsys):
    from sktransfer.cli import build_parser
    from sktransfer.cli._augment import run

    parse = build_parser().parse_args
    args = parse(["augment", "a.txt", "b/", "-o", "out"])
    assert args.func is run and args.inputs == ["a.txt", "b/"]
    assert (args.output, args.overwrite, args.labels) == ("out", False, None)
    assert (args.label_key, args.strategy) == ("NAMES", "auto")
    assert (args.min_spectra, args.max_iter) == (None, None)
    assert (args.device, args.random_state) == ("cpu", 0)
    args = parse(
        ["augment", "in.csv", "-o", "o.csv", "--labels", "l.csv", "--label-key",
         "mineral", "--strategy", '{"a": 3}', "--min-spectra", "2", "--max-iter",
         "7", "--random-state", "4", "--device", "cuda:1", "--overwrite"]
    )  # fmt: skip
    assert (args.labels, args.label_key, args.strategy) == (
        "l.csv",
        "MINERAL",
        {"a": 3},
    )
    assert (args.min_spectra, args.max_iter, args.random_state) == (2, 7, 4)
    assert (args.device, args.overwrite) == ("cuda:1", True)
    for option in ("--min-spectra", "--max-iter"):
        with pytest.raises(SystemExit):
            parse(["augment", "in.csv", "-o", "o.csv", option, "0"])
        assert "is not a positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["augment", "-o", "o.csv"])
    assert "the following arguments are required: INPUT" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["augment", "--help"])
    text = capsys.readouterr().out
    assert "Generate spectra for the under-represented classes" in text
    assert "\n  sktransfer augment corrected/ -o augmented/" in text  # kept as written
    assert "CSV of name,label rows" in text and "generator iterations" in text
    with pytest.raises(SystemExit):
        parse(["--help"])
    assert "balance a labelled data set with WGAN-GP" in capsys.readouterr().out


def test_augment_needs_a_label_for_every_input(tmp_path, capsys):
    from sktransfer.cli import main

    spectra = tmp_path / "in.csv"
    spectra.write_text("x,a,b\n1,1,2\n2,3,4\n3,5,6\n")
    out = tmp_path / "out.csv"
    assert main(["augment", str(spectra), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (
        "sktransfer augment: error: CSV input needs --labels FILE (rows of "
        "name,label)\n"
    )
    folder = tmp_path / "rruff"
    folder.mkdir()
    for name, header in [("a.txt", "##MINERAL=Quartz\n"), ("b.txt", "")]:
        (folder / name).write_text(f"##NAMES=Quartz\n{header}1, 1\n2, 3\n3, 5\n")
    args = ["augment", str(folder), "-o", str(tmp_path / "out")]
    assert main([*args, "--label-key", "mineral"]) == 2
    assert capsys.readouterr().err == (
        "sktransfer augment: error: b.txt has no ##MINERAL= header to use as label\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "rruff"]


def _labelled_csv(tmp_path, name="in.csv", labels="aaabb"):
    spectra = tmp_path / name
    x = np.arange(8.0)
    rows = [[x[k], *(np.sin(x[k] + i) for i in range(len(labels)))] for k in range(8)]
    header = ",".join(["x", *(f"s{i}" for i in range(len(labels)))])
    spectra.write_text("\n".join([header, *(",".join(map(str, r)) for r in rows)]))
    label_file = tmp_path / "labels.csv"
    label_file.write_text("".join(f"s{i},{c}\n" for i, c in enumerate(labels)))
    return str(spectra), str(label_file)


def test_augment_trains_the_sampler_with_the_options(tmp_path, capsys, monkeypatch):
    from sktransfer.cli import main
    from sktransfer.over_sampling import WGANGPOverSampler

    seen = []

    def fit_resample(self, X, y):
        seen.append((self.get_params(), X.shape, list(y)))
        raise ValueError("the sampler refuses these spectra\nsecond line")

    monkeypatch.setattr(WGANGPOverSampler, "fit_resample", fit_resample)
    spectra, labels = _labelled_csv(tmp_path)
    out = tmp_path / "out.csv"
    args = ["augment", spectra, "--labels", labels, "-o", str(out)]
    assert main([*args, "--max-iter", "7", "--random-state", "5"]) == 2
    assert capsys.readouterr().err == (
        "sktransfer augment: error: the sampler refuses these spectra\n"
    )
    params, shape, y = seen[0]
    assert (params["max_iter"], params["random_state"], params["device"]) == (
        7,
        5,
        "cpu",
    )
    assert params["sampling_strategy"] == {"b": 3}
    assert shape == (5, 8) and y == list("aaabb")
    assert main(args) == 2  # the sampler's own default number of iterations
    params = seen[1][0]
    assert params["max_iter"] == WGANGPOverSampler().max_iter
    assert params["random_state"] == 0
    assert not out.exists() and not (tmp_path / "out.labels.csv").exists()


def test_augment_output_never_replaces_an_input_or_fills_a_used_folder(
    tmp_path, capsys
):
    from sktransfer.cli import main

    # -o in.csv writes in.labels.csv: the input spectra
    spectra, labels = _labelled_csv(tmp_path, name="in.labels.csv")
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    args = ["augment", spectra, "--labels", labels, "-o", str(tmp_path / "in.csv")]
    assert main([*args, "--overwrite", "--max-iter", "1"]) == 2
    assert capsys.readouterr().err == (
        f"sktransfer augment: error: {spectra} is an input; writing the labels over "
        "it is refused, even with --overwrite: give another output name\n"
    )
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
    # a RRUFF output folder that holds other files
    folder, busy = tmp_path / "rruff", tmp_path / "busy"
    folder.mkdir()
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    for i in range(4):
        (folder / f"s{i}.txt").write_text(f"##NAMES={'ab'[i % 2]}\n1, 1\n2, {i}\n")
    args = ["augment", str(folder), "-o", str(busy), "--max-iter", "1"]
    assert main(args) == 2
    assert f"{busy} exists; pass --overwrite" in capsys.readouterr().err
    assert os.listdir(busy) == ["notes.txt"]


def test_augment_refuses_spectra_of_two_modalities(tmp_path, capsys):
    # IR and Raman files side by side were cut to their common range and
    # learnt by one generator
    from sktransfer.cli import main

    folder = tmp_path / "rruff"
    folder.mkdir()
    for i, kind in enumerate(["Raman", "Raman", "Infrared"]):
        (folder / f"Quartz__R0400{i}1__{kind}__{i}.txt").write_text(
            "##NAMES=Quartz\n400, 1\n500, 3\n600, 5\n"
        )
    assert main(["augment", str(folder), "-o", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        "sktransfer augment: error: the spectra are of 2 modalities (1 ir, "
        "2 raman); augment learns from one: give the files of one modality\n"
    )
    assert sorted(os.listdir(tmp_path)) == ["rruff"]
