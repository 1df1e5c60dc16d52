import copy
import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sktransfer.cross_modal import SpectroGenVAE
from sktransfer.cross_modal._modules import (
    CorrelationLoss,
    PeakDecoder,
    RetrievalDecoder,
    _rms,
    _safe_scale,
    kl_divergence,
)


@pytest.mark.parametrize("n_in, n_out", [(1, 2), (37, 5), (300, 120)])
@pytest.mark.parametrize("retrieval", [False, True])
def test_vae_shapes_follow_the_data(n_in, n_out, retrieval):
    vae = SpectroGenVAE(n_in, n_out, latent_dim=3, hidden=8, retrieval=retrieval)
    vae.set_memory(torch.randn(7, n_in), torch.randn(7, n_out))
    recon, mu, logvar = vae(torch.randn(5, n_in))
    assert recon.shape == (5, n_out)
    assert mu.shape == logvar.shape == (5, 3)


def test_retrieval_without_memory_is_a_clear_error():
    vae = SpectroGenVAE(10, 6, latent_dim=2, hidden=8).eval()
    with pytest.raises(RuntimeError, match="no memory"):
        vae(torch.randn(2, 10))


def test_eval_mode_decodes_the_mean():
    vae = SpectroGenVAE(20, 10, latent_dim=4, hidden=8, retrieval=False)
    x = torch.randn(6, 20)
    vae.train()
    a, mu, _ = vae(x)
    b, _, _ = vae(x)
    assert not torch.equal(a, b)  # sampled latents (and input dropout)
    vae.eval()
    c, mu_eval, _ = vae(x)
    assert torch.equal(c, vae.decode(mu_eval))
    assert torch.equal(c, vae(x)[0])


def test_retrieval_picks_the_nearest_memory_target_at_low_temperature():
    keys = torch.eye(3)
    Y = torch.tensor([[0.0, 1.0, 5.0, 2.0], [3.0, 3.0, 1.0, 0.0], [1.0, 2.0, 3.0, 4.0]])
    dec = RetrievalDecoder(latent_dim=3, n_out=4, temperature=1e-3)
    dec.set_memory(keys, Y)
    z = torch.tensor([[0.1, 0.0, 2.0], [5.0, 0.2, 0.1]])  # nearest: 2, then 0
    assert_allclose(dec(z).numpy(), Y[[2, 0]].numpy(), atol=1e-5)


def test_retrieval_mixes_shapes_then_offsets_and_scales():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(4, 6)) * [[1.0], [5.0], [0.2], [2.0]] + [[0], [3], [-1], [9]]
    dec = RetrievalDecoder(latent_dim=2, n_out=6, temperature=1e6)  # ~uniform
    dec.set_memory(torch.randn(4, 2), torch.as_tensor(Y, dtype=torch.float32))
    out = dec(torch.randn(1, 2)).numpy()[0]
    offset, scale = Y.mean(1), Y.std(1)
    shape = (Y - offset[:, None]) / scale[:, None]
    expected = shape.mean(0) * scale.mean() + offset.mean()
    assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_training_batch_does_not_retrieve_itself_or_near_copies():
    Y = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 1.1, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]])
    keys = torch.tensor([[1.0, 0.0], [1.0, 0.05], [0.0, 1.0]])
    dec = RetrievalDecoder(latent_dim=2, n_out=4, temperature=1e-3, exclude_similar=0.8)
    out = dec(keys, keys, Y)
    # 0 and 1 are near-copies (r = 1 > 0.8): each must fall back on row 2
    assert_allclose(out[0].numpy(), Y[2].numpy(), atol=1e-5)
    assert_allclose(out[1].numpy(), Y[2].numpy(), atol=1e-5)
    loose = RetrievalDecoder(latent_dim=2, n_out=4, temperature=1e-3)
    assert_allclose(loose(keys, keys, Y)[0].numpy(), Y[1].numpy(), atol=1e-5)


