"""SpectroGenRegressor: the cross-modal VAE as a skorch/sklearn regressor."""

import contextlib
import copy
import inspect
import numbers
import os
import warnings

import numpy as np
import torch
from sklearn.utils.metaestimators import available_if
from skorch import NeuralNetRegressor
from skorch.callbacks import EarlyStopping, EpochScoring
from skorch.dataset import unpack_data
from skorch.exceptions import DeviceWarning, NotInitializedError
from skorch.history import History
from skorch.utils import data_from_dataset
from skorch.utils import to_tensor as _skorch_tensor
from torch.utils.data import SequentialSampler

from .._base import kept_if_refused
from .._validation import (
    check_bool,
    check_param,
    check_verbose,
    check_x_axis,
    validate_spectra,
)
from ..preprocessing._functions import divide_rows
from ..utils._torch import (
    autograd_on,
    error_gist,
    float32_built,
    global_generators_kept,
    in_seeded_block,
    make_generator,
    resolve_device,
    seed_from_random_state,
    seeded_torch,
    to_numpy,
    to_tensor,
)
from ._modules import MEMORY_BATCH, CorrelationLoss, SpectroGenVAE, kl_divergence

_PREDICT_BATCH = MEMORY_BATCH  # as the retrieval memory is encoded

# attributes that only exist while the regressor trains
_TRAINING_ONLY = ("_memory_data", "_memory_extend", "_memory_train", "_memory_stale")


def _never(self):
    return False


def _retrieves(self):
    """Whether the (fitted or configured) module decodes by retrieval."""
    module = getattr(self, "module_", None)
    if module is None:
        found = bool(self.get_params_for("module").get("retrieval", True))
    else:
        found = getattr(module, "retrieval", None) is not None
    if not found:
        raise AttributeError(
            "kneighbors needs the retrieval decoder; this model has none "
            "(module__retrieval=False)."
        )
    return True


def _max_scaled(X):
    """Each row of ``X`` (array or tensor) divided by its largest |value|.

    A new array or tensor; rows of zeros are left as they are. Idempotent.
    """
    # the largest of max and -min: no array of absolute values is made
    if torch.is_tensor(X):
        scale = torch.maximum(X.amax(-1, keepdim=True), -X.amin(-1, keepdim=True))
        return X / torch.where(scale > 0, scale, torch.ones_like(scale))
    return divide_rows(X, np.maximum(X.max(axis=-1), -X.min(axis=-1)))


def _smallest(dist, k):
    """Return the ``k`` smallest entries of each row, in stable-sort order.

    Returns ``(values, indices)`` of shape ``(n_rows, k)``: the first ``k``
    columns of ``torch.sort(dist, dim=1, stable=True)``, ties in index order,
    found with a partial selection (``topk``) instead of sorting whole rows.
    Only the rows where the ``k``-th smallest value is tied with the next
    one (which of the tied entries comes first then depends on the index)
    are sorted whole.
    """
    if k >= dist.shape[1]:
        values, index = torch.sort(dist, dim=1, stable=True)
        return values[:, :k], index[:, :k]
    values, index = torch.topk(dist, k + 1, dim=1, largest=False, sorted=True)
    ambiguous = (values[:, k] == values[:, k - 1]) | values.isnan().any(dim=1)
    # the k smallest by index first, so that the stable sort by value
    # leaves tied values in index order
    index = torch.sort(index[:, :k], dim=1).values
    values, order = torch.sort(torch.gather(dist, 1, index), dim=1, stable=True)
    index = torch.gather(index, 1, order)
    if bool(ambiguous.any()):
        rows = ambiguous.nonzero()[:, 0]
        tied_values, tied_index = torch.sort(dist[rows], dim=1, stable=True)
        values[rows], index[rows] = tied_values[:, :k], tied_index[:, :k]
    return values, index


def _mix_pairs(X, Y, alpha):
    """Mix each pair of a batch with another one (pair mixup).

    Row ``i`` becomes ``lam * pair_i + (1 - lam) * pair_j`` for both source
    and target, with ``j`` a random permutation of the batch and ``lam`` the
    larger of ``u`` and ``1 - u``, ``u ~ Beta(alpha, alpha)``, so each row
    stays mostly itself. Uses torch's global generator (seeded in ``fit``).
    """
    # float32 whatever torch's default dtype: the same draws in every process
    alpha = torch.tensor(float(alpha), dtype=torch.float32)
    u = torch.distributions.Beta(alpha, alpha).sample((len(X), 1)).to(X.device)
    lam = torch.maximum(u, 1 - u)
    other = torch.randperm(len(X)).to(X.device)
    return tuple(lam.to(A.dtype) * A + (1 - lam.to(A.dtype)) * A[other] for A in (X, Y))


def _stretch_rows(A, factor):
    """Stretch each row of ``A`` along its grid by ``factor`` (one per row).

    The row is resampled so that the point at index ``i`` takes the value
    found at index ``i / factor`` (linear interpolation): features move away
    from the first point by the factor. Beyond the last point the last value
    is repeated.
    """
    n = A.shape[-1]
    index = torch.arange(n, device=A.device, dtype=A.dtype)
    pos = (index / factor).clamp(max=n - 1)
    left = pos.floor().long().clamp(max=n - 2)
    t = pos - left
    return A.gather(1, left) * (1 - t) + A.gather(1, left + 1) * t


def _stretch_pairs(X, Y, amount, descending=(False, False)):
    """Stretch the source and the target of each pair by the same factor.

    The factor of each pair is drawn from ``U(1 - amount, 1 + amount)`` with
    torch's global generator (seeded in ``fit``). Each spectrum is stretched
    away from the low end of its axis: its first point, or its last one where
    ``descending`` says that axis runs downwards. A target of one point is
    left as it is.
    """
    u = torch.rand(len(X), 1, dtype=torch.float32, device=X.device)
    factor = 1 + amount * (2 * u - 1)
    out = []
    for A, down in zip((X, Y), descending):
        if A.shape[-1] > 1:
            A = A.flip(-1) if down else A
            A = _stretch_rows(A, factor.to(A.dtype))
            A = A.flip(-1) if down else A
        out.append(A)
    return tuple(out)


def _rows(batch):
    """Return the number of rows of a ``(X, y)`` batch of tensors, or None."""
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        if all(torch.is_tensor(part) for part in batch):
            return len(batch[0])
    return None


class _JoinedTail:
    """The batches of a data loader, a last batch of one row joined to the one before.

    In training, each spectrum retrieves the others of its batch: one alone
    would have only itself.
    """

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        held = None
        for batch in self.loader:
            if held is not None:
                if _rows(batch) == 1 and _rows(held) is not None:
                    batch = tuple(torch.cat(parts) for parts in zip(held, batch))
                else:
                    yield held
            held = batch
        if held is not None:
            yield held

    def __len__(self):
        # The loader's batch sampler says how many rows the last batch has:
        # torch's BatchSampler over its sampler, which may hold a subset of
        # the data set; a batch sampler of another kind gives no size, and
        # its own number of batches counts
        n = len(self.loader)
        batches = getattr(self.loader, "batch_sampler", None)
        size = getattr(batches, "batch_size", None)
        try:
            rows = len(batches.sampler)
        except (AttributeError, TypeError):
            return n
        joined = (
            isinstance(size, int)
            and size > 0
            and n > 1
            and not getattr(batches, "drop_last", False)
            and rows % size == 1
        )
        return n - 1 if joined else n


class _GeneratorKept:
    """The batches of a data loader, without a draw from torch's generator.

    Each pass over a torch ``DataLoader`` draws a base seed (for its worker
    processes, even without any) from torch's global generator: outside
    ``fit``, where predictions come in batches of the loader, that would
    advance the caller's random stream. A loader that reads its rows in
    order (the default) draws it from a generator of its own, so that the
    global one is not touched at all (saved and restored, it took back what
    other threads drew meanwhile); the base seed of another loader is drawn
    from the global generator, which is restored afterwards (a shuffling
    sampler still draws from it as its batches are read). Inside ``fit``
    (validation passes) the seeded stream is drawn from, as before.
    """

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        loader = self.loader
        if in_seeded_block():
            return iter(loader)
        in_order = isinstance(getattr(loader, "sampler", None), SequentialSampler)
        if in_order and getattr(loader, "generator", False) is None:
            loader.generator = torch.Generator()
            return iter(loader)
        with global_generators_kept():
            return iter(loader)

    def __len__(self):
        return len(self.loader)


def _may_share_memory(array, given):
    """Whether ``array`` may be (a view of) the memory of the input ``given``."""
    try:
        return bool(np.may_share_memory(array, np.asarray(given)))
    except Exception:  # cannot tell: take it that it does
        return True


