"""Row-wise pybaselines baselines, chunked over joblib workers.

Pure functions: spectra in, baselines and per-spectrum diagnostics out. No
sklearn and no estimator classes, so the numerics can be checked against a
plain pybaselines loop on their own. airPLS, arPLS, AsLS and ModPoly
chunks are computed all at once by :mod:`sktransfer.baseline._stacked`;
every other method calls pybaselines on one spectrum at a time.
"""

import errno
import inspect
import os
import sys
import tempfile
import threading
import warnings

import numpy as np
from joblib import Parallel, cpu_count, delayed, effective_n_jobs
from pybaselines import Baseline
from threadpoolctl import threadpool_limits

from sktransfer.baseline._stacked import (
    method_default,
    stacked_baselines,
    stacks,
    warn_early_stops,
)

#: Folder in memory for the files workers share, where the system has one.
_SHARED_MEMORY = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None

#: Held while a calling thread computes its own chunk under thread limits:
#: many BLAS builds keep their limit for the whole process, so calls in
#: several threads that set and restored it in turn could leave one of
#: them in place.
_CALLER_LIMITS = threading.Lock()

#: Baseline methods that fit a whole data set at once, not one spectrum.
_NOT_ROW_WISE = frozenset({"collab_pls"})

#: Whittaker-smoothing methods: their difference penalty is empty when a
#: spectrum has no more than ``diff_order`` points.
_WHITTAKER = frozenset(
    {
        "airpls",
        "arpls",
        "asls",
        "aspls",
        "brpls",
        "derpsalsa",
        "drpls",
        "iarpls",
        "iasls",
        "lsrpls",
        "psalsa",
    }
)


def pybaselines_methods():
    """Names of the 1-D pybaselines methods that work on one spectrum.

    Returns
    -------
    names : list of str
        Sorted method names of :class:`pybaselines.Baseline`.
    """
    return sorted(
        name
        for name, value in inspect.getmembers(Baseline, inspect.isfunction)
        if not name.startswith("_") and name not in _NOT_ROW_WISE
    )


# Polynomial methods whose baseline through poly_order + 1 points is the
# spectrum itself (checked against pybaselines), or for imodpoly an
# arbitrary fit of as many coefficients as points; loess and cwt_br refuse
# so few points themselves
_POLYNOMIAL = frozenset(
    {
        "poly",
        "modpoly",
        "imodpoly",
        "penalized_poly",
        "quant_reg",
        "goldindec",
        "dietrich",
    }
)


def min_points(method, kwargs):
    """Fewest points a spectrum needs for ``method`` to be well defined.

    Below it the method's baseline is the spectrum itself: an empty
    difference penalty leaves the Whittaker fit free to interpolate, SNIP
    has no interior point to clip, and a polynomial of ``poly_order``
    passes through ``poly_order + 1`` points.

    Parameters
    ----------
    method : str
        pybaselines method name.
    kwargs : dict
        Keyword arguments the method is called with.

    Returns
    -------
    n : int
        Minimum number of points.
    """
    if method in _WHITTAKER:
        diff_order = kwargs.get("diff_order", method_default(method, "diff_order"))
        return int(diff_order) + 1
    if method == "snip":
        return 3
    if method in _POLYNOMIAL:
        # a polynomial through poly_order + 1 points passes through them all
        poly_order = kwargs.get("poly_order", method_default(method, "poly_order"))
        return int(poly_order) + 2
    return 1


def _failure(method, kwargs, n_points, exc):
    """Return a ValueError (TypeError for one) naming what failed in pybaselines."""
    settings = ", ".join(
        f"{name}={value!r}" for name, value in kwargs.items() if np.ndim(value) == 0
    )
    hint = (
        " (too large a lam makes the Whittaker system ill-conditioned: try a "
        "smaller lam or diff_order)"
        if method in _WHITTAKER
        else ""
    )
    return (TypeError if isinstance(exc, TypeError) else ValueError)(
        f"pybaselines' {method} failed on a spectrum of {n_points} points"
        f"{' with ' + settings if settings else ''} ({type(exc).__name__}: "
        f"{exc}); the spectra may be too short or the settings unsuited to "
        f"them{hint}."
    )


