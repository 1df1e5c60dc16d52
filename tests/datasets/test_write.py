import errno
import os
import resource
import stat

import numpy as np
import pytest

from sktransfer.datasets import read_rruff, write_rruff


def test_round_trip_is_exact(tmp_path):
    # 0.002 cm-1 steps near 2000 cm-1 need more than 6 significant digits.
    x = 2000.0 + 0.002 * np.arange(400)
    y = np.random.default_rng(0).normal(size=400) * 1e-7
    path = tmp_path / "fine.txt"
    write_rruff(path, x, y, {"NAMES": "Quartz"})
    data = read_rruff(path)
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.y, y)
    assert np.unique(data.x).size == 400


def test_header_values_round_trip(tmp_path):
    meta = {
        "NAMES": "Quartz & Calcite",
        "COMMENT": "first line\nsecond line\r\n12, 13",
        "LOCALITY": "Minas Gerais \u00f8 &#931;",
        "CONTROL": "form\x0cfeed, escape \x1b, next line \x85, \u2028 and more",
    }
    path = tmp_path / "meta.txt"
    write_rruff(path, [1.0, 2.0], [3.0, 4.0], meta)
    data = read_rruff(path)
    assert {k: data.metadata[k] for k in meta} == meta
    # A line break in a value never creates a data row.
    np.testing.assert_array_equal(data.x, [1.0, 2.0])


def test_header_values_keep_white_space_at_either_end(tmp_path):
    # read_rruff strips a value before decoding its entities: such white
    # space used to be lost on the way back
    meta = {
        "LOCALITY": "  Brazil\t",
        "NOTE": " ",
        "SITE": "\u00a0a  b\u00a0",
        # control characters that html.unescape would drop or map to
        # Windows-1252 ("\x85" to an ellipsis)
        "CONTROL": "\x0bx\x1f",
        "MORE": "\x85x\x1c\x1d\x1e",
    }
    path = tmp_path / "spaces.txt"
    write_rruff(path, [1.0, 2.0], [3.0, 4.0], meta)
    assert {k: read_rruff(path).metadata[k] for k in meta} == meta


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_rruff(path, [1.0, 2.0], [1.0, 2.0])
    assert path.read_text() == "keep me"
    write_rruff(path, [1.0, 2.0], [1.0, 2.0], overwrite=True)
    np.testing.assert_array_equal(read_rruff(path).y, [1.0, 2.0])


@pytest.mark.parametrize("overwrite", ["False", "True", 0, 1, None])
def test_overwrite_must_be_a_bool(tmp_path, overwrite):
    # overwrite="False" (a config value read as text) replaced the file
    path = tmp_path / "a.txt"
    path.write_text("keep me")
    with pytest.raises(ValueError) as info:
        write_rruff(path, [1.0, 2.0], [1.0, 2.0], overwrite=overwrite)
    assert str(info.value) == f"overwrite must be True or False, got {overwrite!r}."
    assert path.read_text() == "keep me"
    assert os.listdir(tmp_path) == ["a.txt"]
    write_rruff(path, [1.0, 2.0], [5.0, 6.0], overwrite=np.True_)
    np.testing.assert_array_equal(read_rruff(path).y, [5.0, 6.0])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_rruff(path, [1.0, 2.0], [1.0, 2.0], overwrite=np.False_)


