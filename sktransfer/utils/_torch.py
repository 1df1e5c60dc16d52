"""Private torch helpers: device selection, seeding, dtype boundary."""

import contextlib
import threading
import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state
from skorch.exceptions import DeviceWarning

# torch's global generators belong to the process, not to a thread
_GLOBAL_GENERATORS = threading.RLock()
# whether this thread runs inside a seeded_torch block
_SEEDED = threading.local()


@contextlib.contextmanager
def autograd_on():
    """Run a block with autograd on, also inside the caller's no-grad block.

    ``torch.no_grad()`` and ``torch.inference_mode()`` are per thread, and
    are restored after the block.
    """
    with torch.inference_mode(False), torch.enable_grad():
        yield


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Run a block with torch's global generators seeded by ``seed``.

    The generators (the CPU's and, for a CUDA ``device``, that device's)
    are restored afterwards, as :func:`torch.random.fork_rng` does. They
    are shared by every thread of the process, so such blocks in different
    threads run one at a time: fits in threads (joblib's threading backend,
    a Dask worker with several threads) then give the same numbers as fits
    one after another.

    Parameters
    ----------
    seed : int
        The seed.
    device : str or torch.device
        The device the block computes on.
    """
    device = torch.device(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with _GLOBAL_GENERATORS, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        outer = getattr(_SEEDED, "active", False)
        _SEEDED.active = True
        try:
            yield
        finally:
            _SEEDED.active = outer


def in_seeded_block():
    """Whether this thread runs inside a :func:`seeded_torch` block."""
    return getattr(_SEEDED, "active", False)


@contextlib.contextmanager
def global_generators_kept():
    """Run a block whose draws from torch's CPU generator are not kept.

    For work that needs random numbers but whose result does not depend on
    them, such as building a network whose weights are then loaded or
    trained: outside a :func:`seeded_torch` block, torch's global CPU
    generator is restored afterwards (one such block at a time, as in
    :func:`seeded_torch`), so that the caller's random stream is not
    advanced. Inside one (in the same thread), the block draws from the
    seeded stream, as the code around it does.
    """
    if in_seeded_block():
        yield
        return
    with _GLOBAL_GENERATORS, torch.random.fork_rng(devices=[]):
        yield


@contextlib.contextmanager
def float32_built():
    """Build networks in float32 whatever torch's default dtype.

    A network built after ``torch.set_default_dtype(torch.float64)`` draws
    its initial weights in float64, which uses the seeded random stream
    differently: the same ``random_state`` then gave another model than in
    a fresh process (a loky or Dask worker, where the default is float32),
    and ``n_jobs`` changed the results. Where the default is not float32,
    it is float32 inside the block and restored afterwards. torch's default
    dtype belongs to the process, so for that moment (the construction of a
    network) other threads see float32 too, as they see the seeded
    generators of :func:`seeded_torch`; such blocks of this package run one
    at a time, so none restores another's setting.
    """
    with _GLOBAL_GENERATORS:
        outer = torch.get_default_dtype()
        if outer == torch.float32:
            yield
            return
        torch.set_default_dtype(torch.float32)
        try:
            yield
        finally:
            torch.set_default_dtype(outer)


def device_after_unpickling(state, fitted, owner):
    """Set ``state["device"]`` to the CPU where a fitted model's device is absent.

    For ``__setstate__``: a fitted model saved on a GPU unpickles on a
    machine without one and works on its CPU, with a ``DeviceWarning``, as
    skorch does for the regressor. An unfitted one keeps the device it asks
    for, so that ``fit`` raises where it is absent (a GPU grid search in
    worker processes that see no GPU does not train on their CPUs).
    """
    device = state.get("device")
    if not fitted or device is None:
        return
    try:
        resolve_device(device)
    except ValueError:
        warnings.warn(
            f"{owner} was saved with device={str(device)!r}, which is not "
            "available on this machine; it works on the CPU (device='cpu').",
            DeviceWarning,
            stacklevel=3,
        )
        state["device"] = "cpu"


def resolve_device(device):
    """Return a :class:`torch.device`, or raise if it is not available.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    Returns
    -------
    device : torch.device
        The device, checked to exist on this machine.

    Raises
    ------
    ValueError
        If the name is not a device, or the device is absent.
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a valid torch device.") from exc
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on "
                "this machine; use device='cpu'."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist."
            )
        return dev
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but MPS is not available."
            )
        return dev
    raise ValueError(
        f"device={device!r} is not supported; use 'cpu', 'cuda', 'cuda:N' or 'mps'."
    )


def seed_from_random_state(random_state):
    """Draw an integer torch seed from a ``random_state`` argument.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Anything :func:`sklearn.utils.check_random_state` accepts.

    Returns
    -------
    seed : int
        A seed in ``[0, 2**31 - 1)``.
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def make_generator(seed, device="cpu"):
    """Return a :class:`torch.Generator` on ``device`` seeded with ``seed``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def to_tensor(X, device, dtype=torch.float32):
    """Convert an array to a tensor of ``dtype`` on ``device`` (a copy).

    Works for read-only arrays (joblib's memmaps) and reversed views
    (``X[:, ::-1]``), which torch cannot wrap without copying.
    """
    return torch.tensor(np.ascontiguousarray(X), dtype=dtype, device=device)


def to_numpy(tensor, dtype=np.float64):
    """Convert a tensor to a numpy array of ``dtype`` on the CPU."""
    return tensor.detach().cpu().numpy().astype(dtype, copy=False)


def error_gist(exc, limit=None):
    """Return the first line of an error's message, stripped.

    With the next line when the first ends with ":", as torch's
    ``load_state_dict`` errors do ("Error(s) in loading state_dict for X:",
    then what did not fit); cut to ``limit`` characters if given.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    gist = " ".join(lines[:2] if lines and lines[0].endswith(":") else lines[:1])
    if limit is not None and len(gist) > limit:
        gist = f"{gist[: limit - 3]}..."
    return gist
