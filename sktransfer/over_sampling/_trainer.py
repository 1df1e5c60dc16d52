"""The WGAN-GP training loop as a plain function."""

import numpy as np
import torch

from sktransfer.over_sampling._modules import gradient_penalty


def _balanced_batches(labels, n_classes, batch_size, generator):
    """Return a function drawing class-balanced batches of row indices.

    A class is drawn uniformly first, then a row of that class, so a class of
    three spectra is seen as often as one of three hundred.
    """
    device = labels.device
    order = torch.argsort(labels, stable=True)
    counts = torch.bincount(labels, minlength=n_classes)
    starts = torch.cumsum(counts, 0) - counts
    present = torch.nonzero(counts).flatten()

    def draw():
        k = torch.randint(
            len(present), (batch_size,), generator=generator, device=device
        )
        cls = present[k]
        u = torch.rand(
            batch_size, dtype=torch.float32, generator=generator, device=device
        )
        offset = (u * counts[cls]).long().clamp_max(counts[cls] - 1)
        return order[starts[cls] + offset]

    return draw


def train_wgan_gp(
    generator,
    critic,
    X,
    labels,
    *,
    n_iter,
    n_critic,
    gp_weight,
    batch_size,
    learning_rate,
    betas,
    latent_dim,
    torch_generator,
    progress=None,
    base=None,
):
    """Train a (conditional) WGAN-GP in place and return its losses.

    Parameters
    ----------
    generator, critic : torch.nn.Module
        Modules from :mod:`sktransfer.over_sampling._modules`, on the device
        of ``X``.
    X : Tensor of shape (n_samples, n_features)
        Scaled training spectra.
    labels : Tensor of shape (n_samples,) or None
        Class indices in ``0 .. n_classes - 1``; ``None`` for an
        unconditional model.
    n_iter : int
        Number of generator updates.
    n_critic : int
        Critic updates per generator update.
    gp_weight : float
        Weight of the gradient penalty.
    batch_size : int
        Rows per batch (drawn with replacement, class-balanced).
    learning_rate : float
        Adam learning rate of both networks.
    betas : tuple of float
        Adam betas of both networks.
    latent_dim : int
        Size of the latent code.
    torch_generator : torch.Generator
        Source of every random draw of the loop.
    progress : callable or None
        Wraps the iteration range (e.g. ``tqdm.tqdm``).
    base : callable or None
        ``base(rows)`` returns, for a batch of training row indices, the
        spectra that the generator's output is added to (anchors around
        measured spectra); ``None`` adds nothing.

    Returns
    -------
    history : dict of str to ndarray of shape (n_iter,)
        ``critic_loss``, ``generator_loss``, ``wasserstein`` (the critic's
        estimate of the distance) and ``gradient_penalty``.
    """
    device = X.device
    conditional = labels is not None
    if labels is None:
        labels = torch.zeros(X.shape[0], dtype=torch.long, device=device)
    n_classes = int(labels.max()) + 1
    draw = _balanced_batches(labels, n_classes, batch_size, torch_generator)
    opt_g = torch.optim.Adam(generator.parameters(), lr=learning_rate, betas=betas)
    opt_c = torch.optim.Adam(critic.parameters(), lr=learning_rate, betas=betas)

    def fake_batch(rows):
        lab = labels[rows]
        z = torch.randn(
            lab.shape[0],
            latent_dim,
            dtype=torch.float32,
            generator=torch_generator,
            device=device,
        )
        onehot = (
            torch.nn.functional.one_hot(lab, generator.n_classes).to(X.dtype)
            if conditional
            else None
        )
        fake = generator(z, onehot)
        return fake if base is None else fake + base(rows)

    keys = ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty")
    history = {k: np.empty(n_iter) for k in keys}
    steps = range(n_iter) if progress is None else progress(range(n_iter))
    cond = (lambda lab: lab) if conditional else (lambda lab: None)
    for it in steps:
        for _ in range(n_critic):
            idx = draw()
            real, lab = X[idx], labels[idx]
            with torch.no_grad():
                fake = fake_batch(idx)
            w_dist = critic(real, cond(lab)).mean() - critic(fake, cond(lab)).mean()
            gp = gradient_penalty(critic, real, fake, cond(lab), torch_generator)
            loss_c = -w_dist + gp_weight * gp
            opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            opt_c.step()
        idx = draw()
        lab = labels[idx]
        loss_g = -critic(fake_batch(idx), cond(lab)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        history["critic_loss"][it] = loss_c.item()
        history["generator_loss"][it] = loss_g.item()
        history["wasserstein"][it] = w_dist.item()
        history["gradient_penalty"][it] = gp.item()
    return history
