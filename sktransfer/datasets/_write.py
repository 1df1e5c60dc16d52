"""Whole-or-nothing file writes and the RRUFF text-file writer."""

import errno
import os
import re
import secrets
import stat
import tempfile

import numpy as np

from sktransfer._validation import check_bool, check_real

#: What ends a path that names a folder.
SEPARATORS = tuple(s for s in (os.sep, os.altsep) if s)
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
# What a header cannot hold: NUL (read_rruff refuses a file with one as
# binary; other control characters read back as written) and lone
# surrogates (file names that are not UTF-8 cannot be encoded).
_UNWRITABLE_RE = re.compile("[\x00\ud800-\udfff]")
# At most 4 bytes a character: ".{name}.XXXXXXXX.part" stays under 255 bytes.
_PREFIX_CHARS = 40
# mkstemp's flags: a new file, never one that a link points to.
_NEW_FILE = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
)


def _new_file(folder, prefix, suffix):
    """``(fd, path)`` of a new file of a random name in ``folder``.

    As :func:`tempfile.mkstemp`, but the file gets the permissions any new
    file gets there (0o666 less the process's umask at this moment, or the
    folder's default ACL) in place of 0o600: the umask is never read, so
    it is neither changed for other threads nor kept from an earlier call.
    """
    for _ in range(tempfile.TMP_MAX):
        path = os.path.join(folder, f"{prefix}{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(path, _NEW_FILE, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "No usable temporary file name found")


def stage_file(path, write, sync=True):
    """Write a temporary file in the folder of ``path`` and return its path.

    ``write(f)`` receives the open binary file. The temporary file gets the
    permissions a new file would get; on any error it is removed. Rename it
    onto ``path`` with :func:`os.replace` to publish it whole. ``sync``
    flushes it to the disk first, so that a crash after the rename cannot
    leave an empty file; callers staging many files can sync once instead.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    # A short prefix: the temporary name of a file whose own name is near
    # the limit of 255 bytes must not exceed it.
    prefix = f".{os.path.basename(path)[:_PREFIX_CHARS]}."
    try:
        fd, tmp = _new_file(folder, prefix, ".part")
    except OSError as exc:
        if exc.errno is None:
            raise
        # Name the file asked for, not the temporary one.
        raise type(exc)(exc.errno, exc.strerror, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            if sync:
                f.flush()
                os.fsync(f.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return tmp


def special_file(path):
    """Return what ``path`` is if it exists and is no regular file or folder.

    A device (``/dev/null``), a pipe or a socket: renaming a written file
    onto it would put the file in its place (as root, even in ``/dev``).
    None for a regular file, a folder, or a name that does not exist; a
    link is followed.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "no regular file"


def atomic_write(path, write, overwrite=True):
    """Write ``path`` through ``write(f)``: the whole file appears, or none.

    Without ``overwrite`` an existing file is never replaced, not even one
    that another process made while this one was writing: the file is
    published with a hard link, which fails if the name exists
    (``FileExistsError``). Where hard links are not supported, the name is
    checked just before the rename. A device, pipe or socket is never
    replaced (``ValueError``).
    """
    special = special_file(path)
    if special is not None:
        raise ValueError(
            f"{os.fspath(path)!r} is {special}, not a regular file: it is not "
            "replaced by a written file. Give a file name."
        )
    try:
        tmp = stage_file(path, write)
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        publish(tmp, path, overwrite)
    except OSError as exc:
        raise _naming(exc, path) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _naming(exc, path):
    """``exc`` naming the file asked for, not a temporary one (or none)."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, os.fspath(path))


def publish(tmp, path, overwrite):
    """Move the staged file ``tmp`` to ``path`` in one step.

    With ``overwrite`` it replaces ``path``, keeping its permissions;
    without, a hard link refuses a name that exists (``FileExistsError``),
    and where hard links are not supported the name is checked just before
    the rename.
    """
    if overwrite:
        keep_mode(tmp, path)
        os.replace(tmp, path)
    elif not link_new(tmp, path):
        os.replace(tmp, path)


def keep_mode(tmp, path):
    """Give ``tmp`` the permissions of the file ``path`` it will replace.

    A file replaced in place keeps its mode (a private ``chmod 600`` file
    stays private), as ``sed -i`` keeps it; a new name keeps the mode of a
    new file.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode):
        os.chmod(tmp, stat.S_IMODE(mode))


