import os

# The networks in the tests are tiny: one thread is fastest, and it avoids
# OpenMP threads spinning against each other on a busy machine.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return
    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a dependency
        has_cuda = False
    if has_cuda:
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


@pytest.fixture(autouse=True)
def _seed_everything():
    """Seed the global generators so tests never depend on run order."""
    np.random.seed(0)  # noqa: NPY002 - legacy global state used by some libraries
    try:
        import torch

        torch.manual_seed(0)
    except ImportError:  # pragma: no cover
        pass


@pytest.fixture
def global_random_seed():
    """Seed for randomised tests: 42, or SKTRANSFER_TESTS_SEED to sweep."""
    return int(os.environ.get("SKTRANSFER_TESTS_SEED", 42))


def traced_peak(func, *args, **kwargs):
    """Return ``(result, peak)`` of a call: the peak of the memory tracemalloc
    traces (numpy's arrays and Python objects, not torch's tensors)."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = func(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def gaussian_spectra(n_samples=20, n_features=200, baseline=True, random_state=0):
    """Small synthetic spectra: two to three Gaussian peaks on a smooth baseline.

    Returns the axis, the spectra and the true baselines.
    """
    rng = np.random.default_rng(random_state)
    x = np.linspace(400.0, 1400.0, n_features)
    X = np.zeros((n_samples, n_features))
    B = np.zeros_like(X)
    for i in range(n_samples):
        for c in (600.0, 900.0, 1200.0)[: 2 + i % 2]:
            h = rng.uniform(0.5, 1.5)
            w = rng.uniform(10.0, 25.0)
            X[i] += h * np.exp(-0.5 * ((x - c - rng.normal(0, 2)) / w) ** 2)
        if baseline:
            t = (x - x[0]) / (x[-1] - x[0])
            B[i] = rng.uniform(0.2, 1.0) + rng.uniform(0.5, 2.0) * t**2
    X_obs = X + B + rng.normal(0, 0.005, X.shape)
    return x, X_obs, B


@pytest.fixture
def spectra():
    return gaussian_spectra()
