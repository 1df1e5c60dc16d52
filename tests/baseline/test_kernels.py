import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from joblib import parallel_config

from sktransfer.baseline import _kernels
from sktransfer.baseline._kernels import (
    _baseline_chunk,
    _baseline_chunk_into,
    _chunks,
    min_points,
    pybaselines_methods,
    row_baselines,
)
from sktransfer.baseline._stacked import stacks
from tests.baseline._reference import loop_baselines
from tests.conftest import gaussian_spectra

METHODS = [
    ("airpls", {"lam": 1e5}),
    ("arpls", {"lam": 1e5}),
    ("asls", {"lam": 1e6, "p": 0.01}),
    ("modpoly", {"poly_order": 2}),
    ("snip", {"max_half_window": 15}),
    ("iarpls", {}),
    ("imodpoly", {"poly_order": 3}),
]


@pytest.fixture(scope="module")
def data():
    x, X, _ = gaussian_spectra(n_samples=12, n_features=150)
    return x, X


@pytest.mark.parametrize("method, kwargs", METHODS)
def test_row_baselines_equal_pybaselines_loop(data, method, kwargs):
    x, X = data
    expected = loop_baselines(X, method, kwargs, x_data=x)
    baselines, n_iter, last_tol = row_baselines(X, method, kwargs, x_data=x)
    assert baselines.dtype == X.dtype
    # The stacked Whittaker methods round differently, and arPLS's
    # reweighting amplifies rounding over its passes (to ~1e-9 here).
    atol = 1e-8 * np.ptp(X) if stacks(method, kwargs) else 1e-12
    np.testing.assert_allclose(baselines, expected, rtol=0, atol=atol)
    assert n_iter.shape == last_tol.shape == (X.shape[0],)


def test_row_baselines_reports_tol_history(data):
    _, X = data
    kwargs = {"lam": 1e5, "max_iter": 50, "tol": 1e-3}
    _, n_iter, last_tol = row_baselines(X, "arpls", kwargs)
    from pybaselines import Baseline

    history = Baseline().arpls(X[3], **kwargs)[1]["tol_history"]
    assert n_iter[3] == len(history)
    assert last_tol[3] == pytest.approx(history[-1], rel=1e-5)
    # Methods without a tolerance history report none.
    _, n_iter, last_tol = row_baselines(X, "snip", {"max_half_window": 5})
    assert np.all(n_iter == 0) and np.all(np.isnan(last_tol))


def test_row_baselines_parallel_chunks_equal_serial(data):
    _, X = data
    serial = row_baselines(X, "airpls", {"lam": 1e5})
    with parallel_config(backend="threading"):
        parallel = row_baselines(X, "airpls", {"lam": 1e5}, n_jobs=3)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["loky", "threading", "multiprocessing"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_workers_share_the_output_file(data, backend, dtype, monkeypatch, tmp_path):
    _, X = data
    X = X.astype(dtype)
    monkeypatch.setattr(_kernels, "_SHARED_MEMORY", str(tmp_path))
    serial = row_baselines(X, "modpoly", {"poly_order": 2})
    with parallel_config(backend=backend):
        parallel = row_baselines(X, "modpoly", {"poly_order": 2}, n_jobs=2)
    assert parallel[0].dtype == dtype
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path) == []


_FULL_FOLDER_RUN = """
import sys
import numpy as np
from joblib import parallel_config
from sktransfer.baseline import _kernels

_kernels._SHARED_MEMORY = sys.argv[1]
X = np.random.default_rng(0).normal(size=(64, 1000)).cumsum(axis=1)
serial = _kernels.row_baselines(X, "snip", {"max_half_window": 5})
with parallel_config(backend="threading"):
    parallel = _kernels.row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=2)
np.testing.assert_array_equal(serial[0], parallel[0])
print("done")
"""


def test_shared_memory_without_room_is_left_for_the_temporary_folder(tmp_path):
    # The files workers share were written through memory maps into
    # _SHARED_MEMORY whatever its free space: in a container whose /dev/shm
    # is smaller than them (64 MB by default) the process died of SIGBUS.
    # A tmpfs of 64 kB, mounted in a namespace of its own (Linux).
    import shutil
    import subprocess
    import sys

    shm = tmp_path / "shm"
    shm.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    script = (
        'mount -t tmpfs -o size=64k tmpfs "$1" 2>/dev/null || exit 77; '
        'echo mounted; exec "$2" -c "$3" "$1"'
    )
    run = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", shm, sys.executable]
        + [_FULL_FOLDER_RUN],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    if not run.stdout.startswith("mounted"):  # unshare or mount refused
        pytest.skip("cannot mount a tmpfs in a user namespace here")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["mounted", "done"]