def _baseline_chunk(X, x_data, assume_sorted, method, kwargs):
    """``(baselines, n_iter, last_tol, n_early)`` of a chunk of rows.

    ``n_early`` counts the stacked spectra that stopped early, which the
    caller warns of once for all chunks. A failure inside pybaselines, numpy
    or scipy (a singular system, an empty window) and a non-finite baseline
    raise an error naming the method, its settings and the length.
    """
    try:
        result = _baseline_chunk_unchecked(X, x_data, assume_sorted, method, kwargs)
    except MemoryError:
        raise
    except Exception as exc:
        raise _failure(method, kwargs, X.shape[1], exc) from exc
    if not np.isfinite(result[0]).all():
        raise _failure(
            method,
            kwargs,
            X.shape[1],
            FloatingPointError("the baseline is not finite"),
        )
    return result


def _baseline_chunk_unchecked(X, x_data, assume_sorted, method, kwargs):
    if stacks(method, kwargs):
        return stacked_baselines(
            X, method, kwargs, x_data=x_data, reverse=not assume_sorted
        )
    fitter = Baseline(x_data, check_finite=False, assume_sorted=assume_sorted)
    func = getattr(fitter, method)
    baselines = np.empty_like(X)
    n_iter = np.zeros(X.shape[0], dtype=np.intp)
    last_tol = np.full(X.shape[0], np.nan)
    for i, row in enumerate(X):
        baselines[i], params = func(row, **kwargs)
        history = params.get("tol_history")
        if history is not None:
            n_iter[i] = len(history)
            # Nested solvers (brpls, goldindec, jbcd) keep a 2-D history
            # with no single final tolerance.
            if len(history) and np.ndim(history) == 1:
                last_tol[i] = history[-1]
    return baselines, n_iter, last_tol, 0


def _baseline_chunk_into(X, x_data, assume_sorted, method, kwargs, caller, path, rows):
    """Baselines of a chunk written into rows ``rows`` of the ``.npy`` at ``path``.

    Returns ``(None, n_iter, last_tol, n_early, caught)``, or the baselines
    in place of None where the file cannot be opened (a worker on another
    machine) and in the caller's own process (threads), which needs no file.
    In a process other than ``caller`` (a process id), the
    warnings raised are not shown there but returned in ``caught`` as
    ``(message, category)`` pairs, for the caller to raise under its own
    filters; in the caller's process (threads), they are raised as usual.
    """
    # a view of the shared input file arrives as a memmap: compute on an
    # ndarray, so that the baselines are one too
    X = np.asarray(X)
    if os.getpid() == caller:
        # A thread: its warnings are raised as usual (catch_warnings is not
        # thread-safe), and its baselines handed back, for opening the file
        # parses its header with ast.literal_eval, which Python 3.11 can
        # fail to compile in two threads at once ("SystemError: AST
        # constructor recursion depth mismatch").
        return (*_baseline_chunk(X, x_data, assume_sorted, method, kwargs), [])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        part = _baseline_chunk(X, x_data, assume_sorted, method, kwargs)
    caught = [(str(w.message), w.category, w.filename, w.lineno) for w in record]
    baselines, n_iter, last_tol, n_early = part
    try:
        out = np.load(path, mmap_mode="r+")
    except OSError:
        return baselines, n_iter, last_tol, n_early, caught
    out[rows] = baselines
    out.flush()
    return None, n_iter, last_tol, n_early, caught


