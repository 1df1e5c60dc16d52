import codecs
import gzip
import os
import re
import signal

import numpy as np
import pytest

from sktransfer.datasets import load_rruff, read_rruff
from tests.datasets._files import QUARTZ_DIF, write_dif, write_spectrum

X = np.array([100.0, 100.5, 101.0, 101.5])
Y = np.array([0.0, 1.25, 3.5e-3, 12.0])


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("sci", [False, True])
def test_read_spectrum_line_endings_and_notation(tmp_path, newline, sci):
    path = write_spectrum(tmp_path / "s.txt", X, Y, newline=newline, sci=sci)
    data = read_rruff(path)
    assert data.format == "spectrum"
    np.testing.assert_allclose(data.x, X)
    np.testing.assert_allclose(data.y, Y, rtol=1e-6)
    assert data.metadata["RRUFFID"] == "R040031"
    assert data.path == str(path)


def test_read_mixed_line_endings_utf8_and_entities(tmp_path):
    # LF headers and CRLF data rows, as in the 2019 RRUFF Raman archive.
    path = write_spectrum(tmp_path / "s.txt", X, Y, data_newline="\r\n")
    data = read_rruff(path)
    assert data.x.shape == (4,)
    assert data.metadata["IDEAL CHEMISTRY"] == "Ca_2_(Mg)_\u03a3=5_Si_8_O_22_"
    assert data.metadata["LOCALITY"].endswith("\u00f8 \u00e9")


def test_header_entities_need_their_semicolon(tmp_path):
    text = (
        "##NAMES=Quartz &amp; Calcite\n"
        "##LOCALITY=R&D &copyright &copy; &#x3a3;&#931;&#133;&unknown;\n"
        f"##NOTE=&#0; &#x110000; &#{'9' * 5000};\n"
        "1.0, 2.0\n2.0, 3.0\n"
    )
    (tmp_path / "e.txt").write_text(text, encoding="utf-8")
    meta = read_rruff(tmp_path / "e.txt").metadata
    assert meta["NAMES"] == "Quartz & Calcite"
    assert meta["LOCALITY"] == "R&D &copyright \u00a9 \u03a3\u03a3\x85&unknown;"
    # no character, and a number too long to be one, are not decoded
    assert meta["NOTE"] == f"\ufffd \ufffd &#{'9' * 5000};"


def test_read_stops_at_end_and_handles_whitespace_rows(tmp_path):
    text = "##NAMES=A\n\n  1.0\t2.0 \n3.0 ,4.0\n\n##END=\nnot data at all\n"
    (tmp_path / "w.txt").write_text(text)
    data = read_rruff(tmp_path / "w.txt")
    np.testing.assert_array_equal(data.x, [1.0, 3.0])
    np.testing.assert_array_equal(data.y, [2.0, 4.0])


def test_read_keyless_header_text_is_kept_as_comment(tmp_path):
    extra = "##PIN_ID=M00277\n Fiducial mark parallel to b [0 1 0]\n"
    data = read_rruff(write_spectrum(tmp_path / "s.txt", X, Y, extra=extra))
    assert data.metadata["PIN_ID"] == "M00277"
    assert data.metadata["COMMENT"] == "Fiducial mark parallel to b [0 1 0]"
    assert data.x.size == 4


def test_read_id_from_file_name_when_header_lacks_it(tmp_path):
    path = tmp_path / "Albite__R040068-3__Raman__514__0-000____Raman_Data_RAW__ab.txt"
    path.write_text("1, 2\n3, 4\n")
    assert read_rruff(path).metadata["RRUFFID"] == "R040068"


@pytest.mark.parametrize("repeat_last", [False, True])
def test_read_dif(tmp_path, repeat_last):
    path = write_dif(tmp_path / "R040031_CIF.txt", QUARTZ_DIF, repeat_last=repeat_last)
    data = read_rruff(path)
    table = np.array(QUARTZ_DIF)
    assert data.format == "dif"
    np.testing.assert_allclose(data.x, table[:, 0])
    np.testing.assert_allclose(data.y, table[:, 1])
    np.testing.assert_allclose(data.d_spacing, table[:, 2])
    np.testing.assert_array_equal(data.hkl, table[:, 3:])
    assert data.metadata["NAMES"] == "Quartz"
    assert data.metadata["RRUFFID"] == "R040031"
    assert data.metadata["TWO_THETA_RANGE"] == (5.0, 90.0)
    assert data.metadata["X-RAY WAVELENGTH"] == "1.541838"
    # upper-case "KEY: value" lines are fields; the free text is not
    assert set(data.metadata) == {
        "NAMES",
        "CELL PARAMETERS",
        "SPACE GROUP",
        "X-RAY WAVELENGTH",
        "BOUNDS ON TWO THETA",
        "TWO_THETA_RANGE",
        "RRUFFID",
    }