def _temporary_folders(monkeypatch, tmp_path):
    """``(shm, tmp)``: empty folders standing for shared memory and the
    usual temporary folder."""
    shm, tmp = tmp_path / "shm", tmp_path / "tmp"
    shm.mkdir()
    tmp.mkdir()
    monkeypatch.setattr(_kernels, "_SHARED_MEMORY", str(shm))
    monkeypatch.setattr(_kernels.tempfile, "tempdir", str(tmp))
    return shm, tmp


def test_shared_files_move_to_the_temporary_folder_when_memory_is_full(
    data, monkeypatch, tmp_path
):
    # The same, where no tmpfs can be mounted: the reservation of the
    # shared files' blocks fails as on a full folder.
    import errno

    _, X = data
    shm, tmp = _temporary_folders(monkeypatch, tmp_path)
    reserved = []

    def full(fd, offset, length):
        folder = os.path.dirname(os.readlink(f"/proc/self/fd/{fd}"))
        reserved.append(os.path.dirname(folder))
        if os.path.dirname(folder) == str(shm):
            raise OSError(errno.ENOSPC, "No space left on device")

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd")
    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    serial = row_baselines(X, "snip", {"max_half_window": 5})
    with parallel_config(backend="threading"):
        parallel = row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=2)
    np.testing.assert_array_equal(serial[0], parallel[0])
    assert reserved == [str(shm), str(tmp), str(tmp)]
    assert os.listdir(shm) == os.listdir(tmp) == []


def test_threads_open_no_shared_file(data, monkeypatch):
    # Opening the .npy file parses its header with ast.literal_eval, which
    # can fail in two threads at once on Python 3.11 ("SystemError: AST
    # constructor recursion depth mismatch"): threads return their baselines
    _, X = data
    serial = row_baselines(X, "airpls", {"lam": 1e5})
    opened, load = [], np.load

    def recording_load(*args, **kwargs):
        opened.append(threading.get_ident())
        return load(*args, **kwargs)

    monkeypatch.setattr(np, "load", recording_load)
    with parallel_config(backend="threading"):
        parallel = row_baselines(X, "airpls", {"lam": 1e5}, n_jobs=3)
    assert opened == []
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def _assert_threads_equal_serial(X, n_jobs):
    serial = row_baselines(X, "snip", {"max_half_window": 5})
    with parallel_config(backend="threading"):
        parallel = row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=n_jobs)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_calling_process_computes_the_last_chunk(data, monkeypatch):
    _, X = data
    shipped = []
    real_into = _kernels._baseline_chunk_into

    def spy(X_chunk, *args):
        shipped.append(args[-1])
        return real_into(X_chunk, *args)

    monkeypatch.setattr(_kernels, "_baseline_chunk_into", spy)
    _assert_threads_equal_serial(X, n_jobs=3)
    # two of the three chunks go to workers; the last one stays here
    assert shipped == _chunks(len(X), 3)[:-1]