def _shared_array(folder, name, dtype, shape):
    """Create the ``.npy`` memmap ``name`` in ``folder``, open for writing.

    Its blocks are reserved at once where the system can: writing through
    the map into a file that the folder has no room for kills the process
    (SIGBUS), while a reservation that fails raises an OSError here.
    """
    array = np.lib.format.open_memmap(
        os.path.join(folder, name), mode="w+", dtype=dtype, shape=shape
    )
    if hasattr(os, "posix_fallocate"):
        with open(array.filename, "rb+") as f:
            try:
                os.posix_fallocate(f.fileno(), 0, os.fstat(f.fileno()).st_size)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise
                # a file system that cannot reserve: write as before
    return array


def _shared_files(X, shipped):
    """``(folder, out, source)``: the temporary folder and files workers share.

    ``out`` is a ``.npy`` memmap of the shape of ``X``, ``source`` one of its
    first ``shipped`` rows, both in a :class:`tempfile.TemporaryDirectory`
    in memory (``_SHARED_MEMORY``), or in the usual temporary folder when
    that has no room for them (a container's small ``/dev/shm``).
    """
    for where in dict.fromkeys((_SHARED_MEMORY, None)):
        folder = tempfile.TemporaryDirectory(dir=where)
        try:
            out = _shared_array(folder.name, "baselines.npy", X.dtype, X.shape)
            source = _shared_array(
                folder.name, "spectra.npy", X.dtype, (shipped, X.shape[1])
            )
        except OSError as exc:
            folder.cleanup()
            if where is None or exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            continue
        return folder, out, source


def _warn_where_raised(caught):
    """Raise workers' warnings here as if raised where they were in the worker.

    ``caught`` holds ``(message, category, filename, lineno)``. The caller's
    filters then treat them as the warnings of its own chunk (a
    DeprecationWarning of a library stays hidden by default), and the
    registry of the module they come from shows a "default" warning once,
    whichever process raised it.
    """
    if not caught:
        return
    modules = {getattr(m, "__file__", None): m for m in list(sys.modules.values()) if m}
    for message, category, filename, lineno in caught:
        module = modules.get(filename)
        registry = (
            None
            if module is None
            else vars(module).setdefault("__warningregistry__", {})
        )
        warnings.warn_explicit(
            message,
            category,
            filename,
            lineno,
            module=None if module is None else module.__name__,
            registry=registry,
        )


