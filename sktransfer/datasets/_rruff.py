"""Reader of single RRUFF files: spectra (``##KEY=value`` + ``x, y``) and DIF."""

import codecs
import contextlib
import html
import html.entities
import os
import re
import stat

import numpy as np
from sklearn.utils import Bunch

_ID_RE = re.compile(r"(?<![A-Za-z0-9])([RX]\d{6})(-\d+)?(?![0-9])")
_DIF_HEADER_RE = re.compile(r"^[ \t]*2-THETA\s+INTENSITY", re.IGNORECASE | re.M)
_SEP_RE = re.compile(r"[,\s;]+")
# The 2-theta range (degrees) over which RRUFF computes its DIF files with XPOW
_DIF_RANGE = (5.0, 90.0)
_NUMERIC_START_RE = re.compile(r"[-+.\d]")
# A field left empty between separators ("100,,5"), or before the first.
_EMPTY_FIELD_RE = re.compile(r"^[,;]|[,;][ \t]*[,;]", re.M)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# A character reference, decimal or hexadecimal, or a named one ended by
# its semicolon ("&amp;"; "R&D &copyright" is text, not an entity).
# (At most 16 digits: a longer number is text, never a huge int to parse.)
_ENTITY_RE = re.compile(
    r"&#(?:([0-9]{1,16})|[xX]([0-9a-fA-F]{1,16}));|&([A-Za-z][A-Za-z0-9]*;)"
)


def decode_text(raw, path, what="an RRUFF text file"):
    """Decode the bytes of a text file read from ``path``.

    UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
    (Windows "Unicode" text, PowerShell redirects), else Windows-1252, a
    superset of Latin-1's printable characters (older RRUFF files and
    spreadsheets on Windows: "°", "Å", "–", curly quotes, "€"); the five
    bytes it leaves undefined read as Latin-1, so every byte sequence
    decodes. A gzip-compressed or binary file (NUL bytes) is a
    ``ValueError`` that names ``path`` and says it is not ``what``.
    """
    if raw.startswith(b"\x1f\x8b"):
        raise ValueError(f"{path} is gzip-compressed: unpack it first.")
    if raw.startswith(_UTF16_BOMS):
        with contextlib.suppress(UnicodeDecodeError):
            text = raw.decode("utf-16")
            if "\x00" not in text:
                return text
    if b"\x00" in raw:
        raise ValueError(f"{path} is not {what}: it is binary (NUL bytes).")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors=_AS_LATIN1)


def _as_latin1(error):
    """Decode the bytes Windows-1252 leaves undefined as Latin-1 does."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


_AS_LATIN1 = "sktransfer-latin-1"
codecs.register_error(_AS_LATIN1, _as_latin1)


def _header_field(line):
    """``(KEY, value)`` of a ``##KEY=value`` line; None if it names no key."""
    key, _, value = line[2:].partition("=")
    key = key.strip().upper()
    if not key:  # a bare "##" line
        return None
    return key, _unescape(value.strip())


def _line_field(line):
    """``(KEY, value)`` of a header line, None for a bare ``##`` or other line."""
    stripped = line.strip()
    return _header_field(stripped) if stripped.startswith("##") else None


def _entity(match):
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return html.entities.html5.get(name, match[0])
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    # A character reference is that code point, control characters
    # included, so that what write_rruff wrote reads back as written
    # (html.unescape drops some and maps 0x80-0x9F to Windows-1252).
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


def _unescape(text):
    """Decode the character references and named entities of a value, in one pass."""
    return _ENTITY_RE.sub(_entity, text)


_NUMBER_RE = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf(?:inity)?)",
    re.IGNORECASE | re.ASCII,
)


def _parse_numbers(line):
    tokens = [t for t in _SEP_RE.split(line.strip()) if t]
    # float() also takes "1_000" and non-ASCII digits; numpy's parser does not.
    bad = next((t for t in tokens if not _NUMBER_RE.fullmatch(t)), None)
    if bad is not None:
        raise ValueError(bad)
    return [float(t) for t in tokens]


def _is_data_line(stripped):
    """Whether a stripped line that is no ``##`` header line is a data row.

    A line that starts like a number, or whose values are all numbers with
    a non-finite one first (``NaN, NaN``, ``inf 5``: refused later as
    non-finite, wherever they are). Other text among the headers is a
    keyless comment line.
    """
    if _NUMERIC_START_RE.match(stripped):
        return True
    tokens = [t for t in _SEP_RE.split(stripped) if t]
    return bool(tokens) and all(_NUMBER_RE.fullmatch(t) for t in tokens)


