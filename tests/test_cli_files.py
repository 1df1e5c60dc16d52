"""Reading and writing the spectra files of the command line."""

import os

import numpy as np
import pytest

from sktransfer.cli import CLIError
from sktransfer.cli._files import (
    Outputs,
    Spectra,
    check_finite,
    check_output,
    check_regular_file,
    input_files,
    overlap_grid,
    read_csv_rows,
    read_csv_spectra,
    read_spectra,
    report_coverage,
    spectra_on_grid,
)


def _csv(tmp_path, content, name="in.csv"):
    path = tmp_path / name
    path.write_text(content)
    return str(path)


def _error(function, *args):
    with pytest.raises(CLIError) as exc:
        function(*args)
    return str(exc.value)


# ------------------------------------------------------------------ Spectra
def test_common_axis_is_the_shared_axis_or_none():
    x = np.array([1.0, 2.0, 3.0])
    y = np.zeros(3)
    assert Spectra([x], [y], ["a"], "csv").common_axis() is x
    assert Spectra([x, x.copy()], [y, y], ["a", "b"], "csv").common_axis() is x
    # same length, other values; another length
    assert Spectra([x, x + 1], [y, y], ["a", "b"], "csv").common_axis() is None
    longer = np.array([1.0, 2.0, 3.0, 4.0])
    assert Spectra([x, longer], [y, np.zeros(4)], "ab", "csv").common_axis() is None


# ---------------------------------------------------------------- CSV input
def test_csv_spectra_hold_their_names_files_and_no_metadata(tmp_path):
    path = _csv(tmp_path, "shift,a,b\n1,2,3\n2,4,5\n")
    spectra = read_csv_spectra(path)
    assert spectra.format == "csv" and spectra.axis_name == "shift"
    assert spectra.names == ["a", "b"] and spectra.paths == [path, path]
    assert spectra.metadata == [{}, {}] and spectra.modalities == []
    np.testing.assert_array_equal(spectra.matrix(), [[2.0, 4.0], [3.0, 5.0]])


def test_square_headerless_csv_reads_one_spectrum_per_column(tmp_path):
    # as many columns as rows: the first row does not make it a row table
    spectra = read_csv_spectra(_csv(tmp_path, "1,2,3\n2,1,1\n3,4,4\n"))
    np.testing.assert_array_equal(spectra.axes[0], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(spectra.matrix(), [[2.0, 1.0, 4.0], [3.0, 1.0, 4.0]])


def test_headerless_row_table_of_three_columns_is_refused(tmp_path):
    path = _csv(tmp_path, "400,401,402\n1,2,3\n")
    message = _error(read_csv_spectra, path)
    assert "3 columns and 2 rows, and the first row runs monotonically" in message


@pytest.mark.parametrize("first_row", ["400,400,401,402", "403,402,402,401"])
def test_headerless_row_table_whose_axis_repeats_a_value_is_refused(
    tmp_path, first_row
):
    # an axis written with too few digits repeats a value: it was read as 3
    # spectra of 2 points on the axis [400, 1] (baselines of zero, rc 0)
    path = _csv(tmp_path, f"{first_row}\n1,2,3,4\n")
    message = _error(read_csv_spectra, path)
    assert "4 columns and 2 rows, and the first row runs monotonically" in message


@pytest.mark.parametrize(
    "first_row", ["400,0,0,0", "400,5,5,5", "400,400.5,399.5,401", "1,1,2,2,3"]
)
def test_first_row_that_does_not_run_like_an_axis_reads_as_columns(tmp_path, first_row):
    # a wide headerless table is refused only when its first row is an axis:
    # not when it goes back, or repeats as often as it moves on (the first
    # points of spectra stored one per column, padded with zeros)
    n = first_row.count(",")
    text = f"{first_row}\n{','.join(str(i + 2) for i in range(n + 1))}\n"
    spectra = read_csv_spectra(_csv(tmp_path, text))
    np.testing.assert_array_equal(spectra.axes[0], [float(first_row.split(",")[0]), 2])
    assert spectra.names == [f"spectrum{i}" for i in range(1, n + 1)]


def test_decimal_point_in_the_first_row_of_a_decimal_comma_file(tmp_path):
    path = _csv(tmp_path, "400.0;401.0;402.0;403.0\n1,5;2;3;4\n")
    message = _error(read_csv_spectra, path)
    assert f"{path}, line 1: '400.0' has a decimal point" in message


def test_word_in_a_csv_is_not_a_number_without_a_comma_hint(tmp_path):
    path = _csv(tmp_path, "x,a\n1,2\n2,oops\n")
    message = _error(read_csv_spectra, path)
    assert message.endswith("line 3: 'oops' is not a number")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "in.csv is empty"),
        ("\n ,  \n", "in.csv is empty"),
        ("x,a\n", "in.csv: no numeric rows after the header"),
        (
            "x,a,b,a\n1,2,3,4\n2,3,4,5\n",
            "spectrum names must be unique; repeated: ['a']",
        ),
        ("x,a,b\n1,2,3\n2,4,nan\n3,5,6\n4,7,8\n", "in.csv, line 3: NaN or infinity"),
        ("x,a,b\n1,2,inf\n2,4,5\n3,5,6\n", "in.csv, line 2: NaN or infinity"),
    ],
)
def test_csv_without_usable_spectra_is_refused(tmp_path, content, message):
    assert message in _error(read_csv_spectra, _csv(tmp_path, content))


