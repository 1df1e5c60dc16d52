"""Plain torch modules of the cross-modal VAE: encoder, decoders, SpectroGenVAE.

No sklearn or skorch here; the regressor in ``_regressor.py`` wraps them.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._validation import (
    InvalidParameterError,
    check_bool,
    check_option,
    check_param,
    check_sequence,
    check_x_axis,
)
from ..peaks._profiles import PROFILES
from ..utils._chunks import row_slices

#: Sources encoded at once by :meth:`SpectroGenVAE.set_memory`.
MEMORY_BATCH = 1024

#: Rows x peaks x points the peak decoder renders at once outside training:
#: about 100 MiB of float32 temporaries (see :meth:`PeakDecoder.forward`).
_RENDER_CHUNK_POINTS = 2**22


class ConvEncoder(nn.Module):
    """1-D convolutional encoder of a spectrum to a diagonal Gaussian.

    Strided convolutions (the first one, stride 4, reads broad bands cheaply;
    the others stride 2), each followed by a normalisation over its channels
    and points (``GroupNorm`` with one group, independent of the batch), an
    adaptive pooling to a fixed length (so any input length works) and a
    dense head giving the mean and log-variance. Without the normalisation
    the encoder hardly moved from its initial, near-constant output in the
    default 150 full-batch epochs.
    """

    def __init__(
        self, latent_dim, channels=(16, 32, 32), hidden=256, pool=16, dropout=0.0
    ):
        super().__init__()
        layers, c_in = [], 1
        for i, c_out in enumerate(channels):
            k, stride = (16, 4) if i == 0 else (9, 2)
            layers += [
                nn.Conv1d(c_in, c_out, k, stride, padding=k // 2),
                nn.GroupNorm(1, c_out),
                nn.GELU(),
            ]
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


class DenseEncoder(nn.Module):
    """Dense encoder of a spectrum to a diagonal Gaussian.

    Dropout on the input points (a strong regulariser when a few hundred
    spectra of a thousand points each are all there is), one hidden layer,
    and a linear head giving the mean and log-variance.
    """

    def __init__(self, n_in, latent_dim, hidden=256, dropout=0.5):
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(n_in, hidden),
            nn.GELU(),
            nn.Linear(hidden, 2 * latent_dim),
        )

    def forward(self, x):
        """Return ``(mu, logvar)`` for spectra ``x`` of shape (batch, n_in)."""
        mu, logvar = self.net(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 10.0)


class RetrievalDecoder(nn.Module):
    """Decode a latent vector as a weighted mean of stored target spectra.

    The weights are a softmax of the cosine similarity between the latent
    vector and the latent codes of a memory of (source, target) pairs,
    divided by ``temperature``. Targets are mixed as *shapes* (each centred
    and divided by its own standard deviation, so that a strong and a weak
    spectrum count alike), and the mixture is put back on the weighted mean
    offset and scale of the same targets.

    In training the memory is the mini-batch itself (each spectrum retrieves
    the others); afterwards it is the whole training set, stored in the
    buffers ``memory_z`` (latent means), ``memory_shape``, ``memory_offset``
    and ``memory_scale``.

    Parameters
    ----------
    latent_dim : int
        Dimension of the latent codes.
    n_out : int
        Number of points of the target spectra.
    temperature : float > 0, default=0.1
        Softmax temperature of the cosine similarities; smaller values
        retrieve fewer, closer neighbours.
    exclude_similar : float in [-1, 1] or None, default=None
        In training, a spectrum does not retrieve batch members whose target
        correlates with its own above this value (itself always excluded), so
        the encoder learns to find *related* materials, as it must for
        materials it has never seen, rather than near-copies. A spectrum
        whose batch holds only such near-copies retrieves them (never
        itself). ``None`` excludes only the spectrum itself. A training
        batch of one pair raises a ``ValueError``: it has nothing to
        retrieve.
    """

    def __init__(self, latent_dim, n_out, temperature=0.1, exclude_similar=None):
        super().__init__()
        check_param(temperature, "temperature", low=0.0, closed="neither")
        if exclude_similar is not None:
            check_param(exclude_similar, "exclude_similar", low=-1.0, high=1.0)
        self.temperature = float(temperature)
        self.exclude_similar = exclude_similar
        self.register_buffer("memory_z", torch.zeros(0, latent_dim))
        self.register_buffer("memory_shape", torch.zeros(0, n_out))
        self.register_buffer("memory_offset", torch.zeros(0))
        self.register_buffer("memory_scale", torch.zeros(0))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # the memory holds as many pairs as the state it is loaded from
        memory = state_dict.get(f"{prefix}memory_z")
        if memory is not None and memory.shape[0] != self.memory_z.shape[0]:
            self.resize_memory(int(memory.shape[0]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _memory_float64(self):
        """Return the memory buffers in float64 (themselves if they are)."""
        return tuple(
            t.double()
            for t in (
                self.memory_z,
                self.memory_shape,
                self.memory_offset,
                self.memory_scale,
            )
        )

    @staticmethod
    def split_shapes(Y):
        """Return the shapes, offsets and scales of target spectra ``Y``."""
        offset = Y.mean(-1)
        centred = Y - offset.unsqueeze(-1)
        scale = centred.pow(2).mean(-1).sqrt().clamp_min(1e-8)
        return centred / scale.unsqueeze(-1), offset, scale

    @torch.no_grad()
    def set_memory(self, z, Y):
        """Store the latent codes ``z`` and the targets ``Y`` of training pairs.

        Parameters
        ----------
        z : torch.Tensor of shape (n_memory, latent_dim)
            Latent means of the training sources.
        Y : torch.Tensor of shape (n_memory, n_out)
            Their (standardised) target spectra.

        Returns
        -------
        self : RetrievalDecoder
            The decoder, with its memory filled.
        """
        shape, offset, scale = self.split_shapes(Y)
        self.memory_z = z.detach().clone()
        self.memory_shape = shape.detach().clone()
        self.memory_offset = offset.detach().clone()
        self.memory_scale = scale.detach().clone()
        return self

    def resize_memory(self, n_memory):
        """Make empty memory buffers of ``n_memory`` rows (before loading)."""
        for name in ("memory_z", "memory_shape", "memory_offset", "memory_scale"):
            old = getattr(self, name)
            setattr(self, name, old.new_zeros((n_memory, *old.shape[1:])))
        return self

    @staticmethod
    def similarity(z, keys):
        """Cosine similarities of the queries ``z`` to the ``keys``."""
        return F.normalize(z, dim=-1) @ F.normalize(keys, dim=-1).T

    def weights(self, z, keys, exclude=None):
        """Softmax weights of the memory ``keys`` for the queries ``z``."""
        logits = self.similarity(z, keys) / self.temperature
        if exclude is not None:
            logits = logits.masked_fill(exclude, float("-inf"))
            # a row with nothing left to retrieve falls back to uniform
            # weights (forward never leaves a training row so)
            empty = exclude.all(-1, keepdim=True)
            logits = torch.where(empty, torch.zeros_like(logits), logits)
        return torch.softmax(logits, dim=-1)

    def mix(self, w, shape, offset, scale, correction=None):
        """Weighted mean shape, put back on the weighted offset and scale."""
        mixed = w @ shape
        if correction is not None:
            mixed = mixed + correction.to(mixed.dtype)
        return mixed * (w @ scale).unsqueeze(-1) + (w @ offset).unsqueeze(-1)

    def forward(self, z, keys=None, Y=None, correction=None):
        """Decode ``z`` from the stored memory, or from ``(keys, Y)`` of a batch.

        Parameters
        ----------
        z : torch.Tensor of shape (batch, latent_dim)
            Latent vectors to decode.
        keys : torch.Tensor of shape (batch, latent_dim), default=None
            Latent means of the batch, used as the memory in training.
        Y : torch.Tensor of shape (batch, n_out), default=None
            Targets of the batch (training only); ``None`` decodes from the
            stored memory.
        correction : torch.Tensor of shape (batch, n_out), default=None
            Added to the mixed shape before it is put back on the retrieved
            offset and scale (so predictions follow the units of the targets).

        Returns
        -------
        recon : torch.Tensor of shape (batch, n_out)
            Decoded spectra, standardised as the memory's targets are.
        """
        if Y is None:
            if self.memory_z.shape[0] == 0:
                raise RuntimeError(
                    "The retrieval decoder has no memory yet: fit the model "
                    "(or call set_memory) before decoding."
                )
            # float64, so that a spectrum's prediction depends on the other
            # rows of its batch only by float64 rounding (in float32, matrix
            # products can move it visibly)
            memory_z, shape, offset, scale = self._memory_float64()
            w = self.weights(z.double(), memory_z)
            out = self.mix(w, shape, offset, scale, correction)
            return out.to(z.dtype)
        if len(Y) < 2:
            raise ValueError(
                "A training batch of one pair leaves it nothing to retrieve (in "
                "training, each pair retrieves the other pairs of its batch): "
                "train on batches of at least 2 pairs (batch_size, "
                "iterator_train__batch_size, and a train_split that leaves at "
                "least 2 training pairs), or use module__retrieval=False."
            )
        shape, offset, scale = self.split_shapes(Y)
        own = torch.eye(len(Y), dtype=torch.bool, device=Y.device)
        exclude = own
        if self.exclude_similar is not None:
            corr = shape @ shape.T / shape.shape[-1]
            similar = own | (corr > self.exclude_similar)
            # a pair whose batch holds only near-copies of its target
            # retrieves them rather than itself
            exclude = torch.where(similar.all(-1, keepdim=True), own, similar)
        w = self.weights(z, keys, exclude)
        return self.mix(w, shape, offset, scale, correction)


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
        from ..peaks._profiles import _render_peaks

        h = self.trunk(z)
        a, b, c, d = self.peaks(h).view(-1, 4, self.n_peaks).unbind(1)
        center = self._lo + self._span * torch.sigmoid(a)
        height = F.softplus(b)
        fwhm = self._w_min + (self._w_max - self._w_min) * torch.sigmoid(c)
        shape = torch.sigmoid(d)
        row_size = self.n_peaks * self.x_out.shape[0]
        # whole multiples of 64 rows: each chunk then holds a multiple of 64
        # values, and torch's vectorised loops round every value as they do
        # over the whole batch
        step = 64 * max(1, _RENDER_CHUNK_POINTS // (64 * row_size))
        if torch.is_grad_enabled() or len(z) <= step:
            # in training autograd keeps every chunk's temporaries anyway
            out = _render_peaks(
                self.x_out, center, height, fwhm, shape, profile=self.profile
            )
        else:
            # (rows, n_peaks, n_out) temporaries: 1.9 GiB for 1,024 rows of
            # 32 peaks on 2,048 points; rows in chunks bound them
            out = torch.cat(
                [
                    _render_peaks(
                        self.x_out,
                        center[rows],
                        height[rows],
                        fwhm[rows],
                        shape[rows],
                        profile=self.profile,
                    )
                    for rows in row_slices(len(z), row_size, step * row_size)
                ]
            )
        if self.residual is not None:
            knots = self.residual(h).unsqueeze(1)
            out = out + F.interpolate(
                knots, size=self.x_out.shape[0], mode="linear", align_corners=True
            ).squeeze(1)
        return out


class SpectroGenVAE(nn.Module):
    """Variational autoencoder from a source spectrum to a target spectrum.

    An encoder maps the source spectrum (for example IR) to a latent
    Gaussian; a decoder maps a latent vector to the target spectrum (for
    example Raman) on its own grid.

    With ``retrieval=True`` (the default) the decoder is
    retrieval-augmented: it decodes a latent vector as the weighted mean of
    the target spectra of the training pairs whose latent codes are most
    similar (``RetrievalDecoder``), plus a learned correction by the
    generative ``decoder`` whose weight starts at zero. The encoder is thus
    trained so that sources that are close in the latent space have similar
    *targets* (metric learning), which is what carries over to materials the
    model has never seen. With ``decoder="peaks"`` the correction (or, with
    ``retrieval=False``, the whole output) is rendered as a sum of peak
    profiles (the physical prior of SpectroGen), optionally plus a smooth
    residual; ``decoder="dense"`` is a plain dense decoder.

    Inputs are standardised and outputs de-standardised with buffers
    (``x_center``, ``x_scale``, ``y_center``, ``y_scale``) that
    :class:`SpectroGenRegressor` fills from the training data, so a saved
    state dict (with the retrieval memory) holds everything needed to
    predict; ``source_max_scaled`` records whether the sources were first
    divided by their maximum (1), not (0) or is unknown (NaN).

    Read more in the :ref:`User Guide <cross_modal>`.

    Parameters
    ----------
    n_in : int
        Number of points of the source spectrum.
    n_out : int
        Number of points of the target spectrum.
    latent_dim : int, default=16
        Dimension of the latent space.
    decoder : {"dense", "peaks"}, default="dense"
        Generative decoder: plain dense layers, or peak-profile rendering
        (the physical prior: a sum of ``n_peaks`` ``profile`` peaks). With
        retrieval it only draws the correction of the retrieved spectra, and
        ``"peaks"`` costs about 5-20 times more per epoch (16 to 32 peaks),
        so ``"dense"`` is the default.
    retrieval : bool, default=True
        Decode by retrieval from the training pairs plus the ``decoder``'s
        correction (True), or by the ``decoder`` alone (False).
    encoder : {"dense", "conv"}, default="dense"
        Dense encoder with input dropout, or a 1-D convolutional one (on the
        species-grouped RRUFF IR -> Raman benchmark the convolutional one
        reached r 0.37 against 0.39, and takes about twice as long).
    hidden : int, default=256
        Width of the dense layers.
    channels : tuple of int, default=(16, 32, 32)
        Channels of the convolutions of ``encoder="conv"``.
    x_out : array-like of shape (n_out,), default=None
        Target axis, used by the peak decoder (centres and widths are in its
        units). ``None`` uses ``0, 1, ..., n_out - 1``.
    n_peaks : int, default=32
        Number of peaks of the peak decoder.
    profile : {"pseudo_voigt", "voigt", "gaussian", "lorentzian"}, \
            default="pseudo_voigt"
        Peak profile of the peak decoder, as in :mod:`sktransfer.peaks`.
    residual : bool, default=True
        Add a smooth residual to the peak decoder's output.
    dropout : float in [0, 1), default=0.0
        Dropout after the hidden layer of the dense decoder and of the
        convolutional encoder's head (training only); the dense encoder
        uses ``input_dropout`` instead.
    input_dropout : float in [0, 1), default=0.5
        Dropout on the source points of the dense encoder (training only).
    temperature : float > 0, default=0.1
        Softmax temperature of the retrieval (see ``RetrievalDecoder``).
    exclude_similar : float in [-1, 1] or None, default=None
        Training pairs whose targets correlate above this value do not
        retrieve each other during training (see ``RetrievalDecoder``).

    Examples
    --------
    >>> import torch
    >>> from sktransfer.cross_modal import SpectroGenVAE
    >>> vae = SpectroGenVAE(n_in=100, n_out=60, latent_dim=4, retrieval=False)
    >>> recon, mu, logvar = vae.eval()(torch.zeros(3, 100))
    >>> tuple(recon.shape), tuple(mu.shape)
    ((3, 60), (3, 4))
    """

    def __init__(
        self,
        n_in,
        n_out,
        latent_dim=16,
        decoder="dense",
        retrieval=True,
        encoder="dense",
        hidden=256,
        channels=(16, 32, 32),
        x_out=None,
        n_peaks=32,
        profile="pseudo_voigt",
        residual=True,
        dropout=0.0,
        input_dropout=0.5,
        temperature=0.1,
        exclude_similar=None,
    ):
        super().__init__()
        _check_sizes(
            n_in=n_in,
            n_out=n_out,
            latent_dim=latent_dim,
            hidden=hidden,
            n_peaks=n_peaks,
        )
        check_sequence(channels, "channels", kind="int", low=1)
        check_bool(retrieval, "retrieval")
        check_bool(residual, "residual")
        check_option(profile, "profile", PROFILES)
        for value, name in ((dropout, "dropout"), (input_dropout, "input_dropout")):
            check_param(value, name, low=0.0, high=1.0, closed="left")
        if x_out is not None:
            if torch.is_tensor(x_out):
                if x_out.is_complex():
                    raise ValueError(
                        "x_out must hold real numbers; got complex numbers."
                    )
                # in float64 (NumPy has no bfloat16)
                x_out = x_out.detach().cpu().to(torch.float64).numpy()
            # the peak decoder's centres and widths are in its units: NaN
            # gave NaN spectra, a number a TypeError deep in the module
            x_out = check_x_axis(x_out, n_out, "x_out", of="the target has n_out={}")
        self.latent_dim = latent_dim
        if encoder == "dense":
            self.encoder = DenseEncoder(
                n_in, latent_dim, hidden=hidden, dropout=input_dropout
            )
        elif encoder == "conv":
            self.encoder = ConvEncoder(
                latent_dim, channels=channels, hidden=hidden, dropout=dropout
            )
        else:
            raise InvalidParameterError(
                f"encoder must be 'dense' or 'conv'; got encoder={encoder!r}."
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
            raise InvalidParameterError(
                f"decoder must be 'dense' or 'peaks'; got decoder={decoder!r}."
            )
        self.retrieval = None
        if retrieval:
            self.retrieval = RetrievalDecoder(
                latent_dim,
                n_out,
                temperature=temperature,
                exclude_similar=exclude_similar,
            )
            # weight of the generative decoder's correction; starts at zero
            self.correction_weight = nn.Parameter(torch.zeros(()))
        self.register_buffer("x_center", torch.zeros(n_in))
        self.register_buffer("x_scale", torch.ones(()))
        self.register_buffer("y_center", torch.zeros(n_out))
        self.register_buffer("y_scale", torch.ones(()))
        # 1 if the sources were divided by their maximum absolute value
        # before x_center and x_scale were taken, 0 if not, NaN if unknown
        self.register_buffer("source_max_scaled", torch.full((), float("nan")))
        # whether the buffers hold a standardisation (from set_scaling or a
        # loaded state) rather than their initial values
        self.scaled = False

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # state dicts saved before the buffer existed do not say
        key = f"{prefix}source_max_scaled"
        if key not in state_dict:
            state_dict[key] = torch.full((), float("nan"))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.scaled = True

    @torch.no_grad()
    def set_scaling(self, X, Y):
        """Fill the standardisation buffers from training tensors.

        The source is centred per point and divided by one global scale. The
        target is treated the same with the dense decoder alone; the peak and
        retrieval decoders draw whole spectra, so there the target is only
        divided by its root mean square.

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
        self.x_scale.fill_(_safe_scale(X - self.x_center, X))
        if isinstance(self.decoder, DenseDecoder) and self.retrieval is None:
            self.y_center.copy_(Y.mean(0))
        else:
            self.y_center.zero_()
        self.y_scale.fill_(_safe_scale(Y - self.y_center, Y))
        self.scaled = True
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

    def decode(self, z, keys=None, y=None):
        """Decode latent vectors to standardised target spectra.

        Parameters
        ----------
        z : torch.Tensor of shape (batch, latent_dim)
            Latent vectors.
        keys, y : torch.Tensor, default=None
            Latent means and standardised targets of a training batch, used
            as the retrieval memory in training; ``None`` decodes from the
            stored memory.

        Returns
        -------
        recon : torch.Tensor of shape (batch, n_out)
            Standardised target spectra.
        """
        if self.retrieval is None:
            return self.decoder(z)
        correction = self.correction_weight * self.decoder(z)
        return self.retrieval(z, keys, y, correction)

    @torch.no_grad()
    def set_memory(self, x, y):
        """Encode training sources and store them with their targets.

        The sources are encoded ``MEMORY_BATCH`` (1,024) at a time, as
        :class:`SpectroGenRegressor` encodes and predicts: the encoder's
        activations then do not grow with the number of pairs.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_in)
            Source spectra in their own units.
        y : torch.Tensor of shape (n_samples, n_out)
            Standardised target spectra.

        Returns
        -------
        self : SpectroGenVAE
            The module (unchanged if it has no retrieval decoder).
        """
        if self.retrieval is not None:
            training = self.training
            self.eval()
            z = [self.encode(xb)[0] for xb in torch.split(x, MEMORY_BATCH)]
            self.retrieval.set_memory(torch.cat(z), y)
            self.train(training)
        return self

    def forward(self, x, y=None):
        """Return ``(recon, mu, logvar)``; ``recon`` is standardised.

        In training mode the latent is sampled with the reparametrisation
        trick; in evaluation mode the mean is decoded, so predictions are
        deterministic.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_in)
            Source spectra in their own units.
        y : torch.Tensor of shape (batch, n_out), default=None
            Standardised targets of a training batch: the batch is then its
            own retrieval memory (each spectrum retrieves the others).
            ``None`` retrieves from the stored memory.

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
        keys = mu if y is not None else None
        return self.decode(z, keys, y), mu, logvar


class CorrelationLoss(nn.Module):
    """One minus the mean Pearson correlation of predicted and true spectra.

    Insensitive to the offset and scale of each spectrum, so it rewards the
    right peaks in the right places, which is how predicted spectra are
    judged (:func:`sktransfer.metrics.spectral_correlation`).

    A target of one point (a scalar ``y``) has no shape to correlate: the
    correlation of one-point rows is undefined and would give no gradient,
    so for them the loss is the mean squared error (of the standardised
    values, inside :class:`SpectroGenRegressor`).
    """

    def forward(self, y_pred, y_true):
        """Return ``1 - mean_i r(y_pred[i], y_true[i])`` (one point: the MSE)."""
        if y_pred.shape[-1] == 1:
            return F.mse_loss(y_pred, y_true)
        p = y_pred - y_pred.mean(-1, keepdim=True)
        t = y_true - y_true.mean(-1, keepdim=True)
        r = (p * t).sum(-1) / (p.norm(dim=-1) * t.norm(dim=-1)).clamp_min(1e-8)
        return 1.0 - r.mean()


def _check_sizes(**sizes):
    """Check that each named size is a positive integer."""
    for name, value in sizes.items():
        check_param(value, name, kind="int", low=1)


def _rms(t):
    """Root mean square of ``t``, also where float32 squares would not hold.

    The float32 figure where it is reliable; otherwise (values around 1e20
    overflow when squared, around 1e-20 underflow) the tensor is divided by
    its largest magnitude and the root mean square taken in float64.
    """
    rms = float(t.pow(2).mean().sqrt())
    if math.isfinite(rms) and rms > 1e-12:
        return rms
    t = t.double()
    largest = float(t.abs().max()) if t.numel() else 0.0
    if not math.isfinite(largest) or largest == 0.0:
        return largest
    return largest * float((t / largest).pow(2).mean().sqrt())


def _safe_scale(centred, raw):
    """Return a scale to divide ``centred`` by: its root mean square.

    A root mean square that is zero or negligible next to that of the data
    ``raw`` it was centred from (a constant, whose centred values are
    rounding errors) falls back to the root mean square of ``raw``, then to
    1, so that the data are never blown up or left at an extreme magnitude.
    """
    scale, reference = _rms(centred), _rms(raw)
    if math.isfinite(scale) and scale > 1e-9 * reference and scale > 0:
        return scale
    if math.isfinite(reference) and reference > 0:
        return reference
    return 1.0


def kl_divergence(mu, logvar):
    """KL(q(z|x) || N(0, I)) summed over latent dimensions, mean over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(-1)).mean()