def _read_spectrum(lines, path):
    metadata = {}
    rows, linenos = [], []
    late_header = None  # a header line after the data: two files joined?
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("##"):
            field = _header_field(stripped)
            if field is None:
                continue
            key, value = field
            if key == "END":
                break
            if rows:
                late_header = lineno
                break
            if key == "COMMENT" and metadata.get("COMMENT"):
                # free text: kept with the keyless lines before it
                value = f"{metadata['COMMENT']}\n{value}"
            metadata[key] = value
            continue
        if not rows and metadata and not _is_data_line(stripped):
            # Some rruff.net files carry keyless text lines among the headers.
            comment = metadata.get("COMMENT")
            metadata["COMMENT"] = f"{comment}\n{stripped}" if comment else stripped
            continue
        rows.append(stripped)
        linenos.append(lineno)
    if not rows:
        raise ValueError(f"{path}: no numeric data rows found.")
    block = "\n".join(rows)
    xy = None
    # Runs of separators count as one below: "100,,5" would read as (100, 5).
    if _EMPTY_FIELD_RE.search(block) is None:
        block = block.replace(",", " ").replace(";", " ")
        try:
            # numpy's C parser; it also rejects rows with another column count.
            # comments=None: a "#" line among the data is no silent comment
            xy = np.loadtxt(block.split("\n"), dtype=np.float64, ndmin=2, comments=None)
        except ValueError:
            pass
    if xy is None or xy.shape[1] != 2:
        # Slow path only to name the first offending line.
        for lineno, row in zip(linenos, rows):
            if _EMPTY_FIELD_RE.search(row):
                raise ValueError(
                    f"{path}, line {lineno}: empty field in data row {row[:60]!r}."
                )
            try:
                numbers = _parse_numbers(row)
            except ValueError:
                raise ValueError(
                    f"{path}, line {lineno}: non-numeric data row {row[:60]!r}."
                ) from None
            if len(numbers) != 2:
                raise ValueError(
                    f"{path}, line {lineno}: expected 2 values (x, y), "
                    f"got {len(numbers)} in {row[:60]!r}."
                )
        if xy is None:
            raise ValueError(f"{path}: the data rows cannot be read as numbers.")
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        lineno = linenos[int(np.flatnonzero(bad)[0])]
        raise ValueError(f"{path}, line {lineno}: non-finite value in data row.")
    if late_header is not None:
        raise ValueError(
            f"{path}, line {late_header}: header line after the data: two files joined?"
        )
    header = lines[: linenos[0] - 1]  # the lines before the first data row
    while header and not header[-1].strip():
        header.pop()
    return Bunch(
        x=xy[:, 0].copy(),
        y=xy[:, 1].copy(),
        metadata=metadata,
        format="spectrum",
        header=header,
    )


def _read_dif(lines, path, header_index):
    metadata = {}
    head = [ln.strip() for ln in lines[:header_index]]
    # the mineral's name is the first line of free text, not a ##KEY= field
    names = [ln for ln in head if ln and not ln.startswith("##")]
    if names:
        metadata["NAMES"] = names[0]
    for ln in head:
        if ln.startswith("##"):
            field = _header_field(ln)
            if field is not None:
                metadata[field[0]] = field[1]
            continue
        key, sep, value = ln.partition(":")
        if sep and key.strip().upper() == key.strip() and key.strip():
            metadata[key.strip()] = " ".join(value.split())
    rows = []
    for lineno in range(header_index + 1, len(lines)):
        stripped = lines[lineno].strip()
        if not stripped:
            continue
        # The table ends at a line of "=" or, when that line is missing, at
        # the XPOW copyright line.
        if stripped.startswith("=") or stripped.upper().startswith("XPOW"):
            break
        tokens = [t for t in _SEP_RE.split(stripped) if t]
        try:
            numbers = [float(t) for t in tokens[:3]]
        except ValueError:
            numbers = []
        if len(numbers) < 3:
            raise ValueError(
                f"{path}, line {lineno + 1}: expected numeric 2-THETA, INTENSITY, "
                f"D-SPACING (and h k l), got {stripped[:60]!r}."
            )
        if not np.isfinite(numbers).all():  # float() reads "nan" and "inf"
            raise ValueError(
                f"{path}, line {lineno + 1}: non-finite value in data row."
            )
        try:
            hkl = [float(t) for t in tokens[3:6]]
        except ValueError:
            hkl = []
        row = numbers + (hkl if len(hkl) == 3 else [np.nan] * 3)
        # XPOW sometimes writes the last reflection twice.
        if rows and rows[-1] == row:
            continue
        rows.append(row)
    if not rows:
        raise ValueError(f"{path}: DIF file without peak rows.")
    table = np.asarray(rows, dtype=np.float64)
    bounds = metadata.get("BOUNDS ON TWO THETA", "").split()
    if len(bounds) == 2:
        metadata["TWO_THETA_RANGE"] = (float(bounds[0]), float(bounds[1]))
    else:
        # RRUFF's DIF files without the line were computed as those with it,
        # over XPOW's 5-90 degrees (or wider, if a peak lies beyond): their
        # patterns are not known to be empty beyond it
        lo, hi = _DIF_RANGE
        metadata["TWO_THETA_RANGE"] = (
            min(lo, float(table[:, 0].min())),
            max(hi, float(table[:, 0].max())),
        )
    return Bunch(
        x=table[:, 0].copy(),
        y=table[:, 1].copy(),
        d_spacing=table[:, 2].copy(),
        hkl=table[:, 3:6].copy(),
        metadata=metadata,
        format="dif",
    )