def test_read_dif_header_fields_and_empty_table(tmp_path):
    # ##KEY=value lines above the table are fields; the name is still the
    # first line of free text
    path = write_dif(tmp_path / "d.txt", QUARTZ_DIF)
    text = path.read_bytes()
    path.write_bytes(b"##RRUFFID=R050001\r\n##\r\n##OWNER=RRUFF\r\n" + text)
    data = read_rruff(path)
    assert data.metadata["RRUFFID"] == "R050001"
    assert data.metadata["OWNER"] == "RRUFF"
    assert data.metadata["NAMES"] == "Quartz"
    np.testing.assert_allclose(data.x, np.array(QUARTZ_DIF)[:, 0])
    with pytest.raises(ValueError, match=r"e\.txt: DIF file without peak rows"):
        read_rruff(write_dif(tmp_path / "e.txt", []))


def test_read_dif_rows_without_or_with_more_than_hkl(tmp_path):
    # Miller indices are NaN where a row lacks them; a column after them
    # (multiplicity) is left out
    path = write_dif(tmp_path / "d.txt", QUARTZ_DIF)
    rows = path.read_bytes().split(b"\r\n")
    at = [i for i, r in enumerate(rows) if r.strip().startswith(b"20.86")][0]
    rows[at] = b"      20.86     22.00    4.2550"
    rows[at + 1] += b"   6"
    path.write_bytes(b"\r\n".join(rows))
    data = read_rruff(path)
    np.testing.assert_allclose(data.x, np.array(QUARTZ_DIF)[:, 0])
    np.testing.assert_allclose(data.d_spacing, np.array(QUARTZ_DIF)[:, 2])
    assert data.hkl.shape == (3, 3)
    assert np.isnan(data.hkl[0]).all()
    np.testing.assert_array_equal(data.hkl[1:], np.array(QUARTZ_DIF)[1:, 3:])


def test_a_field_given_twice_takes_its_last_value(tmp_path):
    # fields the loader reads as one value (names, laser, DIF bounds) must
    # stay one: joining repeats broke them ("532\n532.0" is no laser)
    path = (
        tmp_path
        / "Quartz__R040031__Raman__532__0__unoriented__Raman_Data_Processed__1.txt"
    )
    path.write_text(
        "##NAMES=Quartz\n##RRUFFID=R040031\n##RAMAN WAVELENGTH=532\n"
        "##CELL PARAMETERS=a: 4.9\n##NAMES=Quartz-alpha\n"
        "##RAMAN WAVELENGTH=532.0\n##CELL PARAMETERS=a: 4.9134(2)\n"
        "100, 1\n101, 2\n102, 3\n##END=\n"
    )
    metadata = read_rruff(path).metadata
    assert metadata["NAMES"] == "Quartz-alpha"
    # comments are free text: a ##COMMENT= line joins the keyless lines
    commented = tmp_path / "commented.txt"
    commented.write_text(
        "##NAMES=Quartz\n##RRUFFID=R040031\nMeasured at 20 C\n"
        "##COMMENT=second comment\n100, 1\n101, 2\n##END=\n"
    )
    assert (
        read_rruff(commented).metadata["COMMENT"] == "Measured at 20 C\nsecond comment"
    )
    assert metadata["RAMAN WAVELENGTH"] == "532.0"
    assert metadata["CELL PARAMETERS"] == "a: 4.9134(2)"
    dif = write_dif(tmp_path / "R040031_CIF.txt", QUARTZ_DIF)
    text = dif.read_bytes()
    bounds = next(line for line in text.split(b"\n") if b"BOUNDS ON TWO THETA" in line)
    dif.write_bytes(
        text.replace(bounds, bounds + b"\n" + bounds.replace(b"90.0", b"70.0"))
    )
    assert read_rruff(dif).metadata["TWO_THETA_RANGE"] == (5.0, 70.0)


def test_a_dif_file_without_its_bounds_line_covers_xpow_s_range(tmp_path):
    # without "BOUNDS ON TWO THETA" the range was unbounded: a grid beyond
    # 90 degrees counted as measured, with zeros, where a file with the line
    # gave NaN there
    path = write_dif(tmp_path / "R040031_CIF.txt", QUARTZ_DIF)
    text = path.read_bytes()
    assert b"BOUNDS ON TWO THETA" in text
    lines = [line for line in text.split(b"\n") if b"BOUNDS ON TWO THETA" not in line]
    path.write_bytes(b"\n".join(lines))
    data = read_rruff(path)
    assert "BOUNDS ON TWO THETA" not in data.metadata
    assert data.metadata["TWO_THETA_RANGE"] == (5.0, 90.0)
    loaded = load_rruff(tmp_path, pair=False, xrd_axis=np.arange(5.0, 120.001, 0.05))
    np.testing.assert_allclose(loaded.coverage, [(90.0 - 5.0) / 115.0], atol=1e-3)
    assert np.isnan(loaded.xrd[0][loaded.xrd_axis > 90.1]).all()
    # a peak beyond 90 degrees widens the range to it
    path = write_dif(tmp_path / "R040032_CIF.txt", [*QUARTZ_DIF, WIDE_PEAK])
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join(line for line in lines if b"BOUNDS ON" not in line))
    assert read_rruff(path).metadata["TWO_THETA_RANGE"] == (5.0, 95.5)