def _is_safetensors(f):
    """Whether the file (a path or a seekable binary file) is in safetensors format.

    A safetensors file starts with the length of its JSON header (8 bytes,
    little-endian) and the header's ``{``; torch's files start with a zip
    signature or a pickle opcode.
    """
    try:
        if hasattr(f, "read"):
            if not (hasattr(f, "seek") and hasattr(f, "tell")):
                return False
            where = f.tell()
            head = f.read(9)
            f.seek(where)
        else:
            with open(f, "rb") as fh:
                head = fh.read(9)
    except (OSError, TypeError, ValueError):
        return False  # let the loader say what is wrong with it
    if not isinstance(head, bytes) or len(head) < 9:
        return False
    return head[8:9] == b"{" and 2 <= int.from_bytes(head[:8], "little") < 2**40


def _checkpoint_files(checkpoint, net):
    """Return the files of a skorch ``Checkpoint``, named as skorch names them.

    A name formatted from the history (``"p_{last_epoch[epoch]}.pt"``) is
    formatted from the checkpoint's own history file when it has one (a
    missing one raises ``FileNotFoundError``, which skorch's
    ``LoadInitState`` takes for "nothing saved yet"), else from the
    regressor's history. Without either history a plain name is joined to
    the checkpoint's folder (skorch raised an ``IndexError``, formatting it
    from an empty history), and a formatted one raises a ``ValueError``.
    """
    names = {
        key: getattr(checkpoint, key)
        for key in dir(checkpoint)
        if key.startswith("f_") and key != "f_history_"
    }
    history = net.history
    if getattr(checkpoint, "f_history_", None) is not None:
        history = History.from_file(checkpoint.f_history_)
    if history:
        own, net.history = net.history, history
        try:
            return checkpoint.get_formatted_files(net)
        finally:
            net.history = own
    formatted = {k: f for k, f in names.items() if isinstance(f, str) and "{" in f}
    if formatted:
        # loading the other files alone would resume from half a state
        listed = ", ".join(f"{k}={f!r}" for k, f in formatted.items())
        raise ValueError(
            f"The checkpoint's file names are formatted from the training "
            f"history ({listed}), and there is none to format them from: the "
            "checkpoint keeps no history file (f_history=None) and this "
            "regressor has not trained. Give the Checkpoint an f_history, or "
            "load the files by name (f_params=...)."
        )
    return {
        key: (
            os.path.join(checkpoint.dirname, checkpoint.fn_prefix + f)
            if isinstance(f, str)
            else f
        )
        for key, f in names.items()
    }


