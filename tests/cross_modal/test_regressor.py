import copy
import io
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback, ProgressBar
from skorch.dataset import ValidSplit

from sktransfer.baseline import AirPLS
from sktransfer.cross_modal import SpectroGenRegressor, SpectroGenVAE
from sktransfer.cross_modal._modules import CorrelationLoss, kl_divergence
from sktransfer.cross_modal._regressor import _mix_pairs, _stretch_pairs, _stretch_rows
from sktransfer.metrics import spectral_correlation, spectral_correlation_scorer
from sktransfer.preprocessing import MinMaxNormalizer
from sktransfer.utils._torch import make_generator, seed_from_random_state
from tests.conftest import traced_peak

FAST = {
    "beta": 0.5,
    "max_epochs": 60,
    "batch_size": 40,
    "lr": 3e-3,
    "module__latent_dim": 4,
    "module__hidden": 32,
    "module__channels": (8, 8),
}


def paired_spectra(n_samples=80, n_source=120, n_target=60, random_state=0):
    """Source and target spectra driven by the same two hidden parameters.

    The source has a peak whose position encodes ``a`` and whose height,
    relative to a band of fixed height (an internal standard), encodes
    ``b``; the target has two peaks whose heights follow ``a`` and ``b``.
    Knowing the source therefore determines the target, whatever the
    source's overall intensity.
    """
    rng = np.random.default_rng(random_state)
    a, b = rng.uniform(0, 1, (2, n_samples, 1))
    xs = np.linspace(0, 1, n_source)
    xt = np.linspace(200.0, 800.0, n_target)
    X = (0.5 + b) * np.exp(-0.5 * ((xs - 0.2 - 0.6 * a) / 0.05) ** 2)
    X += np.exp(-0.5 * ((xs - 0.95) / 0.02) ** 2)
    X += rng.normal(0, 0.01, X.shape)
    Y = a * np.exp(-0.5 * ((xt - 350) / 20) ** 2) + b * np.exp(
        -0.5 * ((xt - 650) / 30) ** 2
    )
    return X, Y, xt


@pytest.fixture(scope="module")
def data():
    X, Y, xt = paired_spectra(100)
    return X[:80], Y[:80], X[80:], Y[80:], xt


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, *_ = data
    return SpectroGenRegressor(random_state=0, **FAST).fit(X, Y)


def test_learns_the_mapping_better_than_the_mean(data, fitted):
    X, Y, X_test, Y_test, _ = data
    r_model = spectral_correlation(Y_test, fitted.predict(X_test))
    r_mean = spectral_correlation(Y_test, DummyRegressor().fit(X, Y).predict(X_test))
    assert r_model > 0.93
    assert 1 - r_model < 0.6 * (1 - r_mean)  # well below the mean's error


@pytest.mark.parametrize("encoder", ["dense", "conv"])
def test_default_training_learns_with_either_encoder(data, encoder):
    # default lr and epochs: an encoder that hardly trains in them (the
    # convolutional one before its normalisation) stays near the mean (0.89)
    X, Y, X_test, Y_test, _ = data
    reg = SpectroGenRegressor(random_state=0, module__encoder=encoder).fit(X, Y)
    r_model = spectral_correlation(Y_test, reg.predict(X_test))
    r_mean = spectral_correlation(Y_test, DummyRegressor().fit(X, Y).predict(X_test))
    assert r_model > 0.96
    assert 1 - r_model < 0.35 * (1 - r_mean)


def test_history_loss_decreases(fitted):
    loss = fitted.history[:, "train_loss"]
    # retrieval starts from real spectra, so the first loss is already low
    assert loss[-1] < 0.8 * loss[0]
    assert np.all(np.isfinite(loss))


def test_predict_is_float64_in_original_units(data, fitted):
    X, Y, X_test, *_ = data
    pred = fitted.predict(X_test)
    assert pred.dtype == np.float64
    assert pred.shape == (len(X_test), Y.shape[1])
    # the same data in other units gives the same predictions in those units
    params = {**FAST, "max_epochs": 3}
    ref = SpectroGenRegressor(random_state=0, **params).fit(X, Y).predict(X_test)
    scaled = SpectroGenRegressor(random_state=0, **params).fit(X, 1000.0 * Y + 5.0)
    assert_allclose(scaled.predict(X_test), 1000.0 * ref + 5.0, rtol=1e-4, atol=1e-3)


def test_overall_source_intensity_does_not_matter(data, fitted):
    X, Y, X_test, *_ = data
    rng = np.random.default_rng(1)
    gain = rng.uniform(0.1, 10.0, (len(X), 1))
    gain_test = rng.uniform(0.1, 10.0, (len(X_test), 1))
    expected = fitted.predict(X_test)
    # the same model: only float32 rounding of the scaled rows differs
    assert_allclose(fitted.predict(X_test * gain_test), expected, atol=1e-6)
    assert_allclose(fitted.encode(X_test * gain_test), fitted.encode(X_test), atol=1e-6)
    assert_array_equal(
        fitted.kneighbors(X_test * gain_test, n_neighbors=3)[1],
        fitted.kneighbors(X_test, n_neighbors=3)[1],
    )
    # skorch's forward comes through the same scaling
    assert_allclose(
        fitted.forward((X_test * gain_test).astype(np.float32))[1].numpy(),
        fitted.encode(X_test),
        atol=1e-6,
    )
    # trained on the gained sources: the same model (scaled before rounding)
    X_gained = X * gain
    X_copy = X_gained.copy()
    refit = SpectroGenRegressor(random_state=0, **FAST).fit(X_gained, Y)
    assert_array_equal(X_gained, X_copy)  # the input is not modified
    assert_allclose(refit.predict(X_test * gain_test), expected, atol=1e-6)
    # without it, the sources are read in their own units and the gains count
    raw = SpectroGenRegressor(random_state=0, normalize_source=False, **FAST).fit(X, Y)
    change = np.abs(raw.predict(X_test * gain_test) - raw.predict(X_test)).max()
    assert change > 0.1


def test_sources_are_divided_by_their_largest_absolute_value(data, fitted):
    # also where the most negative value is the largest in magnitude, and a
    # source of zeros is left as it is, in predict and in skorch's forward
    X_test = data[2][:6].copy()
    X_test[0] *= -1.0
    X_test[1] -= 3.0 * X_test[1].max()
    X_test[2] = 0.0
    largest = np.abs(X_test).max(axis=1, keepdims=True)
    X_scaled = X_test / np.where(largest > 0, largest, 1.0)
    module = copy.deepcopy(fitted.module_).double().eval()
    with torch.no_grad():
        mu = module.encode(torch.as_tensor(X_scaled))[0].numpy()
    assert_allclose(fitted.encode(X_test), mu, rtol=1e-12, atol=1e-14)
    forward_mu = fitted.forward(X_test.astype(np.float32))[1].numpy()
    assert np.isfinite(forward_mu).all()
    assert_allclose(forward_mu, mu, atol=1e-5)


def test_sources_scaled_to_maximum_one_are_read_unchanged(data):
    X, Y, X_test, *_ = data
    X, X_test = (A / np.abs(A).max(axis=1, keepdims=True) for A in (X, X_test))
    params = {**FAST, "max_epochs": 10}
    on = SpectroGenRegressor(random_state=0, **params).fit(X, Y)
    off = SpectroGenRegressor(random_state=0, normalize_source=False, **params).fit(
        X, Y
    )
    assert_array_equal(on.predict(X_test), off.predict(X_test))


def test_predict_is_deterministic_and_decodes_mean_latent(data, fitted):
    X_test = data[2]
    assert_array_equal(fitted.predict(X_test), fitted.predict(X_test))
    # the network trained in float32 predicts in float64; the module reads
    # each source scaled to maximum absolute value 1
    module = copy.deepcopy(fitted.module_).double().eval()
    X_scaled = X_test / np.abs(X_test).max(axis=1, keepdims=True)
    with torch.no_grad():
        mu, _ = module.encode(torch.as_tensor(X_scaled))
        ref = module.decode(mu) * module.y_scale + module.y_center
    assert_allclose(fitted.predict(X_test), ref.numpy(), rtol=1e-12, atol=1e-14)
    assert_allclose(fitted.encode(X_test), mu.numpy(), rtol=1e-12, atol=1e-14)
    assert fitted.encode(X_test).shape == (len(X_test), 4)
    # and as the float32 network would, to float32 precision
    module32 = fitted.module_.eval()
    with torch.no_grad():
        mu32, _ = module32.encode(torch.as_tensor(X_scaled, dtype=torch.float32))
    assert_allclose(fitted.encode(X_test), mu32.numpy(), rtol=1e-4, atol=1e-5)


def test_sample(data, fitted):
    X_test = data[2][:5]
    draws = fitted.sample(X_test, n_samples=30, random_state=0)
    assert draws.shape == (5, 30, fitted.n_outputs_)
    assert draws.dtype == np.float64
    assert_array_equal(draws, fitted.sample(X_test, n_samples=30, random_state=0))
    assert not np.array_equal(draws, fitted.sample(X_test, 30, random_state=1))
    assert draws.std(axis=1).max() > 0  # the draws differ
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_samples"):
            fitted.sample(X_test, n_samples=bad)
    assert fitted.sample(X_test).shape == (5, 1, fitted.n_outputs_)  # one draw


