import hashlib
import http.server
import io
import os
import pathlib
import socket
import threading
import zipfile

import numpy as np
import pytest

from sktransfer.datasets import fetch_rruff
from tests.datasets._files import QUARTZ_DIF, peak, write_dif, write_spectrum

IR_X = np.arange(380.0, 4010.0, 2.0)
RAMAN_X = np.arange(100.0, 1300.0, 0.5)


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, path.name)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    ir, raman = [], []
    for rid, species in [("R000001", "Quartz"), ("R000002", "Calcite")]:
        ir.append(
            write_spectrum(
                src / f"{species}__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
                IR_X,
                peak(IR_X, 1080.0, 20.0),
                species=species,
                rruff_id=rid,
            )
        )
        raman.append(
            write_spectrum(
                src / f"{species}__{rid}__Raman__532__0__unoriented__Processed__2.txt",
                RAMAN_X,
                peak(RAMAN_X, 465.0, 4.0),
                species=species,
                rruff_id=rid,
                data_newline="\r\n",
            )
        )
    name = "Quartz__R000001-1__Powder__DIF_File__3.txt"
    dif = [write_dif(src / name, QUARTZ_DIF, rruff_id="R000001")]
    return {
        "infrared/Processed.zip": _zip(ir),
        "raman/excellent_unoriented.zip": _zip(raman),
        "powder/DIF.zip": _zip(dif),
    }


class _Server:
    """Serves ``files`` (path -> bytes) on 127.0.0.1 and counts requests.

    ``cut=True`` announces each file's length but sends only its first half,
    as a connection closed early does.
    """

    def __init__(self, files, cut=False):
        self.files = dict(files)
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                self.close_connection = cut

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, args=(0.02,), daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(archives):
    srv = _Server(archives)
    yield srv
    srv.close()


def _cache_entries(home):
    # The per-modality lock files stay; anything else would be partial data.
    entries = (home / "rruff").iterdir()
    return sorted(p.name for p in entries if not p.name.endswith(".lock"))


def test_fetch_downloads_unpacks_and_caches(server, tmp_path):
    data = fetch_rruff(tmp_path, base_url=server.url)
    assert list(data.rruff_ids) == ["R000001", "R000002"]
    assert data.ir.shape == (2, 1024) and data.raman.shape == (2, 1024)
    np.testing.assert_array_equal(data.has_xrd, [True, False])
    assert len(server.requests) == 3
    assert _cache_entries(tmp_path) == ["ir", "raman", "xrd"]
    # The second call reads the cache: no request at all, even with no server.
    server.close()
    again = fetch_rruff(tmp_path, base_url=server.url, download_if_missing=False)
    assert len(server.requests) == 3
    np.testing.assert_array_equal(again.raman, data.raman)


def test_complete_read_only_cache_is_read(server, tmp_path, monkeypatch):
    # A cache shared read-only (a copy without the lock files, a read-only
    # mount) failed with PermissionError: the lock file was opened for
    # writing before the cache was looked at.
    from sktransfer.datasets import _fetch

    data = fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    server.close()
    cache = tmp_path / "rruff"
    (cache / ".raman.lock").unlink()

    def read_only(file, mode="r", *args, **kwargs):
        if set(mode) & set("wax+"):
            raise PermissionError(13, "Permission denied", str(file))
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(_fetch, "open", read_only, raising=False)
    folders = [cache, cache / "raman"]
    for folder in folders:
        folder.chmod(0o555)
    try:
        again = fetch_rruff(tmp_path, modalities=("raman",), download_if_missing=False)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    np.testing.assert_array_equal(again.raman, data.raman)
    assert len(server.requests) == 1