def test_a_training_batch_never_retrieves_its_own_target():
    # a row whose batch held only itself, or only near-copies of its target,
    # fell back on uniform weights over the batch: itself included
    dec = RetrievalDecoder(latent_dim=2, n_out=4, temperature=1e-3)
    one = torch.tensor([[1.0, 2.0, 0.0, 3.0]])
    with pytest.raises(ValueError, match="batch of one pair leaves it nothing"):
        dec(torch.ones(1, 2), torch.ones(1, 2), one)
    Y = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 1.1, 0.0, 0.0], [0.0, 1.2, 0.0, 0.1]])
    keys = torch.tensor([[1.0, 0.0], [1.0, 0.05], [0.0, 1.0]])
    strict = RetrievalDecoder(
        latent_dim=2, n_out=4, temperature=1e6, exclude_similar=0.5
    )
    out = strict(keys, keys, Y)  # every pair a near-copy of the others
    for i in range(3):  # the uniform mean of the two others, never itself
        others = [j for j in range(3) if j != i]
        expected = strict.mix(
            torch.full((1, 2), 0.5), *[t[others] for t in strict.split_shapes(Y)]
        )
        assert_allclose(out[i].numpy(), expected[0].numpy(), rtol=1e-4, atol=1e-5)


def test_correlation_loss_is_one_minus_pearson_r():
    rng = np.random.default_rng(1)
    P, T = rng.normal(size=(2, 5, 30))
    r = [np.corrcoef(p, t)[0, 1] for p, t in zip(P, T)]
    got = CorrelationLoss()(torch.as_tensor(P), torch.as_tensor(T))
    assert float(got) == pytest.approx(1 - np.mean(r), rel=1e-9)
    # blind to offset and scale of each spectrum
    same = CorrelationLoss()(torch.as_tensor(3 * T + 7), torch.as_tensor(T))
    assert float(same) == pytest.approx(0.0, abs=1e-12)


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
    vae = SpectroGenVAE(8, 6, decoder="dense", retrieval=False).set_scaling(X, Y)
    Ys = (Y - vae.y_center) / vae.y_scale
    assert_allclose(Ys.mean(0).numpy(), 0, atol=1e-5)
    assert float(Ys.pow(2).mean()) == pytest.approx(1.0, rel=1e-5)
    for kw in ({"decoder": "peaks", "retrieval": False}, {}):
        whole = SpectroGenVAE(8, 6, **kw).set_scaling(X, Y)
        assert float(whole.y_center.abs().max()) == 0.0  # whole spectra
        assert float(whole.y_scale) == pytest.approx(float(Y.pow(2).mean().sqrt()))


def test_peak_decoder_draws_the_peaks_its_outputs_describe():
    x = np.linspace(100.0, 1100.0, 201)
    dec = PeakDecoder(
        latent_dim=3, x_out=x, n_peaks=2, hidden=8, profile="gaussian", residual=False
    )
    with torch.no_grad():
        dec.peaks.weight.zero_()
        # rows: centre logits, height pre-softplus, width logits, shape logits
        dec.peaks.bias.copy_(torch.tensor([0.0, 1.0, 2.0, 0.5, 0.0, 0.0, 0.0, 0.0]))
    out = dec(torch.randn(2, 3)).detach().numpy()
    centre = 100.0 + 1000.0 / (1 + np.exp([-0.0, -1.0]))
    height = np.log1p(np.exp([2.0, 0.5]))
    fwhm = dec._w_min + (dec._w_max - dec._w_min) * 0.5
    truth = sum(
        h * np.exp(-4 * np.log(2) * (x - c) ** 2 / fwhm**2)
        for c, h in zip(centre, height)
    )
    assert_allclose(out, np.stack([truth, truth]), rtol=1e-4, atol=1e-5)


def test_peak_decoder_forward_skips_the_public_input_checks(monkeypatch):
    # its parameters are valid by construction; the checks of render_peaks
    # would synchronise the device on every batch
    from sktransfer.peaks import _profiles

    def fail(*args):
        raise AssertionError("render_peaks' input checks ran in forward")

    monkeypatch.setattr(_profiles, "_check_render_inputs", fail)
    dec = PeakDecoder(latent_dim=2, x_out=np.arange(50.0), n_peaks=3, hidden=8)
    assert dec(torch.randn(4, 2)).shape == (4, 50)
    with pytest.raises(AssertionError, match="input checks ran"):
        _profiles.render_peaks(torch.arange(5.0), *torch.ones(3, 1))


def test_peak_decoder_is_differentiable_in_every_peak_parameter():
    dec = PeakDecoder(latent_dim=2, x_out=np.arange(50.0), n_peaks=3, hidden=8)
    dec(torch.randn(2, 2)).sum().backward()
    assert dec.peaks.weight.grad.abs().sum(1).view(4, 3).min() > 0