def test_sample_decodes_the_mean_latent_plus_its_spread_times_normal_draws(
    data, fitted
):
    # z = mu + exp(logvar / 2) * eps, eps standard normal draws of a generator
    # seeded from random_state, decoded and put back in the target's units
    X_test = data[2][:4]
    module = copy.deepcopy(fitted.module_).double().eval()
    X_scaled = X_test / np.abs(X_test).max(axis=1, keepdims=True)
    gen = make_generator(seed_from_random_state(7))
    with torch.no_grad():
        mu, logvar = module.encode(torch.as_tensor(X_scaled))
        eps = torch.randn((4, 3, mu.shape[1]), generator=gen).double()
        z = mu[:, None] + eps * torch.exp(logvar / 2)[:, None]
        ref = module.decode(z.reshape(12, -1)) * module.y_scale + module.y_center
    draws = fitted.sample(X_test, n_samples=3, random_state=7)
    assert_allclose(draws, ref.numpy().reshape(4, 3, -1), rtol=1e-12, atol=1e-12)


def test_random_state_reproducible_and_global_rng_untouched(data):
    X, Y, X_test, *_ = data
    params = {**FAST, "max_epochs": 3}
    state = torch.get_rng_state()
    net = SpectroGenRegressor(random_state=3, **params).fit(X, Y)
    a = net.predict(X_test)
    net.encode(X_test)
    assert torch.equal(state, torch.get_rng_state())
    b = SpectroGenRegressor(random_state=3, **params).fit(X, Y).predict(X_test)
    c = SpectroGenRegressor(random_state=4, **params).fit(X, Y).predict(X_test)
    assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_loss_is_one_minus_correlation_plus_beta_kl(fitted):
    torch.manual_seed(0)
    recon, mu, logvar = torch.randn(4, 60), torch.randn(4, 4), torch.randn(4, 4)
    y = torch.randn(4, 60)
    r = [np.corrcoef(p, t)[0, 1] for p, t in zip(recon.numpy(), y.numpy())]
    net = pickle.loads(pickle.dumps(fitted)).set_params(beta=2.5)
    expected = 1 - np.mean(r) + 2.5 * float(kl_divergence(mu, logvar)) / 60
    got = net.get_loss((recon, mu, logvar), y)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    net.set_params(beta=0.0)
    got = net.get_loss((recon, mu, logvar), y)
    assert float(got) == pytest.approx(1 - np.mean(r), rel=1e-5)
    # the ELBO of a Gaussian likelihood with unit noise: MSE + 2 KL / n_out
    net.set_params(criterion=torch.nn.MSELoss, beta=2.0).initialize_criterion()
    mse = float(torch.mean((recon - y) ** 2))
    nll = 0.5 * float(((recon - y) ** 2).sum(1).mean())  # per spectrum
    elbo_loss = nll + float(kl_divergence(mu, logvar))
    got = float(net.get_loss((recon, mu, logvar), y))
    assert got == pytest.approx(elbo_loss / (0.5 * 60), rel=1e-5)
    assert mse < got


def test_mix_pairs_mixes_source_and_target_with_one_weight():
    torch.manual_seed(0)
    X = torch.randn(50, 7, dtype=torch.float64)
    # the target is a linear function of the source, so a mixture's target
    # must be the same function of the mixed source
    W = torch.randn(7, 3, dtype=torch.float64)
    Xm, Ym = _mix_pairs(X, X @ W, alpha=0.4)
    assert_allclose((Xm @ W).numpy(), Ym.numpy(), atol=1e-12)
    # each row is lam * X[i] + (1 - lam) * X[j] with lam >= 0.5, j another row
    found = 0
    for i in range(len(X)):
        for j in range(len(X)):
            d = X[i] - X[j]
            if i == j or float(d.norm()) == 0:
                continue
            lam = float((Xm[i] - X[j]) @ d / (d @ d))
            if torch.allclose(lam * X[i] + (1 - lam) * X[j], Xm[i], atol=1e-10):
                assert 0.5 <= lam <= 1.0 + 1e-12
                found += 1
                break
        else:
            assert torch.equal(Xm[i], X[i])  # mixed with itself
            found += 1
    assert found == len(X)
    assert not torch.equal(Xm, X)


def _centroids(A):
    index = torch.arange(A.shape[-1], dtype=A.dtype)
    return (A * index).sum(-1) / A.sum(-1)


def test_stretch_rows_moves_features_away_from_the_first_point():
    index = torch.arange(200, dtype=torch.float64)
    A = torch.stack([torch.exp(-0.5 * ((index - c) / 4) ** 2) for c in (30, 90, 150)])
    assert torch.equal(_stretch_rows(A, torch.ones(3, 1, dtype=A.dtype)), A)
    f = torch.tensor([[1.1], [0.95], [1.2]], dtype=A.dtype)
    B = _stretch_rows(A, f)
    # a peak at index c moves to c * f (linear interpolation keeps centroids
    # to a small fraction of a point)
    assert_allclose(_centroids(B).numpy(), [33.0, 85.5, 180.0], atol=0.05)
    assert_allclose(B.max(-1).values.numpy(), 1.0, atol=0.02)
    # shrinking reads beyond the last point: its value is repeated
    ramp = index[None] / 199
    assert_allclose(
        _stretch_rows(ramp, torch.tensor([[0.8]], dtype=A.dtype))[0, -40:], 1.0
    )


def test_stretch_pairs_moves_source_and_target_bands_together():
    torch.manual_seed(0)
    # the same band, at the same fraction p of two grids of different lengths
    p = torch.linspace(0.2, 0.7, 40, dtype=torch.float64)[:, None]

    def band(n):
        i = torch.arange(n, dtype=torch.float64)
        return torch.exp(-0.5 * ((i - p * (n - 1)) / (0.02 * n)) ** 2)

    X, Y = band(300), band(120)
    Xs, Ys = _stretch_pairs(X, Y, 0.1)
    fx = _centroids(Xs) / _centroids(X)
    fy = _centroids(Ys) / _centroids(Y)
    assert_allclose(fx.numpy(), fy.numpy(), atol=2e-3)  # one factor per pair
    assert fx.min() >= 0.9 - 2e-3 and fx.max() <= 1.1 + 2e-3
    assert fx.std() > 0.03  # factors differ between pairs
    # a scalar target (one point) is left as it is
    y1 = torch.rand(40, 1, dtype=torch.float64)
    assert torch.equal(_stretch_pairs(X, y1, 0.1)[1], y1)
    # a descending source axis: the same stretch, read from the other end
    torch.manual_seed(1)
    Xd, Yd = _stretch_pairs(X.flip(-1), Y, 0.1, descending=(True, False))
    torch.manual_seed(1)
    Xa, Ya = _stretch_pairs(X, Y, 0.1)
    assert_allclose(Xd.flip(-1).numpy(), Xa.numpy(), atol=1e-12)
    assert_allclose(Yd.numpy(), Ya.numpy(), atol=1e-12)


def test_stretch_pairs_stretches_targets_of_two_points():
    # a target of two points is a spectrum too; only one of one point is kept
    torch.manual_seed(0)
    X = torch.rand(50, 30, dtype=torch.float64)
    Y = torch.tensor([[0.0, 1.0]] * 50, dtype=torch.float64)
    _, Ys = _stretch_pairs(X, Y, 0.2)
    # the last point takes the value at 1 / f: 1 / f for f > 1, else the end
    assert torch.equal(Ys[:, 0], Y[:, 0])
    assert float(Ys[:, 1].max()) == 1.0 and float(Ys[:, 1].min()) < 0.9
    _, Y1 = _stretch_pairs(X, Y[:, :1], 0.2)
    assert torch.equal(Y1, Y[:, :1])


def test_stretch_follows_the_direction_of_the_axes(data, monkeypatch):
    # fit passes the direction of each axis to the stretch, which then reads
    # a descending spectrum from its other end (as tested just above)
    X, Y, *_ = data
    seen = []

    def spy(X, Y, amount, descending=(False, False)):
        seen.append(descending)
        return X, Y

    monkeypatch.setattr("sktransfer.cross_modal._regressor._stretch_pairs", spy)
    params = {**FAST, "max_epochs": 1, "random_state": 0}
    up, down = np.arange(X.shape[1]), np.arange(X.shape[1])[::-1]
    t_down = np.linspace(800.0, 200.0, Y.shape[1])
    for kw, expected in [
        ({}, (False, False)),
        ({"source_axis": up}, (False, False)),
        ({"source_axis": down}, (True, False)),
        ({"source_axis": down, "target_axis": t_down}, (True, True)),
    ]:
        seen.clear()
        reg = SpectroGenRegressor(**params, **kw).fit(X, Y)
        assert seen and set(seen) == {expected}
    assert_array_equal(reg.source_axis_, down)
    # a target of two points has a direction too
    seen.clear()
    SpectroGenRegressor(**params, target_axis=[5.0, 1.0]).fit(X, Y[:, :2])
    assert seen and set(seen) == {(False, True)}