def test_calls_in_threads_leave_the_thread_limit_as_they_were(data, monkeypatch):
    # The calling thread computes its chunk under threadpoolctl limits, which
    # some BLAS builds (MKL, OpenBLAS with pthreads) keep for the whole
    # process. Two calls in threads, the first returning while the second
    # still computes, must not leave the limit in place. A process-wide
    # limit is faked here, as the BLAS build at hand may keep it per thread.
    _, X = data
    process = {"threads": 8}

    class ProcessWideLimits:
        def __init__(self, limits):
            self.limits = limits

        def __enter__(self):
            self.original = process["threads"]
            process["threads"] = self.limits

        def __exit__(self, *exc):
            process["threads"] = self.original

    monkeypatch.setattr(_kernels, "threadpool_limits", ProcessWideLimits)
    real_chunk = _kernels._baseline_chunk
    role = threading.local()
    first_in, second_in, first_done = (threading.Event() for _ in range(3))

    def chunk(*args):
        name = getattr(role, "name", None)
        if name == "first":
            first_in.set()
            second_in.wait(1)  # held back by the other call, if it waits
        elif name == "second":
            second_in.set()
            first_done.wait(30)
        return real_chunk(*args)

    def call(name):
        role.name = name
        if name == "second":
            first_in.wait(30)
        try:
            with parallel_config(backend="threading"):
                return row_baselines(X, "airpls", {"lam": 1e5}, n_jobs=2)[0]
        finally:
            if name == "first":
                first_done.set()

    monkeypatch.setattr(_kernels, "_baseline_chunk", chunk)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(call, ["first", "second"]))
    assert process["threads"] == 8
    expected = row_baselines(X, "airpls", {"lam": 1e5})[0]
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_workers_read_their_spectra_from_the_shared_file(data, monkeypatch):
    # views of one memmap beside the output file, so joblib passes them by
    # reference and has no memmap of its own to clean up after the call
    _, X = data
    received = []
    real_into = _kernels._baseline_chunk_into

    def spy(X_chunk, *args):
        received.append((X_chunk, args[-2], args[-1]))
        return real_into(X_chunk, *args)

    monkeypatch.setattr(_kernels, "_baseline_chunk_into", spy)
    _assert_threads_equal_serial(X, n_jobs=3)
    shipped = [
        (type(c).__name__, getattr(c, "filename", None), p, r) for c, p, r in received
    ]
    assert len(received) == 2, shipped
    for X_chunk, path, rows in received:
        assert isinstance(X_chunk, np.memmap), shipped
        assert os.path.dirname(X_chunk.filename) == os.path.dirname(path), shipped
        assert X_chunk.filename != path, shipped
        np.testing.assert_array_equal(X_chunk, X[rows])


class _NoGenerator(_kernels.Parallel):
    """A backend that cannot return results as a generator."""

    def __init__(self, *args, return_as="list", **kwargs):
        if return_as == "generator":
            raise ValueError("Backend does not support return_as=generator")
        super().__init__(*args, return_as=return_as, **kwargs)


def test_backend_without_result_generator_gets_every_chunk(data, monkeypatch):
    _, X = data
    monkeypatch.setattr(_kernels, "Parallel", _NoGenerator)
    _assert_threads_equal_serial(X, n_jobs=2)


def test_worker_without_the_file_returns_its_baselines(data, tmp_path):
    _, X = data
    rows = slice(2, 5)
    expected = _baseline_chunk(X[rows], None, True, "snip", {"max_half_window": 5})
    got = _baseline_chunk_into(
        X[rows],
        None,
        True,
        "snip",
        {"max_half_window": 5},
        os.getpid(),
        tmp_path / "gone.npy",
        rows,
    )
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_warnings_do_not_depend_on_n_jobs(data, backend):
    # worker processes' warnings are raised in the calling process, under its
    # filters, and early stops are counted over all chunks in one warning
    _, X = data

    def caught(n_jobs, method, kwargs):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            with parallel_config(backend=backend):
                row_baselines(X, method, kwargs, n_jobs=n_jobs)
        return sorted({(w.category.__name__, str(w.message)) for w in record})

    early = ("airpls", {"lam": 1e2, "tol": 0})
    assert caught(None, *early) == [
        (
            "ParameterWarning",
            f"airpls: almost all baseline points are below the data in {len(X)} "
            f"of {len(X)} spectra, which stopped there; tol may be too low or "
            "max_iter too high.",
        )
    ]
    assert caught(3, *early) == caught(None, *early)
    too_wide = ("snip", {"max_half_window": X.shape[1]})
    assert len(caught(None, *too_wide)) == 1
    assert caught(3, *too_wide) == caught(None, *too_wide)


@pytest.mark.parametrize("action", ["default", "always"])
def test_worker_warnings_come_from_where_they_were_raised(data, action):
    # they were raised at the caller's line: a library's DeprecationWarning
    # hidden by default in one process showed with workers, and twice under
    # the "default" filter (once from each place)
    _, X = data
    deprecated = ("mpls", {"tol": 1e-3})  # pybaselines deprecates the keyword

    def caught(n_jobs):
        import pybaselines._algorithm_setup as setup

        vars(setup).pop("__warningregistry__", None)  # a fresh "default" count
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter(action)
            with parallel_config(backend="loky"):
                row_baselines(X, *deprecated, n_jobs=n_jobs)
        return [(w.category.__name__, w.filename, w.lineno) for w in record]

    serial = caught(None)
    assert serial and {f for _, f, _ in serial} == {pybaselines_setup_file()}
    assert caught(3) == serial


