"""Download, verify, cache and load the public RRUFF zip archives."""

import contextlib
import hashlib
import http.client
import inspect
import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

from sklearn.datasets import get_data_home as _sklearn_data_home

from sktransfer._validation import InvalidParameterError, check_bool, check_param
from sktransfer.datasets._load import as_modalities, check_load_args, load_rruff
from sktransfer.datasets._records import NotMeasured, read_record, text_files

BASE_URL = "https://rruff.info/zipped_data_files/"
ARCHIVES = {
    "ir": "infrared/Processed.zip",
    "raman": "raman/excellent_unoriented.zip",
    "xrd": "powder/DIF.zip",
}
# Limits on what an archive may unpack to: the RRUFF archives hold a few
# hundred MB of text that compresses about 4:1, a zip bomb far more.
MAX_UNPACKED_BYTES = 4 << 30
MAX_COMPRESSION_RATIO = 100
_CHUNK = 1 << 20
_COMPLETE = ".sktransfer-complete"
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
# Everything zipfile and zlib raise for a damaged or unsupported archive.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


def _data_home(data_home):
    if data_home is None:
        # empty is unset: "" would be the current directory
        data_home = os.environ.get("SKTRANSFER_DATA") or None
    if data_home is None:
        data_home = Path(_sklearn_data_home()) / "sktransfer_data"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _reason(exc):
    """Why a download failed, in words: "Connection refused", "timed out"."""
    reason = exc
    if isinstance(exc, urllib.error.URLError) and not isinstance(
        exc, urllib.error.HTTPError
    ):
        reason = exc.reason  # an OSError such as ConnectionRefusedError, or text
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or repr(reason)


def _download(url, target, timeout):
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length", "").strip()
            with open(target, "wb") as f:
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > MAX_UNPACKED_BYTES:
                        break
                    f.write(chunk)
                    digest.update(chunk)
    # OSError: URLError, HTTPError (404), TimeoutError, ConnectionError, ...
    except (http.client.HTTPException, OSError) as exc:
        raise OSError(f"The download from {url} failed: {_reason(exc)}.") from exc
    # a connection closed early ends the reads without an error
    if announced.isdigit() and size < int(announced):
        raise OSError(
            f"The download from {url} was cut short: {size} of the {announced} "
            "bytes announced arrived."
        )
    if size > MAX_UNPACKED_BYTES:
        raise OSError(
            f"The download from {url} is larger than "
            f"MAX_UNPACKED_BYTES={MAX_UNPACKED_BYTES}."
        )
    return digest.hexdigest()


def _unpack(archive, url, target):
    try:
        with zipfile.ZipFile(archive) as zf:
            root = Path(target).resolve()
            infos = zf.infolist()
            total = sum(info.file_size for info in infos)
            if total > MAX_UNPACKED_BYTES:
                raise OSError(
                    f"The archive from {url} would unpack to {total} bytes, more "
                    f"than MAX_UNPACKED_BYTES={MAX_UNPACKED_BYTES}."
                )
            for info in infos:
                # Refuse members that would land outside the cache (zip slip).
                if not (root / info.filename).resolve().is_relative_to(root):
                    raise OSError(
                        f"Unsafe path {info.filename!r} in the archive from {url}."
                    )
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _CHUNK and ratio > MAX_COMPRESSION_RATIO:
                    raise OSError(
                        f"Member {info.filename!r} of the archive from {url} is "
                        f"compressed {ratio:.0f}:1, more than "
                        f"MAX_COMPRESSION_RATIO={MAX_COMPRESSION_RATIO} (a zip "
                        "bomb?)."
                    )
            bad = zf.testzip()
            if bad is not None:
                raise OSError(f"Corrupt member {bad!r} in the archive from {url}.")
            zf.extractall(target)
    except _ARCHIVE_ERRORS as exc:
        raise OSError(
            f"The download from {url} is not a valid zip file ({exc})."
        ) from exc


def _has_spectra(folder, modality):
    """Whether ``folder`` holds at least one readable RRUFF file of ``modality``."""
    for path in sorted(map(Path, text_files(folder))):
        try:
            desc, _ = read_record(path)
        except (NotMeasured, OSError, ValueError):
            continue
        if desc["modality"] == modality:
            return True
    return False