@pytest.mark.parametrize("retrieval, offset", [(True, 0.0), (False, 0.0), (False, 2e5)])
def test_the_training_target_is_the_target_stretched_in_its_units(
    monkeypatch, retrieval, offset
):
    # without retrieval the dense decoder centres the targets on their mean,
    # and the stretch moved only their deviations from it: a band shared by
    # every target stayed where it was while the source's moved
    from sktransfer.cross_modal import _regressor

    x = np.arange(100.0)
    rng = np.random.default_rng(0)
    Y = offset + np.array(
        [10 * np.exp(-0.5 * ((x - 50) / 3) ** 2) + rng.random(100) for _ in range(8)]
    )
    X = rng.random((8, 30))
    factors, targets, trained = [], [], []
    stretch = _regressor._stretch_pairs

    def recording(Xi, yi, amount, descending=(False, False)):
        state = torch.random.get_rng_state()
        out = stretch(Xi, yi, amount, descending)
        torch.random.set_rng_state(state)  # the factors it drew
        u = torch.rand(len(Xi), 1, dtype=torch.float32)
        factors.append(1 + amount * (2 * u - 1))
        return out

    monkeypatch.setattr(_regressor, "_stretch_pairs", recording)
    reg = SpectroGenRegressor(
        max_epochs=1,
        batch_size=8,
        mixup=0,
        stretch=0.2,
        random_state=0,
        module__retrieval=retrieval,
        module__hidden=16,
        module__latent_dim=2,
    )
    standardised, get_loss = reg._standardised, reg.get_loss
    monkeypatch.setattr(
        reg, "_standardised", lambda yi: targets.append(yi) or standardised(yi)
    )

    def loss(y_pred, y_true, **kwargs):
        if kwargs.get("training"):
            trained.append(y_true.detach().double())
        return get_loss(y_pred, y_true, **kwargs)

    monkeypatch.setattr(reg, "get_loss", loss)
    reg.fit(X, Y)
    m = reg.module_
    assert bool(m.y_center.abs().max() > 0) is not retrieval
    # (in float64 where the targets sit on an offset: in float32 the
    # deviations lost their digits, 0.35 of the spread at 2e5)
    expected = _regressor._stretch_rows(
        torch.as_tensor(targets[0], dtype=torch.float64), factors[0].double()
    )
    expected = (expected - m.y_center.double()) / float(m.y_scale)
    assert_allclose(trained[0].numpy(), expected.numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "param, value, helper",
    [("mixup", 0.4, "_mix_pairs"), ("stretch", 0.05, "_stretch_pairs")],
)
def test_augmentation_changes_training_and_zero_turns_it_off(
    data, monkeypatch, param, value, helper
):
    X, Y, X_test, *_ = data
    params = {**FAST, "max_epochs": 3, "random_state": 0}
    on = SpectroGenRegressor(**{param: value}, **params).fit(X, Y)
    calls = []
    monkeypatch.setattr(
        f"sktransfer.cross_modal._regressor.{helper}",
        lambda *a: calls.append(a) or a[:2],
    )
    off = SpectroGenRegressor(**{param: 0.0}, **params).fit(X, Y)
    assert calls == []
    assert not np.allclose(off.predict(X_test), on.predict(X_test))
    SpectroGenRegressor(**{param: value}, **params).fit(X, Y)
    assert len(calls) == 6  # one call per training step: 3 epochs of 2 batches
    # the memory used to predict holds the training pairs as they are
    assert_allclose(
        on.module_.retrieval.memory_offset.numpy(),
        on._scale_target(Y).mean(1),
        rtol=1e-5,
        atol=1e-6,
    )


def test_mixup_leaves_a_batch_of_one_pair_alone(data):
    # a pair alone has no other pair to be mixed with: mixup then changes
    # nothing, also not the random draws of training; in batches of two it does
    X, Y, *_ = data
    params = {"module__retrieval": False, "module__hidden": 8, "max_epochs": 1}
    params.update(random_state=0, stretch=0)

    def fitted(batch_size, mixup):
        reg = SpectroGenRegressor(batch_size=batch_size, mixup=mixup, **params)
        return reg.fit(X[:4], Y[:4]).predict(X[:4])

    assert_array_equal(fitted(1, 0.4), fitted(1, 0.0))
    assert not np.allclose(fitted(2, 0.4), fitted(2, 0.0))


def test_different_source_and_target_lengths_and_axis(data):
    X, Y, X_test, _, xt = data
    reg = SpectroGenRegressor(
        random_state=0,
        target_axis=xt,
        **{**FAST, "max_epochs": 2, "module__decoder": "peaks"},
    ).fit(X, Y)
    assert reg.n_features_in_ == 120 and reg.n_outputs_ == 60
    assert_array_equal(reg.module_.decoder.x_out.numpy(), xt.astype(np.float32))
    assert reg.predict(X_test).shape == (len(X_test), 60)


def test_peak_decoder_learns(data):
    X, Y, X_test, Y_test, xt = data
    reg = SpectroGenRegressor(
        random_state=0,
        target_axis=xt,
        **{**FAST, "module__decoder": "peaks", "module__n_peaks": 4},
    ).fit(X, Y)
    assert spectral_correlation(Y_test, reg.predict(X_test)) > 0.85


def test_inputs_not_modified_and_float32_accepted(data):
    X, Y, *_ = data
    X32, Y_copy = X.astype(np.float32), Y.copy()
    X32_copy = X32.copy()
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 1})
    reg.fit(X32, Y).predict(X32)
    assert_array_equal(X32, X32_copy)
    assert_array_equal(Y, Y_copy)
    # float32 sources are read, and scaled, in float64 as the same values
    X64 = X32.astype(np.float64)
    assert_array_equal(reg.predict(X32), reg.predict(X64))
    assert_array_equal(reg.encode(X32), reg.encode(X64))
    assert_array_equal(
        reg.sample(X32, 2, random_state=0), reg.sample(X64, 2, random_state=0)
    )


def test_scalar_target(data):
    X, Y, X_test, *_ = data
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 2})
    pred = reg.fit(X, Y[:, 10]).predict(X_test)
    assert pred.shape == (len(X_test),)
    assert reg.sample(X_test, n_samples=2).shape == (len(X_test), 2)
    # parameters loaded into a regressor never fitted predict a scalar too
    buf = io.BytesIO()
    reg.save_params(f_params=buf)
    buf.seek(0)
    fresh = SpectroGenRegressor(**FAST).load_params(f_params=buf)
    assert_array_equal(fresh.predict(X_test), pred)


def test_kneighbors_matches_brute_force_cosine_neighbours_of_the_codes(data, fitted):
    X, _, X_test, *_ = data
    X_test_before = X_test.copy()
    ref = NearestNeighbors(n_neighbors=7, metric="cosine", algorithm="brute")
    ref.fit(fitted.encode(X))
    dist, ind = fitted.kneighbors(X_test, n_neighbors=7)
    ref_dist, ref_ind_test = ref.kneighbors(fitted.encode(X_test))
    assert_array_equal(ind, ref_ind_test)
    assert_allclose(dist, ref_dist, atol=1e-6)
    assert ind.dtype == np.intp and dist.dtype == np.float64
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert_array_equal(X_test, X_test_before)
    # without X: the training pairs, each without itself (as scikit-learn)
    dist, ind = fitted.kneighbors(n_neighbors=3)
    ref_dist, ref_ind = ref.kneighbors(n_neighbors=3)
    assert_array_equal(ind, ref_ind)
    assert_allclose(dist, ref_dist, atol=1e-6)
    assert not np.any(ind == np.arange(len(X))[:, None])
    ind = fitted.kneighbors(X_test, 2, return_distance=False)
    assert ind.shape == (len(X_test), 2)
    assert_array_equal(ind, ref_ind_test[:, :2])
    assert_array_equal(fitted.kneighbors(X_test, 1)[1], ref_ind_test[:, :1])
    assert_array_equal(fitted.kneighbors(X_test)[1], ref_ind_test[:, :5])  # 5


def test_kneighbors_distances_give_the_prediction_weights(data, fitted):
    # with the learned correction at zero, a prediction is the mean of the
    # training targets' shapes, weighted by exp((1 - distance) / temperature),
    # put back on their weighted offset and scale
    X, Y, X_test, *_ = data
    reg = pickle.loads(pickle.dumps(fitted))
    with torch.no_grad():
        reg.module_.correction_weight.zero_()
    dist, ind = reg.kneighbors(X_test, n_neighbors=len(X))
    logits = (1 - dist) / reg.module_.retrieval.temperature
    w = np.exp(logits - logits.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    scale_y, centre_y = float(reg.module_.y_scale), reg.module_.y_center.numpy()
    Ys = (Y - centre_y) / scale_y
    offset = Ys.mean(1)
    spread = np.sqrt(((Ys - offset[:, None]) ** 2).mean(1))
    shape = (Ys - offset[:, None]) / spread[:, None]
    ref = np.stack(
        [
            (wi @ shape[ii]) * (wi @ spread[ii]) + wi @ offset[ii]
            for wi, ii in zip(w, ind)
        ]
    )
    assert_allclose(reg.predict(X_test), ref * scale_y + centre_y, atol=1e-4)


def test_kneighbors_bad_input_and_no_retrieval(data, fitted):
    X, Y, X_test, *_ = data
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="n_neighbors"):
            fitted.kneighbors(X_test, n_neighbors=bad)
    with pytest.raises(ValueError, match="at most 80"):
        fitted.kneighbors(X_test, n_neighbors=81)
    with pytest.raises(ValueError, match="at most 79"):
        fitted.kneighbors(n_neighbors=80)
    with pytest.raises(ValueError, match="features"):
        fitted.kneighbors(X_test[:, :50])
    plain = SpectroGenRegressor(module__retrieval=False, **{**FAST, "max_epochs": 1})
    assert not hasattr(plain, "kneighbors")
    plain.fit(X, Y)
    with pytest.raises(AttributeError) as info:
        plain.kneighbors(X_test)
    assert "module__retrieval=False" in str(info.value.__cause__)
    assert np.isfinite(plain.predict(X_test)).all()  # it predicts all the same
    assert hasattr(SpectroGenRegressor(), "kneighbors")


