"""Torch-backed estimators on CUDA: fit, predict, then load on a CPU.

Every test here carries the ``gpu`` marker and is skipped where CUDA is
absent (see conftest.py). "Load on a CPU" is what a machine without CUDA
does: the pickle is read while ``torch.cuda.is_available()`` is False, then
the estimator is switched to ``device="cpu"``.
"""

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sktransfer.cross_modal import SpectroGenRegressor  # noqa: E402
from sktransfer.datasets import make_spectra  # noqa: E402
from sktransfer.over_sampling import WGANGPOverSampler  # noqa: E402
from sktransfer.peaks import PeakProfileFitter  # noqa: E402

pytestmark = pytest.mark.gpu

DEVICE = "cuda"


@pytest.fixture(scope="module")
def data():
    return make_spectra(
        60, weights=(0.6, 0.25, 0.15), n_classes=3, noise=0.01, random_state=0
    )


def _load_on_cpu(estimator, monkeypatch):
    """Pickle, unpickle as on a machine without CUDA, switch to the CPU."""
    blob = pickle.dumps(estimator)
    with monkeypatch.context() as m:
        m.setattr(torch.cuda, "is_available", lambda: False)
        loaded = pickle.loads(blob)
    return loaded.set_params(device="cpu")


def _on_cpu(module):
    return all(p.device.type == "cpu" for p in module.parameters())


def test_peak_profile_fitter_cuda(data, monkeypatch):
    X = data.raman_clean[data.y == 0][:20]
    fitter = PeakProfileFitter(
        profile="pseudo_voigt", n_peaks=8, x_axis=data.raman_axis, device=DEVICE
    )
    P = fitter.fit_transform(X)
    assert P.shape == (20, fitter.n_peaks_ * 4 + 2)
    assert np.median(fitter.r2_) > 0.9
    fitted = fitter.inverse_transform(P)
    cpu = _load_on_cpu(fitter, monkeypatch)
    np.testing.assert_allclose(cpu.centers_, fitter.centers_)
    np.testing.assert_allclose(cpu.inverse_transform(P), fitted, atol=1e-6)
    P_cpu = cpu.transform(X)
    np.testing.assert_allclose(cpu.inverse_transform(P_cpu), fitted, atol=1e-3)


def test_spectrogen_regressor_cuda(data, monkeypatch):
    X, Y = data.ir[:50], data.raman[:50]
    reg = SpectroGenRegressor(max_epochs=20, random_state=0, device=DEVICE).fit(X, Y)
    assert next(reg.module_.parameters()).device.type == torch.device(DEVICE).type
    Y_hat = reg.predict(X)
    assert Y_hat.shape == Y.shape and np.isfinite(Y_hat).all()
    draws = reg.sample(X[:4], n_samples=3, random_state=0)
    assert draws.shape == (4, 3, Y.shape[1])
    cpu = _load_on_cpu(reg, monkeypatch)
    assert _on_cpu(cpu.module_)
    np.testing.assert_allclose(cpu.predict(X), Y_hat, rtol=1e-4, atol=1e-4)
    assert cpu.sample(X[:4], n_samples=3, random_state=0).shape == draws.shape


def test_wgangp_over_sampler_cuda(data, monkeypatch):
    X, y = data.raman, data.y
    sampler = WGANGPOverSampler(max_iter=30, random_state=0, device=DEVICE)
    X_res, y_res = sampler.fit_resample(X, y)
    counts = np.bincount(y_res)
    assert (counts == counts.max()).all()
    np.testing.assert_array_equal(X_res[: len(X)], X)
    generated = sampler.sample(50, y=2)
    assert generated.shape == (50, X.shape[1]) and np.isfinite(generated).all()
    cpu = _load_on_cpu(sampler, monkeypatch)
    assert all(_on_cpu(g) for g in cpu.generators_.values())
    # Same weights, same latent codes: the generators agree across devices.
    n_classes = len(sampler.classes_)
    z = torch.randn(8, sampler.latent_dim, generator=torch.Generator().manual_seed(0))
    onehot = torch.nn.functional.one_hot(torch.full((8,), 2), n_classes).float()
    with torch.no_grad():
        out_cuda = sampler.generators_[None](z.to(DEVICE), onehot.to(DEVICE))
        out_cpu = cpu.generators_[None](z, onehot)
    np.testing.assert_allclose(out_cpu.numpy(), out_cuda.cpu().numpy(), atol=1e-4)
    generated_cpu = cpu.sample(50, y=2)
    assert generated_cpu.shape == generated.shape
    # Different random streams, same distribution: class means agree.
    np.testing.assert_allclose(
        generated_cpu.mean(axis=0), generated.mean(axis=0), atol=0.1 * np.ptp(X)
    )


def test_set_params_device_after_fit_moves_the_sampler_and_the_fitter(data):
    X, y = data.raman, data.y
    sampler = WGANGPOverSampler(max_iter=30, random_state=0, device=DEVICE)
    sampler.fit(X, y)
    on_gpu = sampler.sample(200, y=2)
    sampler.set_params(device="cpu")
    on_cpu = sampler.sample(200, y=2)
    assert all(_on_cpu(g) for g in sampler.generators_.values())
    # another random stream, the same generator: the class means agree
    np.testing.assert_allclose(
        on_cpu.mean(axis=0), on_gpu.mean(axis=0), atol=0.1 * np.ptp(X)
    )
    back = sampler.set_params(device=DEVICE).sample(5, y=2)
    assert np.isfinite(back).all()
    assert all(not _on_cpu(g) for g in sampler.generators_.values())

    spectra = data.raman_clean[data.y == 0][:10]
    fitter = PeakProfileFitter(n_peaks=6, x_axis=data.raman_axis, device=DEVICE)
    P_gpu = fitter.fit_transform(spectra)
    P_cpu = fitter.set_params(device="cpu").transform(spectra)
    np.testing.assert_allclose(
        fitter.inverse_transform(P_cpu),
        fitter.inverse_transform(P_gpu),
        atol=1e-3 * np.ptp(spectra),
    )