def link_new(tmp, path):
    """Hard-link ``tmp`` as the new file ``path``; False if links are unsupported."""
    exists = FileExistsError(f"{path!r} exists; pass overwrite=True to replace it.")
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise exists from None
    except (OSError, NotImplementedError):
        if os.path.lexists(path):
            raise exists from None
        return False
    return True


def _entities(text):
    return "".join(f"&#{ord(c)};" for c in text)


def _header_value(value):
    # read_rruff's decoding of entities undoes exactly this escaping.
    text = value.replace("&", "&amp;")
    text = _NEWLINE_RE.sub(lambda m: _entities(m[0]), text)
    # read_rruff strips a value before decoding it: white space at either
    # end survives only as entities
    body = text.strip()
    if not body:
        return _entities(text)
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    return _entities(text[:start]) + body + _entities(text[end:])


def _header_lines(header):
    """Check the lines of ``header`` read back as header lines; return them."""
    from sktransfer.datasets._rruff import _is_data_line, _line_field

    if isinstance(header, str):
        raise TypeError(
            "header must be a list of lines (read_rruff's header), not one string."
        )
    lines, fields = [], False
    for k, line in enumerate(header):
        if not isinstance(line, str):
            raise TypeError(
                f"header line {k + 1} must be a str, got {type(line).__name__}."
            )
        bad = _UNWRITABLE_RE.search(line)
        if _NEWLINE_RE.search(line) or bad is not None:
            what = "a line break" if bad is None else f"U+{ord(bad[0]):04X}"
            raise ValueError(
                f"header line {k + 1} {line[:60]!r} cannot be written: it holds {what}."
            )
        stripped = line.strip()
        field = _line_field(line)
        if field is not None and field[0] == "END":
            raise ValueError(
                f"header line {k + 1} {line[:60]!r} is the end marker: nothing "
                "after it would be read."
            )
        fields = fields or field is not None
        keyless = stripped and not stripped.startswith("##")
        if keyless and (not fields or _is_data_line(stripped)):
            # read_rruff takes such a line for a data row
            raise ValueError(
                f"header line {k + 1} {line[:60]!r} would read back as data: "
                "a line without '##' must follow a ##KEY=value line and not "
                "start like a number or be a row of numbers."
            )
        lines.append(line)
    return lines