@pytest.mark.parametrize("param", ["decoder", "encoder"])
def test_unknown_decoder_or_encoder_is_an_error(param):
    with pytest.raises(ValueError, match=f"{param} must be"):
        SpectroGenVAE(10, 10, **{param: "spline"})


@pytest.mark.parametrize(
    "params, match",
    [
        ({"latent_dim": 0}, r"latent_dim must be in \[1, inf\), got 0"),
        ({"latent_dim": 2.5}, "latent_dim must be an integer"),
        ({"hidden": 0}, r"hidden must be in \[1, inf\)"),
        ({"n_peaks": 0}, r"n_peaks must be in \[1, inf\)"),
        ({"channels": ()}, "channels must be a non-empty sequence"),
        ({"channels": 8}, "channels must be a non-empty sequence"),
        ({"channels": (8, 0)}, r"channels\[1\] must be in \[1, inf\)"),
        ({"channels": (2.5,)}, r"channels\[0\] must be an integer"),
        ({"dropout": 1.0}, r"dropout must be in \[0.0, 1.0\)"),
        ({"input_dropout": -0.1}, r"input_dropout must be in \[0.0, 1.0\)"),
        ({"temperature": 0.0}, r"temperature must be in \(0.0, inf\)"),
        ({"temperature": -0.1}, r"temperature must be in \(0.0, inf\)"),
        ({"temperature": float("nan")}, "temperature must be finite"),
        ({"exclude_similar": 1.5}, r"exclude_similar must be in \[-1.0, 1.0\]"),
        ({"x_out": np.arange(7.0)}, "x_out has 7 values but the target has n_out=10"),
        # these gave NaN spectra, a TypeError or a decoder on a folded axis
        ({"x_out": np.r_[np.arange(9.0), np.nan]}, "x_out contains NaN or infinity"),
        ({"x_out": 3.0}, "x_out must be 1-D"),
        ({"x_out": np.r_[np.arange(9.0), 4.5]}, "x_out must be strictly monotonic"),
        ({"retrieval": "no"}, "retrieval must be True or False, got 'no'"),
        ({"residual": None}, "residual must be True or False, got None"),
        ({"profile": "cauchy"}, "profile must be one of"),
        ({"profile": "cauchy", "decoder": "peaks"}, "profile must be one of"),
    ],
)
def test_bad_module_parameters_are_clear_errors(params, match):
    # each of these used to build a module that trained silently (a negative
    # temperature retrieves the *least* similar pairs) or failed deep in torch
    with pytest.raises(ValueError, match=match):
        SpectroGenVAE(10, 10, **params)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_x_out_may_be_a_tensor_of_any_float_dtype(dtype):
    # a bfloat16 tensor failed in its conversion to NumPy
    axis = torch.linspace(0, 9, 10, dtype=dtype)
    module = SpectroGenVAE(20, 10, decoder="peaks", x_out=axis, retrieval=False)
    np.testing.assert_array_equal(module.decoder.x_out.numpy(), axis.float().numpy())
    for complex_dtype in (torch.complex32, torch.complex64):
        with pytest.raises(ValueError, match="x_out must hold real numbers"):
            SpectroGenVAE(20, 10, decoder="peaks", x_out=axis.float().to(complex_dtype))


def test_bad_retrieval_parameters_are_clear_errors():
    with pytest.raises(ValueError, match="temperature must be in"):
        RetrievalDecoder(2, 4, temperature=-1.0)
    with pytest.raises(ValueError, match="exclude_similar must be in"):
        RetrievalDecoder(2, 4, exclude_similar=-2.0)
    # the limits themselves are valid
    RetrievalDecoder(2, 4, exclude_similar=1.0)
    SpectroGenVAE(10, 10, latent_dim=1, hidden=1, channels=(1,), input_dropout=0.0)


def test_set_memory_encodes_batches_of_sources(monkeypatch):
    # scale: the memory was encoded in one pass over every training source
    # (+376 MiB for 4,000 pairs with the conv encoder); now in batches
    from sktransfer.cross_modal import _modules

    vae = SpectroGenVAE(64, 10, latent_dim=3, hidden=8, encoder="conv").eval()
    x, y = torch.randn(40, 64), torch.randn(40, 10)
    with torch.no_grad():
        expected = torch.cat([vae.encode(xb)[0] for xb in x.split(16)])
    rows = []
    forward = vae.encoder.forward

    def spy(xb):
        rows.append(len(xb))
        return forward(xb)

    monkeypatch.setattr(vae.encoder, "forward", spy)
    monkeypatch.setattr(_modules, "MEMORY_BATCH", 16, raising=False)
    vae.train()
    vae.set_memory(x, y)
    assert rows == [16, 16, 8]
    assert vae.training  # left as it was
    assert torch.equal(vae.retrieval.memory_z, expected)


