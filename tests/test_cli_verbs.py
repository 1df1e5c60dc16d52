"""The command-line verbs on files the tests write."""

import argparse
import csv
import os
import warnings

import numpy as np
import pytest
from pybaselines import Baseline

from sktransfer.cli import main
from sktransfer.datasets import load_rruff, read_rruff
from sktransfer.datasets._records import written_by_sktransfer


def _peaks(x, centers, width=8.0):
    return sum(np.exp(-0.5 * ((x - c) / width) ** 2) for c in centers)


def _write_rruff(path, x, y, name, rruff_id, extra=""):
    rows = "".join(f"{a:.4f}, {b:.6e}\r\n" for a, b in zip(x, y))
    # a NAMES field in ``extra`` (in any case) is the file's only one
    names = "" if "##names=" in extra.lower() else f"##NAMES={name}\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(f"{names}##RRUFFID={rruff_id}\n{extra}{rows}##END=\n\n")


def _write_csv(path, x, Y, names, axis_name="wavenumber"):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([axis_name, *names])
        for k in range(len(x)):
            w.writerow([x[k], *Y[:, k]])


def _read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=float)


@pytest.fixture
def raw_csv(tmp_path):
    x = np.linspace(200.0, 1200.0, 300)
    rng = np.random.default_rng(0)
    Y = np.vstack(
        [
            _peaks(x, [400 + 50 * i, 900]) + 1e-3 * x + rng.uniform(0, 1)
            for i in range(4)
        ]
    )
    path = tmp_path / "raw.csv"
    _write_csv(path, x, Y, [f"s{i}" for i in range(4)])
    return path, x, Y


def test_baseline_csv_matches_pybaselines(raw_csv, tmp_path, capsys):
    path, x, Y = raw_csv
    out = tmp_path / "corrected.csv"
    status = main(["baseline", str(path), "-o", str(out), "--lam", "1e5"])
    assert status == 0
    header, table = _read_csv(out)
    assert header == ["wavenumber", "s0", "s1", "s2", "s3"]
    np.testing.assert_allclose(table[:, 0], x)
    fitter = Baseline(x_data=x)
    for j in range(4):
        expected = Y[j] - fitter.airpls(Y[j], lam=1e5)[0]
        np.testing.assert_allclose(table[:, j + 1], expected, atol=1e-8)
    assert "corrected 4 spectra with airpls" in capsys.readouterr().out


def test_warnings_are_printed_on_one_line(tmp_path, capsys):
    # spectra of 2 points are too short for airPLS: the warning used to be
    # printed with the file and source line of the code that warned
    path = tmp_path / "short.csv"
    _write_csv(
        path, np.array([100.0, 200.0]), np.array([[1.0, 3.0], [2.0, 4.0]]), ["a", "b"]
    )
    assert main(["baseline", str(path), "-o", str(tmp_path / "out.csv")]) == 0
    err = capsys.readouterr().err
    assert err == (
        "sktransfer baseline: warning: PybaselinesCorrector: spectra with 2 "
        "point(s) are too short for 'airpls', which needs at least 3; the "
        "baseline equals the spectrum and the corrected spectrum is zero.\n"
    )
    # outside the command line, warnings are shown as Python shows them
    assert warnings.showwarning is warnings._showwarning_orig


def test_baseline_rruff_directory_keeps_headers(tmp_path):
    src = tmp_path / "raw"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 400)
    for i, c in enumerate([300, 700]):
        y = _peaks(x, [c]) + 2.0 + 1e-3 * x
        _write_rruff(
            src / f"Quartz__R04003{i}__Raman.txt", x, y, "Quartz", f"R04003{i}"
        )
    out = tmp_path / "out"
    assert (
        main(
            [
                "baseline",
                str(src),
                "-o",
                str(out),
                "--method",
                "snip",
                "--param",
                "max_half_window=40",
            ]
        )
        == 0
    )
    files = sorted(os.listdir(out))
    assert len(files) == 2
    data = read_rruff(out / files[0])
    assert data.metadata["NAMES"] == "Quartz"
    assert "snip(max_half_window=40)" in data.metadata["BASELINE"]
    expected = (
        read_rruff(src / files[0]).y
        - Baseline(x_data=x).snip(read_rruff(src / files[0]).y, max_half_window=40)[0]
    )
    np.testing.assert_allclose(data.y, expected, rtol=1e-6, atol=1e-6)


def test_baseline_output_keeps_every_header_line_of_its_input(tmp_path, capsys):
    # fields given twice (RRUFF's CELL PARAMETERS) and comment lines are
    # written as the input holds them, then the baseline it was given
    src = tmp_path / "raw"
    src.mkdir()
    header = [
        "##NAMES=Albite",
        "##CELL PARAMETERS=a: 8.135 b: 12.784",
        " Fiducial mark parallel to b [0 1 0]",
        "##CELL PARAMETERS=a: 8.135(1) b: 12.784(2)",
        "##FILETYPE=Raman RAW",
    ]
    x = np.linspace(150.0, 1250.0, 200)
    rows = [
        f"{a!r}, {b!r}" for a, b in zip(x.tolist(), (_peaks(x, [500]) + 1).tolist())
    ]
    (src / "Albite__R040068__Raman.txt").write_text("\r\n".join(header + rows))
    out = tmp_path / "out"
    args = ["baseline", str(src), "-o", str(out), "--method", "snip"]
    assert main([*args, "--param", "max_half_window=20"]) == 0
    data = read_rruff(out / "Albite__R040068__Raman.txt")
    assert data.header == [
        *header[:-1],
        # a corrected RAW spectrum is a Processed one: its line says so
        "##FILETYPE=Raman Processed",
        "##BASELINE=corrected with snip(max_half_window=20) (sktransfer)",
    ]
    assert data.metadata["CELL PARAMETERS"] == "a: 8.135(1) b: 12.784(2)"
    # corrected again, each correction is on record, the last one read
    again = tmp_path / "again"
    assert main(["baseline", str(out), "-o", str(again), "--method", "snip"]) == 0
    twice = read_rruff(again / "Albite__R040068__Raman.txt")
    assert twice.header[:-1] == data.header
    assert twice.metadata["BASELINE"] == "corrected with snip() (sktransfer)"