def _is_cached(folder, modality):
    """Tell whether a cache folder is marked complete or holds spectra."""
    if (folder / _COMPLETE).is_file():
        return True
    if folder.is_dir() and _has_spectra(folder, modality):
        # A cache written before completeness was marked: check it once.
        try:
            (folder / _COMPLETE).write_text("checked\n")
        except OSError:
            pass  # a read-only cache is checked again next time
        return True
    return False


def _file_digests(folder):
    """SHA-256 of every file under ``folder`` that load_rruff reads."""
    digests = {}
    for path in text_files(folder):
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
        digests[Path(path).relative_to(folder).as_posix()] = sha.hexdigest()
    return digests


def _changed_files(folder, recorded):
    """Describe how the files of ``folder`` differ from the ``recorded`` digests."""
    now = _file_digests(folder)
    changed = sorted(n for n in recorded if n in now and now[n] != recorded[n])
    missing = sorted(set(recorded) - set(now))
    added = sorted(set(now) - set(recorded))
    problems = []
    for names, what in ((changed, "changed"), (missing, "missing"), (added, "added")):
        if names:
            more = f" and {len(names) - 1} more" if len(names) > 1 else ""
            problems.append(
                f"{len(names)} file(s) {what} since it was unpacked ({names[0]}{more})"
            )
    return problems


def _check_cache(folder, modality, archive, checksum):
    """Raise if the complete cache in ``folder`` is not the archive asked for.

    The completeness mark records the URL and the SHA-256 of the download
    it was unpacked from, and the SHA-256 of every file unpacked: a file
    changed, missing or added since (a damaged disk, an edit) is an error,
    not data left out or read as it is. A mark without the URL (a cache
    unpacked before marks recorded it) cannot be checked: it is taken as it
    is unless ``checksum`` asks for a check. The base URL may differ (a
    mirror), the archive path may not.
    """
    try:
        lines = (folder / _COMPLETE).read_text().splitlines()
    except OSError:
        return
    url = lines[0] if lines and "://" in lines[0] else None
    fields = dict(ln.split("=", 1) for ln in lines[1:] if "=" in ln)
    sha = fields.get("sha256")
    problems = []
    if url is not None and not url.endswith("/" + archive.lstrip("/")):
        problems.append(f"it was downloaded from {url}, not as {archive!r}")
    if checksum is not None and sha is None:
        problems.append(
            "its SHA-256 was not recorded (it was unpacked by an older "
            "version), so it cannot be checked against checksums"
        )
    elif checksum is not None and sha != checksum.lower():
        problems.append(f"its SHA-256 is {sha}, not {checksum}")
    if "files" in fields:
        problems += _changed_files(folder, json.loads(fields["files"]))
    elif checksum is not None and sha is not None:
        problems.append(
            "the SHA-256 of its files were not recorded (it was unpacked by "
            "an older version), so they cannot be checked against checksums"
        )
    if problems:
        raise OSError(
            f"The cached RRUFF {modality} data in {str(folder)!r} are not the "
            f"archive asked for: {'; '.join(problems)}. Remove that folder to "
            "download it again, or pass another data_home."
        )


@contextlib.contextmanager
def _locked(cache, modality):
    """Serialise fetches of one modality between processes where possible.

    Yields whether the lock is held (not on Windows, where the rename that
    publishes an archive suffices).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the rename below suffices
        yield False
        return
    with open(cache / f".{modality}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_left_over(cache, modality):
    """Remove the working folders of fetches that were killed (the lock is held).

    A fetch removes its own on any error; a process killed outright (SIGKILL,
    a lost machine) cannot, and an unpacked archive is large.
    """
    for folder in cache.glob(f".{modality}-*"):
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


def _fetch_one(modality, url, cache, checksum, timeout):
    """Download, check and unpack one archive; publish it with one rename."""
    final = cache / modality
    tmp = Path(tempfile.mkdtemp(prefix=f".{modality}-", dir=cache))
    try:
        archive = tmp / "archive.zip"
        sha256 = _download(url, archive, timeout)
        if checksum is not None and sha256 != checksum.lower():
            raise OSError(
                f"SHA-256 of the download from {url} is {sha256}, expected "
                f"{checksum}; the file is corrupt or has changed."
            )
        unpacked = tmp / "unpacked"
        _unpack(archive, url, unpacked)
        if not _has_spectra(unpacked, modality):
            raise OSError(
                f"The archive from {url} holds no readable RRUFF {modality} "
                "files; nothing was cached."
            )
        files = json.dumps(_file_digests(unpacked), ensure_ascii=True)
        (unpacked / _COMPLETE).write_text(f"{url}\nsha256={sha256}\nfiles={files}\n")
        if _is_cached(final, modality):
            return  # another process published it meanwhile
        if final.exists() or final.is_symlink():
            # An incomplete folder left by an older version: move it aside.
            os.replace(final, tmp / "stale")
        try:
            os.replace(unpacked, final)
        except OSError:
            if not _is_cached(final, modality):
                raise
            # Another process published the same archive first: keep theirs.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _modality_dict(value, name, what):
    """Return ``value``, a dict keyed by modality ({} for None), or raise."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameterError(
            f"{name} must be a dict of modality -> {what}; got {type(value).__name__}."
        )
    return value


