import math

import numpy as np
import pytest
import torch

from sktransfer.over_sampling._modules import (
    Critic,
    Generator,
    _n_upsamplings,
    gradient_penalty,
)
from sktransfer.over_sampling._trainer import _balanced_batches, train_wgan_gp


@pytest.mark.parametrize(
    "n_features, n_up",
    [
        (5, 0),
        (14, 0),
        (15, 1),
        (28, 1),
        (29, 2),
        (56, 2),
        (57, 3),
        (112, 3),
        (113, 4),
        (1000, 4),
    ],
)
def test_upsamplings_keep_a_start_of_at_least_eight_points(n_features, n_up):
    # as many doublings (at most 4) as leave a start of >= 8 points
    assert _n_upsamplings(n_features) == n_up
    assert n_up == 0 or math.ceil(n_features / 2**n_up) >= 8
    assert n_up == 4 or math.ceil(n_features / 2 ** (n_up + 1)) < 8


@pytest.mark.parametrize("n_features", [7, 16, 33, 100, 257])
@pytest.mark.parametrize("n_classes", [0, 3])
def test_generator_output_has_the_spectrum_length(n_features, n_classes):
    torch.manual_seed(0)
    gen = Generator(n_features, latent_dim=4, n_classes=n_classes, channels=16)
    # a start of ceil(n / 2**n_up) points, doubled n_up times, then cropped
    assert gen.start_len == math.ceil(n_features / 2**gen.n_up)
    h = torch.zeros(1, 16, gen.start_len)
    assert gen.net(h).shape == (1, 1, gen.start_len * 2**gen.n_up)
    onehot = torch.eye(3)[[0, 2]] if n_classes else None
    out = gen(torch.randn(2, 4), onehot)
    assert out.shape == (2, n_features)
    # the output layer starts at zero: spectra begin at the class mean
    assert not out.any()
    # channels halve after each transposed convolution, down to 4
    convs = [m for m in gen.net if isinstance(m, torch.nn.ConvTranspose1d)]
    assert len(convs) == gen.n_up
    assert [c.out_channels for c in convs] == [
        max(16 // 2 ** (i + 1), 4) for i in range(gen.n_up)
    ]


def test_layers_use_leaky_relus_of_slope_one_fifth():
    torch.manual_seed(0)
    gen = Generator(64, latent_dim=3, n_classes=0, channels=8)
    critic = Critic(64, n_classes=0, channels=8, n_layers=3)
    for net in (gen.net, critic.net):
        acts = [m for m in net if isinstance(m, torch.nn.LeakyReLU)]
        assert len(acts) == len(net) // 2
        assert all(m.negative_slope == 0.2 for m in acts)
    assert critic.out.out_features == 1
    # the linear layer's output goes through the same activation
    torch.nn.init.normal_(gen.net[-1].weight)
    z = torch.randn(5, 3)
    h = torch.nn.functional.leaky_relu(gen.fc(z), 0.2).view(5, 8, gen.start_len)
    torch.testing.assert_close(gen(z), gen.net(h)[:, 0, :64])


def test_conditional_generator_depends_on_the_class():
    torch.manual_seed(0)
    gen = Generator(40, latent_dim=3, n_classes=2, channels=8)
    torch.nn.init.normal_(gen.net[-1].weight)
    z = torch.randn(1, 3).expand(2, 3)
    out = gen(z, torch.eye(2))
    assert not torch.allclose(out[0], out[1])
    # an unconditional generator ignores a one-hot vector
    plain = Generator(40, latent_dim=3, n_classes=0, channels=8)
    torch.testing.assert_close(plain(z, torch.eye(2)), plain(z))


@pytest.mark.parametrize("n_features", [9, 50, 64])
@pytest.mark.parametrize("n_layers", [1, 3])
def test_critic_scores_one_number_per_spectrum(n_features, n_layers):
    torch.manual_seed(0)
    critic = Critic(n_features, n_classes=0, channels=32, n_layers=n_layers)
    assert critic(torch.randn(5, n_features)).shape == (5,)
    convs = [m for m in critic.net if isinstance(m, torch.nn.Conv1d)]
    # the last convolution has `channels` maps, each earlier one half (>= 8)
    assert [c.out_channels for c in convs] == [
        max(32 // 2 ** (n_layers - 1 - i), 8) for i in range(n_layers)
    ]
    length = n_features
    for _ in range(n_layers):
        length = math.ceil(length / 2)
    assert critic.out.in_features == 32 * length


def test_conditional_critic_adds_the_class_projection():
    torch.manual_seed(0)
    critic = Critic(24, n_classes=3, channels=8, n_layers=2)
    x = torch.randn(4, 24)
    labels = torch.tensor([0, 1, 2, 1])
    # the class embedding starts at zero: the score is the unconditional one
    base = critic.out(critic.net(x[:, None, :]).flatten(1))[:, 0]
    torch.testing.assert_close(critic(x, labels), base)
    torch.nn.init.normal_(critic.embed.weight)
    h = critic.net(x[:, None, :]).flatten(1)
    expected = base + (critic.embed.weight[labels] * h).sum(1)
    torch.testing.assert_close(critic(x, labels), expected)


@pytest.mark.parametrize("n_classes", [0, 2])
def test_gradient_penalty_equals_the_direct_autograd_formula(n_classes):
    torch.manual_seed(0)
    critic = Critic(16, n_classes=n_classes, channels=8, n_layers=2)
    if n_classes:
        torch.nn.init.normal_(critic.embed.weight)
    real, fake = torch.randn(6, 16), torch.randn(6, 16)
    labels = torch.tensor([0, 1, 1, 0, 1, 0]) if n_classes else None
    gp = gradient_penalty(critic, real, fake, labels, torch.Generator().manual_seed(3))
    # one mixing weight per pair, from the given generator
    eps = torch.rand(6, 1, generator=torch.Generator().manual_seed(3))
    norms = []
    for i in range(6):
        x = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).requires_grad_(True)
        lab = labels[i : i + 1] if n_classes else None
        (g,) = torch.autograd.grad(critic(x[None], lab).sum(), x)
        norms.append(g.norm())
    expected = ((torch.stack(norms) - 1) ** 2).mean()
    torch.testing.assert_close(gp, expected)
    # differentiable in the critic's weights (the penalty is trained on)
    gp.backward()
    assert critic.out.weight.grad is not None and critic.out.weight.grad.abs().sum() > 0


def test_gradient_penalty_under_a_float64_default_dtype():
    # the float32 critic is fed float32 interpolates whatever the default
    torch.manual_seed(0)
    critic = Critic(16, n_classes=0, channels=8, n_layers=2)
    real, fake = torch.randn(3, 16), torch.randn(3, 16)
    expected = gradient_penalty(
        critic, real, fake, None, torch.Generator().manual_seed(1)
    )
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        gp = gradient_penalty(
            critic, real, fake, None, torch.Generator().manual_seed(1)
        )
    finally:
        torch.set_default_dtype(default)
    assert gp.dtype == torch.float32
    torch.testing.assert_close(gp, expected)


def test_gradient_penalty_is_zero_for_a_unit_slope_critic():
    class Linear(torch.nn.Module):
        def forward(self, x, labels=None):
            return x @ self.w

    critic = Linear()
    w = torch.randn(10, dtype=torch.float32)
    critic.w = w / w.norm()
    real, fake = torch.randn(4, 10), torch.randn(4, 10)
    gp = gradient_penalty(critic, real, fake, None, torch.Generator().manual_seed(0))
    assert float(gp) == pytest.approx(0.0, abs=1e-10)
    critic.w = 3 * w / w.norm()
    gp = gradient_penalty(critic, real, fake, None, torch.Generator().manual_seed(0))
    assert float(gp) == pytest.approx(4.0, rel=1e-5)


def test_balanced_batches_draw_every_present_class_equally_often():
    # class 0: 300 rows, class 1: absent, class 2: 3 rows
    labels = torch.tensor([0] * 300 + [2] * 3)
    draw = _balanced_batches(labels, 3, 4000, torch.Generator().manual_seed(0))
    rows = draw()
    assert rows.shape == (4000,)
    drawn = labels[rows]
    assert set(drawn.tolist()) == {0, 2}
    assert abs(int((drawn == 2).sum()) - 2000) < 150
    # each rare row is drawn, and all rows of the common class can be
    assert set(rows[drawn == 2].tolist()) == {300, 301, 302}
    assert int(rows[drawn == 0].max()) > 280 and int(rows[drawn == 0].min()) < 20


def test_balanced_batches_draw_from_the_given_generator_only():
    labels = torch.tensor([0] * 5 + [1] * 7)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = _balanced_batches(labels, 2, 50, torch.Generator().manual_seed(4))
    b = _balanced_batches(labels, 2, 50, torch.Generator().manual_seed(4))
    torch.testing.assert_close(a(), b())
    torch.testing.assert_close(a(), b())
    assert torch.equal(torch.get_rng_state(), state)


def _frozen_training(anchored=False, n_iter=2, learning_rate=0.0):
    # identical rows and a learning rate of 0: every number of the history
    # is known in closed form from the untrained networks
    torch.manual_seed(0)
    gen = Generator(24, latent_dim=3, n_classes=0, channels=8)
    critic = Critic(24, n_classes=0, channels=8, n_layers=2)
    x0 = torch.randn(24)
    X = x0.expand(10, 24).clone()
    hist = train_wgan_gp(
        gen,
        critic,
        X,
        None,
        n_iter=n_iter,
        n_critic=2,
        gp_weight=10.0,
        batch_size=4,
        learning_rate=learning_rate,
        betas=(0.5, 0.9),
        latent_dim=3,
        torch_generator=torch.Generator().manual_seed(0),
        base=(lambda rows: X[rows]) if anchored else None,
    )
    with torch.no_grad():
        c_real = float(critic(x0[None])[0])
        c_zero = float(critic(torch.zeros(1, 24))[0])
    return hist, x0, c_real, c_zero


def test_wgan_gp_history_holds_the_losses_of_each_iteration():
    hist, _, c_real, c_zero = _frozen_training()
    # the generator starts at zero output; nothing is learned at lr=0
    np.testing.assert_allclose(hist["wasserstein"], c_real - c_zero, rtol=1e-5)
    np.testing.assert_allclose(hist["generator_loss"], -c_zero, rtol=1e-5)
    np.testing.assert_allclose(
        hist["critic_loss"],
        -hist["wasserstein"] + 10.0 * hist["gradient_penalty"],
        rtol=1e-5,
    )
    assert np.all(hist["gradient_penalty"] > 0)


def test_wgan_gp_adds_the_generator_output_to_the_base():
    hist, _, c_real, _ = _frozen_training(anchored=True)
    np.testing.assert_allclose(hist["wasserstein"], 0.0, atol=1e-6)
    np.testing.assert_allclose(hist["generator_loss"], -c_real, rtol=1e-5)


def test_wgan_gp_trains_both_networks_at_the_learning_rate():
    hist, _, c_real, c_zero = _frozen_training(learning_rate=1e-2, n_iter=3)
    assert hist["generator_loss"][0] != pytest.approx(-c_zero, rel=1e-3)
    assert not np.allclose(hist["wasserstein"][1:], c_real - c_zero, rtol=1e-3)


def test_wgan_gp_training_leaves_the_global_generator_alone():
    torch.manual_seed(0)
    gen = Generator(24, latent_dim=3, n_classes=2, channels=8)
    critic = Critic(24, n_classes=2, channels=8, n_layers=2)
    X, labels = torch.randn(6, 24), torch.tensor([0, 0, 0, 1, 1, 1])
    state = torch.get_rng_state()
    train_wgan_gp(
        gen,
        critic,
        X,
        labels,
        n_iter=2,
        n_critic=2,
        gp_weight=10.0,
        batch_size=4,
        learning_rate=1e-3,
        betas=(0.5, 0.9),
        latent_dim=3,
        torch_generator=torch.Generator().manual_seed(0),
    )
    assert torch.equal(torch.get_rng_state(), state)


def test_balanced_batches_draw_the_same_rows_under_a_float64_default_dtype():
    # the draws are float32 whatever torch's default dtype, so a seed gives
    # the same batches
    labels = torch.tensor([0] * 7 + [1] * 5 + [2] * 3)
    expected = _balanced_batches(labels, 3, 64, torch.Generator().manual_seed(2))()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        got = _balanced_batches(labels, 3, 64, torch.Generator().manual_seed(2))()
    finally:
        torch.set_default_dtype(default)
    assert torch.equal(got, expected)


def test_wgan_gp_trains_both_networks_with_adam_at_the_given_betas(monkeypatch):
    made = []

    class Adam(torch.optim.Adam):
        def __init__(self, params, **kwargs):
            super().__init__(params, **kwargs)
            made.append(self)

    monkeypatch.setattr(torch.optim, "Adam", Adam)
    torch.manual_seed(0)
    gen = Generator(24, latent_dim=3, n_classes=0, channels=8)
    critic = Critic(24, n_classes=0, channels=8, n_layers=2)
    train_wgan_gp(
        gen,
        critic,
        torch.randn(6, 24),
        None,
        n_iter=1,
        n_critic=1,
        gp_weight=10.0,
        batch_size=4,
        learning_rate=0.02,
        betas=(0.3, 0.7),
        latent_dim=3,
        torch_generator=torch.Generator().manual_seed(0),
    )
    owners = []
    for opt in made:
        (group,) = opt.param_groups
        assert group["lr"] == 0.02
        assert group["betas"] == (0.3, 0.7)
        owners.append({id(p) for p in group["params"]})
    assert owners == [
        {id(p) for p in gen.parameters()},
        {id(p) for p in critic.parameters()},
    ]