@pytest.mark.parametrize(
    "name, filetype, expected",
    [
        ("A__R040068__Raman.txt", "Raman RAW", "Raman Processed"),
        ("A__R040068__Raman__Raman_Data_RAW__1.txt", None, "Processed"),
        ("A__R040068__Raman__Raman_Data_RAW__1.txt", "Raman", "Raman Processed"),
        ("A__R040068__Raman.txt", "Raman Processed", None),
        ("A__R040068__Raman.txt", None, None),
    ],
)
def test_corrected_raw_spectra_are_processed_and_baselines_no_measurements(
    tmp_path, capsys, name, filetype, expected
):
    # corrected RAW files kept FILETYPE=Raman RAW: load_rruff's kind called
    # them RAW, and a --keep-baseline file loaded as a measured spectrum
    src = tmp_path / "raw"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 200)
    extra = "" if filetype is None else f"##FILETYPE={filetype}\n"
    _write_rruff(src / name, x, _peaks(x, [500]) + 1.0, "A", "R040068", extra)
    out, kept = tmp_path / "out", tmp_path / "kept"
    assert main(["baseline", str(src), "-o", str(out), "--method", "snip"]) == 0
    data = read_rruff(out / name)
    assert data.metadata.get("FILETYPE") == (expected or filetype)
    # one FILETYPE line, the input's where it had one
    filetypes = [line for line in data.header if line.startswith("##FILETYPE")]
    assert len(filetypes) == (filetype is not None or expected is not None)
    if expected:
        assert load_rruff(out, pair=False, modality="raman").kind == ["Processed"]
    args = ["baseline", str(src), "-o", str(kept), "--keep-baseline"]
    assert main([*args, "--method", "snip"]) == 0
    meta = read_rruff(kept / name).metadata
    assert meta["FILETYPE"] == f"baseline of {filetype or name} (sktransfer)"
    data = load_rruff([out, kept], pair=False, modality="raman")
    assert len(data.data) == 1 and len(data.skipped) == 1
    assert "as a baseline, not a measurement" in str(data.skipped[0])
    # a folder of baselines only: the error says why nothing was read
    written = r"No readable RRUFF files found; 1 file\(s\) written by sktransfer were"
    with pytest.raises(ValueError, match=written):
        load_rruff(kept, pair=False)


def test_keep_baseline_on_an_uneven_axis_matches_pybaselines(tmp_path, capsys):
    x = np.sort(np.random.default_rng(1).uniform(200.0, 1200.0, 120))
    Y = np.vstack([_peaks(x, [500]) + 1e-6 * (x - 200.0) ** 2 + k for k in (1, 2)])
    path, out = tmp_path / "raw.csv", tmp_path / "base.csv"
    _write_csv(path, x, Y, ["a", "b"])
    run = ["baseline", str(path), "-o", str(out), "--method", "modpoly"]
    assert main([*run, "--param", "poly_order=3", "--keep-baseline"]) == 0
    assert "baseline 2 spectra with modpoly" in capsys.readouterr().out
    _, table = _read_csv(out)
    fitter = Baseline(x_data=x)
    for j in range(2):
        expected = fitter.modpoly(Y[j], poly_order=3)[0]
        np.testing.assert_allclose(table[:, j + 1], expected, rtol=1e-9, atol=1e-9)


def test_rruff_output_folder_with_files_needs_overwrite(tmp_path, capsys):
    src = tmp_path / "raw"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 100)
    _write_rruff(src / "Quartz__R040031__Raman.txt", x, _peaks(x, [400]) + 1, "Q", "R1")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("mine")
    assert main(["baseline", str(src), "-o", str(out), "--method", "snip"]) == 2
    assert f"{out} exists; pass --overwrite" in capsys.readouterr().err
    assert os.listdir(out) == ["notes.md"]