def test_a_file_made_while_writing_is_not_replaced(tmp_path, monkeypatch):
    # the name was checked before the file was written and then renamed
    # over whatever had appeared meanwhile (another process's output)
    from sktransfer.datasets import _write

    path = tmp_path / "a.txt"
    staged = _write.stage_file

    def racing(target, write, sync=True):
        tmp = staged(target, write, sync)
        path.write_text("theirs\n")
        return tmp

    monkeypatch.setattr(_write, "stage_file", racing)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_rruff(path, [1.0, 2.0], [3.0, 4.0])
    assert path.read_text() == "theirs\n"
    assert os.listdir(tmp_path) == ["a.txt"]
    write_rruff(path, [1.0, 2.0], [3.0, 4.0], overwrite=True)
    assert read_rruff(path).y.tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    "x, y, meta, match",
    [
        ([1.0, 2.0], [1.0], None, "same non-zero length"),
        ([1.0, np.nan], [1.0, 2.0], None, "finite"),
        ([1.0, 2.0], [1.0, np.inf], None, "finite"),
        ([1.0, 2.0], [1.0, 2.0], {"A=B": 1}, "Header key"),
        ([1.0, 2.0], [1.0, 2.0], {"A\nB": 1}, "Header key"),
        ([1.0, 2.0], [1.0, 2.0], {"end": 1}, "reserved"),
        # read_rruff would refuse the file as binary
        ([1.0, 2.0], [1.0, 2.0], {"A": "padded\x00\x00"}, "NUL character"),
        ([1.0, 2.0], [1.0, 2.0], {"A\x00": 1}, "key .* NUL character"),
        # a file name that is not UTF-8, as os.fsdecode gives it
        ([1.0, 2.0], [1.0, 2.0], {"SOURCE": "\udce9t\u00e9.txt"}, "lone surrogate"),
    ],
)
def test_bad_arguments(tmp_path, x, y, meta, match):
    with pytest.raises(ValueError, match=match):
        write_rruff(tmp_path / "bad.txt", x, y, meta)
    assert os.listdir(tmp_path) == []