def test_titled_csv_with_a_bad_axis_names_the_axis_column(tmp_path):
    # the header row is words: no hint about a row table is looked for
    path = _csv(tmp_path, "x,a,b\n2,1,1\n1,2,2\n3,3,3\n")
    message = _error(read_csv_spectra, path)
    expected = "line 4: the axis column must be strictly monotonic (3 follows 1)"
    assert message == f"{path}, {expected}"


@pytest.mark.parametrize(
    "content, where",
    [
        # a value repeated (an axis written with too few digits)
        ("x,a\n400,1\n400.4,2\n400.4,3\n401,4\n", "line 4: (400.4 follows 400.4)"),
        # a step back in a decreasing axis, after a blank line
        ("x,a\n9,1\n8,2\n\n8.5,3\n", "line 5: (8.5 follows 8)"),
        # no step at all
        ("x,a\n5,1\n5,2\n5,3\n", "line 3: (5 follows 5)"),
    ],
)
def test_an_axis_that_does_not_run_one_way_is_refused_where_it_breaks(
    tmp_path, content, where
):
    path = _csv(tmp_path, content)
    line, detail = where.split(": ")
    message = _error(read_csv_spectra, path)
    assert (
        message
        == f"{path}, {line}: the axis column must be strictly monotonic {detail}"
    )


def test_row_numbers_are_refused_only_in_an_unnamed_first_column(tmp_path):
    # an unnamed axis column that is not 0, 1, ...
    spectra = read_csv_spectra(_csv(tmp_path, ",a\n400,1\n401,2\n402,3\n"))
    assert spectra.axis_name == "x"
    np.testing.assert_array_equal(spectra.axes[0], [400.0, 401.0, 402.0])
    # an axis 0, 1, ... named or in a headerless table
    for content in ("index,a\n0,1\n1,2\n2,3\n", "0,1\n1,2\n2,3\n"):
        spectra = read_csv_spectra(_csv(tmp_path, content))
        np.testing.assert_array_equal(spectra.axes[0], [0.0, 1.0, 2.0])