def test_output_is_not_overwritten_without_flag(raw_csv, tmp_path, capsys):
    path, _, _ = raw_csv
    out = tmp_path / "exists.csv"
    out.write_text("keep me")
    assert main(["baseline", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "exists; pass --overwrite" in err and len(err.strip().splitlines()) == 1
    assert out.read_text() == "keep me"
    assert main(["baseline", str(path), "-o", str(out), "--overwrite"]) == 0


@pytest.mark.parametrize(
    "content, message",
    [
        ("x,a\n1,2\n2,oops\n", "line 3: 'oops' is not a number"),
        ("x,a\n1,2\n2\n", "line 3: 1 columns, expected 2"),
        ("x,a\n2,1\n1,2\n2,3\n", "strictly monotonic"),
        # pandas' to_csv with its index: the axis would be read as a spectrum
        (
            ",wavenumber,a\n0,400.0,2\n1,401.0,3\n2,402.0,4\n",
            "first column has no name and holds the row numbers 0, 1, ..., 2",
        ),
        # spectra in rows under a header of wavenumbers (scikit-learn's layout)
        (
            "400.0,401.0,402.0,403.0\n1,5,2,1\n3,1,2,4\n2,2,7,1\n",
            "first row runs monotonically across the columns",
        ),
        # the same with one spectrum, or two whose first values fall: the
        # first column is monotonic, and would be read as a 2- or 3-point axis
        (
            "400.0,401.0,402.0,403.0,404.0\n1,5,2,1,3\n",
            "5 columns and 2 rows, and the first row runs monotonically",
        ),
        (
            "400.0,401.0,402.0,403.0,404.0\n3,5,2,1,3\n1,2,2,2,2\n",
            "5 columns and 3 rows, and the first row runs monotonically",
        ),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["baseline", str(path), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err


@pytest.mark.parametrize(
    "x, where",
    [
        ([100.0, 101.0, 101.0, 102.0], "point 3: 101 follows 101"),
        ([300.0, 200.0, 250.0, 100.0], "point 3: 250 follows 200"),
    ],
)
def test_rruff_file_whose_axis_breaks_is_refused_where_it_breaks(
    tmp_path, capsys, x, where
):
    path = tmp_path / "Quartz__R040031__Raman__Data_Processed__1.txt"
    _write_rruff(path, np.array(x), np.arange(4.0), "Quartz", "R040031")
    assert main(["baseline", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{path}: its axis must be strictly monotonic ({where})")


def test_headerless_csv_reads_one_spectrum_per_column(tmp_path):
    from sktransfer.cli._files import read_csv_spectra

    # the first row rises across the columns, but there are more rows than
    # columns: an axis column of four points and two spectra, as written
    path = tmp_path / "plain.csv"
    path.write_text("1,2,3\n2,1,1\n3,4,4\n4,0,5\n")
    spectra = read_csv_spectra(str(path))
    assert spectra.names == ["spectrum1", "spectrum2"]
    np.testing.assert_array_equal(spectra.axes[0], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(spectra.values[0], [2.0, 1.0, 4.0, 0.0])
    np.testing.assert_array_equal(spectra.values[1], [3.0, 1.0, 4.0, 5.0])


def test_missing_input_and_empty_directory(tmp_path, capsys):
    assert (
        main(["baseline", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o")]) == 2
    )
    assert "no such file or directory" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["baseline", str(empty), "-o", str(tmp_path / "o")]) == 2
    assert "no RRUFF spectra found" in capsys.readouterr().err
    # a folder of DIF peak lists only: said, not "no spectra" alone
    from tests.datasets._files import QUARTZ_DIF, write_dif

    difs = tmp_path / "difs"
    difs.mkdir()
    write_dif(difs / "Quartz__R040031-1__Powder__DIF_File__1.txt", QUARTZ_DIF)
    assert main(["baseline", str(difs), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no RRUFF spectra found" in err
    assert "1 XRD peak list(s) (DIF) left out" in err and "measured spectra" in err
    # a misspelt folder of `transfer fit` is missing, not of the wrong kind
    fit = ["transfer", "fit", "--source", str(tmp_path / "nodir"), "--target"]
    assert main([*fit, str(empty), "-o", str(tmp_path / "m.skmodel")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'nodir'}: no such directory" in err


def test_bad_rruff_row_names_file_and_line(tmp_path, capsys):
    path = tmp_path / "Bad__R000001__Raman.txt"
    path.write_text("##NAMES=Bad\n100, 1\n101, x\n")
    assert main(["baseline", str(path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Bad__R000001__Raman.txt" in err and "line 3" in err


def test_unknown_method_and_device_are_one_line_errors(raw_csv, tmp_path, capsys):
    path, _, _ = raw_csv
    assert (
        main(["baseline", str(path), "-o", str(tmp_path / "o.csv"), "--method", "nope"])
        == 2
    )
    err = capsys.readouterr().err
    assert "method must be one of" in err and len(err.strip().splitlines()) == 1
    assert str(path) not in err  # the input file is not to blame
    for param, message in [
        ("foo=1", "has 'foo', which 'airpls' does not accept"),
        ("lam=-1", "['lam'] must be in (0, inf), got -1"),
    ]:
        out = tmp_path / "o.csv"
        assert main(["baseline", str(path), "-o", str(out), "--param", param]) == 2
        err = capsys.readouterr().err
        assert message in err and str(path) not in err
    # a method that fails inside pybaselines: one line, exit status 2
    short = tmp_path / "short.csv"
    _write_csv(
        short, np.arange(6.0), np.random.default_rng(0).random((2, 6)), ["a", "b"]
    )
    assert main(["baseline", str(short), "-o", str(out), "--method", "cwt_br"]) == 2
    err = capsys.readouterr().err
    assert "pybaselines' cwt_br failed" in err and len(err.strip().splitlines()) == 1
    # one setting given two ways is refused, not overridden
    out = str(tmp_path / "o.csv")
    both = ["--param", "lam=1e3", "--lam", "1e7"]
    assert main(["baseline", str(path), "-o", out, *both]) == 2
    assert "lam given twice" in capsys.readouterr().err
    assert (
        main(
            [
                "augment",
                str(path),
                "-o",
                str(tmp_path / "a.csv"),
                "--labels",
                str(path),
                "--device",
                "cuda:7",
            ]
        )
        == 2
    )
    assert "device='cuda:7'" in capsys.readouterr().err


def _paired_csv(tmp_path, n=12):
    rng = np.random.default_rng(1)
    x_ir = np.linspace(400.0, 4000.0, 120)
    x_ra = np.linspace(150.0, 1250.0, 100)
    names = [f"m{i}" for i in range(n)]
    centers = rng.uniform(0.2, 0.8, n)
    X = np.vstack([_peaks(x_ir, [400 + 3600 * c], 60) for c in centers])
    Y = np.vstack([_peaks(x_ra, [150 + 1100 * c], 20) for c in centers])
    _write_csv(tmp_path / "ir.csv", x_ir, X, names)
    _write_csv(tmp_path / "raman.csv", x_ra, Y[::-1], names[::-1], "shift")
    return x_ir, x_ra, X, Y, names


def _fit_args(tmp_path, model, epochs=1):
    """Arguments of `transfer fit` on the CSV files of `_paired_csv`."""
    return [
        "transfer",
        "fit",
        "--source",
        str(tmp_path / "ir.csv"),
        "--target",
        str(tmp_path / "raman.csv"),
        "-o",
        str(model),
        "--max-epochs",
        str(epochs),
    ]


def test_transfer_fit_and_predict_csv(tmp_path, capsys):
    x_ir, x_ra, X, Y, names = _paired_csv(tmp_path)
    model = tmp_path / "model.skmodel"
    assert main([*_fit_args(tmp_path, model, 5), "--random-state", "0"]) == 0
    assert "training on 12 pairs: 120 -> 100 points" in capsys.readouterr().out
    out = tmp_path / "pred.csv"
    assert (
        main(
            [
                "transfer",
                "predict",
                str(tmp_path / "ir.csv"),
                "-m",
                str(model),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    header, table = _read_csv(out)
    assert header == ["shift", *names]
    np.testing.assert_allclose(table[:, 0], x_ra)
    from sktransfer.cli._model_file import load_model

    regressor, extra = load_model(model)
    expected = regressor.predict(X)
    np.testing.assert_allclose(table[:, 1:].T, expected, rtol=1e-6, atol=1e-9)
    # the regressor knows the axes (their direction matters to stretch)
    np.testing.assert_array_equal(regressor.source_axis_, x_ir)
    np.testing.assert_array_equal(regressor.target_axis_, x_ra)
    assert (extra["source_axis_name"], extra["target_axis_name"]) == (
        "wavenumber",
        "shift",
    )
    # CSV columns say no modality: any input is predicted from, and the
    # target is not called Raman
    assert "source_modality" not in extra and extra["target_modality"] is None


@pytest.mark.gpu
def test_transfer_model_trained_on_the_cpu_predicts_on_a_gpu(tmp_path, capsys):
    _, _, X, _, _ = _paired_csv(tmp_path)
    model = tmp_path / "model.skmodel"
    assert main([*_fit_args(tmp_path, model, 2), "--random-state", "0"]) == 0
    out = tmp_path / "pred.csv"
    args = ["transfer", "predict", str(tmp_path / "ir.csv"), "-m", str(model)]
    assert main([*args, "-o", str(out), "--device", "cuda"]) == 0
    from sktransfer.cli._model_file import load_model

    expected = load_model(model)[0].predict(X)
    np.testing.assert_allclose(
        _read_csv(out)[1][:, 1:].T, expected, rtol=1e-4, atol=1e-6
    )


def _paired_rruff_files(ir_folder, raman_folder):
    """Four minerals' IR and Raman RRUFF files, paired by RRUFF id."""
    for folder in {ir_folder, raman_folder}:
        folder.mkdir()
    x_ir = np.linspace(380.0, 4010.0, 900)
    x_ra = np.linspace(100.0, 1300.0, 700)
    for i in range(4):
        rid = f"R05000{i}"
        _write_rruff(
            ir_folder / f"Min{i}__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
            x_ir,
            _peaks(x_ir, [1000 + 300 * i], 40),
            f"Min{i}",
            rid,
        )
        _write_rruff(
            raman_folder / f"Min{i}__{rid}__Raman__532__0__unoriented__Raman_Data_"
            f"Processed__2.txt",
            x_ra,
            _peaks(x_ra, [300 + 100 * i]),
            f"Min{i}",
            rid,
        )


def test_transfer_fit_says_what_its_correlation_is_and_spares_python_advice(
    tmp_path, capsys
):
    # a sample whose files name two species made load_rruff's warning about
    # its 'species' and 'species_groups' attributes, which this verb has not
    ir = tmp_path / "ir"
    _paired_rruff_files(ir, ir)
    path = next(
        p for p in ir.iterdir() if p.name.startswith("Min0") and "Raman" in p.name
    )
    path.write_text(path.read_text().replace("##NAMES=Min0", "##NAMES=Other"))
    model = tmp_path / "m.skmodel"
    args = ["transfer", "fit", "--source", str(ir), "--target", str(ir)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main([*args, "-o", str(model), "--max-epochs", "1"]) == 0
    out, err = capsys.readouterr()
    assert "species" not in err
    assert "correlation on the training pairs " in out
    assert "(in-sample: new materials score lower)" in out


def test_csv_trained_model_names_its_rruff_predictions_as_told(tmp_path, capsys):
    # a model trained from CSV files used to call its predictions Raman
    # whatever its target was
    _paired_csv(tmp_path)
    root = tmp_path / "rruff"
    _paired_rruff_files(root, root)
    ir_only = tmp_path / "ir_only"
    ir_only.mkdir()
    src = next(p for p in root.iterdir() if "Infrared" in p.name)
    (ir_only / src.name).write_bytes(src.read_bytes())
    from sktransfer.cli._model_file import load_model

    for told, suffix, filetype in [
        ([], "__predicted.txt", "predicted spectrum (sktransfer)"),
        (
            ["--target-modality", "xrd"],
            "__predicted_xrd.txt",
            "predicted xrd (sktransfer)",
        ),
    ]:
        model = tmp_path / f"m{len(told)}.skmodel"
        assert main([*_fit_args(tmp_path, model, 1), *told]) == 0
        assert load_model(model)[1]["target_modality"] == (told[1] if told else None)
        out = tmp_path / f"pred{len(told)}"
        predict = [
            "transfer",
            "predict",
            str(ir_only),
            "-m",
            str(model),
            "-o",
            str(out),
        ]
        assert main(predict) == 0
        (written,) = os.listdir(out)
        assert written == src.name[: -len(".txt")] + suffix
        assert read_rruff(out / written).metadata["FILETYPE"] == filetype
    capsys.readouterr()


def test_transfer_rruff_directories(tmp_path, capsys):
    root = tmp_path / "rruff"
    _paired_rruff_files(root, root)
    model = tmp_path / "m.joblib"
    assert (
        main(
            [
                "transfer",
                "fit",
                "--source",
                str(root),
                "--target",
                str(root),
                "-o",
                str(model),
                "--max-epochs",
                "2",
            ]
        )
        == 0
    )
    assert "training on 4 pairs" in capsys.readouterr().out
    from sktransfer.cli._model_file import load_model

    extra = load_model(model)[1]
    assert (extra["source_modality"], extra["target_modality"]) == ("ir", "raman")
    ir_only = tmp_path / "ir_only"
    ir_only.mkdir()
    src = next(p for p in root.iterdir() if "Infrared" in p.name)
    (ir_only / src.name).write_bytes(src.read_bytes())
    out = tmp_path / "pred"
    assert (
        main(["transfer", "predict", str(ir_only), "-m", str(model), "-o", str(out)])
        == 0
    )
    (written,) = os.listdir(out)
    assert written.endswith("__predicted_raman.txt")
    data = read_rruff(out / written)
    assert data.x.shape == (1024,) and data.metadata["SOURCE FILE"] == src.name
    assert "prediction" in written_by_sktransfer(data.metadata)  # load_rruff: no
    # Raman files given to an IR -> Raman model are refused, unless asked for
    raman = next(p for p in root.iterdir() if "Raman" in p.name)
    (ir_only / raman.name).write_bytes(raman.read_bytes())
    out2 = tmp_path / "pred2"
    predict = ["transfer", "predict", str(ir_only), "-m", str(model), "-o", str(out2)]
    assert main(predict) == 2
    err = capsys.readouterr().err
    assert "trained on ir spectra, but 1 input file(s) hold raman" in err
    assert raman.name in err and "--any-modality" in err
    assert not out2.exists()
    assert main([*predict, "--any-modality"]) == 0
    assert len(os.listdir(out2)) == 2
    # files of two other modalities are counted each (all were given the
    # first one's: "2 input file(s) hold raman spectra")
    _write_rruff(
        ir_only / "Min9__R050009__Powder__Xray_Data_XY_RAW__9.txt",
        np.arange(5.0, 90.0),
        np.ones(85),
        "Min9",
        "R050009",
    )
    assert main([*predict, "-o", str(tmp_path / "pred3")]) == 2
    err = capsys.readouterr().err
    assert "but 2 input file(s) hold other spectra (1 raman, 1 xrd), e.g." in err
    os.remove(ir_only / "Min9__R050009__Powder__Xray_Data_XY_RAW__9.txt")
    # a folder that holds other files is not written into without --overwrite
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    predict = ["transfer", "predict", str(ir_only), "-m", str(model), "-o", str(busy)]
    assert main([*predict, "--any-modality"]) == 2
    assert f"{busy} exists; pass --overwrite" in capsys.readouterr().err
    assert os.listdir(busy) == ["notes.txt"]


def test_transfer_fit_refuses_source_and_target_folders_the_wrong_way(tmp_path, capsys):
    # the pairs were matched over all folders and the direction taken from
    # the modality options alone: swapped folders trained IR -> Raman
    ram, ir = tmp_path / "ramdir", tmp_path / "irdir"
    _paired_rruff_files(ir, ram)
    model = tmp_path / "m.skmodel"
    fit = ["transfer", "fit", "-o", str(model), "--max-epochs", "1"]
    assert main([*fit, "--source", str(ram), "--target", str(ir)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "holds no ir spectra" in err, err
    assert "while the --target folders do. Swap the folders" in err
    assert not model.exists()
    # the right way round, and the other direction asked for by the options
    assert main([*fit, "--source", str(ir), "--target", str(ram)]) == 0
    options = ["--source-modality", "raman", "--target-modality", "ir", "--overwrite"]
    assert main([*fit, "--source", str(ram), "--target", str(ir), *options]) == 0


def test_transfer_fit_takes_each_side_from_its_own_folders(
    tmp_path, capsys, monkeypatch
):
    # the folders were loaded together and the first file of a sample won:
    # Raman files in the --source folder were trained on instead of the
    # --target folder's (baseline-corrected, say), without a word, or the
    # run was refused with a false "holds none of the raman spectra"
    from sktransfer.cross_modal import SpectroGenRegressor

    # the source folder sorts first: its Raman files won the old way
    mixed, corrected = tmp_path / "a_mixed", tmp_path / "b_corrected"
    _paired_rruff_files(mixed, mixed)
    corrected.mkdir()
    x_ra = np.linspace(100.0, 1300.0, 700)
    for path in mixed.iterdir():
        if "Raman" in path.name:
            i = int(path.name[3])  # Min{i}__...
            _write_rruff(
                corrected / path.name,
                x_ra,
                _peaks(x_ra, [1200 - 100 * i]),
                f"Min{i}",
                f"R05000{i}",
            )
    trained = []
    fit_to_the_end = SpectroGenRegressor._fit_to_the_end

    def record(self, X, Y):
        trained.append(Y)
        return fit_to_the_end(self, X, Y)

    monkeypatch.setattr(SpectroGenRegressor, "_fit_to_the_end", record)
    model = tmp_path / "m.skmodel"
    fit = ["transfer", "fit", "-o", str(model), "--max-epochs", "1"]
    assert main([*fit, "--source", str(mixed), "--target", str(corrected)]) == 0
    assert "training on 4 pairs" in capsys.readouterr().out
    expected = load_rruff(corrected, require="raman", outside="zero").raman
    np.testing.assert_array_equal(trained[-1], expected)
    # the same folder for both: its own Raman files
    assert (
        main([*fit, "--source", str(mixed), "--target", str(mixed), "--overwrite"]) == 0
    )
    expected = load_rruff(mixed, require="raman", outside="zero").raman
    np.testing.assert_array_equal(trained[-1], expected)
    capsys.readouterr()


def test_transfer_fit_raman_to_raman_pairs_by_id(tmp_path, capsys, monkeypatch):
    # with one modality on both sides the target's row numbers were used for
    # the source: ids on one side only shifted every pair
    from sktransfer.cross_modal import SpectroGenRegressor

    raw, corrected = tmp_path / "raw", tmp_path / "corrected"
    raw.mkdir()
    corrected.mkdir()
    x = np.linspace(100.0, 1300.0, 700)
    for i in range(5):
        for folder, ids, shift in (
            (raw, range(0, 4), 0.0),
            (corrected, range(1, 5), 50.0),
        ):
            if i in ids:
                name = f"Min{i}__R05000{i}__Raman__532__0__unoriented__R_{i}.txt"
                _write_rruff(
                    folder / name,
                    x,
                    _peaks(x, [300 + 100 * i + shift]),
                    f"Min{i}",
                    f"R05000{i}",
                )
    trained = []
    fit_to_the_end = SpectroGenRegressor._fit_to_the_end

    def record(self, X, Y):
        trained.append((X, Y))
        return fit_to_the_end(self, X, Y)

    monkeypatch.setattr(SpectroGenRegressor, "_fit_to_the_end", record)
    fit = ["transfer", "fit", "--source", str(raw), "--target", str(corrected)]
    fit += ["--source-modality", "raman", "--target-modality", "raman"]
    assert main([*fit, "-o", str(tmp_path / "m.skmodel"), "--max-epochs", "1"]) == 0
    X, Y = trained[-1]
    assert len(X) == 3  # ids 1-3 are on both sides
    grid = np.linspace(150.0, 1250.0, 1024)
    peak_x, peak_y = grid[X.argmax(axis=1)], grid[Y.argmax(axis=1)]
    np.testing.assert_allclose(peak_x, [400.0, 500.0, 600.0], atol=1.5)
    np.testing.assert_allclose(peak_y - peak_x, 50.0, atol=2.0)
    capsys.readouterr()
    # one folder for both sides paired each spectrum with itself
    same = ["transfer", "fit", "--source", str(raw), "--target", str(raw)]
    same += ["--source-modality", "raman", "--target-modality", "raman"]
    assert main([*same, "-o", str(tmp_path / "m2.skmodel")]) == 2
    assert "each would be paired with itself" in capsys.readouterr().err
    # a side without the modality: no advice to swap folders of one modality
    ir = tmp_path / "ir"
    _paired_rruff_files(ir, tmp_path / "ram")
    other = ["transfer", "fit", "--source", str(raw), "--target", str(ir)]
    other += ["--source-modality", "raman", "--target-modality", "raman"]
    assert main([*other, "-o", str(tmp_path / "m3.skmodel")]) == 2
    err = capsys.readouterr().err
    assert "--target-modality raman: no raman spectra in" in err and "Swap" not in err


def test_transfer_predict_with_a_file_that_is_no_model(tmp_path, capsys):
    bogus = tmp_path / "model.joblib"
    bogus.write_text("not a model")
    x = tmp_path / "x.csv"
    x.write_text("x,a\n1,2\n2,3\n")
    assert (
        main(
            [
                "transfer",
                "predict",
                str(x),
                "-m",
                str(bogus),
                "-o",
                str(tmp_path / "p.csv"),
            ]
        )
        == 2
    )
    assert "is not a model saved by sktransfer" in capsys.readouterr().err


def test_augment_csv_balances_classes(tmp_path, capsys):
    x = np.linspace(0.0, 100.0, 64)
    labels = ["a"] * 8 + ["b"] * 3
    Y = np.vstack([_peaks(x, [30 if lab == "a" else 70], 5) for lab in labels])
    names = [f"s{i}" for i in range(len(labels))]
    _write_csv(tmp_path / "in.csv", x, Y, names)
    with open(tmp_path / "labels.csv", "w") as f:
        f.writelines(f"{n},{lab}\n" for n, lab in zip(names, labels))
    out = tmp_path / "aug.csv"
    assert (
        main(
            [
                "augment",
                str(tmp_path / "in.csv"),
                "--labels",
                str(tmp_path / "labels.csv"),
                "-o",
                str(out),
                "--max-iter",
                "5",
            ]
        )
        == 0
    )
    assert "generated 5 spectra (b: +5)" in capsys.readouterr().out
    header, table = _read_csv(out)
    assert header[1:12] == names and header[12:] == [
        f"generated_b_{k}" for k in range(1, 6)
    ]
    np.testing.assert_allclose(table[:, 1:12].T, Y)
    # one column per name, and no generated column is a copy of an input
    assert table.shape == (64, 1 + 11 + 5)
    assert not any(np.array_equal(g, y) for g in table[:, 12:].T for y in Y)
    with open(tmp_path / "aug.labels.csv") as f:
        out_labels = [row.split(",")[1].strip() for row in f]
    assert out_labels.count("a") == 8 and out_labels.count("b") == 8
    # a header row: pandas took the first label row for one and lost it
    pd = pytest.importorskip("pandas")
    table = pd.read_csv(tmp_path / "aug.labels.csv")
    assert list(table.columns) == ["name", "label"] and len(table) == 16
    assert table.name.tolist() == header[1:]


def _four_and_two(tmp_path, first, second, label_key=None):
    """Four RRUFF Raman files of class ``first`` and two of ``second``.

    The class is the species name, or with ``label_key`` that header field
    (the species is then "S" for all six).
    """
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 128)
    for i in range(6):
        label = first if i < 4 else second
        name = label if label_key is None else "S"
        _write_rruff(
            src / f"{name}__R0600{i:02d}__Raman.txt",
            x,
            _peaks(x, [400 if i < 4 else 900]),
            name,
            f"R0600{i:02d}",
            extra="" if label_key is None else f"##{label_key}={label}\n",
        )
    return src


def test_augment_rruff_directory(tmp_path, capsys):
    src = _four_and_two(tmp_path, "Albite", "Quartz")
    out = tmp_path / "out"
    assert main(["augment", str(src), "-o", str(out), "--max-iter", "3"]) == 0
    files = sorted(os.listdir(out))
    assert len(files) == 8
    generated = [f for f in files if f.startswith("generated_")]
    assert generated == ["generated_Quartz_1.txt", "generated_Quartz_2.txt"]
    meta = read_rruff(out / generated[0]).metadata
    assert meta["NAMES"] == "Quartz" and meta["GENERATED"] == "true"
    assert "generated" in written_by_sktransfer(meta)  # load_rruff leaves it out
    original = next(f for f in files if f.startswith("Albite"))
    assert written_by_sktransfer(read_rruff(out / original).metadata) is None
    assert (out / original).read_bytes() == (src / original).read_bytes()
    assert "Quartz: +2" in capsys.readouterr().out


def test_augment_leaves_out_the_spectra_sktransfer_wrote(tmp_path, capsys):
    # run again on its own output, augment trained on its generated spectra
    # as if measured: with them, Quartz counted 4 spectra and gained none
    src = _four_and_two(tmp_path, "Albite", "Quartz")
    out, again = tmp_path / "out", tmp_path / "again"
    assert main(["augment", str(src), "-o", str(out), "--max-iter", "3"]) == 0
    capsys.readouterr()
    assert main(["augment", str(out), "-o", str(again), "--max-iter", "3"]) == 0
    printed = capsys.readouterr().out
    assert "left out 2 file(s) that sktransfer wrote" in printed
    assert "training WGAN-GP on 6 spectra" in printed and "Quartz: +2" in printed
    assert sorted(os.listdir(again)) == sorted(os.listdir(out))
    generated = out / "generated_Quartz_1.txt"
    assert main(["augment", str(generated), "-o", str(tmp_path / "x")]) == 2
    assert "every input file was written by sktransfer" in capsys.readouterr().err


def test_augment_puts_spectra_of_different_axes_on_their_common_range(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        x = np.linspace(150.0 + i, 1250.0 - 2 * i, 128 + i)
        name = "Albite" if i < 4 else "Quartz"
        centre = 400 if i < 4 else 900
        path = src / f"{name}__R0800{i:02d}__Raman.txt"
        _write_rruff(path, x, _peaks(x, [centre]), name, f"R0800{i:02d}")
    out = tmp_path / "out"
    assert main(["augment", str(src), "-o", str(out), "--max-iter", "2"]) == 0
    printed = capsys.readouterr().out
    assert "spectra put on a common grid of 130 points (155-1240)" in printed
    # the files that set the ends are named
    assert (
        "the range all of them cover: Quartz__R080005__Raman.txt starts at 155, "
        "Quartz__R080005__Raman.txt ends at 1240 (--range LOW HIGH" in printed
    )
    assert "generated 2 spectra (Quartz: +2)" in printed
    for name in ("generated_Quartz_1.txt", "generated_Quartz_2.txt"):
        np.testing.assert_array_equal(
            read_rruff(out / name).x, np.linspace(155.0, 1240.0, 130)
        )
    for path in src.iterdir():  # the inputs are copied as they are
        assert (out / path.name).read_bytes() == path.read_bytes()


def test_augment_range_sets_the_grid(tmp_path, capsys):
    # one narrow file cut every spectrum to its range, with no way out
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        x = np.linspace(100.0, 1300.0, 121) if i else np.linspace(300, 1000, 71)
        name = "Albite" if i < 4 else "Quartz"
        centre = 400 if i < 4 else 900
        path = src / f"{name}__R0800{i:02d}__Raman.txt"
        _write_rruff(path, x, _peaks(x, [centre]), name, f"R0800{i:02d}")
    out = tmp_path / "out"
    args = ["augment", str(src), "-o", str(out), "--max-iter", "2"]
    assert main([*args, "--range", "150", "1250"]) == 0
    printed = capsys.readouterr().out
    # as dense as the files (10 per 100 cm-1), the uncovered points of the
    # narrow file set to 0
    assert "spectra put on a grid of 111 points (150-1250)" in printed
    assert "note: 1 spectra do not cover all of --range" in printed
    np.testing.assert_array_equal(
        read_rruff(out / "generated_Quartz_1.txt").x, np.linspace(150, 1250, 111)
    )
    for bad, message in [
        (["1250", "150"], "--range 1250 150: the end must exceed the start"),
        (["2000", "3000"], "6 spectra do not overlap --range (2000-3000)"),
    ]:
        assert main([*args, "--overwrite", "--range", *bad]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*args, "--range", "nan", "1"])
    assert "'nan' is not a finite number" in capsys.readouterr().err
    # a file of one axis value: it was a traceback, then a spike on zeros
    one = src / "Quartz__R080009__Raman.txt"
    one.write_text("##NAMES=Quartz\n##RRUFFID=R080009\n500, 1\n")
    assert main([*args, "--overwrite", "--range", "150", "1250"]) == 2
    message = f"{one}: one axis value, no spectrum to put on a grid"
    assert message in capsys.readouterr().err


def test_augment_range_is_refused_for_csv_input(tmp_path, capsys):
    # one table, one axis: the input columns were interpolated and padded
    x = np.linspace(100.0, 1000.0, 64)
    Y = np.vstack([_peaks(x, [300 + 100 * i]) for i in range(4)])
    _write_csv(tmp_path / "in.csv", x, Y, ["a", "b", "c", "d"])
    (tmp_path / "labels.csv").write_text("a,A\nb,A\nc,A\nd,B\n")
    args = [
        "augment",
        str(tmp_path / "in.csv"),
        "--labels",
        str(tmp_path / "labels.csv"),
    ]
    assert main([*args, "-o", str(tmp_path / "out.csv"), "--range", "50", "1050"]) == 2
    assert "--range is for RRUFF files on different axes" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_augment_notes_generated_spectra_that_dip_below_their_class():
    from sktransfer.cli._augment import _note_dips

    X = np.array([[0.0, 1.0], [0.0, 2.0], [5.0, 6.0], [5.0, 7.0]])
    y = np.array(["a", "a", "b", "b"], dtype=object)
    X_new = np.array([[-0.3, 1.0], [-0.5, 1.0], [4.0, 6.0]])
    y_new = np.array(["a", "a", "b"], dtype=object)
    import contextlib
    import io

    for shared, advice in [(None, True), (1.0, True), (0.0, False)]:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            _note_dips(X, y, X_new, y_new, shared)
        # class a: lowest 0, range 2: -0.5 is below -0.4, -0.3 is not;
        # class b: 4 is below 5 - 0.4
        printed = buffer.getvalue()
        assert printed.startswith("note: 2 generated spectra (a, b) dip below")
        assert ("--shared-variation 0" in printed) is advice
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        _note_dips(X, y, X_new[:1], y_new[:1], None)
    assert buffer.getvalue() == ""


def test_augment_refuses_labels_for_rruff_input(tmp_path, capsys):
    # --labels was ignored for RRUFF files, whose classes came from NAMES
    src = _four_and_two(tmp_path, "feldspar", "silica")
    labels = tmp_path / "labels.csv"
    labels.write_text("".join(f"{p.name},B\n" for p in src.iterdir()))
    args = ["augment", str(src), "-o", str(tmp_path / "out"), "--labels", str(labels)]
    assert main([*args, "--max-iter", "2"]) == 2
    assert "--labels is for CSV input" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "in_file, option, key",
    [
        ("DESCRIPTION", "DESCRIPTION", "DESCRIPTION"),  # keeps its label
        # read_rruff gives header keys in upper case: "--label-key names"
        # found no ##names= header in files that had one
        ("names", " names ", "NAMES"),
    ],
)
def test_augment_label_key(tmp_path, in_file, option, key):
    src = _four_and_two(tmp_path, "feldspar", "silica", label_key=in_file)
    out = tmp_path / "out"
    args = ["augment", str(src), "-o", str(out), "--label-key", option]
    assert main([*args, "--max-iter", "2"]) == 0
    meta = read_rruff(out / "generated_silica_1.txt").metadata
    assert meta[key] == "silica" and meta["GENERATED"] == "true"
    assert "generated" in written_by_sktransfer(meta)
    with pytest.raises(SystemExit) as exc:
        main([*args[:-1], "A=B"])
    assert exc.value.code == 2


def _one_file_species(tmp_path):
    """Four Albite spectra, two Quartz and one each of Rutile and Zircon."""
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 128)
    species = ["Albite"] * 4 + ["Quartz"] * 2 + ["Rutile", "Zircon"]
    for i, name in enumerate(species):
        _write_rruff(
            src / f"{name}__R0700{i:02d}__Raman.txt",
            x,
            _peaks(x, [300 + 100 * species.index(name)]),
            name,
            f"R0700{i:02d}",
        )
    return src


def test_augment_single_spectrum_classes_are_refused_or_kept(tmp_path, capsys):
    src = _one_file_species(tmp_path)
    out = tmp_path / "out"
    args = ["augment", str(src), "-o", str(out), "--max-iter", "2"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "2 class(es) to augment have a single spectrum (Rutile, Zircon)" in err
    assert "--min-spectra 2" in err and not out.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "regression target?" warning either
        assert main([*args, "--min-spectra", "2"]) == 0
    printed = capsys.readouterr().out
    assert "fewer than 2 spectra: 2 class(es) (Rutile, Zircon)" in printed
    assert "(Quartz: +2)" in printed
    files = sorted(os.listdir(out))
    assert len(files) == 8 + 2
    assert [f for f in files if f.startswith("generated_")] == [
        "generated_Quartz_1.txt",
        "generated_Quartz_2.txt",
    ]
    # --min-spectra 3 leaves Quartz alone too: nothing to generate
    out3 = tmp_path / "out3"
    assert main([*args[:3], str(out3), *args[4:], "--min-spectra", "3"]) == 0
    printed = capsys.readouterr().out
    assert "3 class(es) (Quartz, Rutile, Zircon)" in printed
    assert "generated 0 spectra (none needed)" in printed
    # and trains no generator for nothing
    assert "no class to augment: the inputs are copied" in printed
    assert "training WGAN-GP" not in printed
    assert len(os.listdir(out3)) == 8
    for path in src.iterdir():
        assert (out3 / path.name).read_bytes() == path.read_bytes()


def test_augment_strategy_as_counts_or_ratio(tmp_path, capsys):
    src = _one_file_species(tmp_path)
    out = tmp_path / "out"
    args = ["augment", str(src), "-o", str(out), "--max-iter", "2"]
    assert main([*args, "--strategy", '{"Quartz": 5}']) == 0
    assert "generated 3 spectra (Quartz: +3)" in capsys.readouterr().out
    assert len(os.listdir(out)) == 8 + 3
    bad_out = str(tmp_path / "x")
    args[3] = bad_out
    # refused by the sampling strategy rules
    for strategy, message in [
        ('{"Quartz": 1}', "--strategy: With over-sampling methods"),
        ('{"Beryl": 3}', "--strategy: The {'Beryl'} target class"),
        ("0.5", '--strategy: "sampling_strategy" can be a float only'),
    ]:
        assert main([*args, "--strategy", strategy]) == 2
        assert message in capsys.readouterr().err, strategy
    # refused when parsing the command line
    for strategy, message in [
        ('{"Quartz": 2.5}', "count of class 'Quartz' must be an integer"),
        ('{"Quartz": 3', "is not a JSON object of class: count"),
        ("most", "'most' is not one of auto, minority"),
        ("nan", "'nan' is not one of auto, minority"),
        ("inf", "'inf' is not one of auto, minority"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main([*args, "--strategy", strategy])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err, strategy
    assert not os.path.exists(bad_out)


def test_verb_help(capsys):
    for verb in (
        ["baseline"],
        ["transfer", "fit"],
        ["transfer", "predict"],
        ["augment"],
    ):
        with pytest.raises(SystemExit) as exc:
            main([*verb, "--help"])
        assert exc.value.code == 0
        assert "example" in capsys.readouterr().out


def _parsers(parser, path=()):
    """Yield ``(command words, parser)`` of every command and sub-command."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                assert listed.get(name), f"{(*path, name)} has no help in the list"
                yield from _parsers(sub, (*path, name))


def test_every_command_and_option_says_what_it_is_for():
    # `--help` lists each command and option with a line on what it does
    from sktransfer.cli import build_parser

    commands = list(_parsers(build_parser()))
    assert {" ".join(p) for p, _ in commands} >= {
        "demo",
        "baseline",
        "transfer",
        "transfer fit",
        "transfer predict",
        "augment",
    }
    for path, parser in commands:
        assert parser.description, path
        if path in {("baseline",), ("transfer", "predict"), ("augment",)}:
            assert "INPUT [INPUT ...]" in parser.format_usage(), path
        if "\n" in parser.description.strip():
            # a description of several lines as written: its examples keep
            # their lines
            assert parser.format_help().count(parser.description.strip()) == 1, path
        for action in parser._actions:
            # (the list of sub-commands: each is checked above)
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, (path, action.dest)


def test_a_rewritten_filetype_reads_back_as_written(tmp_path, capsys):
    # the new FILETYPE value was written without its entities: read back,
    # "Raman &lt;RAW&gt;" (as the file's "&amp;lt;" decodes) became "Raman <RAW>"
    src = tmp_path / "raw"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 200)
    extra = "##FILETYPE=Raman &amp;lt;RAW&amp;gt;\n"
    name = "A__R040068__Raman.txt"
    _write_rruff(src / name, x, _peaks(x, [500]) + 1.0, "A", "R040068", extra)
    assert read_rruff(src / name).metadata["FILETYPE"] == "Raman &lt;RAW&gt;"
    out = tmp_path / "out"
    args = ["baseline", str(src), "-o", str(out), "--keep-baseline"]
    assert main([*args, "--method", "snip"]) == 0
    meta = read_rruff(out / name).metadata
    assert meta["FILETYPE"] == "baseline of Raman &lt;RAW&gt; (sktransfer)"


def test_spectra_stopped_at_max_iter_are_said_once_for_all_files(tmp_path, capsys):
    # files on axes of their own are corrected apart: each said "1 of 1
    # spectra reached max_iter", once per file, naming an estimator class
    # the user never typed and no file
    from sktransfer.datasets import write_rruff

    src = tmp_path / "raw"
    src.mkdir()
    for i in range(3):
        x = np.linspace(200.0 + i, 1200.0 + i, 300)
        y = _peaks(x, [500, 900]) + 1e-3 * x
        write_rruff(src / f"s{i}__R0{i}__Raman.txt", x, y, {"NAMES": f"s{i}"})
    argv = ["baseline", str(src), "-o", str(tmp_path / "out"), "--method", "arpls"]
    assert main([*argv, "--param", "max_iter=1"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        "sktransfer baseline: warning: arpls: 3 of 3 spectra reached max_iter=1 "
        "before the tolerance tol=0.001 (files such as s0__R00__Raman.txt, "
        "s1__R01__Raman.txt, ...); "
        "raise the limit with --param max_iter=... or loosen --param tol="
    )


def test_only_files_whose_spectra_all_stopped_are_named():
    # a group of three files on one axis, one of them stopped: the message
    # named the other two (and a CSV's one name once per spectrum)
    from sklearn.exceptions import ConvergenceWarning

    from sktransfer.cli._baseline import _Notes

    def caught(k, n):
        message = (
            f"PybaselinesCorrector: {k} of {n} spectra reached max_iter=50 before "
            "the tolerance tol=0.001; consider increasing max_iter or tol."
        )
        return [warnings.WarningMessage(message, ConvergenceWarning, "f.py", 1)]

    notes = _Notes("arpls", 6)
    notes.add(caught(1, 3), ["a.txt", "b.txt", "c.txt"])
    notes.add(caught(2, 2), ["d.txt", "d.txt"])  # one CSV file, two spectra
    with pytest.warns(ConvergenceWarning) as record:
        notes.show()
    assert str(record[0].message).startswith(
        "arpls: 3 of 6 spectra reached max_iter=50 before the tolerance "
        "tol=0.001 (files such as d.txt); raise the limit"
    )
    notes = _Notes("arpls", 3)
    notes.add(caught(1, 3), ["a.txt", "b.txt", "c.txt"])
    with pytest.warns(ConvergenceWarning, match=r"tol=0.001; raise the limit"):
        notes.show()
