import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sktransfer.cross_modal import SpectroGenVAE
from sktransfer.cross_modal._modules import PeakDecoder, kl_divergence
from sktransfer.peaks._profiles import render_peaks


@pytest.mark.parametrize("n_in, n_out", [(1, 2), (37, 5), (300, 120)])
def test_vae_shapes_follow_the_data(n_in, n_out):
    vae = SpectroGenVAE(n_in, n_out, latent_dim=3, hidden=8, channels=(4, 4))
    recon, mu, logvar = vae(torch.randn(5, n_in))
    assert recon.shape == (5, n_out)
    assert mu.shape == logvar.shape == (5, 3)


def test_eval_mode_decodes_the_mean():
    vae = SpectroGenVAE(20, 10, latent_dim=4, hidden=8)
    x = torch.randn(6, 20)
    vae.train()
    a, mu, _ = vae(x)
    b, _, _ = vae(x)
    assert not torch.equal(a, b)  # sampled latents
    vae.eval()
    c, mu_eval, _ = vae(x)
    assert torch.equal(c, vae.decode(mu_eval))
    assert torch.equal(c, vae(x)[0])


def test_kl_divergence_closed_form():
    mu = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    logvar = torch.tensor([[0.0, 0.0], [math.log(4.0), 0.0]])
    # 0.5 * (var + mu^2 - 1 - log var) summed over dims, mean over rows
    row2 = 0.5 * (4 + 1 - 1 - math.log(4.0)) + 0.5 * (1 + 4 - 1 - 0)
    assert float(kl_divergence(mu, logvar)) == pytest.approx(row2 / 2, rel=1e-6)
    assert float(kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4))) == 0.0


def test_set_scaling_standardises():
    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.normal(5.0, 3.0, (50, 8)), dtype=torch.float32)
    Y = torch.as_tensor(rng.normal(-2.0, 7.0, (50, 6)), dtype=torch.float32)
    vae = SpectroGenVAE(8, 6).set_scaling(X, Y)
    Ys = (Y - vae.y_center) / vae.y_scale
    assert_allclose(Ys.mean(0).numpy(), 0, atol=1e-5)
    assert float(Ys.pow(2).mean()) == pytest.approx(1.0, rel=1e-5)
    peaks = SpectroGenVAE(8, 6, decoder="peaks").set_scaling(X, Y)
    assert float(peaks.y_center.abs().max()) == 0.0  # whole spectra, not deviations
    assert float(peaks.y_scale) == pytest.approx(float(Y.pow(2).mean().sqrt()))


def test_peak_decoder_renders_peak_profiles():
    x = np.linspace(100.0, 1100.0, 200)
    dec = PeakDecoder(latent_dim=3, x_out=x, n_peaks=5, hidden=8, residual=False)
    z = torch.randn(4, 3)
    out = dec(z)
    h = dec.trunk(z)
    a, b, c, d = dec.peaks(h).view(-1, 4, 5).unbind(1)
    center = 100.0 + 1000.0 * torch.sigmoid(a)
    fwhm = dec._w_min + (dec._w_max - dec._w_min) * torch.sigmoid(c)
    ref = render_peaks(
        dec.x_out,
        center,
        torch.nn.functional.softplus(b),
        fwhm,
        torch.sigmoid(d),
        profile="pseudo_voigt",
    )
    assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5)
    assert (out >= 0).all()  # sums of peaks with non-negative heights
    assert center.min() >= 100.0 and center.max() <= 1100.0
    assert fwhm.min() >= 2 * (1000.0 / 199) - 1e-4


def test_peak_decoder_is_differentiable_in_every_peak_parameter():
    dec = PeakDecoder(latent_dim=2, x_out=np.arange(50.0), n_peaks=3, hidden=8)
    dec(torch.randn(2, 2)).sum().backward()
    assert dec.peaks.weight.grad.abs().sum(1).view(4, 3).min() > 0


def test_unknown_decoder_is_an_error():
    with pytest.raises(ValueError, match="decoder must be"):
        SpectroGenVAE(10, 10, decoder="spline")