def _render_in_chunks(monkeypatch, profile, chunk_points):
    """A 4-peak, 50-point decoder's output on 150 rows, whole and chunked.

    Returns ``(dec, z, whole, chunked, rows)``, ``rows`` the rows rendered
    by each call of the renderer (it keeps recording).
    """
    from sktransfer.cross_modal import _modules
    from sktransfer.peaks import _profiles

    dec = PeakDecoder(3, torch.linspace(0, 100, 50), n_peaks=4, profile=profile)
    z = torch.randn(150, 3)
    with torch.no_grad():
        whole = dec(z)
    rows = []
    render = _profiles._render_peaks

    def spy(x, center, *args, **kwargs):
        rows.append(len(center))
        return render(x, center, *args, **kwargs)

    monkeypatch.setattr(_profiles, "_render_peaks", spy)
    monkeypatch.setattr(_modules, "_RENDER_CHUNK_POINTS", chunk_points)
    with torch.no_grad():
        chunked = dec(z)
    return dec, z, whole, chunked, rows


@pytest.mark.parametrize("profile", ["pseudo_voigt", "gaussian"])
def test_peak_decoder_renders_chunks_of_rows_outside_training(monkeypatch, profile):
    # scale: one batch of 1,024 rows rendered (1024, 32, 2048) temporaries
    # (1.9 GiB); outside training rows are rendered 64 (or a multiple) at a
    # time, to the same values
    dec, z, whole, chunked, rows = _render_in_chunks(monkeypatch, profile, 64 * 4 * 50)
    assert rows == [64, 64, 22]
    assert torch.equal(chunked, whole)
    rows.clear()
    dec(z)  # with autograd: one pass, whose temporaries backward needs
    assert rows == [150]


def test_peak_widths_range_from_two_steps_to_a_quarter_of_the_range():
    # 201 points 5 apart over 1000: widths from 10 to 250; the width logits
    # at -inf, 0 and +inf give 10, 130 and 250
    x = np.linspace(100.0, 1100.0, 201)
    dec = PeakDecoder(
        latent_dim=2, x_out=x, n_peaks=3, hidden=4, profile="gaussian", residual=False
    )
    with torch.no_grad():
        dec.peaks.weight.zero_()
        # centres at 600 (well inside), heights softplus(log(e - 1)) = 1
        logits = [0.0] * 3 + [math.log(math.e - 1)] * 3 + [-50.0, 0.0, 50.0] + [0.0] * 3
        dec.peaks.bias.copy_(torch.tensor(logits))
    out = dec(torch.zeros(1, 2)).detach().numpy()[0]
    truth = sum(
        np.exp(-4 * np.log(2) * (x - 600.0) ** 2 / w**2) for w in (10.0, 130.0, 250.0)
    )
    assert_allclose(out, truth, rtol=1e-4, atol=1e-5)


def test_peak_widths_on_a_short_grid_reach_four_steps():
    # on 5 points a quarter of the range is one step: the widest peak is
    # then four steps wide, the narrowest two
    x = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    dec = PeakDecoder(
        latent_dim=2, x_out=x, n_peaks=2, hidden=4, profile="gaussian", residual=False
    )
    with torch.no_grad():
        dec.peaks.weight.zero_()
        dec.peaks.bias.copy_(
            torch.tensor([0.0, 0.0, 10.0, 10.0, -50.0, 50.0, 0.0, 0.0])
        )
    out = dec(torch.zeros(1, 2)).detach().numpy()[0]
    height = np.log1p(np.exp(10.0))
    truth = sum(
        height * np.exp(-4 * np.log(2) * (x - 4.0) ** 2 / w**2) for w in (4.0, 8.0)
    )
    assert_allclose(out, truth, rtol=1e-4, atol=1e-5)