def pybaselines_setup_file():
    import pybaselines._algorithm_setup as setup

    return setup.__file__


def test_a_failing_chunk_of_the_caller_raises_alone(data):
    # joblib added a note about cancelled tasks and task iterators
    _, X = data
    X = X.copy()
    X[-1] *= 1e306  # the last chunk is the calling process's own
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with parallel_config(backend="loky"):
            with pytest.raises(ValueError, match="failed on a spectrum"):
                row_baselines(X, "airpls", {}, n_jobs=2)
    assert not [w for w in record if "tasks" in str(w.message)]


def test_the_note_about_finished_worker_chunks_is_hidden_too(data, monkeypatch):
    # when the workers had finished before the caller's own chunk failed,
    # joblib's note reads "N tasks have been successfully executed but not
    # used", which the filter (made for "N tasks which were still being
    # processed") let through, or raised under simplefilter("error")
    import time

    _, X = data
    chunk = _kernels._baseline_chunk

    def caller_fails_late(X_part, *args):
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.5)  # the workers' chunks are done by now
            raise ValueError("failed on a spectrum (a test)")
        return chunk(X_part, *args)

    monkeypatch.setattr(_kernels, "_baseline_chunk", caller_fails_late)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with parallel_config(backend="threading"):
            with pytest.raises(ValueError, match="failed on a spectrum"):
                row_baselines(X, "airpls", {}, n_jobs=2)


def test_chunks_cover_rows_once():
    for n_rows, n_chunks in [(10, 3), (2, 4), (7, 7), (1, 1)]:
        covered = np.concatenate(
            [np.arange(n_rows)[s] for s in _chunks(n_rows, n_chunks)]
        )
        np.testing.assert_array_equal(covered, np.arange(n_rows))
        chunks = _chunks(n_rows, n_chunks)
        assert len(chunks) == min(n_rows, n_chunks)
        assert all(s.stop > s.start for s in chunks)


def test_min_points():
    assert min_points("airpls", {}) == 3
    assert min_points("asls", {"diff_order": 1}) == 2
    assert min_points("drpls", {"diff_order": 3}) == 4
    # a polynomial through poly_order + 1 points is the spectrum: ModPoly
    # gave zeros for a spectrum passed as a column (n, 1), without a word
    assert min_points("modpoly", {}) == 4
    assert min_points("poly", {"poly_order": 5}) == 7
    assert min_points("imodpoly", {}) == 4
    assert min_points("snip", {}) == 3


def test_pybaselines_methods_are_row_wise():
    names = pybaselines_methods()
    assert {"airpls", "arpls", "asls", "modpoly", "snip", "mor"} <= set(names)
    assert "collab_pls" not in names
    assert names == sorted(names)