@pytest.mark.parametrize(
    "params, X_fn, y_fn, match",
    [
        ({}, lambda X: X[:-1], lambda Y: Y, "inconsistent numbers of samples"),
        ({}, lambda X: X[0], lambda Y: Y, "Expected 2D array"),
        ({}, lambda X: np.where(X == X[0, 0], np.nan, X), lambda Y: Y, "NaN"),
        ({}, lambda X: X, lambda Y: np.where(Y == Y[0, 0], np.inf, Y), "infinity"),
        ({}, lambda X: X, lambda Y: Y[:, :1], "at least 2 points"),
        # max-scaled, a one-point source is only its sign
        ({}, lambda X: X[:, :1], lambda Y: Y, "n_features=1: normalize_source"),
        ({"beta": -0.1}, lambda X: X, lambda Y: Y, "beta"),
        ({"mixup": -0.5}, lambda X: X, lambda Y: Y, "mixup"),
        ({"stretch": -0.1}, lambda X: X, lambda Y: Y, "stretch"),
        ({"stretch": 0.5}, lambda X: X, lambda Y: Y, "stretch"),
        ({"max_epochs": 0}, lambda X: X, lambda Y: Y, r"max_epochs must be in \[1, "),
        ({"max_epochs": 1.5}, lambda X: X, lambda Y: Y, "max_epochs must be an int"),
        ({"lr": 0.0}, lambda X: X, lambda Y: Y, r"lr must be in \(0.0, "),
        ({"lr": -1e-3}, lambda X: X, lambda Y: Y, r"lr must be in \(0.0, "),
        ({"batch_size": 0}, lambda X: X, lambda Y: Y, r"batch_size must be in \[1, "),
        ({"batch_size": -2}, lambda X: X, lambda Y: Y, r"batch_size must be in \[1, "),
        ({"batch_size": 2.5}, lambda X: X, lambda Y: Y, "batch_size must be an int"),
        ({"verbose": -1}, lambda X: X, lambda Y: Y, "verbose"),
        ({"verbose": "junk"}, lambda X: X, lambda Y: Y, "verbose"),
        ({"warm_start": "no"}, lambda X: X, lambda Y: Y, "warm_start"),
        ({"normalize_source": "yes"}, lambda X: X, lambda Y: Y, "normalize_source"),
        ({"source_axis": np.arange(3.0)}, lambda X: X, lambda Y: Y, "values but X has"),
        ({"device": "cuda:7"}, lambda X: X, lambda Y: Y, "cuda:7"),
        ({"device": "quantum"}, lambda X: X, lambda Y: Y, "quantum"),
        ({"device": None}, lambda X: X, lambda Y: Y, "device=None"),
        (
            {"target_axis": np.arange(3.0)},
            lambda X: X,
            lambda Y: Y,
            "target_axis has 3 values but y has [0-9]+ columns",
        ),
    ],
)
def test_bad_input(data, params, X_fn, y_fn, match):
    X, Y, *_ = data
    reg = SpectroGenRegressor(**{**FAST, "max_epochs": 1, **params})
    with pytest.raises(ValueError, match=match):
        reg.fit(X_fn(X), y_fn(Y))


def test_smallest_valid_training_settings_fit():
    # one epoch, any positive rate, the whole set as one batch (-1) and the
    # two samples the retrieval decoder needs are all accepted
    rng = np.random.default_rng(0)
    X, Y = rng.random((12, 20)), rng.random((12, 16))
    small = {"max_epochs": 1, "module__hidden": 8, "random_state": 0}
    reg = SpectroGenRegressor(batch_size=-1, lr=1e-12, **small).fit(X, Y)
    assert len(reg.history) == 1
    assert reg.predict(X).shape == (12, 16)
    reg = SpectroGenRegressor(**small).fit(X[:2], Y[:2])
    assert reg.predict(X).shape == (12, 16)
    with pytest.raises(ValueError, match="n_samples=1"):
        SpectroGenRegressor(**small).fit(X[:1], Y[:1])


def _small_fit():
    """A one-epoch regressor on 12 random pairs, 10 -> 6 points, and its predictions."""
    rng = np.random.default_rng(0)
    X, Y = rng.random((12, 10)), rng.random((12, 6))
    reg = SpectroGenRegressor(
        max_epochs=1, batch_size=6, random_state=0, module__hidden=8
    ).fit(X, Y)
    return X, Y, reg, reg.predict(X)


def test_a_refit_refused_by_validation_leaves_the_model_as_it_was():
    # fit set n_features_in_ (and dropped initialized_) before it refused
    # the data, so the fitted model could no longer predict, and a later
    # partial_fit silently trained a new network on other features
    X, Y, reg, expected = _small_fit()
    for X_bad, Y_bad in [(X[:, :5], Y[:, :1]), (X[:1, :5], Y[:1])]:
        with pytest.raises(ValueError):
            reg.fit(X_bad, Y_bad)
        assert reg.n_features_in_ == 10 and reg.n_outputs_ == 6
        assert_array_equal(reg.predict(X), expected)
    with pytest.raises(ValueError, match="expecting 10 features"):
        reg.partial_fit(X[:, :5], Y)
    assert_array_equal(reg.predict(X), expected)


def test_a_scalar_target_after_target_spectra_is_refused_as_such():
    # it was refused as a target of one point, with the advice to pass the
    # 1-D y that had been passed
    X, Y, reg, expected = _small_fit()
    for call in (reg.partial_fit, reg.set_params(warm_start=True).fit):
        with pytest.raises(ValueError, match="fitted with target spectra of 6 points"):
            call(X, Y[:, 0])
    assert_array_equal(reg.predict(X), expected)


def test_one_point_sources_are_read_in_their_units(data):
    X, Y, *_ = data
    reg = SpectroGenRegressor(normalize_source=False, **{**FAST, "max_epochs": 1})
    prediction = reg.fit(X[:, :1], Y).predict(X[:, :1])
    assert np.isfinite(prediction).all()
    # every source its own latent code, not one per sign
    assert len(np.unique(reg.encode(X[:, :1]).round(6), axis=0)) > 3


def test_pickle_from_before_normalize_source_predicts_as_it_did(data):
    X, Y, X_test, *_ = data
    reg = SpectroGenRegressor(random_state=0, normalize_source=False, **FAST)
    reg.fit(5.0 * X, Y)
    state = pickle.loads(pickle.dumps(reg)).__getstate__()
    del state["normalize_source"]  # as pickled before the parameter existed
    old = SpectroGenRegressor.__new__(SpectroGenRegressor)
    old.__setstate__(state)
    assert old.normalize_source is False
    assert_array_equal(old.predict(5.0 * X_test), reg.predict(5.0 * X_test))


def test_wrong_number_of_source_features_at_predict(fitted, data):
    with pytest.raises(ValueError, match="features, but SpectroGenRegressor"):
        fitted.predict(data[2][:, :50])


def test_pickle_round_trip_is_exact(fitted, data):
    X_test = data[2]
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
    assert_array_equal(restored.encode(X_test), fitted.encode(X_test))


@pytest.mark.parametrize("use_safetensors", [False, True])
def test_save_params_load_params_into_fresh_estimator(fitted, data, use_safetensors):
    if use_safetensors:
        pytest.importorskip("safetensors")
    X_test = data[2]
    buf = io.BytesIO()
    fitted.save_params(f_params=buf, use_safetensors=use_safetensors)
    buf.seek(0)
    fresh = SpectroGenRegressor(**FAST)  # same module__* parameters, never fitted
    fresh.load_params(f_params=buf, use_safetensors=use_safetensors)
    assert_array_equal(fresh.predict(X_test), fitted.predict(X_test))


def test_a_safetensors_file_is_recognised_without_the_flag(fitted, data, tmp_path):
    # load_params(f_params=...) of a file saved with use_safetensors=True
    # failed in torch.load ("Unsupported operand"), as the user guide showed
    pytest.importorskip("safetensors")
    X_test = data[2]
    path = tmp_path / "model.safetensors"
    fitted.save_params(f_params=str(path), use_safetensors=True)
    fresh = SpectroGenRegressor(**FAST).load_params(f_params=str(path))
    assert_array_equal(fresh.predict(X_test), fitted.predict(X_test))
    with open(path, "rb") as f:
        fresh = SpectroGenRegressor(**FAST).load_params(f_params=f)
    assert_array_equal(fresh.predict(X_test), fitted.predict(X_test))