def _check_checksums(checksums, modalities):
    checksums = _modality_dict(checksums, "checksums", "SHA-256 hex digest")
    for key, value in checksums.items():
        if key not in modalities:
            raise ValueError(
                f"checksums has {key!r}, which is not among the fetched "
                f"modalities {modalities}."
            )
        if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
            raise ValueError(
                f"checksums[{key!r}] must be a SHA-256 digest of 64 hex digits; "
                f"got {value!r}."
            )
    return checksums


def _check_archives(archives):
    archives = _modality_dict(archives, "archives", "archive path")
    valid = ", ".join(repr(m) for m in ARCHIVES)
    for key, value in archives.items():
        if key not in ARCHIVES:
            raise ValueError(
                f"archives has {key!r}, which is no modality; its keys must be "
                f"among {valid}."
            )
        if not isinstance(value, str) or not value.strip("/"):
            raise ValueError(
                f"archives[{key!r}] must be an archive path relative to "
                f"base_url, such as {ARCHIVES[key]!r}; got {value!r}."
            )
    return archives


def _load_arguments(modalities, load_kwargs):
    """Check the arguments for load_rruff, before any download; add defaults."""
    signature = inspect.signature(load_rruff)
    try:
        signature.bind_partial(None, **load_kwargs)
    except TypeError as exc:
        raise TypeError(
            f"fetch_rruff() {exc} (the keyword arguments that are not "
            "fetch_rruff's own go to load_rruff)"
        ) from None
    load_kwargs = dict(load_kwargs)
    if check_bool(load_kwargs.get("pair", True), "pair"):
        spectra = [m for m in modalities if m != "xrd"]
        load_kwargs.setdefault("require", tuple(spectra or modalities))
    load_kwargs.setdefault("on_error", "skip")
    bound = signature.bind(None, **load_kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    del arguments["directory"]
    check_load_args(**arguments)
    return load_kwargs


def fetch_rruff(
    data_home=None,
    *,
    base_url=BASE_URL,
    modalities=("ir", "raman", "xrd"),
    archives=None,
    download_if_missing=True,
    checksums=None,
    timeout=60.0,
    **load_kwargs,
):
    """Download the RRUFF archives (cached), then load them with load_rruff.

    Each modality's zip archive is fetched from ``base_url`` once, checked
    (zip integrity, size and, if given, its SHA-256), unpacked into
    ``<data_home>/rruff/<modality>`` and loaded by :func:`load_rruff`. A
    download is unpacked into a temporary folder and only renamed into
    place when it is complete and holds at least one readable RRUFF file of
    its modality, so the cache of a modality is complete or absent: a
    failed, corrupt or empty download leaves nothing behind. Later calls
    read the cache without network access, after checking it: a cache of
    another archive (another path in ``archives``), of another SHA-256 than
    ``checksums``, or whose files changed, went missing or were added since
    they were unpacked (their SHA-256 are recorded) raises an OSError
    instead of being returned (the base URL may change: a mirror serves the
    same archives). A cache unpacked by a version that did not record the
    download's SHA-256 cannot be checked against ``checksums`` and raises.
    Concurrent calls (threads or processes) on one cache are safe: one
    downloads, the others wait for it (POSIX) or keep whichever complete
    copy was published first.

    Read more in the :ref:`User Guide <datasets>`.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Cache folder. None means the ``SKTRANSFER_DATA`` environment
        variable where it is set and not empty, else ``sktransfer_data`` inside
        :func:`sklearn.datasets.get_data_home`.
    base_url : str, default="https://rruff.info/zipped_data_files/"
        Where the archives are; each archive path is appended to it. The
        newer RRUFF site serves the same folders under
        ``https://www.rruff.net/zipped_data_files/``.
    modalities : {"ir", "raman", "xrd"} or tuple of them, \
            default=("ir", "raman", "xrd")
        Which archives to fetch and load.
    archives : dict or None, default=None
        Archive path relative to ``base_url`` per modality (keys among
        ``"ir"``, ``"raman"`` and ``"xrd"``), overriding the defaults
        ``infrared/Processed.zip``, ``raman/excellent_unoriented.zip`` and
        ``powder/DIF.zip``.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading a missing archive.
        A NumPy bool is accepted; anything else (the string ``"False"``,
        say) raises a ValueError.
    checksums : dict or None, default=None
        Expected SHA-256 hex digest (64 hex digits) per fetched modality; a
        mismatch raises.
    timeout : float, default=60.0
        Network timeout in seconds: a positive finite number.
    **load_kwargs : dict
        Passed to :func:`load_rruff`, and checked against its parameters
        before anything is downloaded. Defaults here: with ``pair=True``,
        ``require`` is the fetched IR/Raman modalities (or ``modalities``
        if neither), and ``on_error="skip"`` (unreadable files of the large
        archives are listed in ``skipped``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        What :func:`load_rruff` returns for the cached files.

    Raises
    ------
    OSError
        If a download fails (the message names the URL and the reason, such
        as an HTTP error, a refused connection or a timeout; the original
        error is chained as ``__cause__``), is cut short (fewer bytes than
        the server announced), is not a valid zip file or has a
        corrupt member (whatever the damage; the message names the member
        whose check failed), has the wrong checksum, is larger or would
        unpack to more than ``MAX_UNPACKED_BYTES`` (4 GiB), has a member of
        over 1 MiB compressed more than ``MAX_COMPRESSION_RATIO`` (100:1;
        smaller members may be, a short run of one byte is), holds no
        readable RRUFF file of its modality (files that sktransfer wrote as
        predictions or generated spectra do not count), or is missing with
        ``download_if_missing=False``; or if the cache holds another
        archive or checksum than the call asks for.
    ValueError
        If ``modalities``, ``archives`` (a key that is no modality, say),
        ``download_if_missing``, ``checksums``, ``timeout`` (not a positive
        finite number) or the values of ``load_kwargs`` are not valid;
        raised before anything is downloaded.
    TypeError
        If ``load_kwargs`` holds a name that is no parameter of
        :func:`load_rruff`; raised before anything is downloaded.

    See Also
    --------
    load_rruff : Load RRUFF files already on disk.

    Examples
    --------
    >>> from sktransfer.datasets import fetch_rruff
    >>> data = fetch_rruff(modalities=("raman",))  # doctest: +SKIP
    >>> data.raman.shape  # doctest: +SKIP
    (..., 1024)
    """
    modalities = as_modalities(modalities, "modalities")
    if not modalities:
        raise ValueError("modalities must name at least one modality.")
    checksums = _check_checksums(checksums, modalities)
    paths = {**ARCHIVES, **_check_archives(archives)}
    check_bool(download_if_missing, "download_if_missing")
    check_param(timeout, "timeout", low=0, closed="neither")
    load_kwargs = _load_arguments(modalities, load_kwargs)
    cache = _data_home(data_home) / "rruff"
    cache.mkdir(exist_ok=True)
    for m in modalities:
        # A complete cache is published whole, by one rename: it is read
        # without the lock, which a read-only cache could not take.
        if _is_cached(cache / m, m):
            _check_cache(cache / m, m, paths[m], checksums.get(m))
            continue
        with _locked(cache, m) as locked:
            if locked:
                _remove_left_over(cache, m)
            if _is_cached(cache / m, m):
                _check_cache(cache / m, m, paths[m], checksums.get(m))
                continue
            url = base_url.rstrip("/") + "/" + paths[m].lstrip("/")
            if not download_if_missing:
                raise OSError(
                    f"RRUFF {m} data not found in {str(cache)!r} and "
                    "download_if_missing=False."
                )
            _fetch_one(m, url, cache, checksums.get(m), timeout)
    return load_rruff([cache / m for m in modalities], **load_kwargs)