def test_fetch_one_modality_with_checksum_and_load_options(server, archives, tmp_path):
    sha = hashlib.sha256(archives["raman/excellent_unoriented.zip"]).hexdigest()
    data = fetch_rruff(
        tmp_path,
        base_url=server.url,
        modalities=("raman",),
        checksums={"raman": sha.upper()},
        pair=False,
        normalize="max",
        outside="zero",
    )
    assert data.modality == "raman" and data.data.shape == (2, 1024)
    np.testing.assert_allclose(data.data.max(axis=1), 1.0)
    assert server.requests == ["/raman/excellent_unoriented.zip"]


def test_data_home_from_environment(server, tmp_path, monkeypatch):
    monkeypatch.setenv("SKTRANSFER_DATA", str(tmp_path / "env_home"))
    fetch_rruff(base_url=server.url, modalities=("xrd",))
    assert (tmp_path / "env_home" / "rruff" / "xrd").is_dir()


def test_empty_data_home_variable_is_unset(server, tmp_path, monkeypatch):
    # SKTRANSFER_DATA= (set, empty) put the cache in the current directory.
    monkeypatch.setenv("SKTRANSFER_DATA", "")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_home"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    fetch_rruff(base_url=server.url, modalities=("xrd",))
    assert os.listdir(tmp_path / "cwd") == []
    assert (tmp_path / "sklearn_home" / "sktransfer_data" / "rruff" / "xrd").is_dir()