def _find_id(*texts):
    for text in texts:
        match = _ID_RE.search(text or "")
        if match:
            return match.group(1), match.group(0)
    return None, None


def read_rruff(path):
    r"""Read one RRUFF text file: a spectrum or a powder-diffraction DIF list.

    Spectrum files (Raman, infrared) hold ``##KEY=value`` header lines
    (``NAMES``, ``RRUFFID``, ``IDEAL CHEMISTRY``, ``FILETYPE``,
    ``RAMAN WAVELENGTH``, ...) and then ``x, y`` rows, separated by commas
    and/or whitespace, possibly in exponent notation, with CRLF or LF line
    ends, blank lines and an optional ``##END=`` line after which nothing is
    read. A bare ``##`` line holds no header field and is passed over. The
    text is UTF-8, UTF-16 with a byte-order mark, or Windows-1252 (Latin-1).
    DIF files (XPOW output) hold a free-text header and a table
    ``2-THETA INTENSITY D-SPACING H K L`` closed by a line of ``=``; a
    repeated last row is dropped.

    Read more in the :ref:`User Guide <datasets>`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        x : ndarray of shape (n_points,)
            Spectral axis (Raman shift or wavenumber in cm-1) or, for a DIF
            file, the peak positions in degrees 2-theta.
        y : ndarray of shape (n_points,)
            Intensities (DIF: peak intensities, the largest scaled to 100).
        metadata : dict
            Header fields keyed by their upper-case RRUFF name, HTML entities
            decoded. DIF files give ``NAMES``, ``CELL PARAMETERS``,
            ``X-RAY WAVELENGTH``, ``TWO_THETA_RANGE``, ... ``RRUFFID`` is
            filled from the text or the file name when the header lacks it.
            A field given twice takes its last value (RRUFF repeats
            ``CELL PARAMETERS``, the second time with their uncertainties).
            ``TWO_THETA_RANGE`` is the computed range of a DIF file
            (``BOUNDS ON TWO THETA``); without that line, XPOW's 5-90 degrees,
            widened to any peak beyond.
        format : {"spectrum", "dif"}
            Which kind of file was read.
        header : list of str
            Only for spectrum files: the header lines as the file holds
            them, in order and without line ends, fields given twice and
            keyless comment lines included (``metadata`` keeps one value a
            key). ``write_rruff(..., header=data.header)`` writes them back
            whole.
        d_spacing : ndarray of shape (n_peaks,)
            Only for DIF files: d-spacings in angstrom.
        hkl : ndarray of shape (n_peaks, 3)
            Only for DIF files: Miller indices (NaN where absent).
        path : str
            The path that was read.

    Raises
    ------
    OSError
        If the file cannot be opened or is not a regular file (a pipe or a
        device); the message names the path.
    ValueError
        If the file is binary or gzip-compressed, has no numeric rows, or
        has a row that is not numeric or leaves a field empty between two
        separators (``100,,5``), or a ``##KEY=value`` header line follows
        the data rows (two files joined into one); the message names the
        file and the line number.

    See Also
    --------
    load_rruff : Load a directory of RRUFF files onto common grids.

    Examples
    --------
    >>> import tempfile, os
    >>> from sktransfer.datasets import read_rruff
    >>> text = "##NAMES=Quartz\n##RRUFFID=R040031\n100, 1.5\n101, 2.5E+00\n##END=\n"
    >>> path = os.path.join(tempfile.mkdtemp(), "quartz.txt")
    >>> with open(path, "w") as f:
    ...     _ = f.write(text)
    >>> data = read_rruff(path)
    >>> data.x, data.y
    (array([100., 101.]), array([1.5, 2.5]))
    >>> data.metadata["NAMES"]
    'Quartz'
    """
    path = os.fspath(path)
    try:
        # Refuse pipes and devices before opening: reading one may never end.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise OSError(f"Cannot read RRUFF file {path!r}: not a regular file.")
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        if exc.strerror is None:
            raise
        raise OSError(f"Cannot read RRUFF file {path!r}: {exc.strerror}.") from exc
    # splitlines() would also break on form feeds and U+2028; count real lines.
    text = decode_text(raw, path).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    dif_header = _DIF_HEADER_RE.search(text)
    if dif_header is not None:
        header_index = text.count("\n", 0, dif_header.start())
        data = _read_dif(lines, path, header_index)
    else:
        data = _read_spectrum(lines, path)
    if "RRUFFID" not in data.metadata:
        found, _ = _find_id(
            text if data.format == "dif" else "", os.path.basename(path)
        )
        if found:
            data.metadata["RRUFFID"] = found
    data.path = path
    return data