# ---------------------------------------------------------------- the files
def test_regular_file_check(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    check_regular_file(str(blocker))
    assert (
        _error(check_regular_file, str(tmp_path)) == f"{tmp_path} is not a regular file"
    )
    missing = str(tmp_path / "missing.csv")
    assert (
        _error(check_regular_file, missing) == f"{missing}: no such file or directory"
    )
    below = os.path.join(str(blocker), "x.csv")
    assert _error(check_regular_file, below) == f"cannot read {below}: Not a directory"


def test_separator_is_judged_on_the_first_five_lines(tmp_path):
    # a ';' file whose sixth line is short: the line is named, not the file
    rows = "".join(f"{i};{i + 1};{i + 2}\n" for i in range(1, 5))
    path = _csv(tmp_path, f"x;a;b\n{rows}5;6\n")
    assert _error(read_csv_spectra, path) == f"{path}, line 6: 2 columns, expected 3"


def test_folder_files_come_before_those_of_its_subfolders(tmp_path):
    (tmp_path / "a_sub").mkdir()
    for name in ("z.txt", "b.TXT", "a_sub/a.txt", ".hidden.txt", "notes.md"):
        (tmp_path / name).write_text("1, 2\n")
    files = input_files([str(tmp_path), str(tmp_path / "notes.md")])
    expected = ["b.TXT", "z.txt", "a_sub/a.txt", "notes.md"]
    assert files == [str(tmp_path / name) for name in expected]


def test_one_csv_file_only(tmp_path):
    a, b = _csv(tmp_path, "x,a\n1,2\n2,3\n"), _csv(tmp_path, "x,a\n1,2\n", "b.csv")
    message = "give one CSV file, or RRUFF files and directories"
    assert _error(read_spectra, [a, b]) == message
    assert _error(read_spectra, [str(tmp_path / "Quartz.txt"), a]) == message


# ------------------------------------------------------- grids and coverage
def _spectra(*axes):
    return Spectra(
        axes=[np.asarray(a, dtype=float) for a in axes],
        values=[2.0 * np.asarray(a, dtype=float) for a in axes],
        names=[f"s{i}" for i in range(len(axes))],
        format="rruff",
        paths=[f"s{i}.txt" for i in range(len(axes))],
    )


def test_spectra_on_grid_interpolates_and_zeroes_the_points_not_covered(capsys):
    grid = np.arange(0.0, 11.0)
    spectra = _spectra(np.linspace(0.0, 10.0, 41), [5.0, 7.5, 10.0])
    X = spectra_on_grid(spectra, grid)
    np.testing.assert_allclose(X[0], 2.0 * grid)
    np.testing.assert_allclose(X[1], np.where(grid >= 5.0, 2.0 * grid, 0.0))
    assert capsys.readouterr().out == (
        "note: 1 spectra do not cover all of the grid; the missing points were "
        "set to 0\n"
    )
    # fully covered: no note
    spectra_on_grid(_spectra(grid, grid[::-1]), grid)
    assert capsys.readouterr().out == ""


def test_spectrum_beside_the_grid_is_named(capsys):
    grid = np.arange(0.0, 11.0)
    spectra = _spectra(grid, [20.0, 30.0])
    message = _error(spectra_on_grid, spectra, grid, "the model's range")
    assert message == "1 spectra do not overlap the model's range (0-10): s1.txt"


@pytest.mark.parametrize(
    "n_empty, listed",
    [(3, "p0, p1, p2"), (4, "p0, p1, p2 and 1 more"), (6, "p0, p1, p2 and 3 more")],
)
def test_coverage_error_lists_three_files(n_empty, listed):
    covered = np.array([0.0] * n_empty + [0.5])
    paths = [f"p{i}" for i in range(n_empty + 1)]
    message = _error(report_coverage, covered, paths, np.array([5.0, 1.0]), "it", "ir ")
    assert message == f"{n_empty} ir spectra do not overlap it (1-5): {listed}"


def test_coverage_note_counts_the_spectra_with_gaps(capsys):
    report_coverage(np.array([1.0, 0.25, 0.999, 1.0]), list("abcd"), np.ones(2))
    assert capsys.readouterr().out.startswith("note: 2 spectra do not cover all")


def test_overlap_grid_spans_the_common_range():
    spectra = _spectra(np.linspace(0.0, 10.0, 11), np.linspace(12.0, 2.0, 21))
    np.testing.assert_allclose(overlap_grid(spectra), np.linspace(2.0, 10.0, 16))
    np.testing.assert_allclose(overlap_grid(spectra, 5), np.linspace(2.0, 10.0, 5))
    np.testing.assert_allclose(overlap_grid(spectra, 1), [2.0, 10.0])
    long = _spectra(np.linspace(0.0, 1.0, 3000), np.linspace(0.0, 1.0, 2000))
    assert overlap_grid(long).size == 1024
    for axes in ([[0.0, 1.0], [2.0, 3.0]], [[0.0, 1.0], [1.0, 2.0]]):
        message = _error(overlap_grid, _spectra(*axes))
        assert message == "the spectra share no common range of the axis"


# ------------------------------------------------------------------ outputs
def test_check_output_refuses_existing_outputs_and_makes_folders(tmp_path):
    existing = tmp_path / "out.csv"
    existing.write_text("mine")
    message = f"{existing} exists; pass --overwrite to replace it"
    assert _error(check_output, str(existing), False) == message
    check_output(str(existing), True)
    assert existing.read_text() == "mine"
    # the folder of a file, or the folder itself, is made
    check_output(str(tmp_path / "new" / "sub" / "out.csv"), False)
    assert (tmp_path / "new" / "sub").is_dir()
    assert not (tmp_path / "new" / "sub" / "out.csv").exists()
    check_output(str(tmp_path / "report"), False, directory=True)
    assert (tmp_path / "report").is_dir()
    # an empty folder may be used, one with files only with overwrite
    check_output(str(tmp_path / "report"), False, directory=True)
    (tmp_path / "report" / "old.md").write_text("old")
    assert "pass --overwrite" in _error(
        check_output, str(tmp_path / "report"), False, True
    )
    message = _error(check_output, str(existing / "sub"), False, True)
    assert message == f"cannot create {existing / 'sub'}: Not a directory"


def test_check_finite_counts_the_bad_spectra():
    check_finite([np.ones(3), np.zeros(2)], "the results")
    rows = [np.ones(3), np.array([1.0, np.nan]), np.array([np.inf]), np.ones(1)]
    message = _error(check_finite, rows, "the results")
    assert message.startswith("the results hold NaN or infinity (2 of 4 spectra)")


def _planned(tmp_path, names, overwrite=False, directory=None):
    outputs = Outputs(overwrite, directory=directory)
    for name in names:
        outputs.add_text(str(tmp_path / name), name, f"from {name}")
    return outputs


def test_outputs_write_every_file_and_return_their_names(tmp_path):
    outputs = _planned(tmp_path, ["a.txt", "sub/b.txt"])
    written = outputs.write()
    assert written == [str(tmp_path / "a.txt"), str(tmp_path / "sub" / "b.txt")]
    assert (tmp_path / "sub" / "b.txt").read_text() == "sub/b.txt"
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "sub"]