def rruff_text(x, y, metadata=None, header=None):
    """Return the text of a RRUFF spectrum file; validate the arguments.

    Floats are written with :func:`repr`, the shortest text that reads back
    as the same float64.
    """
    check_real(x, "x")
    check_real(y, "y")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape or x.size == 0:
        raise ValueError(
            f"x and y must be 1-D arrays of the same non-zero length; got shapes "
            f"{x.shape} and {y.shape}."
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite: a RRUFF file cannot hold NaN or inf.")
    lines, written = _header_lines([] if header is None else header), {}
    for key, value in (metadata or {}).items():
        key, value = str(key), str(value)
        if not key.strip() or "=" in key or _NEWLINE_RE.search(key):
            raise ValueError(
                f"Header key {key!r} cannot be written: it must be non-empty, "
                "without '=' or line breaks."
            )
        # read_rruff reads keys stripped and in upper case: two keys that
        # read the same would lose a value
        read_as = key.strip().upper()
        same = written.setdefault(read_as, key)
        if same != key:
            raise ValueError(
                f"Header keys {same!r} and {key!r} would read back as the same "
                f"key {read_as!r} (read_rruff strips keys and reads them in "
                "upper case): give one of them."
            )
        if read_as == "END":
            raise ValueError("Header key 'END' is reserved for the end marker.")
        for what, text in (("key", key), ("value", value)):
            bad = _UNWRITABLE_RE.search(text)
            if bad is not None:
                kind = "lone surrogate" if bad[0] != "\x00" else "NUL character"
                raise ValueError(
                    f"Header {what} {text[:60]!r} cannot be written: it holds the "
                    f"{kind} U+{ord(bad[0]):04X}."
                )
        lines.append(f"##{key}={_header_value(value)}")
    lines += [f"{a!r}, {b!r}" for a, b in zip(x.tolist(), y.tolist())]
    lines.append("##END=")
    return "\n".join(lines) + "\n"


def write_rruff(path, x, y, metadata=None, *, header=None, overwrite=False):
    r"""Write one spectrum as a RRUFF text file.

    The file holds the ``header`` lines, if given, then one ``##KEY=value``
    line per metadata entry, then one
    ``x, y`` row per point and a closing ``##END=`` line, with LF line ends
    and UTF-8 text, so that :func:`read_rruff` reads back the same numbers
    and header values (under upper-case keys, as :func:`read_rruff` gives
    every key). Floats are written exactly (the shortest text that
    reads back as the same float64). The file is first written to a
    temporary file in the same folder and then renamed onto ``path``: it
    appears whole or not at all.

    Read more in the :ref:`User Guide <datasets>`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    x : array-like of shape (n_points,)
        Spectral axis.
    y : array-like of shape (n_points,)
        Intensities.
    metadata : dict or None, default=None
        Header fields. Values are written as text; ``&``, line breaks and
        white space at either end are written as HTML entities, which
        :func:`read_rruff` decodes. Keys are read back upper case and
        without surrounding spaces. Written after ``header``, a field
        reads back with its value here (``COMMENT`` lines join, as
        :func:`read_rruff` reads them).
    header : list of str or None, default=None
        Header lines written as they are, before ``metadata``: the
        ``header`` of :func:`read_rruff`, to keep a file's header whole
        (fields given twice, keyless comment lines, order) when writing
        its spectrum again.
    overwrite : bool, default=False
        Whether an existing file may be replaced.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        If ``overwrite`` is not a bool (``True``, ``False`` or a NumPy
        bool; the string ``"False"`` is refused, not taken as true).
        If ``x`` and ``y`` are not finite 1-D arrays of one length, or a
        header key is empty, contains ``=`` or a line break, or is ``END``,
        or two keys read back as one (they differ only in case or in white
        space at either end),
        or a header key or value holds a NUL character (it would make the
        file binary) or a lone surrogate (such as a file name that is not
        UTF-8, as :func:`os.fsdecode` gives it), or a ``header`` line
        holds a line break, NUL or a lone surrogate, is an ``##END=``
        line, or would read back as data (a line without ``##`` before any
        ``##KEY=value`` line, or one that starts like a number).
    TypeError
        If ``header`` is a string rather than a list of lines, or holds
        something other than strings.
    OSError
        If the file cannot be written; no partial file is left behind.

    See Also
    --------
    read_rruff : Read one RRUFF file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sktransfer.datasets import read_rruff, write_rruff
    >>> path = os.path.join(tempfile.mkdtemp(), "quartz.txt")
    >>> x = np.array([2000.0, 2000.002, 2000.004])
    >>> write_rruff(path, x, [1.0, 0.1, 1 / 3], {"NAMES": "Quartz"})
    >>> data = read_rruff(path)
    >>> bool(np.array_equal(data.x, x)), bool(data.y[2] == 1 / 3)
    (True, True)
    """
    check_bool(overwrite, "overwrite")
    text = rruff_text(x, y, metadata, header)
    path = os.fspath(path)
    if not path:
        raise ValueError("path is empty; give a file name.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory, not a file name.")
    if path.endswith(SEPARATORS):
        raise IsADirectoryError(f"{path!r} names a directory; give a file name.")
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it.")
    atomic_write(path, lambda f: f.write(text.encode("utf-8")), overwrite=overwrite)