def test_an_untrained_peak_decoder_spreads_its_peaks_over_the_range():
    # centre logits start at logit((i + 0.5) / n_peaks), heights and width
    # logits at -2, so the first spectra drawn have small, narrow peaks at
    # evenly spaced positions
    x = np.linspace(-50.0, 150.0, 401)
    dec = PeakDecoder(
        latent_dim=2, x_out=x, n_peaks=4, hidden=4, profile="gaussian", residual=False
    )
    with torch.no_grad():
        dec.peaks.weight.zero_()
    out = dec(torch.zeros(1, 2)).detach().numpy()[0]
    centres = -50.0 + 200.0 * (np.arange(4) + 0.5) / 4
    height = np.log1p(np.exp(-2.0))
    w_min, w_max = 2 * 0.5, 200.0 / 4
    fwhm = w_min + (w_max - w_min) / (1 + np.exp(2.0))
    truth = sum(
        height * np.exp(-4 * np.log(2) * (x - c) ** 2 / fwhm**2) for c in centres
    )
    assert_allclose(out, truth, rtol=1e-4, atol=1e-6)


def test_peak_decoder_residual_interpolates_its_knots_linearly():
    # with the peaks flat at zero height, the output is the residual: the
    # knot values joined by straight lines from the first to the last point
    x = np.linspace(0.0, 1.0, 9)
    dec = PeakDecoder(latent_dim=2, x_out=x, n_peaks=1, hidden=4, n_knots=3)
    with torch.no_grad():
        dec.peaks.weight.zero_()
        dec.peaks.bias.copy_(torch.tensor([0.0, -200.0, 0.0, 0.0]))
        dec.residual.weight.zero_()
        dec.residual.bias.copy_(torch.tensor([1.0, 3.0, -1.0]))
    out = dec(torch.zeros(1, 2)).detach().numpy()[0]
    assert_allclose(out, np.interp(x, [0.0, 0.5, 1.0], [1.0, 3.0, -1.0]), atol=1e-6)


@pytest.mark.parametrize("encoder", ["dense", "conv"])
def test_encoders_bound_the_log_variance(encoder):
    # exp(logvar) stays finite early in training: logvar is clipped to
    # [-10, 10], the mean is not
    vae = SpectroGenVAE(32, 4, latent_dim=2, hidden=4, channels=(2,), encoder=encoder)
    head = vae.encoder.net[-1] if encoder == "dense" else vae.encoder.head[-1]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor([-30.0, 40.0, -30.0, 40.0]))
    mu, logvar = vae.eval().encode(torch.randn(3, 32))
    assert_allclose(mu.detach().numpy(), [[-30.0, 40.0]] * 3)
    assert_allclose(logvar.detach().numpy(), [[-10.0, 10.0]] * 3)


def test_a_batch_that_excludes_every_pair_retrieves_the_others():
    # exclude_similar=-1 leaves every spectrum nothing to retrieve: each
    # then retrieves the other pairs of its batch, as without the rule
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(3, 8)) * [[1.0], [4.0], [0.5]] + [[2.0], [-1.0], [0.0]]
    keys = torch.as_tensor(rng.normal(size=(3, 2)))
    dec = RetrievalDecoder(latent_dim=2, n_out=8, exclude_similar=-1.0)
    plain = RetrievalDecoder(latent_dim=2, n_out=8)
    out = dec(keys, keys, torch.as_tensor(Y)).numpy()
    assert_allclose(out, plain(keys, keys, torch.as_tensor(Y)).numpy(), rtol=1e-12)
    offset, scale = Y.mean(1), Y.std(1)
    shape = (Y - offset[:, None]) / scale[:, None]
    assert not np.allclose(out[0], Y[0])
    uniform = RetrievalDecoder(latent_dim=2, n_out=8, temperature=1e9)
    out = uniform(keys, keys, torch.as_tensor(Y)).numpy()
    for i in range(3):
        o = [j for j in range(3) if j != i]
        expected = shape[o].mean(0) * scale[o].mean() + offset[o].mean()
        assert_allclose(out[i], expected, rtol=1e-6)