WIDE_PEAK = [95.5, 3.0, 1.0398, 3, 2, 1]


def test_read_dif_id_from_its_text_and_fields_next_to_the_table(tmp_path):
    # the id in the text ("... powder pattern of R040031") when the file
    # name has none; a field on the line just above the table is read
    path = write_dif(tmp_path / "quartz.txt", QUARTZ_DIF)
    text = path.read_bytes()
    path.write_bytes(text.replace(b"90.0\r\n\r\n", b"90.0\r\n"))
    data = read_rruff(path)
    assert data.metadata["RRUFFID"] == "R040031"
    assert data.metadata["TWO_THETA_RANGE"] == (5.0, 90.0)
    # a spectrum's id comes from its header or its name, not from its text
    path = tmp_path / "quartz2.txt"
    path.write_text("##NAMES=Quartz\n##DESCRIPTION=like R040031\n1, 2\n3, 4\n")
    assert "RRUFFID" not in read_rruff(path).metadata


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(OSError, match="nope.txt"):
        read_rruff(path)


def test_binary_file(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"PK\x03\x04\x00\x00\xff\xfe")
    with pytest.raises(ValueError, match=r"bin\.txt.*binary"):
        read_rruff(path)


def test_no_numeric_rows(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("##NAMES=A\n##RRUFFID=R000001\n##END=\n")
    with pytest.raises(ValueError, match=r"empty\.txt.*no numeric data rows"):
        read_rruff(path)


@pytest.mark.parametrize(
    "row, line", [("5.0, abc", 4), ("5.0, 1.0, 7.0", 4), ("5.0, nan", 4)]
)
def test_bad_data_row_names_file_and_line(tmp_path, row, line):
    path = tmp_path / "bad.txt"
    path.write_text(f"##NAMES=A\n1.0, 2.0\n3.0, 4.0\n{row}\n6.0, 7.0\n")
    with pytest.raises(ValueError, match=rf"bad\.txt, line {line}:"):
        read_rruff(path)


@pytest.mark.parametrize(
    "text, message",
    [
        # "100,,5" used to read as (100, 5): the y column was lost.
        ("##NAMES=A\n100,1,\n200,,5\n", "line 3: empty field in data row '200,,5'"),
        ("##NAMES=A\n100;1\n200; ;5\n", "line 3: empty field"),
        # Two files joined by cat, the first without ##END=: one spectrum
        # of both, with the second file's names.
        (
            "##NAMES=A\n100, 1\n200, 2\n##NAMES=B\n150, 3\n",
            "line 4: header line after the data: two files joined?",
        ),
        # Of two problems, the first line's is told.
        ("##NAMES=A\n100, x\n##NAMES=B\n150, 3\n", "line 2: non-numeric"),
    ],
)
def test_rows_that_would_be_misread(tmp_path, text, message):
    path = tmp_path / "m.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"m.txt, {message}")):
        read_rruff(path)


def test_bare_hash_line_is_no_header_field(tmp_path):
    path = tmp_path / "h.txt"
    path.write_text("##\n##NAMES=Quartz\n100, 1\n200, 2\n##\n##END=\n")
    data = read_rruff(path)
    assert data.metadata == {"NAMES": "Quartz"}
    np.testing.assert_array_equal(data.y, [1.0, 2.0])


def test_utf16_and_gzip_files(tmp_path):
    # PowerShell 5 redirects and Windows "Unicode text" are UTF-16 with a BOM.
    text = "##NAMES=Bj\u00f8rn\r\n100, 1.5\r\n200, 2.5\r\n"
    for bom, encoding in [(codecs.BOM_UTF16_LE, "le"), (codecs.BOM_UTF16_BE, "be")]:
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(bom + text.encode(f"utf-16-{encoding}"))
        data = read_rruff(path)
        assert data.metadata["NAMES"] == "Bj\u00f8rn"
        np.testing.assert_array_equal(data.y, [1.5, 2.5])
    path = tmp_path / "s.txt.gz"
    path.write_bytes(gzip.compress(text.encode("utf-8")))
    with pytest.raises(ValueError, match=r"s\.txt\.gz is gzip-compressed: unpack it"):
        read_rruff(path)


def test_bad_dif_row_names_line(tmp_path):
    path = write_dif(tmp_path / "d.txt", QUARTZ_DIF)
    text = path.read_bytes().replace(b"50.14", b"5x.14")
    path.write_bytes(text)
    with pytest.raises(ValueError, match=r"d\.txt, line 16:"):
        read_rruff(path)
    # a blank first line is a line too
    path.write_bytes(b"\r\n" + text)
    with pytest.raises(ValueError, match=r"d\.txt, line 17:"):
        read_rruff(path)


def test_rows_must_have_two_values_even_if_total_count_matches(tmp_path):
    path = tmp_path / "cols.txt"
    path.write_text("##NAMES=A\n1.0, 2.0, 3.0\n4.0\n")
    with pytest.raises(ValueError, match=r"cols\.txt, line 2: expected 2 values"):
        read_rruff(path)
    path.write_text("##NAMES=A\n1.0 2.0 3.0\n4.0 5.0 6.0\n")
    with pytest.raises(ValueError, match=r"line 2: expected 2 values"):
        read_rruff(path)


def test_latin1_file(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(
        "##NAMES=Bj\u00f8rn\n##LOCALITY=S\u00e3o Paulo\n1, 2\n".encode("latin-1")
    )
    data = read_rruff(path)
    assert data.metadata["LOCALITY"] == "S\u00e3o Paulo"
    np.testing.assert_array_equal(data.y, [2.0])


def test_windows_1252_file(tmp_path):
    # text saved on Windows was read as Latin-1: the en dash, curly quotes
    # and euro sign became invisible C1 control characters
    path = tmp_path / "cp1252.txt"
    names = "Quartz \u2013 \u201cvar. a\u201d \u20ac5 \u00c5"
    path.write_bytes(f"##NAMES={names}\n1, 2\n".encode("cp1252"))
    assert read_rruff(path).metadata["NAMES"] == names
    # the five bytes Windows-1252 leaves undefined read as in Latin-1
    path.write_bytes(b"##NAMES=a\x81\x8d\x8f\x90\x9db\n1, 2\n")
    assert read_rruff(path).metadata["NAMES"] == "a\x81\x8d\x8f\x90\x9db"


@pytest.mark.parametrize("row", ["1_000, 1", "\u0661\u0662, 1", "0x10, 1"])
def test_numbers_python_accepts_but_files_do_not_hold(tmp_path, row):
    # float() reads "1_000" and Arabic-Indic digits; a data file does not.
    path = tmp_path / "u.txt"
    path.write_text(f"##NAMES=U\n100, 1\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"u\.txt, line 3: non-numeric"):
        read_rruff(path)


def test_pipe_is_refused_not_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    signal.signal(signal.SIGALRM, _hung)
    signal.alarm(30)  # fail rather than hang
    try:
        with pytest.raises(OSError, match="not a regular file"):
            read_rruff(fifo)
    finally:
        signal.alarm(0)


def _hung(signum, frame):
    raise TimeoutError("reading the pipe blocked")


@pytest.mark.parametrize("row", ["NaN, NaN", "inf 5", "-Infinity;2", "100, nan"])
def test_a_non_finite_first_data_row_is_refused(tmp_path, row):
    # a first row "NaN, NaN" or "inf 5" was taken for a keyless comment line
    # of the header and left out without a word
    path = tmp_path / "R050031.txt"
    path.write_text(f"##NAMES=Quartz\n{row}\n101, 2\n102, 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: non-finite value in data row"):
        read_rruff(path)
    # keyless text among the headers is still a comment, also one that
    # begins with such a word
    path.write_text("##NAMES=Quartz\nInf. from 2 samples\nNaN of it\n101, 2\n")
    assert read_rruff(path).metadata["COMMENT"] == "Inf. from 2 samples\nNaN of it"


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_a_non_finite_dif_row_is_refused(tmp_path, bad):
    # float() reads "nan": the peak list held a NaN intensity
    path = write_dif(tmp_path / "R040031_DIF.txt", QUARTZ_DIF)
    text = path.read_text(encoding="utf-8").replace("100.00", bad, 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="line [0-9]+: non-finite value in data row"):
        read_rruff(path)


def test_a_hash_line_among_the_data_is_no_silent_comment(tmp_path):
    # numpy's reader skipped it (and the rows after it were numbered wrong)
    path = tmp_path / "R000001.txt"
    path.write_text("##NAMES=Q\n100, 1\n# note\n200, 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: non-numeric data row '# note'"):
        read_rruff(path)