def test_every_method_equals_pybaselines_loop():
    # One short spectrum per method keeps this fast; cwt_br is left out
    # because pybaselines itself fails on it with default settings here.
    import warnings

    from sktransfer.baseline import PybaselinesCorrector

    x, X, _ = gaussian_spectra(n_samples=1, n_features=100)
    extra = {"interp_pts": {"baseline_points": ((x[0], X[0, 0]), (x[-1], X[0, -1]))}}
    for method in pybaselines_methods():
        if method == "cwt_br":
            continue
        kwargs = extra.get(method, {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = loop_baselines(X, method, kwargs, x_data=x)
            est = PybaselinesCorrector(method, method_kwargs=kwargs, x_axis=x)
            Xt = est.fit_transform(X)
        assert np.abs(Xt - (X - expected)).max() <= 1e-6 * np.ptp(X), method


def test_a_whittaker_system_that_fails_for_a_huge_lam_advises_one_way():
    # it advised "a larger lam" and "a smaller lam" in one message
    from sktransfer.baseline import AsLS

    x = np.linspace(0.0, 1.0, 200)
    y = np.exp(-(((x - 0.5) / 0.02) ** 2)) + x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="try a smaller lam") as exc:
            AsLS(lam=1e16).fit_transform(y[None])
    assert "larger lam" not in str(exc.value)


def test_a_failure_names_the_scalar_settings_and_hints_at_whittaker_ones():
    # array arguments (initial weights) are left out of the message
    X = np.random.default_rng(0).normal(size=(1, 4))
    kwargs = {"diff_order": 3, "max_iter": 1, "weights": np.ones(4)}
    with pytest.raises(ValueError) as exc:
        row_baselines(X, "airpls", kwargs)
    message = str(exc.value)
    assert message.startswith(
        "pybaselines' airpls failed on a spectrum of 4 points with "
        "diff_order=3, max_iter=1 (LinAlgError: "
    )
    assert message.endswith(
        "unsuited to them (too large a lam makes the Whittaker system "
        "ill-conditioned: try a smaller lam or diff_order)."
    )
    with pytest.raises(ValueError) as exc:
        row_baselines(X, "cwt_br", {"min_length": 2})
    message = str(exc.value)
    assert " with min_length=2 (UnboundLocalError: " in message
    assert message.endswith("the settings unsuited to them.")


def test_a_memory_error_is_raised_as_it_is(data, monkeypatch):
    _, X = data

    def out_of_memory(*args):
        raise MemoryError("no room")

    monkeypatch.setattr(_kernels, "_baseline_chunk_unchecked", out_of_memory)
    with pytest.raises(MemoryError, match="no room"):
        row_baselines(X, "snip", {})


def test_methods_fitted_one_spectrum_at_a_time_report_their_tol_history(data):
    from pybaselines import Baseline

    _, X = data
    kwargs = {"lam": 1e5, "max_iter": 50, "tol": 1e-3}
    assert not stacks("iarpls", kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, n_iter, last_tol = row_baselines(X[:3], "iarpls", kwargs)
        assert row_baselines(X, "snip", {"max_half_window": 5})[1].dtype == np.intp
    assert n_iter.dtype == np.intp
    for i, row in enumerate(X[:3]):
        history = Baseline().iarpls(row, **kwargs)[1]["tol_history"]
        assert n_iter[i] == len(history)
        assert last_tol[i] == history[-1]


def test_a_worker_process_returns_its_warnings_and_writes_its_baselines(data, tmp_path):
    # called in a process other than the caller's: the warnings are handed
    # back, not raised, and the baselines go into the shared file's rows
    _, X = data
    rows = slice(2, 5)
    kwargs = {"max_half_window": X.shape[1]}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        expected = _baseline_chunk(X[rows], None, True, "snip", kwargs)
    assert record
    caught = [(str(w.message), w.category, w.filename, w.lineno) for w in record]
    path = str(tmp_path / "baselines.npy")
    out = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    out[:] = -1.0
    out.flush()
    for where in (path, str(tmp_path / "gone.npy")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = _baseline_chunk_into(
                X[rows], None, True, "snip", kwargs, os.getpid() + 1, where, rows
            )
        assert got[-1] == caught
        for a, b in zip(expected[1:], got[1:-1]):
            np.testing.assert_array_equal(a, b)
        if where == path:
            # written into the file, not sent back
            assert got[0] is None
        else:
            np.testing.assert_array_equal(got[0], expected[0])
    written = np.load(path)
    np.testing.assert_array_equal(written[rows], expected[0])
    assert (np.delete(written, np.arange(2, 5), axis=0) == -1.0).all()


def test_shared_files_raise_other_errors_and_a_full_temporary_folder(
    data, monkeypatch, tmp_path
):
    import errno

    _, X = data
    shm, tmp = _temporary_folders(monkeypatch, tmp_path)
    failure = {}

    def failing(folder, *args):
        raise OSError(failure["errno"], os.strerror(failure["errno"]))

    monkeypatch.setattr(_kernels, "_shared_array", failing)
    # an error other than a lack of room is not worked around
    failure["errno"] = errno.EIO
    with pytest.raises(OSError) as exc:
        _kernels._shared_files(X, 4)
    assert exc.value.errno == errno.EIO
    # a full temporary folder, after a full shared memory, is an error too
    failure["errno"] = errno.ENOSPC
    with pytest.raises(OSError) as exc:
        _kernels._shared_files(X, 4)
    assert exc.value.errno == errno.ENOSPC
    assert os.listdir(shm) == os.listdir(tmp) == []


def test_another_backend_error_is_raised(data, monkeypatch):
    # only a backend refusing result generators is given every chunk
    _, X = data
    refusals = []

    class Broken(_kernels.Parallel):
        def __init__(self, *args, **kwargs):
            if not refusals:
                refusals.append(1)
                raise ValueError("backend broken")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_kernels, "Parallel", Broken)
    with parallel_config(backend="threading"):
        with pytest.raises(ValueError, match="backend broken"):
            row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=2)


def test_a_single_spectrum_is_computed_without_workers(data, monkeypatch):
    _, X = data
    expected = row_baselines(X[:1], "snip", {"max_half_window": 5})

    def no_files(*args):
        raise AssertionError("no shared files for a single spectrum")

    monkeypatch.setattr(_kernels, "_shared_files", no_files)
    with parallel_config(backend="threading"):
        got = row_baselines(X[:1], "snip", {"max_half_window": 5}, n_jobs=2)
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("generator", [True, False])
def test_workers_compute_in_other_threads_while_the_caller_computes(
    data, monkeypatch, generator
):
    # the calling thread's chunk starts while a worker's is still running;
    # without a result generator every chunk goes to the workers
    _, X = data
    real_chunk = _kernels._baseline_chunk
    caller = threading.get_ident()
    caller_started = threading.Event()
    seen = []

    def chunk(*args):
        if threading.get_ident() == caller:
            caller_started.set()
            seen.append("caller")
        else:
            seen.append(caller_started.wait(5 if generator else 0))
        return real_chunk(*args)

    if not generator:
        monkeypatch.setattr(_kernels, "Parallel", _NoGenerator)
    serial = row_baselines(X, "snip", {"max_half_window": 5})
    monkeypatch.setattr(_kernels, "_baseline_chunk", chunk)
    with parallel_config(backend="threading"):
        parallel = row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=2)
    np.testing.assert_array_equal(parallel[0], serial[0])
    assert sorted(seen, key=str) == ([True, "caller"] if generator else [False] * 2)


