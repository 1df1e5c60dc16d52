"""Plain torch modules of the cross-modal VAE: encoder, decoders, SpectroGenVAE.

No sklearn or skorch here; the regressor in ``_regressor.py`` wraps them.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


class ConvEncoder(nn.Module):
    """1-D convolutional encoder of a spectrum to a diagonal Gaussian.

    Strided convolutions (the first one, stride 4, reads broad bands cheaply;
    the others stride 2), an adaptive pooling to a fixed length (so any input
    length works) and a dense head giving the mean and log-variance.
    """

    def __init__(
        self, latent_dim, channels=(16, 32, 32), hidden=256, pool=16, dropout=0.0
    ):
        super().__init__()
        layers, c_in = [], 1
        for i, c_out in enumerate(channels):
            k, stride = (16, 4) if i == 0 else (9, 2)
            layers += [nn.Conv1d(c_in, c_out, k, stride, padding=k // 2), nn.GELU()]
            c_in = c_out
        self.conv = nn.Sequential(*layers, nn.AdaptiveAvgPool1d(pool))
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * pool, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 2 * latent_dim),
        )

    def forward(self, x):
        """Return ``(mu, logvar)`` for spectra ``x`` of shape (batch, n_in)."""
        mu, logvar = self.head(self.conv(x.unsqueeze(1))).chunk(2, dim=-1)
        # bounded log-variance keeps exp() finite early in training
        return mu, logvar.clamp(-10.0, 10.0)


class DenseDecoder(nn.Module):
    """Dense decoder from the latent to every point of the target grid."""

    def __init__(self, latent_dim, n_out, hidden=256, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, n_out),
        )

    def forward(self, z):
        """Decode ``z`` (batch, latent_dim) to (batch, n_out)."""
        return self.net(z)


class PeakDecoder(nn.Module):
    """Decoder that renders the target as a sum of peak profiles.

    The network predicts, for each of ``n_peaks`` peaks, a centre inside the
    target range, a height >= 0, a full width at half maximum between
    ``2 * step`` and a quarter of the range, and a Gaussian/Lorentzian shape
    fraction; the spectrum is drawn with
    :func:`sktransfer.peaks._profiles.render_peaks`. An optional smooth
    residual (``n_knots`` values linearly interpolated onto the grid) absorbs
    what peaks cannot describe.
    """

    def __init__(
        self,
        latent_dim,
        x_out,
        n_peaks=32,
        hidden=256,
        profile="pseudo_voigt",
        residual=True,
        n_knots=32,
    ):
        super().__init__()
        self.register_buffer("x_out", torch.as_tensor(x_out, dtype=torch.float32))
        self.n_peaks = n_peaks
        self.profile = profile
        self.trunk = nn.Sequential(nn.Linear(latent_dim, hidden), nn.GELU())
        self.peaks = nn.Linear(hidden, 4 * n_peaks)
        self.residual = nn.Linear(hidden, n_knots) if residual else None
        x = self.x_out
        lo, hi = float(x.min()), float(x.max())
        span = max(hi - lo, 1e-12)
        step = span / max(len(x) - 1, 1)
        self._lo, self._span = lo, span
        self._w_min, self._w_max = 2.0 * step, max(span / 4.0, 4.0 * step)
        # spread the initial centres over the range instead of all in the middle
        with torch.no_grad():
            bias = self.peaks.bias.view(4, n_peaks)
            q = (torch.arange(n_peaks) + 0.5) / n_peaks
            bias[0] = torch.log(q / (1 - q))
            bias[1] = -2.0
            bias[2] = -2.0

    def forward(self, z):
        """Decode ``z`` (batch, latent_dim) to (batch, n_out)."""
        from ..peaks._profiles import render_peaks

        h = self.trunk(z)
        a, b, c, d = self.peaks(h).view(-1, 4, self.n_peaks).unbind(1)
        center = self._lo + self._span * torch.sigmoid(a)
        height = F.softplus(b)
        fwhm = self._w_min + (self._w_max - self._w_min) * torch.sigmoid(c)
        shape = torch.sigmoid(d)
        out = render_peaks(
            self.x_out, center, height, fwhm, shape, profile=self.profile
        )
        if self.residual is not None:
            knots = self.residual(h).unsqueeze(1)
            out = out + F.interpolate(
                knots, size=self.x_out.shape[0], mode="linear", align_corners=True
            ).squeeze(1)
        return out


class SpectroGenVAE(nn.Module):
    """Variational autoencoder from a source spectrum to a target spectrum.

    A 1-D convolutional encoder maps the source spectrum (for example IR) to
    a latent Gaussian; a decoder maps a latent vector to the target spectrum
    (for example Raman) on its own grid. With ``decoder="peaks"`` the output
    is rendered as a sum of peak profiles (the physical prior of SpectroGen),
    optionally plus a smooth residual; ``decoder="dense"`` is a plain dense
    decoder.

    Inputs are standardised and outputs de-standardised with buffers
    (``x_center``, ``x_scale``, ``y_center``, ``y_scale``) that
    :class:`SpectroGenRegressor` fills from the training data, so a saved
    state dict holds everything needed to predict.

    Parameters
    ----------
    n_in : int
        Number of points of the source spectrum.
    n_out : int
        Number of points of the target spectrum.
    latent_dim : int, default=16
        Dimension of the latent space.
    decoder : {"dense", "peaks"}, default="dense"
        Plain dense decoder, or peak-profile rendering.
    hidden : int, default=256
        Width of the dense layers.
    channels : tuple of int, default=(16, 32, 32)
        Channels of the three encoder convolutions.
    x_out : array-like of shape (n_out,), default=None
        Target axis, used by the peak decoder (centres and widths are in its
        units). ``None`` uses ``0, 1, ..., n_out - 1``.
    n_peaks : int, default=32
        Number of peaks of the peak decoder.
    profile : str, default="pseudo_voigt"
        Peak profile of the peak decoder, as in :mod:`sktransfer.peaks`.
    residual : bool, default=True
        Add a smooth residual to the peak decoder's output.
    dropout : float, default=0.0
        Dropout after the hidden dense layers (training only).

    Examples
    --------
    >>> import torch
    >>> from sktransfer.cross_modal import SpectroGenVAE
    >>> vae = SpectroGenVAE(n_in=100, n_out=60, latent_dim=4).eval()
    >>> recon, mu, logvar = vae(torch.zeros(3, 100))
    >>> tuple(recon.shape), tuple(mu.shape)
    ((3, 60), (3, 4))
    """

    def __init__(
        self,
        n_in,
        n_out,
        latent_dim=16,
        decoder="dense",
        hidden=256,
        channels=(16, 32, 32),
        x_out=None,
        n_peaks=32,
        profile="pseudo_voigt",
        residual=True,
        dropout=0.0,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = ConvEncoder(
            latent_dim, channels=channels, hidden=hidden, dropout=dropout
        )
        if decoder == "dense":
            self.decoder = DenseDecoder(
                latent_dim, n_out, hidden=hidden, dropout=dropout
            )
        elif decoder == "peaks":
            if x_out is None:
                x_out = torch.arange(n_out, dtype=torch.float32)
            self.decoder = PeakDecoder(
                latent_dim,
                x_out,
                n_peaks=n_peaks,
                hidden=hidden,
                profile=profile,
                residual=residual,
            )
        else:
            raise ValueError(
                f"decoder must be 'dense' or 'peaks'; got decoder={decoder!r}."
            )
        self.register_buffer("x_center", torch.zeros(n_in))
        self.register_buffer("x_scale", torch.ones(()))
        self.register_buffer("y_center", torch.zeros(n_out))
        self.register_buffer("y_scale", torch.ones(()))

    @torch.no_grad()
    def set_scaling(self, X, Y):
        """Fill the standardisation buffers from training tensors.

        The source is centred per point and divided by one global scale. The
        target is treated the same with the dense decoder; the peak decoder
        draws whole spectra, so there the target is only divided by its root
        mean square.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_in)
            Source spectra.
        Y : torch.Tensor of shape (n_samples, n_out)
            Target spectra.

        Returns
        -------
        self : SpectroGenVAE
            The module, with its scaling buffers filled.
        """
        self.x_center.copy_(X.mean(0))
        self.x_scale.fill_(_safe_scale(X - self.x_center))
        if isinstance(self.decoder, DenseDecoder):
            self.y_center.copy_(Y.mean(0))
        else:
            self.y_center.zero_()
        self.y_scale.fill_(_safe_scale(Y - self.y_center))
        return self

    def encode(self, x):
        """Return the latent ``(mu, logvar)`` of raw source spectra.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_in)
            Source spectra in their own units.

        Returns
        -------
        mu, logvar : torch.Tensor of shape (batch, latent_dim)
            Mean and log-variance of the latent Gaussian.
        """
        return self.encoder((x - self.x_center) / self.x_scale)

    def decode(self, z):
        """Decode latent vectors to standardised target spectra.

        Parameters
        ----------
        z : torch.Tensor of shape (batch, latent_dim)
            Latent vectors.

        Returns
        -------
        recon : torch.Tensor of shape (batch, n_out)
            Standardised target spectra.
        """
        return self.decoder(z)

    def forward(self, x):
        """Return ``(recon, mu, logvar)``; ``recon`` is standardised.

        In training mode the latent is sampled with the reparametrisation
        trick; in evaluation mode the mean is decoded, so predictions are
        deterministic.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_in)
            Source spectra in their own units.

        Returns
        -------
        recon : torch.Tensor of shape (batch, n_out)
            Standardised target spectra.
        mu, logvar : torch.Tensor of shape (batch, latent_dim)
            Mean and log-variance of the latent Gaussian.
        """
        mu, logvar = self.encode(x)
        z = mu
        if self.training:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def _safe_scale(t):
    scale = float(t.pow(2).mean().sqrt())
    return scale if math.isfinite(scale) and scale > 1e-12 else 1.0


def kl_divergence(mu, logvar):
    """KL(q(z|x) || N(0, I)) summed over latent dimensions, mean over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)).mean()
