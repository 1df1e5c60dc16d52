"""Download, verify, cache and load the public RRUFF zip archives."""

import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from sklearn.datasets import get_data_home as _sklearn_data_home

from sktransfer._validation import check_option
from sktransfer.datasets._load import load_rruff
from sktransfer.datasets._records import MODALITIES

BASE_URL = "https://rruff.info/zipped_data_files/"
ARCHIVES = {
    "ir": "infrared/Processed.zip",
    "raman": "raman/excellent_unoriented.zip",
    "xrd": "powder/DIF.zip",
}
_CHUNK = 1 << 20


def _data_home(data_home):
    if data_home is None:
        data_home = os.environ.get("SKTRANSFER_DATA")
    if data_home is None:
        data_home = Path(_sklearn_data_home()) / "sktransfer_data"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _download(url, target, timeout):
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response:
        with open(target, "wb") as f:
            while chunk := response.read(_CHUNK):
                f.write(chunk)
                digest.update(chunk)
    return digest.hexdigest()


def _unpack(archive, url, target):
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise OSError(f"Corrupt member {bad!r} in the archive from {url}.")
            root = Path(target).resolve()
            for name in zf.namelist():
                # Refuse members that would land outside the cache (zip slip).
                if not (root / name).resolve().is_relative_to(root):
                    raise OSError(f"Unsafe path {name!r} in the archive from {url}.")
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise OSError(f"The download from {url} is not a valid zip file.") from exc


def _fetch_one(modality, url, cache, checksum, timeout):
    """Download and unpack one archive into ``cache/modality`` atomically."""
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
        os.replace(unpacked, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    (zip integrity and, if given, its SHA-256), unpacked into
    ``<data_home>/rruff/<modality>`` and loaded by :func:`load_rruff`. A
    download is written to a temporary folder and only renamed into place
    when it is complete and valid, so a failed or corrupt download leaves no
    partial cache. Later calls read the cache without network access.

    Read more in the :ref:`User Guide <datasets>`.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Cache folder. None means the ``SKTRANSFER_DATA`` environment
        variable, else ``sktransfer_data`` inside
        :func:`sklearn.datasets.get_data_home`.
    base_url : str, default="https://rruff.info/zipped_data_files/"
        Where the archives are; each archive path is appended to it. The
        newer RRUFF site serves the same folders under
        ``https://www.rruff.net/zipped_data_files/``.
    modalities : tuple of {"ir", "raman", "xrd"}, default=("ir", "raman", "xrd")
        Which archives to fetch and load.
    archives : dict or None, default=None
        Archive path relative to ``base_url`` per modality, overriding the
        defaults ``infrared/Processed.zip``, ``raman/excellent_unoriented.zip``
        and ``powder/DIF.zip``.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading a missing archive.
    checksums : dict or None, default=None
        Expected SHA-256 hex digest per modality; a mismatch raises.
    timeout : float, default=60.0
        Network timeout in seconds.
    **load_kwargs : dict
        Passed to :func:`load_rruff`. Defaults here: ``require`` is the
        fetched IR/Raman modalities (or ``modalities`` if neither) and
        ``on_error="skip"`` (unreadable files of the large archives are
        listed in ``skipped``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        What :func:`load_rruff` returns for the cached files.

    Raises
    ------
    OSError
        If a download fails, is not a valid zip file, has the wrong
        checksum, or is missing with ``download_if_missing=False``.

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
    modalities = tuple(modalities)
    if not modalities:
        raise ValueError("modalities must name at least one modality.")
    for m in modalities:
        check_option(m, "modalities", MODALITIES)
    paths = {**ARCHIVES, **(archives or {})}
    checksums = checksums or {}
    cache = _data_home(data_home) / "rruff"
    cache.mkdir(exist_ok=True)
    for m in modalities:
        if (cache / m).is_dir():
            continue
        url = base_url.rstrip("/") + "/" + paths[m].lstrip("/")
        if not download_if_missing:
            raise OSError(
                f"RRUFF {m} data not found in {str(cache)!r} and "
                "download_if_missing=False."
            )
        _fetch_one(m, url, cache, checksums.get(m), timeout)
    spectra = [m for m in modalities if m != "xrd"]
    load_kwargs.setdefault("require", tuple(spectra or modalities))
    load_kwargs.setdefault("on_error", "skip")
    return load_rruff([cache / m for m in modalities], **load_kwargs)