def test_retrieval_weights_are_a_softmax_of_cosine_similarity_over_temperature():
    rng = np.random.default_rng(3)
    z, keys = rng.normal(size=(4, 3)), rng.normal(size=(6, 3))
    cos = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (
        keys / np.linalg.norm(keys, axis=1, keepdims=True)
    ).T
    logits = cos / 0.3
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    dec = RetrievalDecoder(latent_dim=3, n_out=5, temperature=0.3)
    got = dec.weights(torch.as_tensor(z), torch.as_tensor(keys)).numpy()
    assert_allclose(got, expected, rtol=1e-10)
    # a decoded spectrum is the weighted mean shape on the weighted offset
    # and scale of the memory's targets
    Y = rng.normal(size=(6, 5)) * 3.0 + 1.0
    dec.set_memory(torch.as_tensor(keys), torch.as_tensor(Y))
    offset, scale = Y.mean(1), Y.std(1)
    shape = (Y - offset[:, None]) / scale[:, None]
    ref = (expected @ shape) * (expected @ scale)[:, None] + (expected @ offset)[
        :, None
    ]
    assert_allclose(dec(torch.as_tensor(z)).numpy(), ref, rtol=1e-9)
    # a correction is added to the mixed shape, before the scale and offset
    c = rng.normal(size=(4, 5))
    ref = (expected @ shape + c) * (expected @ scale)[:, None]
    ref += (expected @ offset)[:, None]
    got = dec(torch.as_tensor(z), correction=torch.as_tensor(c)).numpy()
    assert_allclose(got, ref, rtol=1e-9)


def test_correlation_loss_of_one_point_targets_is_the_mean_squared_error():
    p, t = torch.tensor([[1.0], [2.0], [-1.0]]), torch.tensor([[0.0], [4.0], [-1.0]])
    assert float(CorrelationLoss()(p, t)) == pytest.approx((1 + 4 + 0) / 3)
    # a constant row has no correlation: it counts as r = 0, not NaN
    flat = CorrelationLoss()(torch.ones(2, 5), torch.randn(2, 5))
    assert float(flat) == pytest.approx(1.0)


def test_a_module_loads_a_retrieval_memory_of_any_size():
    # the memory's buffers take the size of the state dict they load
    vae = SpectroGenVAE(10, 6, latent_dim=2, hidden=8).eval()
    vae.set_memory(torch.randn(7, 10), torch.randn(7, 6))
    x = torch.randn(3, 10)
    for fresh in (SpectroGenVAE(10, 6, latent_dim=2, hidden=8), copy.deepcopy(vae)):
        fresh.load_state_dict(vae.state_dict())
        assert fresh.retrieval.memory_z.shape == (7, 2)
        assert fresh.retrieval.memory_shape.shape == (7, 6)
        assert torch.equal(fresh.eval()(x)[0], vae(x)[0])
    small = SpectroGenVAE(10, 6, latent_dim=2, hidden=8).eval()
    small.set_memory(torch.randn(3, 10), torch.randn(3, 6))
    vae.load_state_dict(small.state_dict())
    assert vae.retrieval.memory_offset.shape == (3,)
    assert torch.equal(vae(x)[0], small(x)[0])


def test_a_query_with_every_key_excluded_weighs_them_all_alike():
    # the other queries keep their softmax over the keys left to them
    rng = np.random.default_rng(4)
    z, keys = rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    exclude = torch.tensor(
        [[True, True, True, True], [True, False, False, True], [False] * 4]
    )
    dec = RetrievalDecoder(latent_dim=2, n_out=5, temperature=0.5)
    got = dec.weights(torch.as_tensor(z), torch.as_tensor(keys), exclude).numpy()
    cos = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (
        keys / np.linalg.norm(keys, axis=1, keepdims=True)
    ).T
    e = np.exp(cos / 0.5)
    assert_allclose(got[0], [0.25] * 4, rtol=1e-12)
    assert_allclose(got[1], [0, *(e[1, 1:3] / e[1, 1:3].sum()), 0], rtol=1e-12)
    assert_allclose(got[2], e[2] / e[2].sum(), rtol=1e-12)


def test_memory_setters_return_the_decoder():
    dec = RetrievalDecoder(latent_dim=2, n_out=5)
    assert dec.set_memory(torch.randn(3, 2), torch.randn(3, 5)) is dec
    assert dec.resize_memory(4) is dec
    assert dec.memory_z.shape == (4, 2) and dec.memory_shape.shape == (4, 5)
    assert dec.memory_offset.shape == dec.memory_scale.shape == (4,)