def test_a_file_that_does_not_fit_the_network_leaves_the_regressor_as_it_was(data):
    # torch copied the matching tensors before it raised: the fitted model
    # predicted with another model's encoder, a fresh one said it was fitted
    X, Y, X_test, *_ = data
    other = {**FAST, "max_epochs": 2, "module__retrieval": False}
    buf = io.BytesIO()
    SpectroGenRegressor(random_state=1, **other).fit(X, 7 * Y).save_params(f_params=buf)
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 2}).fit(X, Y)
    before = reg.predict(X_test)
    for target in (reg, SpectroGenRegressor(**FAST)):
        buf.seek(0)
        with pytest.raises(ValueError, match="do not fit this regressor's network"):
            target.load_params(f_params=buf)
    assert_array_equal(reg.predict(X_test), before)
    reg.partial_fit(X, Y)  # and it trains on
    fresh = SpectroGenRegressor(**FAST)
    buf.seek(0)
    with pytest.raises(ValueError):
        fresh.load_params(f_params=buf)
    assert not fresh.initialized_ and not hasattr(fresh, "n_features_in_")
    with pytest.raises(NotFittedError):
        fresh.predict(X_test)
    buf.seek(0)
    loaded = SpectroGenRegressor(**other).load_params(f_params=buf)
    assert loaded.predict(X_test).shape == before.shape


def test_target_axis_given_after_fit_or_to_load_params_is_used(data):
    # target_axis_ kept 0, 1, ... after load_params and after
    # set_params(target_axis=...): stretch then moved a descending target's
    # bands the wrong way
    X, Y, _, _, xt = data
    down = xt[::-1].copy()
    params = {**FAST, "max_epochs": 2}
    buf = io.BytesIO()
    SpectroGenRegressor(random_state=0, target_axis=down, **params).fit(
        X, Y
    ).save_params(f_params=buf)
    buf.seek(0)
    loaded = SpectroGenRegressor(target_axis=down, **params).load_params(f_params=buf)
    assert_array_equal(loaded.target_axis_, down)
    reg = SpectroGenRegressor(random_state=0, **params).fit(X, Y)
    assert_array_equal(reg.target_axis_, np.arange(Y.shape[1]))
    reg.set_params(target_axis=down).partial_fit(X, Y)
    assert_array_equal(reg.target_axis_, down)
    with pytest.raises(ValueError, match="target_axis has 3 values"):
        reg.set_params(target_axis=[1.0, 2.0, 3.0]).partial_fit(X, Y)
    assert_array_equal(reg.target_axis_, down)
    # a peak decoder was built on its axis: another one is refused
    peaks = {**params, "module__decoder": "peaks", "module__n_peaks": 4}
    reg = SpectroGenRegressor(random_state=0, target_axis=xt, **peaks).fit(X, Y)
    with pytest.raises(ValueError, match="the axis the peak decoder was built on"):
        reg.set_params(target_axis=xt + 5.0).partial_fit(X, Y)
    reg.set_params(target_axis=None).partial_fit(X, Y)
    assert_array_equal(reg.target_axis_, xt)
    buf = io.BytesIO()
    reg.save_params(f_params=buf)
    buf.seek(0)
    with pytest.raises(ValueError, match="the axis the peak decoder was built on"):
        SpectroGenRegressor(target_axis=down, **peaks).load_params(f_params=buf)


def test_an_unfitted_regressor_keeps_its_device_through_a_pickle(data):
    # skorch set the CPU: a GPU grid search in worker processes that see no
    # GPU trained on their CPUs without a word
    from joblib import parallel_config
    from sklearn.model_selection import cross_val_score

    X, Y, *_ = data
    reg = pickle.loads(pickle.dumps(SpectroGenRegressor(device="cuda:0", **FAST)))
    assert reg.device == "cuda:0"
    if torch.cuda.is_available():
        pytest.skip("CUDA is present: the device exists")
    with pytest.raises(ValueError, match="CUDA is not available"):
        reg.fit(X, Y)
    small = SpectroGenRegressor(device="cuda", **{**FAST, "max_epochs": 1})
    with parallel_config(backend="loky"):
        with pytest.raises(ValueError, match="CUDA is not available"):
            cross_val_score(small, X[:20], Y[:20], cv=2, n_jobs=2, error_score="raise")


def test_building_a_network_outside_fit_leaves_the_global_rng_alone(fitted):
    # load_params and set_params(module__...) build a network whose random
    # initial weights are overwritten (or never used): they advanced the
    # caller's torch generator
    buf = io.BytesIO()
    fitted.save_params(f_params=buf)
    buf.seek(0)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    fresh = SpectroGenRegressor(**FAST).load_params(f_params=buf)
    assert torch.equal(state, torch.get_rng_state())
    fresh.set_params(module__latent_dim=3)
    assert torch.equal(state, torch.get_rng_state())


def test_predictions_through_a_data_loader_leave_the_global_rng_alone(fitted, data):
    # each pass over a torch DataLoader draws a base seed from the global
    # generator, also without worker processes
    from skorch.dataset import Dataset

    X, Y, X_test, *_ = data
    X32 = X_test.astype(np.float32)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    fitted.forward(X32)
    list(fitted.forward_iter(X32))
    fitted.predict(Dataset(X32, np.zeros((len(X32), Y.shape[1]))))
    assert torch.equal(state, torch.get_rng_state())


def test_predictions_through_an_iterator_that_is_no_data_loader(fitted, data):
    # a batch iterator of one's own (iterator_valid) has no generator or
    # sampler: predict of a Dataset raised AttributeError
    from skorch.dataset import Dataset

    class Batches:
        def __init__(self, dataset, batch_size=7, **kwargs):
            self.dataset, self.batch_size = dataset, batch_size

        def __iter__(self):
            for start in range(0, len(self.dataset), self.batch_size):
                rows = range(start, min(start + self.batch_size, len(self.dataset)))
                items = [self.dataset[i] for i in rows]
                yield tuple(
                    torch.stack([torch.as_tensor(v[k]) for v in items]) for k in (0, 1)
                )

        def __len__(self):
            return -(-len(self.dataset) // self.batch_size)

    X, Y, X_test, *_ = data
    X32 = X_test.astype(np.float32)
    dataset = Dataset(X32, np.zeros((len(X32), Y.shape[1]), dtype=np.float32))
    expected = fitted.predict(dataset)
    own = copy.deepcopy(fitted).set_params(iterator_valid=Batches)
    assert_allclose(own.predict(dataset), expected, rtol=1e-6, atol=1e-6)


def test_predictions_through_a_data_loader_do_not_touch_the_global_rng(
    fitted, data, monkeypatch
):
    # the global generator was saved and restored around each pass: what
    # another thread drew meanwhile was taken back (it drew the same
    # numbers again), and the pass waited for any fit to end
    from skorch.dataset import Dataset

    X, Y, X_test, *_ = data
    X32 = X_test.astype(np.float32)
    dataset = Dataset(X32, np.zeros((len(X32), Y.shape[1])))
    expected = fitted.predict(dataset)

    def touched(*args, **kwargs):
        raise AssertionError("the global generator was saved and restored")

    monkeypatch.setattr(torch.random, "fork_rng", touched)
    monkeypatch.setattr(torch, "set_rng_state", touched)
    got = fitted.predict(dataset)
    list(fitted.forward_iter(X32))
    assert_array_equal(got, expected)


def test_grid_search_nested_params_with_spectral_correlation(data):
    X, Y, *_ = data
    base = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 3})
    grid = GridSearchCV(
        base,
        {"module__latent_dim": [2, 4], "optimizer__weight_decay": [0.0, 1e-3]},
        scoring=spectral_correlation_scorer,
        cv=KFold(2),
    ).fit(X, Y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.module_.latent_dim in (2, 4)
    assert grid.best_estimator_.optimizer_.param_groups[0]["weight_decay"] in (
        0.0,
        1e-3,
    )


def test_pipeline_after_baseline_correction_and_scaling(data):
    X, Y, X_test, *_ = data
    pipe = make_pipeline(
        AirPLS(lam=1e5),
        MinMaxNormalizer(),
        SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 2}),
    )
    pred = pipe.fit(X + 1.0, Y).predict(X_test + 1.0)
    assert pred.shape == (len(X_test), Y.shape[1])
    assert np.isfinite(pred).all()


def test_progress_bar_callback(data, capsys):
    X, Y, *_ = data
    reg = SpectroGenRegressor(
        random_state=0, callbacks=[ProgressBar()], **{**FAST, "max_epochs": 1}
    )
    reg.fit(X, Y)
    assert len(reg.history) == 1


def test_partial_fit_continues_training(data):
    X, Y, *_ = data
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 2}).fit(X, Y)
    reg.partial_fit(X, Y)
    assert len(reg.history) == 4
    with pytest.raises(ValueError, match="points per spectrum"):
        reg.partial_fit(X, Y[:, :30])