def _limited(limit, function):
    """Run ``function`` in a child process whose files may not exceed ``limit``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        try:
            function()
        except OSError:
            os._exit(3)
        os._exit(0)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_write_errors_name_the_file_asked_for(tmp_path, monkeypatch):
    # "" staged a temporary file in the parent folder, "new/" and a failed
    # write named the temporary file or no file at all
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="path is empty"):
        write_rruff("", [1.0], [2.0])
    with pytest.raises(IsADirectoryError, match="'new/' names a directory"):
        write_rruff("new/", [1.0], [2.0])
    assert os.listdir(tmp_path) == []
    path = tmp_path / "big.txt"
    x = np.linspace(100.0, 4000.0, 5000)

    def write():
        try:
            write_rruff(path, x, np.sin(x))
        except OSError as exc:
            os._exit(4 if exc.filename == os.fspath(path) else 5)

    assert _limited(20_000, write) == 4
    assert os.listdir(tmp_path) == []


def test_failed_write_leaves_no_partial_file(tmp_path):
    # A full disk, simulated by a file-size limit: no truncated file stays.
    path = tmp_path / "big.txt"
    x = np.linspace(100.0, 4000.0, 5000)
    status = _limited(20_000, lambda: write_rruff(path, x, np.sin(x)))
    assert status == 3
    assert os.listdir(tmp_path) == []
    # An existing file is kept whole when its replacement fails.
    write_rruff(path, [1.0, 2.0], [3.0, 4.0])
    status = _limited(20_000, lambda: write_rruff(path, x, np.sin(x), overwrite=True))
    assert status == 3
    assert os.listdir(tmp_path) == ["big.txt"]
    np.testing.assert_array_equal(read_rruff(path).y, [3.0, 4.0])


def test_longest_file_names_and_errors_name_the_file(tmp_path):
    # A name of 250 characters is legal; its temporary name must be too.
    path = tmp_path / ("a" * 246 + ".txt")
    write_rruff(path, [1.0, 2.0], [3.0, 4.0])
    assert os.listdir(tmp_path) == [path.name]
    np.testing.assert_array_equal(read_rruff(path).y, [3.0, 4.0])
    missing = tmp_path / "nope" / "b.txt"
    with pytest.raises(FileNotFoundError) as info:
        write_rruff(missing, [1.0, 2.0], [3.0, 4.0])
    assert info.value.filename == str(missing)


def test_keys_that_read_back_as_one_are_refused(tmp_path):
    # read_rruff strips keys and reads them in upper case: NAMES, names and
    # " names " were all written and two of the values lost on reading
    path = tmp_path / "s.txt"
    for meta in ({"NAMES": "Quartz", "names": "Calcite"}, {"A": 1, " a ": 2}):
        with pytest.raises(ValueError, match="would read back as the same key"):
            write_rruff(path, [1.0, 2.0], [3.0, 4.0], meta)
    assert not path.exists()
    write_rruff(path, [1.0, 2.0], [3.0, 4.0], {"NAMES": "Quartz", "NAME": "x"})
    assert read_rruff(path).metadata == {"NAMES": "Quartz", "NAME": "x"}


def test_a_directory_is_named_in_the_error(tmp_path):
    with pytest.raises(IsADirectoryError, match=repr(str(tmp_path))):
        write_rruff(tmp_path, [1.0], [2.0], overwrite=True)


def test_files_get_the_umask_of_each_write(tmp_path, monkeypatch):
    # The umask was read once, at the first write, and that mode given to
    # every later file: after umask 077 they were still readable by all.
    def fail(mask):
        raise AssertionError("the umask is not to be set, even to read it")

    x = [1.0, 2.0]
    old = os.umask(0o022)
    try:
        modes = {}
        for name, mask in [("a.txt", 0o022), ("b.txt", 0o077), ("c.txt", 0o000)]:
            os.umask(mask)
            with monkeypatch.context() as m:
                m.setattr(os, "umask", fail)
                write_rruff(tmp_path / name, x, x)
            modes[name] = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
    finally:
        os.umask(old)
    assert modes == {"a.txt": 0o644, "b.txt": 0o600, "c.txt": 0o666}
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "b.txt", "c.txt"]


def test_file_text_is_exact(tmp_path):
    # Integers and long doubles are written as the float64 they read back as.
    path = tmp_path / "exact.txt"
    x = np.array([100, 102], dtype=np.int64)
    y = np.array([0.5, 1.25], dtype=np.longdouble)
    write_rruff(path, x, y, {"NAMES": "Quartz", "R": 1})
    expected = b"##NAMES=Quartz\n##R=1\n100.0, 0.5\n102.0, 1.25\n##END=\n"
    assert path.read_bytes() == expected
    write_rruff(path, y, x, overwrite=True)
    assert path.read_bytes() == b"0.5, 100.0\n1.25, 102.0\n##END=\n"


def test_written_where_hard_links_are_not_supported(tmp_path, monkeypatch):
    # Some file systems refuse hard links: the file is renamed into place.
    def no_link(src, dst):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    path = tmp_path / "a.txt"
    write_rruff(path, [1.0, 2.0], [3.0, 4.0])
    assert os.listdir(tmp_path) == ["a.txt"]
    assert read_rruff(path).y.tolist() == [3.0, 4.0]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_rruff(path, [1.0, 2.0], [5.0, 6.0])
    assert read_rruff(path).y.tolist() == [3.0, 4.0]


def test_a_directory_is_not_mistaken_for_an_existing_file(tmp_path):
    with pytest.raises(IsADirectoryError, match=repr(str(tmp_path))):
        write_rruff(tmp_path, [1.0], [2.0])


def test_an_existing_file_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    # In a folder where no file can be made, the error is still that the
    # file exists.
    from sktransfer.datasets import _write

    def read_only(folder, prefix, suffix):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(_write, "_new_file", read_only)
    path = tmp_path / "a.txt"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_rruff(path, [1.0, 2.0], [3.0, 4.0])
    assert path.read_text() == "keep me"


def test_no_free_temporary_name_is_an_error_naming_the_file(tmp_path, monkeypatch):
    from sktransfer.datasets import _write

    monkeypatch.setattr(_write.secrets, "token_hex", lambda n: "0" * 2 * n)
    monkeypatch.setattr(_write.tempfile, "TMP_MAX", 3)
    taken = tmp_path / ".a.txt.00000000.part"
    taken.write_text("someone else's")
    path = tmp_path / "a.txt"
    with pytest.raises(FileExistsError) as info:
        write_rruff(path, [1.0, 2.0], [3.0, 4.0])
    assert info.value.filename == str(path)
    assert os.listdir(tmp_path) == [taken.name]
    assert taken.read_text() == "someone else's"


_TWICE = (
    "##NAMES=Albite\r\n"
    "##CELL PARAMETERS=a: 8.135 b: 12.784\r\n"
    " Fiducial mark parallel to b [0 1 0]\r\n"
    "##\r\n"
    "\r\n"
    "##CELL PARAMETERS=a: 8.135(1) b: 12.784(2)\r\n"
    "##FILETYPE=Raman RAW\r\n"
    "\r\n"
    "100, 1.5\r\n"
    "101, 2.5\r\n"
    "##END=\r\n"
)


def test_header_lines_are_read_and_written_back_whole(tmp_path):
    src = tmp_path / "twice.txt"
    src.write_bytes(_TWICE.encode("latin-1"))
    data = read_rruff(src)
    # every line before the data, in order; metadata keeps the last value
    assert data.header == _TWICE.split("\r\n")[:7]
    assert data.metadata["CELL PARAMETERS"] == "a: 8.135(1) b: 12.784(2)"
    out = tmp_path / "out.txt"
    write_rruff(out, data.x, data.y - 1, {"BASELINE": "b"}, header=data.header)
    text = out.read_text()
    assert text.startswith("\n".join(data.header) + "\n##BASELINE=b\n100.0, 0.5\n")
    again = read_rruff(out)
    assert again.header == [*data.header, "##BASELINE=b"]
    assert again.metadata == {**data.metadata, "BASELINE": "b"}
    np.testing.assert_array_equal(again.y, data.y - 1)
    # a field in metadata reads back with its value there
    write_rruff(
        out, data.x, data.y, {"filetype": "x"}, header=data.header, overwrite=True
    )
    assert read_rruff(out).metadata["FILETYPE"] == "x"


def test_header_without_data_lines_reads_as_an_empty_list(tmp_path):
    path = tmp_path / "bare.txt"
    path.write_text("\n\n100, 1\n")
    assert read_rruff(path).header == []
    write_rruff(tmp_path / "b.txt", [1.0], [2.0], header=[])
    assert read_rruff(tmp_path / "b.txt").header == []


@pytest.mark.parametrize(
    "header, kind, match",
    [
        ("##NAMES=A", TypeError, "header must be a list of lines"),
        (["##NAMES=A", 3], TypeError, "header line 2 must be a str, got int"),
        (["##A=1\n##B=2"], ValueError, "header line 1 '##A=1\\\\n##B=2' cannot be"),
        (["##A=\x00"], ValueError, "holds U\\+0000"),
        (["##A=1", "## end = "], ValueError, "header line 2 '## end = ' is the end"),
        (["a comment"], ValueError, "header line 1 'a comment' would read back as"),
        (["##", "a comment"], ValueError, "header line 2 'a comment' would read back"),
        (["##A=1", "12 lines"], ValueError, "header line 2 '12 lines' would read"),
        (["##A=1", "NaN, inf"], ValueError, "header line 2 'NaN, inf' would read"),
    ],
)
def test_header_lines_that_cannot_read_back_are_refused(tmp_path, header, kind, match):
    path = tmp_path / "x.txt"
    with pytest.raises(kind, match=match):
        write_rruff(path, [1.0], [2.0], header=header)
    assert not path.exists()


def test_header_may_be_an_array_of_lines(tmp_path):
    # "header or []" asked an array for its truth value
    write_rruff(tmp_path / "a.txt", [1.0], [2.0], header=np.array(["##A=1", "##B=2"]))
    assert read_rruff(tmp_path / "a.txt").header == ["##A=1", "##B=2"]