@pytest.mark.parametrize("threshold, retrieved", [(0.65, 1), (0.55, 2)])
def test_training_pairs_are_excluded_by_the_correlation_of_their_targets(
    threshold, retrieved
):
    # rows 0 and 1 correlate at r = 0.6 exactly, row 2 is row 0 reversed
    a = np.array([1.0, -1, 1, -1, 1, -1, 1, -1])
    o = np.array([1.0, 1, -1, -1, 1, 1, -1, -1])
    Y = torch.as_tensor(np.stack([a, 0.6 * a + 0.8 * o, -a]))
    keys = torch.tensor([[1.0, 0.0], [1.0, 0.05], [0.0, 1.0]], dtype=torch.float64)
    dec = RetrievalDecoder(2, 8, temperature=1e-3, exclude_similar=threshold)
    out = dec(keys, keys, Y)
    assert_allclose(out[0].numpy(), Y[retrieved].numpy(), atol=1e-6)


def test_peak_decoder_draws_in_float32_from_a_float64_axis():
    dec = PeakDecoder(latent_dim=2, x_out=np.linspace(0.0, 1.0, 20), hidden=4)
    assert dec.x_out.dtype == torch.float32
    assert dec(torch.zeros(2, 2)).dtype == torch.float32


@pytest.mark.parametrize(
    "chunk_points, rows_expected",
    [(1, [64, 64, 22]), (64 * 200 * 3 // 2, [64, 64, 22]), (64 * 200 * 2, [128, 22])],
)
def test_peak_decoder_chunks_are_whole_multiples_of_64_rows(
    monkeypatch, chunk_points, rows_expected
):
    # rows of 4 peaks x 50 points: a chunk holds as many whole 64-row blocks
    # as fit into the budget of points, and at least one
    *_, whole, chunked, rows = _render_in_chunks(monkeypatch, "gaussian", chunk_points)
    assert rows == rows_expected
    assert torch.equal(chunked, whole)


def test_kl_divergence_sums_the_latent_dimensions_and_averages_the_batch():
    mu = torch.tensor([[1.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(2.0), 0.0], [0.0, 0.0, 0.0]])
    # row 1: 0.5 * (1 + (2 - 1 - log 2) + 4); row 2: 0
    row1 = 0.5 * (1.0 + (1.0 - math.log(2.0)) + 4.0)
    assert float(kl_divergence(mu, logvar)) == pytest.approx(row1 / 2, rel=1e-6)


@pytest.mark.parametrize("magnitude", [1e25, 1e-25, 1.0])
def test_rms_where_float32_squares_overflow_or_underflow(magnitude):
    t = torch.tensor([1.0, -3.0, 0.0, 2.0]) * magnitude
    assert _rms(t) == pytest.approx(math.sqrt(14 / 4) * magnitude, rel=1e-6)
    assert _rms(torch.zeros(4)) == 0.0


def test_safe_scale_keeps_a_small_real_spread_and_falls_back_on_the_raw_data():
    raw = torch.tensor([0.2, 0.4], dtype=torch.float64)
    assert _safe_scale(raw - raw.mean(), raw) == pytest.approx(0.1)
    # a spread of 5e-9 of values around 1 is the data's, not rounding
    raw = 1.0 + torch.tensor([-5e-9, 5e-9], dtype=torch.float64)
    assert _safe_scale(raw - raw.mean(), raw) == pytest.approx(5e-9, rel=1e-6)
    # a constant of 0.5: its own root mean square
    half = torch.full((3,), 0.5)
    assert _safe_scale(torch.zeros(3), half) == pytest.approx(0.5)


@pytest.mark.parametrize("size", ["n_in", "n_out"])
def test_spectrum_sizes_below_one_point_are_clear_errors(size):
    sizes = {"n_in": 10, "n_out": 10, size: 0}
    with pytest.raises(ValueError, match=rf"{size} must be in \[1, inf\), got 0"):
        SpectroGenVAE(**sizes)


def test_module_layers_follow_the_parameters():
    vae = SpectroGenVAE(
        12, 7, latent_dim=3, hidden=5, input_dropout=0.3, dropout=0.2, retrieval=False
    )
    assert vae.encoder.net[0].p == 0.3
    assert vae.encoder.net[1].out_features == 5
    assert vae.decoder.net[0].out_features == 5
    assert vae.decoder.net[2].p == 0.2
    conv = SpectroGenVAE(
        40, 7, latent_dim=3, hidden=6, encoder="conv", channels=(3, 5), dropout=0.25
    )
    convs = [m for m in conv.encoder.conv if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [3, 5]
    assert conv.encoder.head[1].out_features == 6
    assert conv.encoder.head[3].p == 0.25
    peaks = SpectroGenVAE(
        12,
        7,
        latent_dim=3,
        hidden=4,
        decoder="peaks",
        n_peaks=5,
        profile="gaussian",
        residual=False,
    )
    assert peaks.decoder.n_peaks == 5
    assert peaks.decoder.peaks.out_features == 4 * 5
    assert peaks.decoder.trunk[0].out_features == 4
    assert peaks.decoder.profile == "gaussian"
    assert peaks.decoder.residual is None


def test_module_defaults_are_the_documented_ones():
    vae = SpectroGenVAE(12, 7)
    assert vae.latent_dim == 16
    assert vae.encoder.net[0].p == 0.5
    assert vae.encoder.net[1].out_features == 256
    assert vae.decoder.net[2].p == 0.0
    assert vae.retrieval.temperature == 0.1
    assert vae.retrieval.exclude_similar is None
    conv = SpectroGenVAE(12, 7, encoder="conv")
    convs = [m for m in conv.encoder.conv if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [16, 32, 32]
    assert conv.encoder.head[3].p == 0.0
    peaks = SpectroGenVAE(12, 7, decoder="peaks")
    assert peaks.decoder.n_peaks == 32
    assert peaks.decoder.profile == "pseudo_voigt"
    assert peaks.decoder.residual is not None


def test_set_scaling_standardises_the_sources_by_one_global_scale():
    rng = np.random.default_rng(5)
    X = torch.as_tensor(rng.normal(50.0, 3.0, (40, 8)), dtype=torch.float64)
    vae = SpectroGenVAE(8, 6, retrieval=False).double().set_scaling(X, X[:, :6])
    assert_allclose(vae.x_center.numpy(), X.mean(0).numpy(), rtol=1e-12)
    centred = (X - X.mean(0)).numpy()
    assert float(vae.x_scale) == pytest.approx(np.sqrt(np.mean(centred**2)))


def test_encode_standardises_the_sources_with_the_buffers():
    vae = SpectroGenVAE(6, 4, latent_dim=2, hidden=8, retrieval=False).eval()
    x = torch.randn(3, 6)
    with torch.no_grad():
        vae.x_center.copy_(torch.arange(6.0))
        vae.x_scale.fill_(4.0)
        got = vae.encode(x * 4.0 + torch.arange(6.0))
        want = vae.encoder(x)
    for g, w in zip(got, want):
        assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)


def test_decode_adds_the_weighted_correction_to_the_retrieved_shape():
    # one memory pair: its shape, plus correction_weight times the
    # generative decoder's output, on the pair's offset and scale
    vae = SpectroGenVAE(6, 4, latent_dim=2, hidden=8).eval()
    y = torch.tensor([[1.0, 3.0, 2.0, 6.0]])
    vae.set_memory(torch.randn(1, 6), y)
    z = torch.randn(2, 2)
    with torch.no_grad():
        vae.correction_weight.fill_(0.5)
        got = vae.decode(z).numpy()
        dense = vae.decoder(z).numpy()
    Y = y.numpy()[0]
    offset, scale = Y.mean(), Y.std()
    want = ((Y - offset) / scale + 0.5 * dense) * scale + offset
    assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_set_memory_returns_the_module():
    x, y = torch.randn(3, 6), torch.randn(3, 4)
    for retrieval in (True, False):
        vae = SpectroGenVAE(6, 4, latent_dim=2, hidden=8, retrieval=retrieval)
        assert vae.set_memory(x, y) is vae


def test_training_samples_latents_with_the_encoded_spread(monkeypatch):
    # z = mu + eps * exp(logvar / 2): mean mu, standard deviation exp(logvar / 2)
    vae = SpectroGenVAE(3, 2, latent_dim=2, hidden=4, retrieval=False).train()
    mu = torch.tensor([1.0, -2.0])
    logvar = torch.tensor([math.log(4.0), math.log(0.25)])
    monkeypatch.setattr(
        vae, "encode", lambda x: (mu.expand(len(x), 2), logvar.expand(len(x), 2))
    )
    seen = []
    monkeypatch.setattr(vae, "decode", lambda z, keys, y: seen.append(z) or z)
    torch.manual_seed(0)
    vae(torch.zeros(20000, 3))
    z = seen[0].numpy()
    assert_allclose(z.mean(0), [1.0, -2.0], atol=0.05)
    assert_allclose(z.std(0), [2.0, 0.5], rtol=0.03)