def test_partial_fit_predicts_from_every_chunk_seen_since_fit(data):
    X, Y, *_ = data
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 2})
    reg.partial_fit(X[:30], Y[:30]).partial_fit(X[30:], Y[30:])
    # each training source finds itself (distance 0) in the memory, in the
    # order the chunks came
    dist, idx = reg.kneighbors(X, 1)
    assert_array_equal(idx[:, 0], np.arange(len(X)))
    assert np.abs(dist).max() < 1e-5
    # the memory is re-encoded by the network as it is now, as fit would
    assert_allclose(
        reg.module_.retrieval.memory_z.numpy(), reg.encode(X), rtol=1e-5, atol=1e-6
    )
    # fit (also with warm_start) starts the data over
    reg.set_params(warm_start=True).fit(X[:20], Y[:20])
    assert len(reg.module_.retrieval.memory_z) == 20
    assert_array_equal(reg.kneighbors(X[:20], 1)[1][:, 0], np.arange(20))


def test_partial_fit_calls_draw_their_own_random_stream(data, monkeypatch):
    X, Y, *_ = data
    seeds = []
    original = torch.manual_seed
    monkeypatch.setattr(torch, "manual_seed", lambda s: seeds.append(s) or original(s))

    def three_calls():
        reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 1})
        for _ in range(3):
            reg.partial_fit(X, Y)
        return reg

    first, second = three_calls(), three_calls()
    assert len(set(seeds[:3])) == 3  # not the first call's stream again
    assert seeds[3:] == seeds[:3]  # and reproducible
    assert_array_equal(first.predict(X), second.predict(X))
    # a first call draws the seed fit draws: fit is unchanged by this
    fit_seeds = len(seeds)
    SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 1}).fit(X, Y)
    assert seeds[fit_seeds] == seeds[0]


def test_partial_fit_without_the_earlier_pairs_warns(data, tmp_path):
    X, Y, *_ = data
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 1}).fit(X, Y)
    reg.save_params(f_params=tmp_path / "w.pt")
    new = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 1})
    new.load_params(f_params=tmp_path / "w.pt")
    match = "holds the pairs of this partial_fit only"
    with pytest.warns(UserWarning, match=match) as record:
        new.partial_fit(X[:10], Y[:10])
    assert [w.filename for w in record] == [__file__]  # the caller's line
    assert len(new.module_.retrieval.memory_z) == 10
    # a pickle keeps them
    again = pickle.loads(pickle.dumps(reg))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again.partial_fit(X[:10], Y[:10])
    assert len(again.module_.retrieval.memory_z) == len(X) + 10


def test_partial_fit_of_the_plain_decoder_keeps_no_pairs_and_does_not_warn(data):
    # without retrieval no memory is kept, and none is missed
    X, Y, *_ = data
    params = {**FAST, "max_epochs": 1, "module__retrieval": False, "random_state": 0}
    reg = SpectroGenRegressor(**params).fit(X, Y)
    assert reg._memory_pairs is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.partial_fit(X[:10], Y[:10])
    assert reg._memory_pairs is None