class SpectroGenRegressor(NeuralNetRegressor):
    """Predict the spectrum of one modality from a spectrum of another.

    A compact version of SpectroGen (arXiv 2407.16094): a variational
    autoencoder (:class:`SpectroGenVAE`) encodes the source spectrum (for
    example IR) into a latent Gaussian and decodes it into the target
    spectrum (for example Raman or XRD) on the target's own grid.

    By default the decoder is *retrieval-augmented*: a latent vector is
    decoded as the softmax-weighted mean of the target spectra of the
    training pairs whose latent codes are nearest (cosine similarity), plus a
    learned correction. Training therefore teaches the encoder a metric in
    which sources are close when their *targets* are alike; each training
    spectrum retrieves the other spectra of its mini-batch, never itself.
    That is what carries over to materials never seen in training, where a
    decoder that draws spectra from the latent alone regresses to an average
    spectrum. ``module__retrieval=False`` gives the plain VAE, and
    ``module__decoder="peaks"`` draws the correction (or, without retrieval,
    the whole spectrum) as a sum of peak profiles, the physical prior of
    SpectroGen.

    The loss is ``criterion`` (by default one minus the Pearson correlation
    of each predicted and measured spectrum, ``CorrelationLoss``) plus
    ``beta`` times the KL divergence of the latent to a standard normal,
    divided by the number of target points.

    Both spectra are passed as they are: each source spectrum is scaled to
    maximum absolute value 1 (``normalize_source``), the source and the
    target are standardised inside (the scales are stored in the module's
    buffers) and predictions come back in the target's original units, as
    float64.

    It is a :class:`skorch.NeuralNetRegressor`, so every skorch parameter
    (``module__*``, ``optimizer__*``, ``callbacks``, ``warm_start`` ...)
    works, also in :class:`~sklearn.model_selection.GridSearchCV`. Scoring
    callbacks (``EpochScoring``) compare predictions and targets in the
    targets' units; ``EarlyStopping`` ends training without the warning of
    an interrupted one, and with ``load_best=True`` the retrieval memory is
    encoded by the restored weights. ``set_params(module__...)`` on a fitted
    regressor rebuilds the network untrained: it must be fitted again
    before it predicts. The network trains in float32 and predicts in
    float64, so a spectrum's prediction depends on the other spectra
    predicted with it only by float64 rounding.

    Read more in the :ref:`User Guide <cross_modal>`.

    Parameters
    ----------
    module : torch.nn.Module class, default=SpectroGenVAE
        The VAE. Its ``n_in``, ``n_out`` and ``x_out`` arguments are taken
        from the training data (and ``target_axis``; other values given as
        ``module__n_in`` etc. raise a ``ValueError``); give the others as
        ``module__latent_dim=...``, ``module__decoder="peaks"`` etc.
    beta : float, default=3.0
        Weight of the KL term, >= 0; the KL divergence is divided by the
        number of target points ``n``. With ``criterion=torch.nn.MSELoss``,
        ``beta=2`` is the evidence lower bound with unit noise variance in
        standardised units: the negative log-likelihood of a spectrum is
        ``0.5 * n * MSE`` (plus a constant), so the negative ELBO divided by
        ``0.5 * n`` is ``MSE + 2 * KL / n``. With the default correlation
        loss there is no such likelihood; ``beta`` then only sets how
        strongly the latent codes are pulled towards the prior.
    mixup : float, default=0.4
        Pair mixup in training, >= 0 (0 turns it off): every training pair
        of a mini-batch is replaced by ``lam * pair_i + (1 - lam) * pair_j``
        (source and target alike) with another pair ``j`` of the batch, where
        ``lam = max(u, 1 - u)`` and ``u ~ Beta(mixup, mixup)``. The spectrum
        of a mixture is close to the weighted sum of its components' spectra,
        in IR and Raman alike, so mixed pairs are physically plausible new
        materials; they teach the encoder a smoother metric, which carries
        over better to unseen materials. Smaller values mix less often (most
        draws of ``u`` are then near 0 or 1). The retrieval memory used by
        ``predict`` holds the unmixed training pairs.
    stretch : float, default=0.025
        Joint stretch of the pairs in training, in [0, 0.5) (0 turns it off):
        at every step, the source and the target of each training pair are
        both stretched along their grids by the same random factor
        ``f ~ U(1 - stretch, 1 + stretch)`` (linear interpolation; beyond the
        end of a grid, its last value is repeated). Related materials (a
        solid-solution series, a substituted cation) have their bands, in
        every modality, displaced together, so a stretched pair is a
        plausible new material, while a stretched source with an unchanged
        target is not. Applied before ``mixup``; a
        scalar target (1-D ``y``) is not stretched. Each spectrum is
        stretched away from the low end of its axis (low wavenumber or
        angle): the first point, unless ``source_axis`` or ``target_axis``
        says that axis descends. Give a descending axis (an IR spectrum
        stored from 4000 down to 400 cm-1, say), or the bands of the two
        spectra move in opposite directions, which does harm. The default,
        2.5 % (about 26 points of a 1024-point grid at its far end), was
        chosen on the benchmark's folds (see Notes). The retrieval memory
        used by ``predict`` holds the unstretched training pairs.
    normalize_source : bool, default=True
        Divide each source spectrum by its largest absolute value before the
        model reads it, in ``fit`` (before ``stretch`` and ``mixup``) and in
        every prediction, so that the overall intensity of a source spectrum
        (sample thickness, concentration, acquisition time, instrument gain)
        does not matter; the input arrays are not modified. Spectra already
        scaled to a largest absolute value of 1 (maximum 1, for spectra
        without negative values) are read unchanged. ``False`` reads the sources
        in their own units: for sources that are not spectra (a few
        descriptors) or whose absolute intensity carries the information.
        Predictions are in the target's units either way. A source of one
        point (``n_features=1``) would be left its sign only: ``fit``
        refuses it with ``normalize_source=True``.
    source_axis : array-like of shape (n_features,), default=None
        Axis of the source spectra. Only its direction is used (by
        ``stretch``); ``None`` means an ascending axis.
    target_axis : array-like of shape (n_targets,), default=None
        Axis of the target spectra (for example Raman shift in cm-1). Used by
        the peak decoder and, for its direction, by ``stretch``; ``None``
        means ``0, 1, ..., n_targets - 1``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch shuffling and latent sampling in
        ``fit`` (inside :func:`torch.random.fork_rng`, so the global torch
        generator is left alone). The same integer gives the same numbers on
        the CPU with the same number of torch threads
        (:func:`torch.get_num_threads`; another number rounds differently,
        as in joblib or Dask worker processes, which have one), also for
        fits in parallel threads (which train one at a time: torch's
        generator is shared by the process; use processes to train in
        parallel). Other code of the same process that draws from torch's
        global generator during the fit, in another thread, changes the
        fit (see the user guide on scaling out).
    criterion : torch loss class, default=CorrelationLoss
        Reconstruction loss on the standardised target; the default is one
        minus the mean per-spectrum Pearson correlation (for a scalar
        target, which has no shape to correlate, the mean squared error).
    optimizer : torch optimizer class, default=torch.optim.AdamW
        Optimizer (AdamW: Adam with decoupled weight decay, 0.01 by default;
        set ``optimizer__weight_decay``).
    lr : float, default=1e-3
        Learning rate, > 0.
    max_epochs : int, default=150
        Number of epochs, >= 1.
    batch_size : int, default=512
        Mini-batch size (``-1``: the whole training set). In training, each
        spectrum retrieves from the other spectra of its batch, so batches
        should be large: the default holds a few hundred pairs in one batch.
        With retrieval it must be at least 2, and a last batch of a single
        pair is joined to the batch before it.
    train_split : callable or None, default=None
        The internal validation split; ``None`` trains on all the data
        (the least surprising choice inside sklearn cross-validation). While
        the validation pairs are scored, the retrieval memory holds the
        training pairs only, so they are decoded as new data would be (and
        ``EarlyStopping`` on ``valid_loss`` stops on that); once training
        ends it holds every pair.
    verbose : int, default=0
        Level of skorch's per-epoch log. For a progress bar pass
        ``callbacks=[skorch.callbacks.ProgressBar()]``.
    device : str or torch.device, default="cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``; an absent device raises a
        ``ValueError`` in ``fit``.
    **kwargs
        Further skorch parameters.

    Attributes
    ----------
    module_ : SpectroGenVAE
        The trained network (with the standardisation buffers).
    n_features_in_ : int
        Number of points of the source spectra.
    n_outputs_ : int
        Number of points of the target spectra.
    source_axis_ : ndarray of shape (n_features,)
        The source axis used (set by ``fit``).
    target_axis_ : ndarray of shape (n_outputs,)
        The target axis used.
    history_ : skorch.History
        Per-epoch training log (skorch).

    See Also
    --------
    sktransfer.peaks.PeakProfileFitter : The peak-profile prior on its own.

    Notes
    -----
    How the defaults were chosen: on the 296 IR/Raman pairs of RRUFF used by
    the benchmarks, with 5-fold cross-validation grouped by species (the
    benchmark's earlier folds; it now groups by ``species_groups``, on which
    the defaults scored 0.370 for ``random_state=0`` against 0.357 for tuned
    extremely randomised trees; chosen on these pairs, its "defaults" row is
    not a nested estimate): retrieval against a plain decoder, correlation
    against squared-error loss, a dense encoder with input dropout 0.5
    against a convolutional one, the temperature (0.05, 0.1), the number of
    epochs (150, 300), pair mixup (0, 0.2, 0.4, 1), ``beta`` (0.1, 1, 3, 10)
    and the joint stretch (0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08; 0.02 and
    0.03 were best, 0.025 lies between them). The benchmark
    (``benchmarks/bench_cross_modal.py``) also picks ``beta``, ``mixup`` and
    ``stretch`` (0 or 0.025) inside the training folds only (not a clean
    nested estimate either: the other settings and the grid were chosen on
    these folds) and reports both rows (0.392 and 0.388 for
    ``random_state=0``; the defaults give 0.385 to 0.395 over seeds 0 to 19,
    mean 0.390); with ``--wide`` it also tunes the epochs and the
    temperature there, which gave 0.382, so the defaults read about 0.01
    high on these folds, and on the later folds they lost 0.022 where the
    tuned trees lost 0.003; the figures are in the user guide. On data on which
    nothing was chosen, the stretch helped as well: measured powder-XRD
    targets from IR or Raman, and NIR -> Raman of tablets that share one
    excipient spectrum and differ in dose (folds grouped by batch). There
    tuned PLS and extra trees still predicted the differences between
    tablets better: the model suits materials that differ in their bands,
    not small quantitative changes of one spectrum. ``normalize_source`` was
    not chosen on a score: the benchmark's spectra are scaled to maximum 1,
    which it leaves unchanged. It makes the model ignore what says nothing
    about the material (the overall intensity of a source), and it raised
    the scores both where the spectra were left in their own units (the
    RRUFF files unscaled, r 0.388 against 0.365) and on the tablets (centred
    r 0.199 against 0.186 for ``random_state=0``).

    Training raises a ``ValueError`` if the loss becomes non-finite (scale
    the spectra, or lower ``lr``), so a model that did not train never
    predicts NaN: a first fit that fails leaves the regressor unfitted, and
    a later one (``partial_fit``, or ``fit`` with ``warm_start=True``)
    leaves the model as it was before the call.

    Persistence: ``pickle``/``joblib`` keep everything (load pickles only
    from sources you trust: unpickling runs code; the command line saves a
    safe zip of JSON parameters and safetensors weights instead), and a model trained
    on ``device="cuda"`` unpickles on a machine without CUDA (skorch maps the
    tensors to the CPU and sets ``device="cpu"`` with a ``DeviceWarning``; an
    unfitted regressor keeps its ``device``, so that ``fit`` raises where it
    is absent, as in a worker process that sees no GPU), and
    ``set_params(device=...)`` moves a fitted model to another device (its
    network follows at the next ``predict``, ``sample`` or training call). With
    ``save_params(f_params=...)``, load into an estimator built with the same
    ``module__*`` parameters and ``normalize_source``: ``load_params`` reads
    the dimensions and the standardisation from the file itself, so no
    fitting is needed first, and refuses a file saved with the other
    ``normalize_source``. Such a file holds the network only; weights saved
    before ``normalize_source`` existed need ``normalize_source=False``, which
    cannot be checked for them (pickles and the command line's model files of
    that time get it by themselves).

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.cross_modal import SpectroGenRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((40, 64))
    >>> Y = np.cumsum(X, axis=1)[:, ::2]
    >>> reg = SpectroGenRegressor(max_epochs=5, random_state=0).fit(X, Y)
    >>> reg.predict(X[:3]).shape
    (3, 32)
    >>> reg.sample(X[:3], n_samples=4, random_state=0).shape
    (3, 4, 32)
    >>> dist, ind = reg.kneighbors(X[:3], n_neighbors=2)  # training rows
    >>> ind.shape
    (3, 2)
    """

    def __init__(
        self,
        module=SpectroGenVAE,
        *,
        beta=3.0,
        mixup=0.4,
        stretch=0.025,
        normalize_source=True,
        source_axis=None,
        target_axis=None,
        random_state=None,
        criterion=CorrelationLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=150,
        batch_size=512,
        train_split=None,
        verbose=0,
        device="cpu",
        **kwargs,
    ):
        self.beta = beta
        self.mixup = mixup
        self.stretch = stretch
        self.normalize_source = normalize_source
        self.source_axis = source_axis
        self.target_axis = target_axis
        self.random_state = random_state
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            device=device,
            **kwargs,
        )

    # skorch's predict_proba makes no sense for a regressor of spectra
    predict_proba = available_if(_never)(NeuralNetRegressor.predict_proba)

    # The training pairs, kept for partial_fit to re-encode: pickles keep
    # them, model files (which do not resume training) leave them out.
    _not_in_model_file = ("_memory_pairs",)

    # Fitted state kept under private names. skorch takes every attribute
    # whose name does not end in "_" for a parameter; these are not, so
    # get_params stays the constructor's and clone carries no training data.
    _fitted_state = ("_memory_pairs", "_y_1d", "_interrupted") + _TRAINING_ONLY

    def _get_param_names(self):
        return [k for k in super()._get_param_names() if k not in self._fitted_state]

    # Parameters added after models were first saved, with the value that
    # reproduces a model saved before them: a pickle or a model file without
    # the parameter is rebuilt with it, so that it predicts as it did.
    _absent_param_values = {"normalize_source": False}

    def __getstate__(self):
        # Pickled in training (skorch's Checkpoint with f_pickle): as after
        # fit, with the memory of every training pair encoded by the weights
        # of now, and without what only training uses (the pickle predicted
        # from the training split's pairs and forgot the others on resume).
        training = self._memory_of_every_pair()
        state = super().__getstate__()
        if training:
            for name in _TRAINING_ONLY:
                state.pop(name, None)
            retrieval = getattr(self.module_, "retrieval", None) is not None
            state["_memory_pairs"] = self._memory_data if retrieval else None
        return state

    def __setstate__(self, state):
        for name, value in self._absent_param_values.items():
            state.setdefault(name, value)
        if state.get("initialized_", False):
            # a trained model whose device is absent loads on the CPU (skorch)
            super().__setstate__(state)
            return
        # An unfitted regressor keeps the device it asks for, so that fit
        # raises where that device is absent, as it does unpickled: skorch
        # would set the CPU, and a GPU grid search in worker processes that
        # see no GPU would train on their CPUs without a word.
        device = state.get("device")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeviceWarning)
            super().__setstate__(state)
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.regressor_tags.poor_score = True
        tags.non_deterministic = str(self.device) != "cpu"
        return tags

    # ----------------------------------------------------------- fitting
    def fit(self, X, y, **fit_params):
        """Train the VAE from scratch (unless ``warm_start=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source spectra.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Target spectra, on any grid of at least 2 points. A 1-D ``y`` is a
            scalar target, as usual in sklearn (learned with the mean squared
            error where the default loss correlates spectra).
        **fit_params : dict
            Passed to skorch's fit loop, which gives them to the module's
            ``forward``; a parameter it does not take raises a ``TypeError``
            (``SpectroGenVAE`` takes none: there are no sample weights).

        Returns
        -------
        self : SpectroGenRegressor
            The fitted regressor.
        """
        self._check_fit_params(fit_params, "fit")
        anew = not self.warm_start or not self.initialized_
        return self._train(X, y, anew=anew, **fit_params)

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Continue training for ``max_epochs`` epochs (initialise if needed).

        The epochs see the pairs of this call only, but the retrieval memory
        that predictions draw on holds every pair given since the last
        ``fit`` (re-encoded by the updated network), so training in chunks
        predicts from all of them. Each call draws its own batches, mixup
        and stretch, also with an integer ``random_state``; the sequence of
        calls is reproducible.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source spectra.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Target spectra.
        classes : None
            Unused, for API compatibility.
        **fit_params : dict
            Passed to skorch's fit loop, which gives them to the module's
            ``forward``; a parameter it does not take raises a ``TypeError``
            (``SpectroGenVAE`` takes none: there are no sample weights).
            With metadata routing enabled, they are checked against the
            requests of ``fit`` (``set_fit_request``), since both train
            through the same loop.

        Returns
        -------
        self : SpectroGenRegressor
            The fitted regressor.
        """
        self._check_fit_params(fit_params, "partial_fit")
        return self._train(X, y, extend=True, **fit_params)

    def set_params(self, **params):
        """Set the parameters of this regressor (see skorch's ``set_params``).

        New ``callbacks`` take effect in further training without a new
        ``fit`` (``partial_fit``, or ``fit`` with ``warm_start=True``), as
        they do in a new ``fit``. The data loaders, the dataset and their
        parameters (``iterator_train__*``, ``iterator_valid__*``,
        ``dataset__*``) can be set on a fitted regressor too: they change
        how the data are read, and leave the network as it is. So can the
        ``optimizer`` class, which is then built anew for further training.

        Parameters
        ----------
        **params : dict
            Parameter names and values.

        Returns
        -------
        self : SpectroGenRegressor
            The regressor.
        """
        initialized = getattr(self, "initialized_", False)
        # skorch refuses, on an initialised net, a parameter of one of its
        # parts that it does not rebuild itself (only a module or criterion):
        # a loader's or the dataset's, which it reads anew at each use, or
        # the optimizer, which is rebuilt here
        rebuilds = {*self._modules, *self._criteria, "compile", "callbacks"}
        plain = {
            k: params.pop(k)
            for k in list(params)
            if initialized
            and ("__" in k or any(k.startswith(p) for p in self.prefixes_))
            and k.split("__", 1)[0] not in rebuilds
            and not self._is_virtual_param(k)
        }
        # skorch builds the callbacks from the list it had before (and from
        # none after "disable", which fails): the new list comes first
        new_callbacks = "callbacks" in params
        if new_callbacks:
            self.callbacks = params.pop("callbacks")
        super().set_params(**params)
        for key, value in plain.items():
            setattr(self, key, value)
            if "__" in key:
                self._params_to_validate.add(key)
        if plain:
            self._validate_params()
        if any(k.split("__", 1)[0] in self._optimizers for k in plain):
            self._initialize_optimizer()
        if new_callbacks and initialized:
            self._initialize_callbacks()
        return self

    def _check_fit_params(self, fit_params, method):
        """Refuse fit parameters the module's ``forward`` does not take.

        skorch passes them on to ``forward`` at the first batch, after the
        network has been built anew; refused here, the error names the
        estimator and a fitted model is left as it was.
        """
        if not fit_params:
            return
        try:
            signature = inspect.signature(self.module.forward)
        except (AttributeError, TypeError, ValueError):
            return
        taken = signature.parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in taken):
            return
        unknown = sorted(set(fit_params) - {p.name for p in taken})
        if not unknown:
            return
        weights = "sample_weight" in unknown
        raise TypeError(
            f"{type(self).__name__}.{method} got unexpected fit parameter(s) "
            f"{unknown}: fit parameters are passed to the module's forward, "
            "which does not take them"
            + (" (sample weights are not supported)." if weights else ".")
        )

    def _check_params(self):
        check_param(self.beta, "beta", low=0.0)
        check_param(self.mixup, "mixup", low=0.0)
        check_param(self.stretch, "stretch", low=0.0, high=0.5, closed="left")
        check_param(self.max_epochs, "max_epochs", kind="int", low=1)
        check_param(self.lr, "lr", low=0.0, closed="neither")
        check_verbose(self.verbose)
        check_bool(self.warm_start, "warm_start")
        check_bool(self.normalize_source, "normalize_source")
        if self.batch_size != -1:
            check_param(self.batch_size, "batch_size", kind="int", low=1)
        # the training loader's batch size, which iterator_train__batch_size
        # sets over batch_size
        name, size = "batch_size", self.batch_size
        if "batch_size" in self.get_params_for("iterator_train"):
            name = "iterator_train__batch_size"
            size = self.get_params_for("iterator_train")["batch_size"]
        if (
            isinstance(size, numbers.Integral)
            and size == 1
            and self._configured_retrieval()
        ):
            raise ValueError(
                f"{name}=1 leaves each training spectrum nothing to "
                "retrieve (in training, each retrieves the other spectra "
                f"of its batch): use {name} >= 2, or "
                "module__retrieval=False."
            )

    def _configured_retrieval(self):
        """Whether the module is (or will be built) with the retrieval decoder."""
        return bool(self.get_params_for("module").get("retrieval", True))

    def _module_scaled(self):
        """Whether ``module_`` holds a standardisation (not a rebuilt module)."""
        # modules pickled before the flag existed were fitted
        return getattr(self.module_, "scaled", True)

    def check_is_fitted(self, attributes=None, *args, **kwargs):
        """Check that the regressor was fitted (or its parameters loaded).

        Raises skorch's ``NotInitializedError`` as skorch does; also when
        ``set_params(module__...)`` (or ``initialize()``) rebuilt the
        network after ``fit``, so that its predictions would come from an
        untrained network. Raises a ``ValueError`` when ``device`` (set
        after ``fit``) is no device of this machine, as ``fit`` does.

        Parameters
        ----------
        attributes : iterable of str or None, default=None
            The attributes a fitted regressor must have (``module_``).
        *args, **kwargs
            As in :func:`sklearn.utils.validation.check_is_fitted`.
        """
        super().check_is_fitted(attributes, *args, **kwargs)
        if not self._module_scaled():
            raise NotInitializedError(
                "The network of this SpectroGenRegressor was rebuilt after "
                "fit (by set_params(module__...) or initialize()) and is not "
                "trained: call fit before using it."
            )
        self._follow_device()

    def _follow_device(self):
        """Put the fitted network, criterion and optimizer state on ``device``.

        ``device`` may have changed after ``fit`` (``set_params(device=...)``,
        or a pickle read where the device it was trained on exists, whose
        tensors stay there): skorch leaves the network where it was, and
        predicting or training would mix devices. Raises a ``ValueError``
        when ``device`` is no device of this machine.
        """
        device = resolve_device(self.device)
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        module = self.module_
        if all(t.device == device for t in (*module.parameters(), *module.buffers())):
            return
        for name in (*self._modules, *self._criteria):
            part = getattr(self, f"{name}_", None)
            if isinstance(part, torch.nn.Module):
                part.to(device)  # parameters moved in place: optimizers keep them
        for name in self._optimizers:
            optimizer = getattr(self, f"{name}_", None)
            if optimizer is not None and optimizer.state:
                # loading casts each state tensor to its parameter's device
                optimizer.load_state_dict(optimizer.state_dict())

    def _train(self, X, y, extend=False, anew=False, **fit_params):
        given = X
        self._check_params()
        resolve_device(self.device)
        first = anew or not self.initialized_
        if not first and not self._module_scaled():
            warnings.warn(
                "The network was rebuilt after fit (by set_params(module__...) "
                "or initialize()), so this call trains the new one from the "
                "start"
                + (", from the pairs of this call only" if extend else "")
                + ".",
                UserWarning,
                stacklevel=3,
            )
            first = True
        if not first:
            self._follow_device()
            self._check_normalization(
                self.module_.source_max_scaled,
                "This regressor was fitted",
                remedy=" to train on, or fit anew (with warm_start=False)",
            )
        # checked before anything is built: a call refused here leaves a
        # fitted model as it was (validate_data sets n_features_in_ first)
        with kept_if_refused(self):
            X, y = validate_spectra(
                self, X, y, reset=first, multi_output=True, y_numeric=True
            )
            if len(X) < 2 and self._configured_retrieval():
                raise ValueError(
                    f"n_samples={len(X)}: the retrieval decoder needs at least 2 "
                    "training pairs (each training spectrum retrieves the others); "
                    "or use module__retrieval=False."
                )
            if self.normalize_source and X.shape[1] == 1:
                raise ValueError(
                    "n_features=1: normalize_source=True divides each source by "
                    "its largest absolute value, which leaves a source of one "
                    "point only its sign (-1, 0 or 1) to learn from. Use "
                    "normalize_source=False for sources that are not spectra."
                )
            Y = self._check_target(y, first)
            self.source_axis_ = check_x_axis(
                self.source_axis, self.n_features_in_, "source_axis"
            )
            seed = seed_from_random_state(self.random_state)
        if not first:
            # a later call continues the random stream instead of replaying
            # the first call's (an integer random_state gives the same seed)
            done = len(self.history) if self.history is not None else 0
            seed = int(np.random.SeedSequence([seed, done]).generate_state(1)[0] >> 1)
        # contiguous, writable float32 (a copy only if needed): torch's data
        # loader cannot wrap reversed views and warns on read-only memmaps
        if self.normalize_source:
            # scaled in float64 and rounded to float32 once, so that a source
            # times any gain is the same float32 row (float32 division would
            # round the two differently, and training amplifies that)
            X = _max_scaled(np.asarray(X, dtype=np.float64))
        X = np.require(X, dtype=np.float32, requirements="CW")
        if _may_share_memory(X, given):
            # the pairs are kept for partial_fit (and pickled): a copy, so
            # that the caller reusing its array does not change them
            X = X.copy()
        Y = np.require(Y, dtype=np.float64, requirements="CW")
        # a later call that fails puts back the model it started from: its
        # last steps may have left non-finite weights
        before = None if first else self._training_state()
        try:
            with seeded_torch(seed, self.device), autograd_on():
                if first:
                    self.initialize()
                    self.module_.set_scaling(
                        to_tensor(X, self.device), to_tensor(Y, self.device)
                    )
                    self.module_.source_max_scaled.fill_(float(self.normalize_source))
                self._check_cached_training_scores()
                Ys = self._scale_target(Y).astype(np.float32)
                self._memory_extend = extend and not first
                self._memory_data = self._memory_pairs_with(X, Ys, self._memory_extend)
                # the epochs see the targets in their units (so that skorch's
                # scoring callbacks compare like with like); each step
                # standardises its batch
                self.notify("on_train_begin", X=X, y=Y)
                self._run_epochs(X, Y, **fit_params)
                self.__dict__.pop("_memory_train", None)  # every pair now
                self._refresh_memory()
                self.notify("on_train_end", X=X, y=Y)
                # a callback may have set other weights (EarlyStopping with
                # load_best=True restores the best epoch's): encode the memory
                # with the weights the model keeps
                self._refresh_memory()
            # kept (pickled and saved with the model) so that partial_fit can
            # re-encode the earlier pairs
            retrieval = getattr(self.module_, "retrieval", None) is not None
            self._memory_pairs = self._memory_data if retrieval else None
        except Exception:
            if first:
                # a network whose first training failed is not a fitted
                # model: predict raises NotInitializedError, as before fit
                self.__dict__.pop("module_", None)
                self.initialized_ = False
            else:
                self._restore_training_state(before)
            raise
        finally:  # what only training uses goes, also if it fails
            for name in _TRAINING_ONLY:
                self.__dict__.pop(name, None)
        return self

    def _training_state(self):
        """Return copies of the weights, the optimizer's state and the epoch count."""
        return (
            copy.deepcopy(self.module_.state_dict()),
            copy.deepcopy(self.optimizer_.state_dict()),
            len(self.history),
        )

    def _restore_training_state(self, state):
        """Put back what :meth:`_training_state` copied."""
        module, optimizer, n_epochs = state
        self.module_.load_state_dict(module)
        self.optimizer_.load_state_dict(optimizer)
        del self.history[n_epochs:]

    def _run_epochs(self, X, Y, **fit_params):
        """Run skorch's fit loop; a Ctrl-C keeps what was learned, as skorch does."""
        epochs_before = len(self.history)
        self._interrupted = False
        try:
            self.fit_loop(X, Y, **fit_params)
        except KeyboardInterrupt:
            if self._stopped_early():
                return
            self._interrupted = True
            done = len(self.history) - epochs_before
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {done} "
                f"of {self.max_epochs} epochs; the model is only partly "
                "trained.",
                UserWarning,
                stacklevel=4,
            )

    def _stopped_early(self):
        """Whether skorch's EarlyStopping ended training.

        It raises ``KeyboardInterrupt`` when its patience runs out, as a
        Ctrl-C would; that is a finished training, not an interrupted one.
        """
        return any(
            isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
            for _, cb in self.callbacks_ or ()
        )

    def _check_cached_training_scores(self):
        """Refuse scores of training batches that ``stretch``/``mixup`` altered."""
        if not (self.mixup > 0 or self.stretch > 0):
            return
        for name, cb in self.callbacks_ or ():
            if isinstance(cb, EpochScoring) and cb.on_train and cb.use_caching:
                raise ValueError(
                    f"The callback {name!r} scores the training data from the "
                    "predictions made in training (use_caching=True), but "
                    "stretch and mixup alter the training pairs before they "
                    "are predicted, so those predictions are not of the data "
                    "it scores against. Pass use_caching=False to it, or set "
                    "stretch=0 and mixup=0."
                )

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split the data as skorch does; keep the validation pairs out of the memory.

        With a ``train_split``, the retrieval memory holds the training part
        only while the validation part is scored, so that the validation
        loss (and early stopping on it) decodes the validation pairs as new
        data. Once training ends, the memory holds every pair given.

        Parameters
        ----------
        X, y : array-like
            The data of the fit.
        **fit_params : dict
            Passed on to ``train_split``.

        Returns
        -------
        dataset_train, dataset_valid : Dataset
            The training and validation data (``dataset_valid`` may be None).
        """
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        if dataset_valid is not None and hasattr(self, "_memory_data"):
            X_train, Y_train = self._pairs_of(dataset_train)
            Ys = self._scale_target(Y_train).astype(np.float32)
            n_new = len(X)
            earlier = tuple(a[: len(a) - n_new] for a in self._memory_data)
            self._memory_train = (
                np.concatenate([earlier[0], X_train]),
                np.concatenate([earlier[1], Ys]),
            )
        return dataset_train, dataset_valid

    @staticmethod
    def _pairs_of(dataset):
        """Return the ``(X, y)`` arrays of a dataset (float32 X, float64 y)."""
        try:
            X, Y = data_from_dataset(dataset)
        except AttributeError:
            items = [dataset[i] for i in range(len(dataset))]
            X = np.stack([to_numpy(torch.as_tensor(x)) for x, _ in items])
            Y = np.stack([to_numpy(torch.as_tensor(t)) for _, t in items])
        X = to_numpy(X) if torch.is_tensor(X) else np.asarray(X)
        Y = to_numpy(Y) if torch.is_tensor(Y) else np.asarray(Y)
        Y = Y.reshape(len(Y), -1).astype(np.float64)
        return X.astype(np.float32, copy=False), Y

    def get_iterator(self, dataset, training=False):
        """Return skorch's data loader; in training a lone last row joins a batch.

        Passes over a loader for predictions (``forward``, ``forward_iter``,
        ``predict`` of a Dataset) leave torch's global generator as it was.

        Parameters
        ----------
        dataset : torch Dataset
            The data to iterate over.
        training : bool, default=False
            Whether the loader is for training.

        Returns
        -------
        iterator : iterable of batches
            The batches.
        """
        iterator = self._loader(dataset, training)
        if not training:
            return _GeneratorKept(iterator)
        if getattr(self.module_, "retrieval", None) is not None:
            return _JoinedTail(iterator)
        return iterator

    def _loader(self, dataset, training):
        """Return skorch's data loader, with the batch size as an ``int``.

        As skorch builds it (``iterator_train__*`` or ``iterator_valid__*``
        parameters, else ``batch_size``; -1 is the whole data set), but
        torch's ``DataLoader`` refuses a NumPy integer batch size, which a
        grid such as ``{"batch_size": np.arange(16, 65, 16)}`` gives.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        size = kwargs.get("batch_size", self.batch_size)
        if size == -1:
            size = len(dataset)
        if isinstance(size, numbers.Integral):
            size = int(size)
        return getattr(self, prefix)(dataset, **{**kwargs, "batch_size": size})

    def _fit_to_the_end(self, X, y):
        """Fit, and raise KeyboardInterrupt again if Ctrl-C cut training short.

        For programs (the command line, the demo) that must stop on Ctrl-C
        rather than go on with a partly trained model, as skorch's
        convention has an interactive session do.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Training was interrupted")
            self.fit(X, y)
        if self._interrupted:
            raise KeyboardInterrupt
        return self

    def _memory_pairs_with(self, X, Ys, extend):
        """Return the pairs for the retrieval memory (the earlier ones first)."""
        if not extend or getattr(self.module_, "retrieval", None) is None:
            return X, Ys
        earlier = getattr(self, "_memory_pairs", None)
        if earlier is None:
            warnings.warn(
                "The training pairs of the earlier fits are not known (a model "
                "saved before they were kept, or loaded with load_params), so "
                "the retrieval memory holds the pairs of this partial_fit only.",
                UserWarning,
                stacklevel=4,
            )
            return X, Ys
        return np.concatenate([earlier[0], X]), np.concatenate([earlier[1], Ys])

    def _refresh_memory(self, pairs=None):
        """Encode training pairs (all by default) into the retrieval memory."""
        X, Ys = self._memory_data if pairs is None else pairs
        if getattr(self.module_, "retrieval", None) is None:
            return
        self.module_.set_memory(to_tensor(X, self.device), to_tensor(Ys, self.device))

    def train_step_single(self, batch, **fit_params):
        """One training step; the batch's targets are the retrieval memory.

        With ``mixup > 0`` the pairs of the batch are first mixed (see
        ``mixup``).

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` of the mini-batch.
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        step : dict
            ``loss`` and ``y_pred``, as skorch expects.
        """
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi = torch.as_tensor(Xi, device=self.device)
        yi = self._standardised(yi)
        if self.stretch > 0:
            descending = tuple(
                len(a) > 1 and bool(a[-1] < a[0])
                for a in (self.source_axis_, self.target_axis_)
            )
            # the target is stretched in its units (less nothing), not as
            # its deviation from the training mean (the dense decoder
            # without retrieval centres the targets on it): the mean's
            # bands move with the pair's
            m = self.module_
            if bool(m.y_center.any()):
                # in float64: a centre far from zero (targets on an offset)
                # would cost the deviations their float32 digits
                shift = (m.y_center.double() / float(m.y_scale)).to(yi.device)
                Xi, yi = _stretch_pairs(
                    Xi, yi.double() + shift, self.stretch, descending
                )
                yi = (yi - shift).float()
            else:
                Xi, yi = _stretch_pairs(Xi, yi, self.stretch, descending)
        if self.mixup > 0 and len(Xi) > 1:
            Xi, yi = _mix_pairs(Xi, yi, float(self.mixup))
        # the rows were scaled before they were stretched and mixed: read
        # them as they are now
        y_pred = super().infer(Xi, y=yi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        if not torch.isfinite(loss):
            raise ValueError(
                f"The training loss became {float(loss.detach())} in epoch "
                f"{len(self.history)}. Scale the spectra to moderate values "
                "(for example with sktransfer.preprocessing.MinMaxNormalizer), "
                "or lower lr."
            )
        loss.backward()
        self._memory_stale = True  # the encoder is about to change
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        """One validation step, on the standardised targets of the batch.

        The first validation step after training steps encodes the retrieval
        memory anew (the training pairs only, see ``get_split_datasets``),
        so that the validation pairs are decoded as new data would be.

        Parameters
        ----------
        batch : tuple
            ``(X, y)`` of the validation batch, ``y`` in the targets' units.
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        step : dict
            ``loss`` and the module's output ``y_pred`` (standardised).
        """
        self._memory_up_to_date()
        Xi, yi = unpack_data(batch)
        return super().validation_step((Xi, self._standardised(yi)), **fit_params)

    def _memory_up_to_date(self):
        """In training, encode the memory anew if training steps changed the encoder.

        For validation steps and for predictions made by callbacks: the
        training pairs (without the validation split's) with the encoder as
        it is now.
        """
        if getattr(self, "_memory_stale", True) and hasattr(self, "_memory_data"):
            pairs = getattr(self, "_memory_train", None)
            self._refresh_memory(self._memory_data if pairs is None else pairs)
            self._memory_stale = False

    def _standardised(self, yi):
        """Return a batch of targets in their units, standardised (float32 tensor)."""
        m = self.module_
        yi = torch.as_tensor(yi, device=self.device).reshape(len(yi), -1)
        # in float64, as the retrieval memory's targets are standardised
        center = m.y_center.to(device=yi.device, dtype=torch.float64)
        return ((yi.double() - center) / float(m.y_scale)).float()

    def _check_target(self, y, first):
        y = np.asarray(y, dtype=np.float64)
        if first:
            self._y_1d = y.ndim == 1
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not first and y.ndim == 1 and not self._y_1d:
            raise ValueError(
                "y is 1-D (a scalar target), but the regressor was fitted with "
                f"target spectra of {self.n_outputs_} points."
            )
        if not self._y_1d and Y.shape[1] < 2:
            raise ValueError(
                f"The target has {Y.shape[1]} point per spectrum; a target "
                "spectrum needs at least 2 points (pass a 1-D y for a scalar "
                "target)."
            )
        if first:
            self.n_outputs_ = Y.shape[1]
            self.target_axis_ = self._checked_target_axis("y has {} columns")
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} points per spectrum, but the regressor was "
                f"fitted with {self.n_outputs_}."
            )
        else:
            # as source_axis, target_axis may have been set since the fit
            self.target_axis_ = self._checked_target_axis(
                "y has {} columns", self.target_axis_, self._decoder_axis()
            )
        return Y

    def _checked_target_axis(self, of, known=None, decoder_axis=None):
        """Return ``target_axis`` checked, or ``known`` (else ``0, 1, ...``) if None.

        A peak decoder was built on its axis (``decoder_axis``): another
        axis is refused rather than left unused.
        """
        if self.target_axis is None and known is not None:
            return known
        axis = check_x_axis(self.target_axis, self.n_outputs_, "target_axis", of)
        if decoder_axis is not None and not np.allclose(
            axis, decoder_axis, rtol=1e-6, atol=0.0
        ):
            raise ValueError(
                "target_axis differs from the axis the peak decoder was built "
                f"on ({decoder_axis[0]:g} to {decoder_axis[-1]:g}, "
                f"{len(decoder_axis)} points): give that axis, or fit anew."
            )
        return axis

    def _decoder_axis(self):
        """Return the axis a built peak decoder holds, or None."""
        x_out = getattr(getattr(self.module_, "decoder", None), "x_out", None)
        return None if x_out is None else to_numpy(x_out).astype(np.float64)

    def initialize_module(self):
        """Build the module, sized from the data seen in ``fit``.

        Returns
        -------
        self : SpectroGenRegressor
            The estimator, with ``module_`` built.
        """
        kwargs = self.get_params_for("module")
        if isinstance(self.module, type):
            if not hasattr(self, "n_outputs_"):
                raise ValueError(
                    "SpectroGenRegressor sizes its module from the data: call "
                    "fit, or load_params with the parameters file (f_params=, "
                    "or a checkpoint whose file name is not formatted from the "
                    "training history), before initialize."
                )
            sizes = {"n_in": self.n_features_in_, "n_out": self.n_outputs_}
            for name, size in sizes.items():
                if name in kwargs and kwargs[name] != size:
                    raise ValueError(
                        f"module__{name}={kwargs[name]!r}, but the data give "
                        f"{size}: the regressor sizes its module from the data; "
                        f"leave module__{name} out."
                    )
            kwargs = {**kwargs, **sizes}
            if kwargs.get("decoder", "dense") == "peaks":
                x_out = kwargs.get("x_out")
                if isinstance(x_out, torch.Tensor):  # on a GPU, or with gradients
                    x_out = to_numpy(x_out)
                if x_out is not None and not (
                    np.shape(x_out) == np.shape(self.target_axis_)
                    and np.allclose(x_out, self.target_axis_, rtol=1e-6, atol=0.0)
                ):
                    raise ValueError(
                        "module__x_out differs from the target axis "
                        f"({self.target_axis_[0]:g} to {self.target_axis_[-1]:g}, "
                        f"{len(self.target_axis_)} points): give the axis as "
                        "target_axis, on which the regressor builds the peak "
                        "decoder."
                    )
                kwargs["x_out"] = self.target_axis_
        # outside fit (load_params, set_params(module__...)) the weights are
        # overwritten or never used: building them leaves the caller's torch
        # generator as it was; fit builds them from its own seeded stream
        # built and trained in float32 whatever torch's default dtype, so
        # that a random_state gives the same weights in every process
        with global_generators_kept(), float32_built():
            self.module_ = self.initialized_instance(self.module, kwargs)
        self.module_.float()  # a module instance given built otherwise
        return self

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Reconstruction loss plus ``beta`` x KL per target point.

        Parameters
        ----------
        y_pred : tuple of torch.Tensor
            The module's output ``(recon, mu, logvar)``.
        y_true : torch.Tensor of shape (batch, n_outputs)
            Standardised target spectra.
        X : torch.Tensor or None, default=None
            Source spectra of the batch (passed on to skorch).
        training : bool, default=False
            Whether the loss is computed for a training step.

        Returns
        -------
        loss : torch.Tensor
            Scalar loss.
        """
        recon, mu, logvar = y_pred
        loss = super().get_loss(recon, y_true, X=X, training=training)
        if self.beta:
            loss = loss + self.beta * kl_divergence(mu, logvar) / recon.shape[-1]
        return loss

    def _scale_target(self, Y):
        m = self.module_
        return (Y - to_numpy(m.y_center)) / float(m.y_scale)

    def _unscale_target(self, Ys):
        """Put standardised targets ``Ys`` (a float64 array) in units, in place."""
        Ys *= float(self.module_.y_scale)
        Ys += to_numpy(self.module_.y_center)
        return Ys

    # -------------------------------------------------------- prediction
    def _source(self, X):
        """Return the validated sources (``_batches`` converts and scales them)."""
        self.check_is_fitted()
        self._memory_up_to_date()
        return validate_spectra(self, X, reset=False)

    def infer(self, x, **fit_params):
        """Run the module on source spectra ``x``, scaled as in ``fit``.

        skorch's ``forward``, ``forward_iter`` and validation scoring come
        through here; with ``normalize_source`` each row is first divided by
        its largest absolute value, as ``fit`` and ``predict`` do.

        Parameters
        ----------
        x : array-like or torch.Tensor of shape (batch, n_features)
            Source spectra.
        **fit_params : dict
            Passed on to the module's ``forward``.

        Returns
        -------
        out : tuple of torch.Tensor
            The module's output ``(recon, mu, logvar)``.
        """
        x = _skorch_tensor(x, device=self.device)
        if torch.is_tensor(x) and x.dtype == torch.float64:
            x = x.float()  # as the network was trained (a Dataset may hold float64)
        if self._normalizes_source():
            x = _max_scaled(x)
        return super().infer(x, **fit_params)

    def _normalizes_source(self):
        """Whether the sources are max-scaled: as in the fit, where recorded."""
        flag = self.module_.source_max_scaled
        return self.normalize_source if torch.isnan(flag) else bool(flag)

    def _batches(self, X):
        """Yield source batches as float64 tensors, without gradients.

        Large batches without skorch's data loader: faster, and the loader
        would draw a base seed from the global torch generator. Each batch
        is converted and, with ``normalize_source``, scaled as it is made (a
        row's scaling depends on that row only), instead of copies of all
        the sources.
        """
        normalize = self._normalizes_source()
        with torch.no_grad():
            for start in range(0, len(X), _PREDICT_BATCH):
                xb = np.asarray(X[start : start + _PREDICT_BATCH], dtype=np.float64)
                if normalize:
                    xb = _max_scaled(xb)
                yield to_tensor(xb, self.device, dtype=torch.float64)

    @contextlib.contextmanager
    def _network64(self):
        """Yield a float64 copy of the network, in evaluation mode, to predict with.

        Trained in float32, the network predicts in float64: float32 matrix
        products can round a row differently depending on the rows beside
        it, and a spectrum's prediction should not depend on the batch it
        comes in. The retrieval memory is converted once (not copied first).
        """
        module = self.module_
        retrieval = getattr(module, "retrieval", None)
        shared = {} if retrieval is None else {id(t): t for t in retrieval.buffers()}
        with torch.no_grad():
            yield copy.deepcopy(module, shared).double().eval()

    def _encode_eval(self, X):
        """Latent means of source spectra, batch by batch, encoder only.

        Each batch's means are written into an output made before the first
        batch: a list of them, kept while the next batches' activations come
        and go, fragments the heap so that the memory grows with the number
        of spectra (by about a float64 copy of the sources).
        """
        X = self._source(X)  # first: an unfitted regressor has no network
        Z, start = None, 0
        with self._network64() as net:
            for xb in self._batches(X):
                mu = net.encode(xb)[0]
                if Z is None:
                    Z = mu.new_empty((len(X), mu.shape[1]))
                Z[start : start + len(xb)] = mu
                start += len(xb)
        return Z

    def predict(self, X):
        """Predict target spectra by decoding the mean latent.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source spectra.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_targets) or (n_samples,)
            Predicted target spectra in the original units (float64); 1-D
            for a regressor fitted on a 1-D ``y``.
        """
        if isinstance(X, torch.utils.data.Dataset):
            return self._predict_dataset(X)
        X = self._source(X)
        # each batch written into the float64 output, which is then unscaled
        # in place: no float32 copy of every prediction, and no temporaries
        # the size of the output
        Y = np.empty((len(X), self.n_outputs_))
        start = 0
        with self._network64() as net:
            for xb in self._batches(X):
                Y[start : start + len(xb)] = to_numpy(net(xb)[0])
                start += len(xb)
        return self._predictions(Y)

    def _predictions(self, Ys):
        """Return standardised predictions ``Ys`` (float64) in units, as fitted."""
        Y = self._unscale_target(Ys)
        return Y.ravel() if self._y_1d else Y

    def _predict_dataset(self, dataset):
        """Predict the sources of a torch Dataset (skorch's scoring passes one)."""
        self.check_is_fitted()
        self._memory_up_to_date()
        with torch.no_grad():
            parts = [
                to_numpy(out[0]).astype(np.float64)
                for out in self.forward_iter(dataset, training=False)
            ]
        Y = np.concatenate(parts) if parts else np.empty((0, self.n_outputs_))
        return self._predictions(Y.reshape(-1, self.n_outputs_))

    def encode(self, X):
        """Return the latent means of the source spectra.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source spectra.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim)
            Latent means (float64).
        """
        # the encoder alone: decoding (a retrieval over every training pair)
        # would cost as much as predict, for nothing
        return to_numpy(self._encode_eval(X))

    def sample(self, X, n_samples=1, random_state=None):
        """Draw target spectra from the latent distribution of each source.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Source spectra.
        n_samples : int, default=1
            Draws per source spectrum.
        random_state : int, RandomState instance or None, default=None
            Seed of the latent draws.

        Returns
        -------
        Y : ndarray of shape (n_samples_X, n_samples, n_targets) or \
                (n_samples_X, n_samples)
            Sampled target spectra in the original units (float64); the
            second shape for a regressor fitted on a 1-D ``y``.
        """
        check_param(n_samples, "n_samples", kind="int", low=1)
        X = self._source(X)
        gen = make_generator(seed_from_random_state(random_state), self.device)
        Y = np.empty((len(X), n_samples, self.n_outputs_))
        start = 0
        with self._network64() as net:
            for xb in self._batches(X):
                mu, logvar = net.encode(xb)
                # float32 draws whatever torch's default dtype (the same
                # spectra for a random_state in every process)
                eps = torch.randn(
                    (len(xb), n_samples, mu.shape[1]),
                    dtype=torch.float32,
                    generator=gen,
                    device=mu.device,
                ).to(mu.dtype)
                z = mu.unsqueeze(1) + eps * torch.exp(0.5 * logvar).unsqueeze(1)
                z = z.flatten(0, 1)
                # a view of this batch's draws in the output, one row per draw
                rows = Y[start : start + len(xb)].reshape(-1, self.n_outputs_)
                # decoded in batches of rows, as predict does: the draws of a
                # batch of sources are n_samples times as many rows
                for first in range(0, len(z), _PREDICT_BATCH):
                    part = slice(first, first + _PREDICT_BATCH)
                    rows[part] = to_numpy(net.decode(z[part]))
                start += len(xb)
        Y = self._unscale_target(Y)
        return Y[..., 0] if self._y_1d else Y

    @available_if(_retrieves)
    def kneighbors(self, X=None, n_neighbors=5, return_distance=True):
        """Find the training pairs whose latent codes are nearest.

        The prediction for a source spectrum is a softmax-weighted mean of
        the target spectra of *all* training pairs (plus a small learned
        correction), with weights proportional to
        ``exp((1 - distance) / module__temperature)``. ``kneighbors`` names
        the pairs that carry most of that weight, so their measured targets
        can be looked at as candidates, as in a library search, and a
        prediction traced back to the materials it came from.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features), default=None
            Source spectra. ``None`` queries the training pairs themselves,
            each one's neighbours being the *other* training pairs (as in
            scikit-learn's ``kneighbors``).
        n_neighbors : int, default=5
            Number of neighbours, at least 1 and at most the number of
            training pairs (one fewer when ``X`` is ``None``).
        return_distance : bool, default=True
            Whether to return the distances as well.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            Cosine distances (1 - cosine similarity) of the latent means, in
            [0, 2], in increasing order; only if ``return_distance``.
        indices : ndarray of shape (n_queries, n_neighbors)
            Row indices of the neighbours in the data of the last ``fit``,
            followed by that of every ``partial_fit`` since, in order.

        Raises
        ------
        AttributeError
            With ``module__retrieval=False`` (no training pairs are stored).
        """
        self.check_is_fitted()
        retrieval = self.module_.retrieval
        memory = retrieval.memory_z.double()
        n_memory = len(memory)
        own = X is None
        most = n_memory - 1 if own else n_memory
        check_param(n_neighbors, "n_neighbors", kind="int", low=1)
        if n_neighbors > most:
            raise ValueError(
                f"n_neighbors must be at most {most} (the number of training "
                f"pairs{', less the query itself' if own else ''}), got "
                f"{n_neighbors}."
            )
        if own:
            queries = torch.split(memory, _PREDICT_BATCH)
        else:
            queries = torch.split(self._encode_eval(X), _PREDICT_BATCH)
        # each batch written into the outputs (a list of the batches' results,
        # kept while the next distance matrices come and go, fragments the
        # heap: the memory grew with the number of queries)
        n_queries = sum(len(q) for q in queries)
        dist = np.empty((n_queries, n_neighbors))
        ind = np.empty((n_queries, n_neighbors), dtype=np.intp)
        start = 0
        for q in queries:
            part = 1 - retrieval.similarity(q, memory)
            if own:  # a training pair is not its own neighbour
                rows = torch.arange(len(q), device=part.device)
                part[rows, rows + start] = float("inf")
            # ties keep the training order, as in a stable sort
            nearest_dist, order = _smallest(part, n_neighbors)
            dist[start : start + len(q)] = to_numpy(nearest_dist)
            ind[start : start + len(q)] = order.cpu().numpy()
            start += len(q)
        return (dist, ind) if return_distance else ind

    # ------------------------------------------------------- persistence
    def save_params(self, f_params=None, **kwargs):
        """Save parameters as :meth:`skorch.NeuralNet.save_params` does.

        Called during training (by skorch's ``Checkpoint`` callback), the
        retrieval memory saved with ``f_params`` is that of every training
        pair, encoded by the weights saved beside it, as after ``fit``: a
        checkpoint then loads as a model that predicts.

        Parameters
        ----------
        f_params : str, file-like or None, default=None
            File the module's parameters (and the retrieval memory) are
            written to.
        **kwargs
            Other files and ``use_safetensors``, as in
            :meth:`skorch.NeuralNet.save_params`.

        Returns
        -------
        None
            As :meth:`skorch.NeuralNet.save_params`; the files are written.
        """
        # skorch's callbacks name the module's file f_module
        if (f_params if f_params is not None else kwargs.get("f_module")) is not None:
            self._memory_of_every_pair()
        return super().save_params(f_params=f_params, **kwargs)

    def _memory_of_every_pair(self):
        """In training, encode every training pair with the weights of now.

        For what is saved in training (a checkpoint's parameters, a
        pickle): the memory of a fitted model. Returns whether it trains;
        validation steps then encode their training part anew.
        """
        training = "_memory_data" in self.__dict__ and self.initialized_
        if training:
            with torch.no_grad():
                self._refresh_memory()
            self._memory_stale = True
        return training

    def load_params(self, f_params=None, use_safetensors=False, **kwargs):
        """Load parameters saved with ``save_params``.

        An unfitted regressor reads the source and target sizes, the target
        axis and the standardisation from ``f_params`` itself (or from the
        parameters file of ``checkpoint``), so it only needs the same
        ``module__*`` parameters as the saved one.

        Parameters
        ----------
        f_params : str, file-like or None, default=None
            File written by ``save_params(f_params=...)``.
        use_safetensors : bool, default=False
            Whether the file is in safetensors format. A file written with
            ``save_params(..., use_safetensors=True)`` is recognised as such
            without it.
        **kwargs
            Other files, or ``checkpoint``, as in
            :meth:`skorch.NeuralNet.load_params`.

        Returns
        -------
        self : SpectroGenRegressor
            The regressor with the loaded parameters.
        """
        checkpoint = kwargs.pop("checkpoint", None)
        if checkpoint is not None:
            # the files of the checkpoint, read here like any others;
            # explicit arguments win over the checkpoint's, as in skorch
            for key, f in _checkpoint_files(checkpoint, self).items():
                if key == "f_params":
                    if f_params is None and kwargs.get("f_module") is None:
                        f_params = f
                elif kwargs.get(key) is None:
                    kwargs[key] = f
            use_safetensors = getattr(checkpoint, "use_safetensors", use_safetensors)
        if f_params is not None and not use_safetensors:
            # a file saved with use_safetensors=True failed in torch.load with
            # "Unsupported operand": it is read as what it is
            use_safetensors = _is_safetensors(f_params)
        state = (
            None if f_params is None else self._read_state(f_params, use_safetensors)
        )
        if state is not None:
            self._check_normalization(
                state.get("source_max_scaled"),
                "These parameters were saved by a regressor",
            )
        # a file that does not fit the network leaves the regressor as it was
        # (torch copies the matching tensors before it raises)
        parts = (
            {
                name: copy.deepcopy(getattr(self, f"{name}_").state_dict())
                for name in (*self._modules, *self._criteria, *self._optimizers)
            }
            if self.initialized_
            else {}
        )
        try:
            with kept_if_refused(self):
                self._load_params_into(state, parts, f_params, use_safetensors, kwargs)
        except RuntimeError as exc:
            if "loading state_dict" not in str(exc):
                raise
            raise ValueError(
                "The parameters in f_params do not fit this regressor's "
                f"network ({error_gist(exc, limit=300)}): build it with the "
                "module__* parameters of the regressor that saved them."
            ) from exc
        if f_params is not None:
            # the memory now comes from the file, not from the pairs of a fit
            self._memory_pairs = None
        return self

    def _load_params_into(self, state, parts, f_params, use_safetensors, kwargs):
        """Load the file; on an error put back the state dicts ``parts``."""
        try:
            if state is not None and not self.initialized_:
                self.n_features_in_ = int(state["x_center"].shape[0])
                self.n_outputs_ = int(state["y_center"].shape[0])
                self._y_1d = self.n_outputs_ == 1
                x_out = state.get("decoder.x_out")
                if x_out is not None:
                    x_out = to_numpy(x_out).astype(np.float64)
                self.target_axis_ = self._checked_target_axis(
                    "the saved network has {} target points", x_out, x_out
                )
                self.initialize()  # the memory takes the file's size as it loads
            super().load_params(
                f_params=f_params, use_safetensors=use_safetensors, **kwargs
            )
        except BaseException:
            for name, part in parts.items():
                getattr(self, f"{name}_").load_state_dict(part)
            raise

    def _check_normalization(self, recorded, origin, remedy=""):
        """Refuse a ``normalize_source`` other than the one ``recorded``."""
        if recorded is None or torch.isnan(recorded):
            return  # saved before the flag existed: it cannot be checked
        if bool(recorded) != bool(self.normalize_source):
            raise ValueError(
                f"{origin} with normalize_source={bool(recorded)}, and this "
                f"one has normalize_source={self.normalize_source}: its "
                "predictions would be wrong. Set "
                f"normalize_source={bool(recorded)}{remedy}."
            )

    def _read_state(self, f_params, use_safetensors):
        if use_safetensors:
            from safetensors.torch import load, load_file

            if hasattr(f_params, "read"):
                state = load(f_params.read())
                f_params.seek(0)
                return state
            return load_file(f_params)
        load_kwargs = self.torch_load_kwargs or {"weights_only": True}
        state = torch.load(f_params, map_location="cpu", **load_kwargs)
        if hasattr(f_params, "seek"):
            f_params.seek(0)
        return state