def _chunks_computed_here(X, monkeypatch, generator, **config):
    """Number of chunks of a two-worker call computed in this process."""
    real_chunk = _kernels._baseline_chunk
    calls = []

    def chunk(*args):
        calls.append(threading.get_ident())
        return real_chunk(*args)

    if not generator:
        monkeypatch.setattr(_kernels, "Parallel", _NoGenerator)
    monkeypatch.setattr(_kernels, "_baseline_chunk", chunk)
    with parallel_config(**config):
        row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=2)
    return len(calls)


@pytest.mark.parametrize("generator", [True, False])
def test_workers_are_processes_unless_a_backend_is_asked_for(
    data, monkeypatch, generator
):
    # a preference for threads is not a backend: the workers stay processes,
    # whose chunks are not computed by this process's (patched) function
    _, X = data
    own = 1 if generator else 0
    assert _chunks_computed_here(X, monkeypatch, generator, prefer="threads") == own
    assert _chunks_computed_here(X, monkeypatch, generator, backend="threading") == 2


def test_the_caller_leaves_the_workers_their_share_of_the_cores(data, monkeypatch):
    # like joblib's workers, the calling thread uses cpu_count // n_workers
    # threads (at least one) for its own chunk
    _, X = data
    limits = []

    class Recording:
        def __init__(self, n):
            limits.append(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(_kernels, "threadpool_limits", Recording)
    for cores, n_jobs in [(8, 2), (9, 4), (2, 3)]:
        monkeypatch.setattr(_kernels, "cpu_count", lambda cores=cores: cores)
        with parallel_config(backend="threading"):
            row_baselines(X, "snip", {"max_half_window": 5}, n_jobs=n_jobs)
    assert limits == [4, 2, 1]


def test_calls_from_threads_leave_the_blas_threads_as_they_were():
    # the caller's BLAS limit was read before the lock was taken: a second
    # thread took the first's limit of 1 for the original and restored it,
    # leaving every later numpy call of the process on one thread (in a
    # process of its own: the suite runs with OMP_NUM_THREADS=1)
    import subprocess
    import sys

    code = """
import numpy as np
from concurrent.futures import ThreadPoolExecutor
from threadpoolctl import threadpool_info
from sktransfer.baseline import AsLS

def blas():
    return sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info())

X = np.random.default_rng(0).random((8, 200))
before = blas()
est = AsLS(n_jobs=2).fit(X)
expected = est.transform(X)
with ThreadPoolExecutor(4) as pool:
    results = list(pool.map(lambda _: est.transform(X), range(16)))
assert all(np.array_equal(r, expected) for r in results)
print(before == blas(), before, blas())
"""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("True"), out.stdout