class _CtrlCAfter(Callback):
    """Raise KeyboardInterrupt at the end of an epoch, as Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_interrupted_training_warns_and_can_be_raised_again(data):
    X, Y, *_ = data
    reg = SpectroGenRegressor(
        random_state=0, callbacks=[_CtrlCAfter(2)], **{**FAST, "max_epochs": 5}
    )
    # skorch's convention: keep what was learned, as in a notebook ...
    with pytest.warns(UserWarning, match="interrupted .* after 2 of 5 epochs"):
        reg.fit(X, Y)
    assert len(reg.history) == 2 and reg.predict(X).shape == Y.shape
    # ... and programs that must stop (the command line) can
    with pytest.raises(KeyboardInterrupt):
        reg._fit_to_the_end(X, Y)
    done = reg.set_params(callbacks=None)._fit_to_the_end(X, Y)  # complete
    assert done is reg and len(reg.history) == 5


def test_an_interrupted_partial_fit_counts_the_epochs_of_the_call(data):
    X, Y, *_ = data
    params = {**FAST, "max_epochs": 2, "random_state": 0}
    reg = SpectroGenRegressor(callbacks=[_CtrlCAfter(3)], **params).fit(X, Y)
    reg.set_params(max_epochs=4)
    with pytest.warns(UserWarning, match="after 1 of 4 epochs") as record:
        reg.partial_fit(X, Y)
    # the warning names the line that called partial_fit
    assert [w.filename for w in record] == [__file__]
    assert len(reg.history) == 3


def test_module_instance_and_clone(fitted):
    params = clone(fitted).get_params()
    assert params["module__latent_dim"] == 4 and params["beta"] == 0.5
    defaults = SpectroGenRegressor().get_params()
    assert defaults["beta"] == 3.0 and defaults["mixup"] == 0.4
    assert defaults["stretch"] == 0.025
    # the defaults the docstring gives
    documented = {
        "criterion": CorrelationLoss,
        "optimizer": torch.optim.AdamW,
        "lr": 1e-3,
        "max_epochs": 150,
        "batch_size": 512,
        "train_split": None,
        "verbose": 0,
        "device": "cpu",
        "normalize_source": True,
    }
    assert {name: defaults[name] for name in documented} == documented
    assert not hasattr(fitted, "predict_proba")
    assert fitted.module is SpectroGenVAE


def test_fitting_adds_no_parameters_and_clone_carries_no_training_data(data):
    X, Y, *_ = data
    params = {**FAST, "max_epochs": 2, "random_state": 0}
    reg = SpectroGenRegressor(callbacks=[_CtrlCAfter(1)], **params)
    before = reg.get_params(deep=False)
    with pytest.warns(UserWarning, match="interrupted"):
        reg.fit(X, Y[:, 0])  # a 1-d target and an interruption: all the state
    reg.partial_fit(X[:10], Y[:10, 0])
    assert reg._memory_pairs is not None and reg._y_1d and hasattr(reg, "_interrupted")
    assert reg.get_params(deep=False).keys() == before.keys()
    buf = io.BytesIO()
    reg.save_params(f_params=buf)
    buf.seek(0)
    loaded = SpectroGenRegressor(**params).load_params(f_params=buf)
    assert loaded.get_params(deep=False).keys() == before.keys()
    # an unfitted copy, without the training pairs
    copied = clone(reg)
    assert not any(hasattr(copied, name) for name in reg._fitted_state)
    for r in (copied, reg):
        r.set_params(callbacks=None).fit(X, Y[:, 0])
    assert_allclose(copied.predict(X), reg.predict(X))


def test_training_on_the_cpu_is_tagged_deterministic():
    assert not SpectroGenRegressor().__sklearn_tags__().non_deterministic
    assert SpectroGenRegressor(device="cuda").__sklearn_tags__().non_deterministic


@pytest.mark.gpu
def test_cuda_trained_model_predicts_on_cpu(data):
    X, Y, X_test, *_ = data
    reg = SpectroGenRegressor(random_state=0, device="cuda", **FAST).fit(X, Y)
    on_gpu = reg.predict(X_test)
    buf = io.BytesIO()
    reg.save_params(f_params=buf)
    buf.seek(0)
    cpu = SpectroGenRegressor(**FAST).load_params(f_params=buf)
    assert_allclose(cpu.predict(X_test), on_gpu, rtol=1e-4, atol=1e-5)
    assert_array_equal(cpu.kneighbors(X_test, 3)[1], reg.kneighbors(X_test, 3)[1])
    restored = pickle.loads(pickle.dumps(reg))
    assert_array_equal(restored.predict(X_test), on_gpu)


@pytest.mark.gpu
def test_set_params_device_moves_a_fitted_model_both_ways(data):
    # skorch leaves the network where it was trained: predicting or training
    # after set_params(device=...) mixed the devices
    X, Y, X_test, *_ = data
    reg = SpectroGenRegressor(random_state=0, device="cuda", **FAST).fit(X, Y)
    on_gpu = reg.predict(X_test)
    for moved in (pickle.loads(pickle.dumps(reg)), reg):
        moved.set_params(device="cpu")
        assert_allclose(moved.predict(X_test), on_gpu, rtol=1e-4, atol=1e-5)
        assert all(p.device.type == "cpu" for p in moved.module_.parameters())
    assert reg.sample(X_test[:2], n_samples=2, random_state=0).shape[:2] == (2, 2)
    # the optimizer's state follows: training goes on, on either device
    reg.partial_fit(X, Y)
    reg.set_params(device="cuda").partial_fit(X, Y)
    assert next(reg.module_.parameters()).device.type == "cuda"
    assert np.isfinite(reg.predict(X_test)).all()
    cpu = SpectroGenRegressor(random_state=0, **FAST).fit(X, Y)
    on_cpu = cpu.predict(X_test)
    assert_allclose(
        cpu.set_params(device="cuda").predict(X_test), on_cpu, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("normalize_source", [True, False])
def test_reversed_view_gives_the_same_model_as_a_copy(normalize_source):
    # spectra on a decreasing axis are often flipped with X[:, ::-1]; torch
    # cannot wrap such views, so the regressor copies them (also the sources
    # it reads unscaled)
    rng = np.random.default_rng(0)
    X = rng.random((12, 16)).astype(np.float32)[:, ::-1]
    Y = rng.random((12, 8))[:, ::-1]
    kw = {"max_epochs": 2, "module__hidden": 8, "random_state": 0}
    kw["normalize_source"] = normalize_source
    a = SpectroGenRegressor(**kw).fit(X, Y)
    b = SpectroGenRegressor(**kw).fit(X.copy(), Y.copy())
    assert_array_equal(a.predict(X), b.predict(X.copy()))
    assert_array_equal(a.encode(X), b.encode(X.copy()))


def test_read_only_input_gives_no_torch_warning():
    # torch warns once per process when it wraps a read-only array, so the
    # check runs in a fresh interpreter with warnings turned into errors.
    code = (
        "import numpy as np\n"
        "from sktransfer.cross_modal import SpectroGenRegressor\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.random((12, 16)).astype(np.float32); Y = rng.random((12, 8))\n"
        "X.setflags(write=False); Y.setflags(write=False)\n"
        "reg = SpectroGenRegressor(max_epochs=1, module__hidden=8, random_state=0)\n"
        "P = reg.fit(X, Y).predict(X)\n"
        "assert P.shape == (12, 8) and np.isfinite(P).all()\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("normalize_source", [False, True])
def test_load_params_refuses_the_other_normalize_source(data, normalize_source):
    X, Y, X_test = data[:3]
    reg = SpectroGenRegressor(
        random_state=0, normalize_source=normalize_source, **{**FAST, "max_epochs": 1}
    ).fit(X, Y)
    buf = io.BytesIO()
    reg.save_params(f_params=buf)
    for fresh in (True, False):  # into a new regressor, and into a fitted one
        other = SpectroGenRegressor(normalize_source=not normalize_source, **FAST)
        if not fresh:
            other.fit(X, Y)
        buf.seek(0)
        with pytest.raises(ValueError, match=f"normalize_source={normalize_source}"):
            other.load_params(f_params=buf)
    buf.seek(0)
    same = SpectroGenRegressor(normalize_source=normalize_source, **FAST)
    assert_array_equal(
        same.load_params(f_params=buf).predict(X_test), reg.predict(X_test)
    )


def test_load_params_from_before_the_normalization_flag(data):
    X, Y, X_test = data[:3]
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "max_epochs": 1}).fit(X, Y)
    state = reg.module_.state_dict()
    del state["source_max_scaled"]  # as saved before the flag existed
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    old = SpectroGenRegressor(**FAST).load_params(f_params=buf)
    assert torch.isnan(old.module_.source_max_scaled)  # unknown, so unchecked
    assert_array_equal(old.predict(X_test), reg.predict(X_test))


def test_encode_runs_the_encoder_only(data, fitted, monkeypatch):
    # scale: encode ran the whole model, a retrieval over every training
    # pair for each query, and kept only the latent means (24 times the
    # encoder's own time for 20,000 queries and 5,000 training pairs)
    X_test = data[2]
    expected = fitted.encode(X_test)
    net = pickle.loads(pickle.dumps(fitted))

    def no_decoding(*args, **kwargs):
        raise AssertionError("encode decoded the latent codes")

    monkeypatch.setattr(net.module_, "decode", no_decoding)
    assert_array_equal(net.encode(X_test), expected)


def test_kneighbors_sorts_only_the_neighbours(data, fitted, monkeypatch):
    # scale: kneighbors sorted whole rows of distances to every training
    # pair (12 s for 20,000 queries and 5,000 pairs, a top-k takes 1 s)
    X_test = data[2]
    expected = fitted.kneighbors(X_test, n_neighbors=3)
    widths = []
    sort = torch.sort

    def spy(input, *args, **kwargs):
        widths.append(input.shape[-1])
        return sort(input, *args, **kwargs)

    monkeypatch.setattr(torch, "sort", spy)
    dist, ind = fitted.kneighbors(X_test, n_neighbors=3)
    assert widths and max(widths) <= 3
    assert_array_equal(ind, expected[1])
    assert_array_equal(dist, expected[0])


def test_smallest_orders_ties_as_a_stable_sort():
    from sktransfer.cross_modal._regressor import _smallest

    gen = torch.Generator().manual_seed(0)
    dist = torch.randint(0, 3, (40, 25), generator=gen).double()  # many ties
    dist[:5] = torch.rand(5, 25, generator=gen, dtype=torch.float64)
    dist[7, 3] = float("inf")
    for k in range(1, 26):
        values, index = _smallest(dist, k)
        ref_values, ref_index = torch.sort(dist, dim=1, stable=True)
        assert torch.equal(index, ref_index[:, :k])
        assert torch.equal(values, ref_values[:, :k])


def test_sample_decodes_a_bounded_number_of_rows(data, fitted, monkeypatch):
    # scale: sample decoded n_samples draws of a whole batch of sources at
    # once (2 GiB for 1,000 sources x 20 draws with 5,000 training pairs)
    from sktransfer.cross_modal import _regressor

    X_test = data[2][:6]
    net = pickle.loads(pickle.dumps(fitted))
    expected = net.sample(X_test, n_samples=7, random_state=0)
    rows = []
    decode = type(net.module_).decode

    def spy(self, z, *args, **kwargs):
        rows.append(len(z))
        return decode(self, z, *args, **kwargs)

    monkeypatch.setattr(type(net.module_), "decode", spy)
    monkeypatch.setattr(_regressor, "_PREDICT_BATCH", 8)
    draws = net.sample(X_test, n_samples=7, random_state=0)
    assert draws.shape == (6, 7, net.n_outputs_)
    assert max(rows) <= 8 and sum(rows) == 6 * 7
    # batches of 8 sources draw the same latent noise as one batch of 6
    assert_allclose(draws, expected, rtol=1e-5, atol=1e-6)


def test_draws_of_a_sharp_latent_are_the_prediction_in_every_batch(
    data, fitted, monkeypatch
):
    # with the smallest latent spread, each source's draws sit on its own
    # prediction, also when the sources come in several batches
    from sktransfer.cross_modal import _regressor

    X_test = data[2][:6]
    net = pickle.loads(pickle.dumps(fitted))
    head, d = net.module_.encoder.net[-1], net.module_.latent_dim
    with torch.no_grad():
        head.weight[d:] = 0.0
        head.bias[d:] = -30.0  # log-variance clipped to -10
    monkeypatch.setattr(_regressor, "_PREDICT_BATCH", 4)
    draws = net.sample(X_test, n_samples=3, random_state=0)
    pred = net.predict(X_test)
    assert np.abs(pred).max(1).min() > 0.2
    assert_allclose(draws, np.repeat(pred[:, None], 3, axis=1), atol=0.05)


def test_predict_writes_batches_into_the_output(data, fitted):
    # scale: predict held the float32 predictions, a float64 copy and two
    # more float64 arrays of the output's size, and copies of the sources
    # (peak 3.9 times the output for 20,000 queries); each batch is now
    # written into the output, which is unscaled in place
    X_test = np.tile(data[2], (200, 1))  # 4,000 float64 sources
    fitted.predict(X_test[:10])
    Y, peak = traced_peak(fitted.predict, X_test)
    assert Y.shape == (4000, fitted.n_outputs_) and Y.dtype == np.float64
    # the output is 1.9 MB; the copies were 7.7 MB more
    assert peak < Y.nbytes + 1.5e6
    assert_allclose(Y[: len(data[2])], fitted.predict(data[2]), rtol=1e-5, atol=1e-6)


def test_encode_keeps_no_batch_of_latent_means(data, fitted, monkeypatch):
    # scale: encode kept every batch's latent means in a list for one
    # torch.cat; held while the next batches' activations came and went,
    # they fragmented the heap, and the peak memory grew by about a float64
    # copy of the sources (536 MiB for 64,000 x 1,024, for a 2 MiB output)
    import weakref

    from sktransfer.cross_modal import _regressor

    X_test = data[2]
    expected = fitted.encode(X_test)
    alive, refs = [], []
    encode = type(fitted.module_).encode

    def spy(self, x):
        alive.append(sum(ref() is not None for ref in refs))
        mu, logvar = encode(self, x)
        refs.append(weakref.ref(mu))
        return mu, logvar

    monkeypatch.setattr(type(fitted.module_), "encode", spy)
    monkeypatch.setattr(_regressor, "_PREDICT_BATCH", 4)
    Z = fitted.encode(X_test)
    assert len(alive) == 5  # 20 sources in batches of 4
    assert max(alive) <= 1  # at most the batch just written
    assert_allclose(Z, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("own", [False, True])
def test_kneighbors_keeps_no_batch_of_neighbours(data, fitted, monkeypatch, own):
    # scale: kneighbors kept every batch's neighbours in lists for one
    # np.concatenate; held while the next batches' distance matrices came
    # and went, they fragmented the heap (the peak memory of 32,000 queries
    # to 3,000 pairs was 460 MiB, of which 100 MiB remain)
    import weakref

    from sktransfer.cross_modal import _regressor

    X = None if own else data[2]
    expected = fitted.kneighbors(X, n_neighbors=3)
    alive, refs = [], []
    to_numpy = _regressor.to_numpy

    def spy(tensor, *args, **kwargs):
        alive.append(sum(ref() is not None for ref in refs))
        array = to_numpy(tensor, *args, **kwargs)
        refs.append(weakref.ref(array))
        return array

    monkeypatch.setattr(_regressor, "to_numpy", spy)
    monkeypatch.setattr(_regressor, "_PREDICT_BATCH", 4)
    dist, ind = fitted.kneighbors(X, n_neighbors=3)
    assert len(alive) >= 5  # 20 queries (80 pairs) in batches of 4
    assert max(alive) == 0  # each batch's distances went into the output
    assert ind.dtype == np.intp and dist.dtype == np.float64
    assert_array_equal(ind, expected[1])
    assert_allclose(dist, expected[0], rtol=1e-12, atol=1e-12)


def test_predict_copies_the_memory_to_float64_once(data, fitted, monkeypatch):
    # scale: every decoded batch copied the whole memory (every training
    # target) to float64 once more (1.3 s of a 12.8 s predict)
    from sktransfer.cross_modal import _regressor

    X_test = data[2]
    expected = fitted.predict(X_test)
    memory = tuple(fitted.module_.retrieval.memory_shape.shape)
    copies = []
    double = torch.Tensor.double

    def spy(self, *args, **kwargs):
        if self.dtype != torch.float64:  # a copy
            copies.append(tuple(self.shape))
        return double(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "double", spy)
    monkeypatch.setattr(_regressor, "_PREDICT_BATCH", 8)
    Y = fitted.predict(X_test)
    assert copies.count(memory) == 1  # for 3 batches
    assert_allclose(Y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("retrieval", [True, False])
@pytest.mark.parametrize("fitted_before", [False, True])
def test_a_failed_first_training_leaves_the_model_unfitted(retrieval, fitted_before):
    # the network that diverged was kept: predict then raised the retrieval
    # decoder's internal error, or answered from the failed network
    rng = np.random.default_rng(0)
    X, Y = rng.random((16, 20)), rng.random((16, 12))
    reg = SpectroGenRegressor(max_epochs=3, module__retrieval=retrieval, random_state=0)
    if fitted_before:
        reg.fit(X, Y)
    reg.set_params(lr=1e30, max_epochs=20)
    with pytest.raises(ValueError, match="training loss became"):
        reg.fit(X * 1e30, Y * 1e30)
    with pytest.raises(NotFittedError):
        reg.predict(X)
    # and it fits again as a new one would
    reg.set_params(lr=SpectroGenRegressor().lr, max_epochs=3)
    expected = SpectroGenRegressor(
        max_epochs=3, module__retrieval=retrieval, random_state=0
    )
    assert_array_equal(reg.fit(X, Y).predict(X), expected.fit(X, Y).predict(X))


@pytest.mark.parametrize("retrieval", [True, False])
@pytest.mark.parametrize("method", ["partial_fit", "warm_start"])
def test_a_failed_later_training_leaves_the_model_as_it_was(retrieval, method):
    # its last steps had left non-finite weights: the plain VAE then
    # predicted NaN
    rng = np.random.default_rng(0)
    X, Y = rng.random((16, 20)), rng.random((16, 12))
    params = {"max_epochs": 3, "module__retrieval": retrieval, "random_state": 0}
    reg = SpectroGenRegressor(**params).fit(X, Y)
    expected = reg.predict(X)
    reg.set_params(lr=1e30, max_epochs=20, warm_start=method == "warm_start")
    call = reg.partial_fit if method == "partial_fit" else reg.fit
    with pytest.raises(ValueError, match="training loss became"):
        call(X * 1e30, Y * 1e30)
    assert_array_equal(reg.predict(X), expected)
    assert len(reg.history) == 3
    # and it goes on as if the failed call had not been made
    reg.set_params(lr=SpectroGenRegressor().lr, max_epochs=2)
    ref = SpectroGenRegressor(**params).fit(X, Y).set_params(max_epochs=2)
    got = reg.partial_fit(X, Y).predict(X)
    assert_array_equal(got, ref.partial_fit(X, Y).predict(X))


def test_training_keeps_none_of_its_working_data_once_over():
    # only the pairs kept for partial_fit stay with the model (and its
    # pickles), also after a training that failed
    rng = np.random.default_rng(0)
    X, Y = rng.random((16, 20)), rng.random((16, 12))
    params = {"max_epochs": 2, "module__hidden": 8, "random_state": 0}
    reg = SpectroGenRegressor(train_split=ValidSplit(4), **params).fit(X, Y)
    kept = {"_memory_pairs"}
    assert {name for name in vars(reg) if name.startswith("_memory")} == kept
    reg.partial_fit(X, Y)
    assert {name for name in vars(reg) if name.startswith("_memory")} == kept
    reg.set_params(lr=1e30, max_epochs=20)
    with pytest.raises(ValueError, match="training loss became"):
        reg.partial_fit(X * 1e30, Y * 1e30)
    assert {name for name in vars(reg) if name.startswith("_memory")} == kept


def test_works_under_a_float64_default_dtype():
    # torch.set_default_dtype(torch.float64) built a float64 network, which
    # the float32 training batches could not go through
    rng = np.random.default_rng(0)
    X, Y = rng.random((16, 20)), rng.random((16, 12))
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        reg = SpectroGenRegressor(max_epochs=2, random_state=0).fit(X, Y)
        reg.partial_fit(X, Y)
        Y_hat = reg.predict(X)
        samples = reg.sample(X[:2], random_state=0)
        _, ind = reg.kneighbors(X[:2], 3)
    finally:
        torch.set_default_dtype(previous)
    assert Y_hat.dtype == np.float64 and np.isfinite(Y_hat).all()
    assert np.isfinite(samples).all() and ind.shape == (2, 3)
    assert {p.dtype for p in reg.module_.parameters()} == {torch.float32}
    # the same model as under the float32 default: built in float64, the
    # initial weights used the seeded stream otherwise (predictions moved by
    # 0.3), so n_jobs (fresh worker processes) changed the results
    ref = SpectroGenRegressor(max_epochs=2, random_state=0).fit(X, Y)
    ref.partial_fit(X, Y)
    np.testing.assert_array_equal(Y_hat, ref.predict(X))
    np.testing.assert_array_equal(samples, ref.sample(X[:2], random_state=0))


@pytest.mark.parametrize("no_grad", [torch.no_grad, torch.inference_mode])
def test_trains_inside_the_callers_no_grad_block(no_grad):
    # inside torch.inference_mode() training failed with "element 0 of
    # tensors does not require grad"
    rng = np.random.default_rng(0)
    X, Y = rng.random((16, 20)), rng.random((16, 12))
    expected = SpectroGenRegressor(max_epochs=2, random_state=0).fit(X, Y)
    with no_grad():
        reg = SpectroGenRegressor(max_epochs=2, random_state=0).fit(X, Y)
        reg.partial_fit(X, Y)
        assert not torch.is_grad_enabled()
    expected.partial_fit(X, Y)
    assert_array_equal(reg.predict(X), expected.predict(X))


def test_non_finite_loss_raises_without_torch_warning():
    # the error message reads the loss value; doing so on the tensor that
    # still requires grad made torch warn beside the ValueError
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(16, 20)), rng.normal(size=(16, 12))
    reg = SpectroGenRegressor(
        max_epochs=3, lr=1e6, normalize_source=False, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(ValueError, match="training loss became"):
            reg.fit(X * 1e30, Y * 1e30)


@pytest.mark.parametrize(
    "module_params, match",
    [
        ({"module__n_in": 5}, r"module__n_in=5, but the data give 20"),
        ({"module__n_out": 3}, r"module__n_out=3, but the data give 16"),
        (
            {"module__decoder": "peaks", "module__x_out": np.arange(16.0)},
            r"module__x_out differs from the target axis \(150 to 1250, 16",
        ),
    ],
)
def test_module_sizes_that_contradict_the_data_are_refused(module_params, match):
    # module__n_in crashed in torch; an x_out other than target_axis was used
    # by the decoder while the regressor kept target_axis (partial_fit refused)
    rng = np.random.default_rng(0)
    X, Y = rng.random((12, 20)), rng.random((12, 16))
    reg = SpectroGenRegressor(
        max_epochs=1,
        target_axis=np.linspace(150.0, 1250.0, 16),
        module__hidden=8,
        module__latent_dim=2,
        **module_params,
    )
    with pytest.raises(ValueError, match=match):
        reg.fit(X, Y)
    # the sizes of the data, given again, are accepted
    same = SpectroGenRegressor(
        max_epochs=1, module__hidden=8, module__latent_dim=2, module__n_in=20
    )
    assert same.fit(X, Y).predict(X).shape == (12, 16)
    # the axis itself, also as a tensor with gradients, as the module takes it
    axis = np.linspace(150.0, 1250.0, 16)
    peaks = SpectroGenRegressor(
        max_epochs=1,
        target_axis=axis,
        module__hidden=8,
        module__latent_dim=2,
        module__decoder="peaks",
        module__x_out=torch.tensor(axis, requires_grad=True),
    )
    assert peaks.fit(X, Y).predict(X).shape == (12, 16)