def _chunks(n_rows, n_chunks):
    bounds = np.linspace(0, n_rows, n_chunks + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def row_baselines(X, method, kwargs, *, x_data=None, n_jobs=None, stacklevel=2):
    """Baseline of every row of ``X`` with one pybaselines method.

    Rows are split into one contiguous chunk per joblib worker; the calling
    process computes the last chunk itself while the workers compute the
    others (calls in several threads compute theirs one at a time, under
    the process's thread limits). A chunk of airPLS, arPLS, AsLS or ModPoly
    is fitted all at once
    (:func:`~sktransfer.baseline._stacked.stacked_baselines`); other methods
    reuse a single :class:`pybaselines.Baseline` object per chunk, so setup
    that only depends on the axis is done once per chunk.
    Workers are processes that read their spectra from one shared file and
    write their baselines into another (threads gained nothing for any
    method: pentapy's solver holds the GIL, and so does much of the
    per-spectrum Python work of the other methods), unless
    :func:`joblib.parallel_config` asks for a backend.
    Backends that cannot return results as a generator get every chunk. The
    result does not depend on ``n_jobs``, nor do the warnings: those of
    worker processes are raised here, under the caller's warning filters,
    and stacked spectra that stop early are counted over all chunks in one
    warning.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        Finite spectra, one per row. Not modified.
    method : str
        Name of a :class:`pybaselines.Baseline` method.
    kwargs : dict
        Keyword arguments of the method.
    x_data : ndarray of shape (n_features,) or None, default=None
        Strictly monotonic axis passed to pybaselines, or None for its
        default axis.
    n_jobs : int or None, default=None
        Number of joblib workers; None follows :func:`joblib.parallel_config`.
    stacklevel : int, default=2
        The warnings raised here point this many frames up, counted from
        this function (2: the line that called it).

    Returns
    -------
    baselines : ndarray of shape (n_samples, n_features)
        Baselines in the dtype of ``X``.
    n_iter : ndarray of shape (n_samples,), dtype int
        Length of pybaselines' ``tol_history`` per spectrum (0 for methods
        without one).
    last_tol : ndarray of shape (n_samples,)
        Last entry of a 1-D ``tol_history`` per spectrum (NaN otherwise).
    """
    # A decreasing axis is sorted by pybaselines (a reversal) and the result
    # put back in the input order, exactly as a per-spectrum call does.
    assume_sorted = x_data is None or bool(x_data[-1] > x_data[0])
    n_workers = min(effective_n_jobs(n_jobs), X.shape[0])
    if n_workers <= 1:
        baselines, n_iter, last_tol, n_early = _baseline_chunk(
            X, x_data, assume_sorted, method, kwargs
        )
        warn_early_stops(method, n_early, X.shape[0], stacklevel)
        return baselines, n_iter, last_tol
    chunks = _chunks(X.shape[0], n_workers)
    # Workers on this machine write their baselines into one shared file
    # (out) instead of sending them back through a pipe (8 bytes per point,
    # as much as the computation for cheap methods); a worker that cannot
    # open it returns its baselines. Their spectra come from a shared file
    # too (source): joblib passes views of a memmap by reference. Left to
    # joblib's own memmapping, each call ends with its clean-up waiting
    # about 0.1 s for the workers to let go of the file, about as long as a
    # cheap method's chunk takes.
    shipped = chunks[-1].start
    folder, out, source = _shared_files(X, shipped)
    with folder:
        path = out.filename
        source[:] = X[:shipped]

        def tasks(rows, source):
            return (
                delayed(_baseline_chunk_into)(
                    source[s] if s.stop <= shipped else X[s],
                    x_data,
                    assume_sorted,
                    method,
                    kwargs,
                    os.getpid(),
                    path,
                    s,
                )
                for s in rows
            )

        try:
            # The calling process does the last chunk itself while the
            # workers do the others: it would otherwise sit idle, and its
            # chunk is never shipped anywhere.
            pending = Parallel(
                n_jobs=n_jobs, prefer="processes", return_as="generator"
            )(tasks(chunks[:-1], source))
        except ValueError as exc:
            # Backends without result generators (joblib's "multiprocessing")
            # get every chunk.
            if "return_as" not in str(exc):
                raise
            parts = Parallel(n_jobs=n_jobs, prefer="processes")(tasks(chunks, source))
        else:
            # Like joblib's workers, it leaves the other cores to them.
            try:
                # the limit is set (and the one to restore read) inside the
                # lock: read before it, a second thread took the first's
                # limit for the original and left BLAS at it for good
                with (
                    _CALLER_LIMITS,
                    threadpool_limits(max(1, cpu_count() // n_workers)),
                ):
                    own = _baseline_chunk(
                        X[chunks[-1]], x_data, assume_sorted, method, kwargs
                    )
            except BaseException:
                # the workers' chunks are cancelled: joblib's note about it
                # (advice on task iterators) would only hide the error
                with warnings.catch_warnings():
                    # either wording: "N tasks which were still being
                    # processed ..." or "N tasks have been successfully
                    # executed but not used. Additionally, ..."
                    warnings.filterwarnings(
                        "ignore",
                        "[0-9]+ tasks (which were still being processed|have been)",
                    )
                    pending.close()
                raise
            parts = [*pending, (*own, [])]
        baselines = np.array(out)
        del out, source
    for s, (part, *_) in zip(chunks, parts):
        if part is not None:
            baselines[s] = part
    _, n_iter, last_tol, n_early, caught = zip(*parts)
    _warn_where_raised([w for chunk in caught for w in chunk])
    warn_early_stops(method, sum(n_early), X.shape[0], stacklevel)
    return baselines, np.concatenate(n_iter), np.concatenate(last_tol)
