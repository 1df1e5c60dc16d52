"""Plain torch modules of the WGAN-GP: generator, critic, gradient penalty."""

import math

import torch
from torch import nn


def _n_upsamplings(n_features, max_up=4, min_start=8):
    """Return the number of stride-2 transposed convolutions for a length."""
    n_up = 0
    while n_up < max_up and math.ceil(n_features / 2 ** (n_up + 1)) >= min_start:
        n_up += 1
    return n_up


class Generator(nn.Module):
    """Transposed-convolution generator of spectra of any length.

    A linear layer maps the latent code (and the one-hot class, if
    conditional) to ``channels`` feature maps of length ``L0``; ``n_up``
    stride-2 transposed convolutions double the length each, and the result,
    ``L0 * 2**n_up >= n_features`` points long, is cropped to ``n_features``.
    The output layer is linear, since the data are standardised, not bounded,
    and starts at zero.

    Parameters
    ----------
    n_features : int
        Length of the generated spectra.
    latent_dim : int
        Size of the latent code.
    n_classes : int
        Number of classes of the conditioning one-hot vector; 0 means
        unconditional.
    channels : int
        Number of feature maps after the linear layer; halved after each
        transposed convolution (at least 8).
    """

    def __init__(self, n_features, latent_dim, n_classes, channels):
        super().__init__()
        self.n_features = n_features
        self.n_classes = n_classes
        self.n_up = _n_upsamplings(n_features)
        self.start_len = math.ceil(n_features / 2**self.n_up)
        self.channels = channels
        self.fc = nn.Linear(latent_dim + n_classes, channels * self.start_len)
        layers = []
        ch = channels
        for _ in range(self.n_up):
            out = max(ch // 2, 4)
            layers += [
                nn.ConvTranspose1d(ch, out, kernel_size=4, stride=2, padding=1),
                nn.LeakyReLU(0.2),
            ]
            ch = out
        last = nn.Conv1d(ch, 1, kernel_size=5, padding=2)
        # Zero output at start: generated spectra begin at the class mean.
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)

    @property
    def latent_dim(self):
        """Size of the latent code."""
        return self.fc.in_features - self.n_classes

    def forward(self, z, onehot=None):
        """Map latent codes (and one-hot classes) to spectra."""
        if self.n_classes:
            z = torch.cat([z, onehot], dim=1)
        h = nn.functional.leaky_relu(self.fc(z), 0.2)
        h = h.view(z.shape[0], self.channels, self.start_len)
        return self.net(h)[:, 0, : self.n_features]


class Critic(nn.Module):
    """1-D convolutional critic with a linear output and no batch norm.

    Stride-2 convolutions with leaky ReLU; batch normalisation is left out
    because the gradient penalty is defined per sample. If conditional, the
    class enters by projection: the score is ``w . h + e_y . h`` with a
    learned class embedding ``e_y`` (projection discriminator).

    Parameters
    ----------
    n_features : int
        Length of the input spectra.
    n_classes : int
        Number of classes; 0 means unconditional.
    channels : int
        Number of feature maps of the last convolution.
    n_layers : int
        Number of stride-2 convolutions.
    """

    def __init__(self, n_features, n_classes, channels, n_layers):
        super().__init__()
        layers, ch, length = [], 1, n_features
        for i in range(n_layers):
            out = max(channels // 2 ** (n_layers - 1 - i), 8)
            layers += [
                nn.Conv1d(ch, out, kernel_size=5, stride=2, padding=2),
                nn.LeakyReLU(0.2),
            ]
            ch, length = out, (length - 1) // 2 + 1
        self.net = nn.Sequential(*layers)
        n_hidden = ch * length
        self.out = nn.Linear(n_hidden, 1)
        self.embed = nn.Embedding(n_classes, n_hidden) if n_classes else None
        if self.embed is not None:
            nn.init.zeros_(self.embed.weight)

    def forward(self, x, labels=None):
        """Score spectra (higher means judged more real)."""
        h = self.net(x[:, None, :]).flatten(1)
        score = self.out(h)[:, 0]
        if self.embed is not None:
            score = score + (self.embed(labels) * h).sum(dim=1)
        return score


def gradient_penalty(critic, real, fake, labels, generator):
    """Gradient penalty of WGAN-GP on per-sample interpolates.

    Each pair gets its own mixing weight ``eps``, so the penalty pushes the
    critic's gradient norm towards 1 along lines between real and fake
    samples, as the 1-Lipschitz constraint requires.

    Parameters
    ----------
    critic : Critic
        The critic.
    real, fake : Tensor of shape (batch, n_features)
        Real and generated spectra of the same classes.
    labels : Tensor of shape (batch,) or None
        Class indices for a conditional critic.
    generator : torch.Generator
        Source of the mixing weights.

    Returns
    -------
    penalty : Tensor
        ``mean((||grad critic(x_hat)|| - 1) ** 2)``.
    """
    eps = torch.rand(
        real.shape[0],
        1,
        dtype=torch.float32,
        generator=generator,
        device=generator.device,
    ).to(real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score = critic(x_hat, labels)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()