def test_outputs_of_one_name_are_refused_without_regard_to_case(tmp_path):
    outputs = _planned(tmp_path, ["A.txt", "a.txt", "b.txt"])
    message = _error(outputs.check)
    assert message.startswith(
        "1 output names would be used twice (A.txt from from A.txt, from a.txt); "
    )
    three = _planned(tmp_path, ["a.txt", "a.txt", "b.txt", "b.txt", "c.txt", "C.txt"])
    assert _error(three.check).startswith(
        "3 output names would be used twice (a.txt from from a.txt, from a.txt; "
        "b.txt from from b.txt, from b.txt; c.txt from from c.txt, from C.txt); "
    )
    four = _planned(tmp_path, [f"{n}.txt" for n in "abcd" for _ in range(2)])
    assert "from c.txt and 1 more); nothing" in _error(four.check)
    five = _planned(tmp_path, [f"{n}.txt" for n in "abcde" for _ in range(2)])
    message = _error(five.check)
    assert message.startswith("5 output names would be used twice (a.txt from")
    assert "c.txt from from c.txt, from c.txt and 2 more); nothing was written" in (
        message
    )
    assert "d.txt" not in message


def test_outputs_refuse_existing_files_unless_overwrite(tmp_path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("mine")
    one = _error(_planned(tmp_path, ["a.txt", "new.txt"]).check)
    assert one == f"{tmp_path / 'a.txt'} exists; pass --overwrite to replace it"
    two = _error(_planned(tmp_path, ["new.txt", "a.txt", "b.txt"]).check)
    assert two.startswith(f"{tmp_path / 'a.txt'} (and 1 more) exists")
    three = _error(_planned(tmp_path, ["new.txt", "a.txt", "b.txt", "c.txt"]).check)
    assert three.startswith(f"{tmp_path / 'a.txt'} (and 2 more) exists")
    _planned(tmp_path, ["a.txt", "b.txt"], overwrite=True).write()
    assert (tmp_path / "b.txt").read_text() == "b.txt"
    # an output folder that holds files
    folder = tmp_path / "out"
    folder.mkdir()
    _planned(tmp_path, ["out/a.txt"], directory=str(folder)).check()
    (folder / "x.txt").write_text("mine")
    message = _error(_planned(tmp_path, ["out/a.txt"], directory=str(folder)).check)
    assert message == f"{folder} exists; pass --overwrite to replace it"


def test_outputs_of_another_kind_may_not_replace_an_input(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x,a\n")
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    outputs = Outputs(True)
    outputs.add_text(str(data), "", "the model", kind="model")
    outputs.add_inputs([str(data), data], "the --source input")
    message = _error(outputs.check)
    assert message.startswith(f"{data} is the --source input; writing the model over")
    # the same kind (an in-place correction), another file, or a link in
    # the place of the output are allowed
    for path, kind in (
        (data, "spectra"),
        (tmp_path / "m.txt", "model"),
        (link, "model"),
    ):
        outputs = Outputs(True)
        outputs.add_text(str(path), "", "the model", kind=kind)
        outputs.add_inputs([str(data)], "the --source input")
        outputs.check()


def test_outputs_are_checked_against_inputs_in_linear_time(tmp_path, monkeypatch):
    # every output was compared with every input: F^2 os.stat calls for
    # transfer predict of F files (1.2 s for 8000)
    n = 200
    inputs = [tmp_path / f"in{i}.txt" for i in range(n)]
    for path in inputs:
        path.write_text("x")
    outputs = Outputs(True)
    for i in range(n):
        outputs.add_text(str(tmp_path / f"out{i}.txt"), "", "a test", "predicted")
    outputs.add_inputs(inputs, "an input")
    outputs.add_inputs([inputs[-1]], "the -m model file", "model")
    calls = []
    stat = os.stat
    monkeypatch.setattr(os, "stat", lambda *a, **k: calls.append(1) or stat(*a, **k))
    outputs._check_inputs()
    assert len(calls) <= 4 * n
    # an output over an input of another kind is found, the model file too
    outputs.add_text(str(inputs[-1]), "", "a test", "predicted")
    message = _error(outputs._check_inputs)
    assert message.startswith(f"{inputs[-1]} is an input; writing the predicted")
    outputs = Outputs(True)
    outputs.add_text(str(inputs[-1]), "", "a test", "spectra")
    outputs.add_inputs([inputs[-1]], "the -m model file", "model")
    message = _error(outputs._check_inputs)
    assert message.startswith(f"{inputs[-1]} is the -m model file; writing the")


def test_unwritable_output_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    outputs = _planned(tmp_path, ["file/sub/a.txt"])
    message = _error(outputs.check)
    assert message == (
        f"cannot write to {blocker / 'sub'}: {blocker} is not a directory"
    )


def test_rruff_output_that_cannot_be_written_is_named(tmp_path):
    outputs = Outputs(False)
    path = str(tmp_path / "a.txt")
    message = _error(outputs.add_rruff, path, [1.0, 2.0], [1.0], {}, "a test")
    assert message.startswith(f"cannot write {path}: x and y must be 1-D arrays")


def test_csv_output_is_exact_with_spreadsheet_line_ends(tmp_path):
    axis = np.array([0.1, 1 / 3])
    Y = np.array([[1e-300, 2.0 / 7.0], [-0.0, 12345.678901234567]])
    outputs = Outputs(False)
    outputs.add_csv(tmp_path / "o.csv", axis, Y, ["a", "b,c"], "x (cm-1)", "test")
    outputs.write()
    assert (tmp_path / "o.csv").read_bytes() == (
        b'x (cm-1),a,"b,c"\r\n'
        b"0.1,1e-300,-0.0\r\n"
        b"0.3333333333333333,0.2857142857142857,12345.678901234567\r\n"
    )
    spectra = read_csv_spectra(str(tmp_path / "o.csv"))
    np.testing.assert_array_equal(spectra.matrix(), Y)
    np.testing.assert_array_equal(spectra.axes[0], axis)


def test_csv_with_a_cell_too_long_for_a_table_is_a_one_line_error(tmp_path):
    long_cell = "9" * 200_000
    for content in (
        f"x,a\n1,{long_cell}\n2,3\n",
        f"x,a\n1,2\n2,3\n3,4\n4,5\n5,{long_cell}\n",
    ):
        path = _csv(tmp_path, content)
        assert _error(read_csv_spectra, path) == f"{path} is not a text CSV file"
        assert _error(read_csv_rows, path) == f"{path} is not a text CSV file"


def test_failed_rename_with_overwrite_takes_the_set_back(tmp_path, monkeypatch):
    # with --overwrite the files published before the failure stayed ("1 of
    # 3 files were written"): the set is now whole or nothing, as without
    from sktransfer.cli import _files

    replace = os.replace

    def second_fails(src, dst):
        if dst.endswith("b.txt"):
            raise PermissionError(13, "Permission denied")
        replace(src, dst)

    monkeypatch.setattr(_files.os, "replace", second_fails)
    outputs = _planned(tmp_path, ["a.txt", "b.txt", "c.txt"], overwrite=True)
    message = _error(outputs.write)
    assert message == (
        f"cannot write {tmp_path / 'b.txt'}: Permission denied; nothing was written"
    )
    assert os.listdir(tmp_path) == []  # and no staged file


def test_failed_publish_of_new_files_takes_the_others_back(tmp_path, monkeypatch):
    # without --overwrite every published file is new, so a failure in the
    # middle leaves nothing (it used to leave the files before it)
    import errno

    from sktransfer.datasets import _write

    link_new = _write.link_new

    def second_fails(tmp, path):
        if path.endswith("b.txt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return link_new(tmp, path)

    monkeypatch.setattr(_write, "link_new", second_fails)
    outputs = _planned(tmp_path, ["a.txt", "b.txt", "c.txt"])
    message = _error(outputs.write)
    assert message == (
        f"cannot write {tmp_path / 'b.txt'}: No space left on device; nothing "
        "was written"
    )
    assert os.listdir(tmp_path) == []


def test_output_name_too_long_is_refused_before_the_work(tmp_path):
    # a name over the file system's limit failed only when the files were
    # renamed into place, after training and after the earlier files
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    long_name = "b" * (limit - 4) + "__predicted_raman.txt"
    outputs = _planned(tmp_path, ["a.txt", long_name])
    message = _error(outputs.check)
    assert message.startswith(f"the output name '{long_name}' is ")
    assert f"over the {limit} that {tmp_path} allows; nothing was written" in message
    assert os.listdir(tmp_path) == []
    _planned(tmp_path, ["a.txt", long_name[-limit:]]).write()
    assert len(os.listdir(tmp_path)) == 2


def test_overwrite_in_a_folder_keeps_and_names_the_other_files(tmp_path, capsys):
    # --overwrite used to add files to the folder without a word, so an
    # earlier run's outputs of other names sat unnoticed beside the new ones
    out = tmp_path / "out"
    _planned(out, ["a.txt", "b.txt", "c.txt"], directory=str(out)).write()
    assert capsys.readouterr().out == ""
    _planned(out, ["a.txt"], overwrite=True, directory=str(out)).write()
    assert capsys.readouterr().out == (
        f"note: {out} also holds 2 file(s) that this command did not write "
        "(b.txt and 1 more); they were kept\n"
    )
    assert sorted(os.listdir(out)) == ["a.txt", "b.txt", "c.txt"]
    assert (out / "a.txt").read_text() == "a.txt"