def test_corrupt_download_raises_and_leaves_no_cache(server, archives, tmp_path):
    good = archives["raman/excellent_unoriented.zip"]
    server.files["raman/excellent_unoriented.zip"] = good[: len(good) // 2]
    with pytest.raises(OSError, match="not a valid zip"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []
    # A flipped byte inside the compressed data fails the CRC check.
    broken = bytearray(good)
    broken[60] ^= 0xFF
    server.files["raman/excellent_unoriented.zip"] = bytes(broken)
    with pytest.raises(OSError, match="(not a valid zip|Corrupt member) "):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []


def test_checksum_mismatch_leaves_no_cache(server, tmp_path):
    with pytest.raises(OSError, match="SHA-256"):
        fetch_rruff(
            tmp_path,
            base_url=server.url,
            modalities=("ir",),
            checksums={"ir": "0" * 64},
        )
    assert _cache_entries(tmp_path) == []


def test_missing_archive_and_no_download(server, tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_rruff(tmp_path, base_url=server.url, download_if_missing=False)
    with pytest.raises(OSError, match="404"):
        fetch_rruff(
            tmp_path,
            base_url=server.url,
            modalities=("ir",),
            archives={"ir": "nowhere.zip"},
        )
    assert _cache_entries(tmp_path) == []
    assert server.requests == ["/nowhere.zip"]


def test_bad_modalities(tmp_path):
    with pytest.raises(ValueError, match="modalities"):
        fetch_rruff(tmp_path, modalities=("uv",))
    with pytest.raises(ValueError, match="modalities"):
        fetch_rruff(tmp_path, modalities=())


def test_archive_escaping_the_cache_is_refused(server, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("../escape.txt", "1, 2\n")
    server.files["powder/DIF.zip"] = buffer.getvalue()
    with pytest.raises(OSError, match="Unsafe path"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("xrd",))
    assert _cache_entries(tmp_path) == []
    assert not (tmp_path / "escape.txt").exists()


def _zip_of(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_archive_without_usable_files_is_not_cached(server, archives, tmp_path):
    # A valid zip with nothing usable must not poison the cache for good.
    server.files["raman/excellent_unoriented.zip"] = _zip_of({"readme.txt": "hi"})
    with pytest.raises(OSError, match="no readable RRUFF raman files"):
        fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert _cache_entries(tmp_path) == []
    server.files["raman/excellent_unoriented.zip"] = archives[
        "raman/excellent_unoriented.zip"
    ]
    data = fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert data.data.shape == (2, 1024)
    assert len(server.requests) == 2


def test_archive_of_predictions_is_not_cached(server, tmp_path):
    # Spectra that sktransfer predicted are no RRUFF measurements.
    rows = "".join(f"{x!r}, 1.0\n" for x in RAMAN_X[:50].tolist())
    head = "##NAMES=Quartz\n##RRUFFID=R000001\n"
    predicted = f"{head}##FILETYPE=predicted raman (sktransfer)\n{rows}"
    name = "Quartz__R000001__Infrared_Data_Processed__1__predicted_raman.txt"
    server.files["raman/excellent_unoriented.zip"] = _zip_of({name: predicted})
    with pytest.raises(OSError, match="no readable RRUFF raman files"):
        fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert _cache_entries(tmp_path) == []


def _closed_port():
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_network_errors_name_the_url(server, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/"
    with pytest.raises(OSError, match="Connection refused") as info:
        fetch_rruff(tmp_path, base_url=url, modalities="ir")
    message = str(info.value)
    assert message.startswith(f"The download from {url}infrared/Processed.zip failed")
    assert isinstance(info.value.__cause__, OSError)  # URLError, chained
    with pytest.raises(OSError, match=r"/nowhere\.zip failed: HTTP Error 404"):
        fetch_rruff(
            tmp_path,
            base_url=server.url,
            modalities="ir",
            archives={"ir": "nowhere.zip"},
        )
    # A server that accepts the connection and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(OSError, match=f"{port}/powder/DIF.zip failed: timed out"):
            fetch_rruff(
                tmp_path,
                base_url=f"http://127.0.0.1:{port}/",
                modalities="xrd",
                timeout=0.2,
            )
    assert _cache_entries(tmp_path) == []


def test_incomplete_cache_folder_is_replaced(server, tmp_path):
    # A folder an older version left without usable files is downloaded again.
    (tmp_path / "rruff" / "raman").mkdir(parents=True)
    (tmp_path / "rruff" / "raman" / "junk.txt").write_text("nothing here\n")
    data = fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert data.data.shape == (2, 1024)
    assert server.requests == ["/raman/excellent_unoriented.zip"]
    assert not (tmp_path / "rruff" / "raman" / "junk.txt").exists()


def test_zip_bomb_is_refused(server, tmp_path, monkeypatch):
    # 4 MB of zeros compress about 1000:1.
    bomb = _zip_of({"bomb.txt": b"0" * (4 << 20)})
    assert len(bomb) < 40_000
    server.files["raman/excellent_unoriented.zip"] = bomb
    with pytest.raises(OSError, match="MAX_COMPRESSION_RATIO"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []
    # The total size is capped too, however well or badly it compresses.
    monkeypatch.setattr("sktransfer.datasets._fetch.MAX_UNPACKED_BYTES", 1000)
    server.files["raman/excellent_unoriented.zip"] = _zip_of({"a.txt": b"1, 2\n" * 300})
    with pytest.raises(OSError, match="would unpack to .* MAX_UNPACKED_BYTES"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []
    # ... and so is the download itself.
    server.files["raman/excellent_unoriented.zip"] = b"PK" + b"\x00" * 5000
    with pytest.raises(OSError, match="download .* is larger than"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []


def test_a_small_member_may_compress_more_than_the_ratio(server, archives, tmp_path):
    # Below 1 MiB a high ratio is no zip bomb: 512 KiB of one byte
    # compresses about 1000:1 and is unpacked with the spectra.
    with zipfile.ZipFile(io.BytesIO(archives["raman/excellent_unoriented.zip"])) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["blank.txt"] = b"\n" * (512 << 10)
    body = _zip_of(members)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        info = zf.getinfo("blank.txt")
    assert info.file_size / info.compress_size > 900
    server.files["raman/excellent_unoriented.zip"] = body
    data = fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert data.data.shape == (2, 1024)
    assert (tmp_path / "rruff" / "raman" / "blank.txt").stat().st_size == 512 << 10
    # 2 MiB of it, over 1 MiB, is refused.
    members["blank.txt"] = b"\n" * (2 << 20)
    server.files["raman/excellent_unoriented.zip"] = _zip_of(members)
    with pytest.raises(OSError, match="'blank.txt' .* MAX_COMPRESSION_RATIO"):
        fetch_rruff(tmp_path / "other", base_url=server.url, modalities="raman")
    assert _cache_entries(tmp_path / "other") == []


def test_a_member_failing_its_crc_check_is_named(server, archives, tmp_path):
    # A stored (uncompressed) member with one byte changed reads without a
    # zlib error but fails its CRC-32: the message names it.
    with zipfile.ZipFile(io.BytesIO(archives["raman/excellent_unoriented.zip"])) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    body = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(body))) as zf:
        info = zf.infolist()[-1]
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    body[start + 5] ^= 0x01
    server.files["raman/excellent_unoriented.zip"] = bytes(body)
    with pytest.raises(OSError, match=f"Corrupt member '{info.filename}' in the"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []


def test_damaged_deflate_stream_is_an_oserror(server, archives, tmp_path):
    # Corrupt the deflate data of the first member without touching headers:
    # zlib raises zlib.error, which must surface as OSError.
    good = bytearray(archives["raman/excellent_unoriented.zip"])
    with zipfile.ZipFile(io.BytesIO(bytes(good))) as zf:
        info = zf.infolist()[0]
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    good[start : start + 8] = b"\xff" * 8
    server.files["raman/excellent_unoriented.zip"] = bytes(good)
    with pytest.raises(OSError, match="not a valid zip"):
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    assert _cache_entries(tmp_path) == []


def test_concurrent_fetches_share_one_complete_cache(server, tmp_path):
    results, errors = [], []

    def fetch():
        try:
            results.append(
                fetch_rruff(tmp_path, base_url=server.url, modalities=("ir", "raman"))
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 4
    for data in results[1:]:
        np.testing.assert_array_equal(data.raman, results[0].raman)
    assert _cache_entries(tmp_path) == ["ir", "raman"]
    # The lock makes the later fetches wait for the first: one download each.
    assert sorted(server.requests) == [
        "/infrared/Processed.zip",
        "/raman/excellent_unoriented.zip",
    ]


def _fail_publish(monkeypatch, meanwhile):
    """Make the rename that publishes a download fail after ``meanwhile(src, dst)``."""
    import sktransfer.datasets._fetch as fetch_module

    real_replace = os.replace

    def replace(src, dst):
        if os.path.basename(src) == "unpacked":
            meanwhile(src, dst)
            raise OSError(39, "Directory not empty")
        return real_replace(src, dst)

    monkeypatch.setattr(fetch_module.os, "replace", replace)


def test_publish_tolerates_another_winner(server, tmp_path, monkeypatch):
    # Without a lock (e.g. on Windows), the rename can lose the race to
    # another process that published a complete copy first: not an error.
    import shutil

    _fail_publish(monkeypatch, shutil.copytree)  # the other process wins
    data = fetch_rruff(tmp_path, base_url=server.url, modalities="xrd")
    assert data.xrd.shape[0] == 1
    assert _cache_entries(tmp_path) == ["xrd"]


def test_failed_publish_raises_and_leaves_no_cache(server, tmp_path, monkeypatch):
    # The rename fails and no other process published a copy: an error.
    _fail_publish(monkeypatch, lambda src, dst: None)
    with pytest.raises(OSError, match="Directory not empty"):
        fetch_rruff(tmp_path, base_url=server.url, modalities="xrd")
    assert _cache_entries(tmp_path) == []


@pytest.mark.parametrize(
    "checksums, match",
    [
        ({"raman": 123}, r"checksums\['raman'\] must be a SHA-256"),
        ({"raman": "abc"}, "64 hex digits"),
        ({"ir": "0" * 64}, "not among the fetched modalities"),
        (["0" * 64], "must be a dict"),
    ],
)
def test_bad_checksums(tmp_path, checksums, match):
    with pytest.raises(ValueError, match=match):
        fetch_rruff(tmp_path, modalities=("raman",), checksums=checksums)


def test_nested_data_home_is_created(server, tmp_path):
    home = tmp_path / "a" / "b"
    data = fetch_rruff(home, base_url=server.url, modalities=("xrd",))
    assert data.xrd.shape[0] == 1
    assert _cache_entries(home) == ["xrd"]


def _rezip(body, compression):
    """The archive ``body`` written again with ``compression``."""
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_size_limit_is_inclusive(server, archives, tmp_path, monkeypatch, compression):
    # Stored, the download is the larger; deflated, the unpacked files are:
    # either exactly at MAX_UNPACKED_BYTES is accepted, one byte over is not.
    body = _rezip(archives["raman/excellent_unoriented.zip"], compression)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        unpacked = sum(info.file_size for info in zf.infolist())
    limit = max(len(body), unpacked)
    server.files["raman/excellent_unoriented.zip"] = body
    monkeypatch.setattr("sktransfer.datasets._fetch.MAX_UNPACKED_BYTES", limit - 1)
    with pytest.raises(OSError, match="MAX_UNPACKED_BYTES"):
        fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert _cache_entries(tmp_path) == []
    monkeypatch.setattr("sktransfer.datasets._fetch.MAX_UNPACKED_BYTES", limit)
    data = fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert data.data.shape == (2, 1024)


def test_large_members_and_folders_are_no_zip_bomb(server, archives, tmp_path):
    # A spectrum of over 1 MiB that compresses as text does, and a folder
    # entry (stored with no bytes at all), are accepted.
    x = np.arange(100.0, 1300.0, 0.01)
    y = peak(x, 465.0, 4.0) + np.random.default_rng(0).uniform(0, 0.01, x.size)
    name = "Albite__R000003__Raman__532__0__unoriented__Processed__2.txt"
    big = write_spectrum(tmp_path / name, x, y, species="Albite", rruff_id="R000003")
    body = archives["raman/excellent_unoriented.zip"]
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)
        zf.write(big, name)
        zf.mkdir("notes")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        sizes = {i.filename: (i.file_size, i.compress_size) for i in zf.infolist()}
    assert sizes[name][0] > 1 << 20 and sizes["notes/"] == (0, 0)
    server.files["raman/excellent_unoriented.zip"] = buffer.getvalue()
    home = tmp_path / "home"
    data = fetch_rruff(home, base_url=server.url, modalities="raman", pair=False)
    assert sorted(data.rruff_ids) == ["R000001", "R000002", "R000003"]
    assert (home / "rruff" / "raman" / "notes").is_dir()


def test_download_is_staged_inside_the_cache(server, tmp_path, monkeypatch):
    # Staged in the system's temporary folder, the download could not be
    # renamed into a cache on another file system.
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no_such_folder"))
    data = fetch_rruff(tmp_path / "home", base_url=server.url, modalities="xrd")
    assert data.xrd.shape[0] == 1
    assert not (tmp_path / "no_such_folder").exists()


def test_cache_without_completeness_mark_is_read_and_marked(tmp_path, monkeypatch):
    # A cache written before completeness was marked holds spectra: it is
    # read without download, and marked complete.
    folder = tmp_path / "rruff" / "raman"
    folder.mkdir(parents=True)
    name = "Quartz__R000001__Raman__532__0__unoriented__Processed__2.txt"
    write_spectrum(
        folder / name, RAMAN_X, peak(RAMAN_X, 465.0, 4.0), rruff_id="R000001"
    )
    data = fetch_rruff(
        tmp_path, modalities="raman", pair=False, download_if_missing=False
    )
    assert list(data.rruff_ids) == ["R000001"]
    assert (folder / ".sktransfer-complete").read_text() == "checked\n"
    # A read-only cache, where the mark cannot be written, is read all the same.
    (folder / ".sktransfer-complete").unlink()

    def read_only(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    with monkeypatch.context() as m:
        m.setattr(pathlib.Path, "write_text", read_only)
        again = fetch_rruff(
            tmp_path, modalities="raman", pair=False, download_if_missing=False
        )
    np.testing.assert_array_equal(again.data, data.data)
    assert not (folder / ".sktransfer-complete").exists()


def test_documented_limits():
    from sktransfer.datasets import _fetch

    assert _fetch.MAX_UNPACKED_BYTES == 4 * 1024**3
    assert _fetch.MAX_COMPRESSION_RATIO == 100


def test_cache_of_another_archive_or_checksum_raises(server, archives, tmp_path):
    # the cache was returned whatever archive or checksum a later call named
    fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",))
    sha = hashlib.sha256(archives["raman/excellent_unoriented.zip"]).hexdigest()
    server.close()
    with pytest.raises(OSError, match="not as 'raman/LR-Raman.zip'.*Remove that"):
        fetch_rruff(
            tmp_path,
            base_url=server.url,
            modalities=("raman",),
            archives={"raman": "raman/LR-Raman.zip"},
        )
    with pytest.raises(OSError, match=f"SHA-256 is {sha}, not {'f' * 64}"):
        fetch_rruff(tmp_path, modalities=("raman",), checksums={"raman": "f" * 64})
    # the same archive from a mirror, and its own checksum, read the cache
    data = fetch_rruff(
        tmp_path,
        base_url="http://127.0.0.1:9/mirror/",
        modalities=("raman",),
        checksums={"raman": sha},
        download_if_missing=False,
    )
    assert data.raman.shape == (2, 1024)
    assert len(server.requests) == 1


def test_download_cut_short_is_named_and_not_cached(archives, tmp_path):
    # a connection closed before the announced length was reported as "not
    # a valid zip file"
    body = archives["raman/excellent_unoriented.zip"]
    srv = _Server(archives, cut=True)
    try:
        with pytest.raises(OSError, match=f"was cut short: {len(body) // 2} of the "):
            fetch_rruff(tmp_path, base_url=srv.url, modalities=("raman",))
    finally:
        srv.close()
    assert _cache_entries(tmp_path) == []


def test_the_working_folder_of_a_killed_fetch_is_removed(server, tmp_path):
    # a process killed while it downloaded left its hidden folder (with the
    # archive and part of its files) for good
    cache = tmp_path / "rruff"
    left = cache / ".raman-killed1"
    (left / "unpacked").mkdir(parents=True)
    (left / "archive.zip").write_bytes(b"PK\x03\x04 half an archive")
    other = cache / ".ir-killed2"  # another modality's: left to its own fetch
    other.mkdir()
    fetch_rruff(tmp_path, base_url=server.url, modalities="raman", pair=False)
    assert not left.exists() and other.is_dir()
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == [
        ".ir-killed2",
        "raman",
    ]


def test_cached_files_that_changed_since_unpacking_raise(server, archives, tmp_path):
    # a damaged or truncated cached file was read as it was (or left out in
    # `skipped`), even with checksums: the cache was never checked again
    sha = hashlib.sha256(archives["raman/excellent_unoriented.zip"]).hexdigest()
    kw = {"modalities": ("raman",), "checksums": {"raman": sha}}
    data = fetch_rruff(tmp_path, base_url=server.url, **kw)
    server.close()
    folder = tmp_path / "rruff" / "raman"
    files = sorted(p for p in folder.rglob("*.txt"))
    original = files[0].read_bytes()
    files[0].write_bytes(original[: len(original) // 2])
    with pytest.raises(OSError, match=r"1 file\(s\) changed since it was unpacked"):
        fetch_rruff(tmp_path, **kw)
    files[0].write_bytes(original)  # as unpacked: read again
    again = fetch_rruff(tmp_path, download_if_missing=False, **kw)
    np.testing.assert_array_equal(again.raman, data.raman)
    files[0].unlink()
    (folder / "extra.txt").write_bytes(original)
    with pytest.raises(OSError, match=r"1 file\(s\) missing.*1 file\(s\) added"):
        fetch_rruff(tmp_path, modalities=("raman",))
    # a cache that recorded no SHA-256 of its files, or of its download,
    # cannot be checked against checksums
    (folder / "extra.txt").rename(files[0])
    mark = (folder / ".sktransfer-complete").read_text().splitlines()
    (folder / ".sktransfer-complete").write_text("\n".join(mark[:2]) + "\n")
    with pytest.raises(OSError, match="SHA-256 of its files were not recorded"):
        fetch_rruff(tmp_path, **kw)
    (folder / ".sktransfer-complete").write_text("checked\n")
    assert fetch_rruff(tmp_path, modalities=("raman",)).raman.shape == (2, 1024)
    with pytest.raises(OSError, match="SHA-256 was not recorded"):
        fetch_rruff(tmp_path, **kw)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        # a key of another spelling left the default archive downloaded
        (
            {"archives": {"Raman": "mine/custom.zip"}},
            ValueError,
            "archives has 'Raman', which is no modality; its keys must be among "
            "'ir', 'raman', 'xrd'.",
        ),
        (
            {"archives": {"raman": 3}},
            ValueError,
            "archives['raman'] must be an archive path relative to base_url, such "
            "as 'raman/excellent_unoriented.zip'; got 3.",
        ),
        (
            {"archives": ["raman/excellent_unoriented.zip"]},
            ValueError,
            "archives must be a dict of modality -> archive path; got list.",
        ),
        # a misspelt load_rruff argument was refused after every download
        (
            {"normalise": "max"},
            TypeError,
            "fetch_rruff() got an unexpected keyword argument 'normalise' (the "
            "keyword arguments that are not fetch_rruff's own go to load_rruff)",
        ),
        (
            {"normalize": "l2"},
            ValueError,
            "normalize must be one of 'max', 'area'; got 'l2'.",
        ),
        ({"pair": "yes"}, ValueError, "pair must be True or False, got 'yes'."),
        (
            {"download_if_missing": "False"},
            ValueError,
            "download_if_missing must be True or False, got 'False'.",
        ),
        # timeout="60" failed deep in the socket module, -1 and 0 obscurely
        ({"timeout": "60"}, ValueError, "timeout must be a real number, got '60'."),
        ({"timeout": -1}, ValueError, "timeout must be in (0, inf), got -1."),
        ({"timeout": 0.0}, ValueError, "timeout must be in (0, inf), got 0.0."),
        ({"timeout": float("inf")}, ValueError, "timeout must be finite, got inf."),
        ({"timeout": None}, ValueError, "timeout must be a real number, got None."),
    ],
)
def test_arguments_are_checked_before_any_download(
    server, tmp_path, kwargs, error, message
):
    with pytest.raises(error) as info:
        fetch_rruff(tmp_path, base_url=server.url, modalities=("raman",), **kwargs)
    assert str(info.value) == message
    assert server.requests == []
    assert not (tmp_path / "rruff").exists()


def test_numpy_bools_and_pair_false_are_accepted(server, tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_rruff(
            tmp_path,
            base_url=server.url,
            modalities="raman",
            download_if_missing=np.False_,
        )
    assert server.requests == []
    # require is set only where it applies (pair=True)
    data = fetch_rruff(
        tmp_path,
        base_url=server.url,
        modalities="raman",
        download_if_missing=np.True_,
        pair=np.False_,
        timeout=np.float64(5.0),
    )
    assert data.modality == "raman" and data.data.shape == (2, 1024)
    assert server.requests == ["/raman/excellent_unoriented.zip"]
