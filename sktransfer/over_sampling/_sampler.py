"""WGAN-GP over-sampler of spectra."""

import copy
import hashlib
import numbers
import threading

import numpy as np
import torch
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from scipy.ndimage import gaussian_filter1d
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from sktransfer._base import kept_if_refused
from sktransfer._validation import (
    InvalidParameterError,
    check_bool,
    check_param,
    check_sequence,
    check_verbose,
    validate_spectra,
)
from sktransfer.over_sampling._modules import Critic, Generator, _n_upsamplings
from sktransfer.over_sampling._trainer import train_wgan_gp
from sktransfer.utils._chunks import row_slices
from sktransfer.utils._memory import available_memory as _available_memory
from sktransfer.utils._torch import (
    autograd_on,
    device_after_unpickling,
    float32_built,
    make_generator,
    resolve_device,
    seed_from_random_state,
    seeded_torch,
    to_numpy,
    to_tensor,
)

_CHUNK = 4096  # generated spectra per batch in sample()
#: Points per slice of rows (or columns) worked on at a time in fit.
_CHUNK_POINTS = 2**20
_ANCHORS = ("smote", "real", "mean")


class WGANGPOverSampler(BaseOverSampler):
    """Over-sample rare classes of spectra with a Wasserstein GAN (WGAN-GP).

    A class-conditional generator of transposed 1-D convolutions learns to
    produce spectra that a convolutional critic cannot tell from the
    measured spectra of the class; the critic is kept 1-Lipschitz by a
    gradient penalty. It is an imbalanced-learn over-sampler: new spectra
    are drawn until the classes reach the counts asked by
    ``sampling_strategy``, with imbalanced-learn's semantics, and it works
    in :class:`imblearn.pipeline.Pipeline`.

    With a few to a few hundred spectra per class, a GAN that draws whole
    spectra from noise learns too little (peaks come out smoothed, bands go
    missing) and its spectra lie off the data. So the generator draws
    *around measured spectra*: each generated spectrum is an ``anchor`` (by
    default a random point on the line between a spectrum of the class and
    one of its nearest neighbours in the class, as SMOTE does), plus the
    measurement noise that interpolation averages away (estimated from the
    high-frequency residuals of the training spectra), plus a residual that
    the generator learns adversarially. The residual starts at zero, so
    training only has to learn how measured spectra differ from the anchors.
    Last, a rare class has seen few of the things that vary within every
    class (batches, sample preparation, scattering, baseline); each
    generated spectrum borrows such variation from the other classes
    (``shared_variation``).

    Read more in the :ref:`User Guide <over_sampling>`.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Which classes to over-sample and to how many samples, as in
        imbalanced-learn:

        - float: ratio minority / majority after resampling (binary y only);
        - ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``,
          ``"auto"`` (= ``"not majority"``): classes brought to the majority
          count;
        - dict ``{class: target count}``;
        - callable ``y -> dict`` of target counts.

    anchor : {"smote", "real", "mean"}, default="smote"
        What the learned residual is added to: a random interpolate between a
        spectrum of the class and one of its ``k_neighbors`` nearest
        neighbours in the class (``"smote"``), a measured spectrum of the
        class (``"real"``), or the class mean (``"mean"``, the classic
        GAN that generates the whole variation).
    k_neighbors : int, default=5
        Neighbours within the class for ``anchor="smote"``. A class with
        fewer other spectra repeats its neighbours, nearest first, to fill
        the ``k_neighbors`` places, so that the nearer are drawn more often
        (in a class of 4 spectra: 2/5, 2/5 and 1/5; drawing them equally
        often lowered two of the three IR-species cells of
        ``benchmarks/bench_augmentation.py`` by 0.03-0.04).
    noise : bool, default=True
        Add back the measurement noise that averaging removes: Gaussian noise
        with the per-point standard deviation of the training spectra's
        high-frequency residuals (robustly estimated), scaled so that an
        interpolate has the noise level of a measured spectrum.
    noise_width : float, default=2.0
        Width (standard deviation, in points) of the Gaussian smoothing
        that separates the high-frequency residual from the spectrum. With
        ``noise``, a width of a small fraction of a point (under about 0.16),
        whose smoothing leaves the spectra as they are, raises a ValueError,
        and so does a width wider than the spectra (and than 16 points).
    shared_variation : float, default=1.0
        Scale of the within-class variation borrowed from the other classes.
        Each generated spectrum gets ``shared_variation * g * d``, where ``d``
        is the deviation of a random training spectrum of *another* class
        from that class's mean, rescaled to the root-mean-square spread of
        the generated class, and ``g`` is standard normal. Much of what
        varies within a class (production batch, sample preparation, light
        scattering, baseline, instrument drift) acts on every class alike,
        and a rare class has seen too little of it; this lends it the
        variation seen in the common classes. ``0`` keeps the generated
        spectra around the class's own spectra only.
    conditional : bool, default=True
        Train one class-conditional model (True) or one model per targeted
        class (False; as many trainings as classes).
    max_iter : int, default=100
        Number of generator updates per model.
    n_critic : int, default=5
        Critic updates per generator update.
    gp_weight : float, default=10.0
        Weight of the gradient penalty.
    batch_size : int, default=32
        Spectra per batch.
    latent_dim : int, default=32
        Size of the latent code.
    channels : int, default=32
        Width (feature maps) of the generator's first and the critic's last
        convolution.
    n_critic_layers : int, default=4
        Number of stride-2 convolutions of the critic.
    learning_rate : float, default=1e-3
        Adam learning rate of both networks.
    betas : tuple of float, default=(0.5, 0.9)
        Adam betas of both networks, two numbers in [0, 1).
    verbose : int, default=0
        If positive, show a progress bar while training.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, batches, anchors, noise and latent draws. On CPU
        the same seed gives identical spectra with the same number of torch
        threads (:func:`torch.get_num_threads`; another number rounds
        differently, as in joblib or Dask worker processes, which have one),
        also for fits in parallel threads (which train one at a time:
        torch's generator is shared by the process; use processes to train
        in parallel). Other code of the same process that draws from
        torch's global generator during the fit, in another thread, changes
        the fit (see the user guide on scaling out).
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. Set after
        ``fit``, it moves the fitted generators there at the next ``sample``.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of spectra to generate for each targeted class.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    noise_std_ : ndarray of shape (n_features,)
        Per-point standard deviation of the measurement noise (zeros with
        ``noise=False``).
    generators_ : dict
        The trained generator modules: key ``None`` for the conditional
        model, else one per targeted class.
    history_ : dict
        Training losses per model (same keys as ``generators_``), each a
        dict of arrays of length ``max_iter``: ``critic_loss``,
        ``generator_loss``, ``wasserstein``, ``gradient_penalty``.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features,)
        Names of features seen in ``fit``, if X had string column names.

    See Also
    --------
    sktransfer.pipeline.AugmentedClassifier : Resample inside ``fit`` of any
        classifier.
    imblearn.over_sampling.SMOTE : Interpolating over-sampler.

    Notes
    -----
    Inside, every spectrum is centred on the mean spectrum of its class and
    divided by one global standard deviation (which keeps peak shapes). The
    sampler keeps its training spectra (the anchors), so ``sample`` works
    after ``fit``. Every class to be over-sampled needs at least two spectra;
    a class with one spectrum raises a ``ValueError`` (use a dict
    ``sampling_strategy`` that leaves it out). ``fit_resample`` returns the
    generated rows in the input's float dtype (float32 stays float32;
    ``sample`` returns float64), and they are generated in
    chunks written straight into the output; a request whose output, with a
    chunk being generated, would not fit in the free memory is refused
    before anything is generated. The defaults were chosen on
    imbalanced Raman and NIR benchmarks split by species or by production
    batch (``benchmarks/bench_augmentation.py``), where they matched or
    beat SMOTE in 7 or 8 of 9 (task, classifier) cells; ``shared_variation=1``
    (the class's own spread) was compared there with 0 and 0.5 only. See
    the user guide for when SMOTE is the better choice.

    References
    ----------
    .. [1] I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin and A. Courville,
       "Improved training of Wasserstein GANs", NeurIPS 2017.
    .. [2] N. V. Chawla, K. W. Bowyer, L. O. Hall and W. P. Kegelmeyer,
       "SMOTE: synthetic minority over-sampling technique", JAIR 16, 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.over_sampling import WGANGPOverSampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(23, 40))
    >>> y = np.array([0] * 20 + [1] * 3)
    >>> sampler = WGANGPOverSampler(max_iter=5, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res.shape, np.bincount(y_res).tolist()
    ((40, 40), [20, 20])
    >>> sampler.sample(2, y=1).shape
    (2, 40)
    """

    def __init__(
        self,
        sampling_strategy="auto",
        *,
        anchor="smote",
        k_neighbors=5,
        noise=True,
        noise_width=2.0,
        shared_variation=1.0,
        conditional=True,
        max_iter=100,
        n_critic=5,
        gp_weight=10.0,
        batch_size=32,
        latent_dim=32,
        channels=32,
        n_critic_layers=4,
        learning_rate=1e-3,
        betas=(0.5, 0.9),
        verbose=0,
        random_state=None,
        device="cpu",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.anchor = anchor
        self.k_neighbors = k_neighbors
        self.noise = noise
        self.noise_width = noise_width
        self.shared_variation = shared_variation
        self.conditional = conditional
        self.max_iter = max_iter
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.batch_size = batch_size
        self.latent_dim = latent_dim
        self.channels = channels
        self.n_critic_layers = n_critic_layers
        self.learning_rate = learning_rate
        self.betas = betas
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # spectra are dense
        tags.non_deterministic = str(self.device) != "cpu"
        return tags

    def _check_params(self):
        for name, low in (
            ("max_iter", 1),
            ("n_critic", 1),
            ("batch_size", 1),
            ("latent_dim", 1),
            ("channels", 1),
            ("n_critic_layers", 1),
            ("k_neighbors", 1),
        ):
            check_param(getattr(self, name), name, kind="int", low=low)
        check_param(self.gp_weight, "gp_weight", low=0)
        check_param(self.shared_variation, "shared_variation", low=0)
        check_param(self.noise_width, "noise_width", low=0, closed="neither")
        check_param(self.learning_rate, "learning_rate", low=0, closed="neither")
        check_verbose(self.verbose)
        check_bool(self.noise, "noise")
        if self.noise and _residual_noise_fraction(self.noise_width) == 0:
            # so narrow a smoothing leaves the spectra as they are (to
            # rounding): there is no residual to measure the noise from
            raise ValueError(
                "noise_width must be wide enough for the smoothing to leave a "
                f"residual to measure the noise from; got {self.noise_width!r}."
            )
        check_bool(self.conditional, "conditional")
        check_sequence(self.betas, "betas", length=2, low=0, high=1, closed="left")
        if self.anchor not in _ANCHORS:
            raise InvalidParameterError(
                f"anchor must be one of {_ANCHORS}; got {self.anchor!r}."
            )

    def _check_X_y(self, X, y, accept_sparse=None):
        # dense float spectra only; imbalanced-learn's checks otherwise
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_spectra(
            self, X=X, y=y, reset=True, dtype=(np.float64, np.float32)
        )
        return X, y, binarize_y

    def fit(self, X, y):
        """Train the generator(s) on the spectra ``X`` of classes ``y``.

        If it fails, a fitted sampler is left as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training spectra.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : WGANGPOverSampler
            The fitted sampler.
        """
        # a fit that fails (data it refuses, say) leaves a fitted sampler
        # as it was: validation sets n_features_in_ and sampling_strategy_,
        # and the checks of the classes come after it
        with kept_if_refused(self):
            check_classification_targets(y)
            super().fit(X, y)  # validates and sets sampling_strategy_
            X, y, _ = self._check_X_y(X, y)
            return self._train(X, y)

    def fit_resample(self, X, y, **params):
        """Train the generator(s) and return the spectra with the new ones.

        If it fails, a fitted sampler is left as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training spectra.
        y : array-like of shape (n_samples,)
            Class labels.
        **params : dict
            Passed on to imbalanced-learn's ``fit_resample`` (none are used).

        Returns
        -------
        X_resampled : ndarray or DataFrame of shape (n_samples_new, n_features)
            ``X`` followed by the generated spectra: float32 for float32
            spectra, else float64 (DataFrames of integer or mixed columns
            included).
        y_resampled : ndarray or Series of shape (n_samples_new,)
            ``y`` followed by the classes of the generated spectra.
        """
        with kept_if_refused(self):
            return super().fit_resample(_float_frame(X), y, **params)

    def _fit_resample(self, X, y):
        self._check_params()  # before the memory check reads channels
        # before training: a float count (a dict of float targets) failed
        # only when the spectra were generated
        odd = {
            c: n
            for c, n in self.sampling_strategy_.items()
            if isinstance(n, bool | np.bool_) or not isinstance(n, numbers.Integral)
        }
        if odd:
            raise ValueError(
                "sampling_strategy must give whole numbers of spectra per class "
                f"(integers); it asks for {odd!r} new spectra."
            )
        n_new = sum(self.sampling_strategy_.values())
        _check_memory(
            n_new, len(y) + n_new, X.shape[1], X.dtype.itemsize, self.channels
        )
        self._train(X, y)
        labels = [
            np.full(n, c, dtype=y.dtype) for c, n in self.sampling_strategy_.items()
        ]
        y_new = np.concatenate([y, *labels])
        X_res = np.empty((len(y_new), X.shape[1]), dtype=X.dtype)
        X_res[: len(X)] = X
        # generated straight into the output, in its dtype
        self._generate_into(X_res[len(X) :], y_new[len(y) :])
        return X_res, y_new

    def _train(self, X, y):
        self._check_params()
        self.classes_, y_idx, counts = np.unique(
            y, return_inverse=True, return_counts=True
        )
        self._counts = dict(zip(self.classes_.tolist(), counts.tolist()))
        _check_generable(
            [c for c, n_new in self.sampling_strategy_.items() if n_new],
            self._counts,
            "Leave it out with a dict sampling_strategy.",
        )
        self._device = resolve_device(self.device)
        seed = seed_from_random_state(self.random_state)
        self._torch_gen = make_generator(seed, self._device)
        if self.noise and self.noise_width > max(X.shape[1], _NARROW_SPECTRA):
            # the smoothing costs the width times the points
            raise ValueError(
                f"noise_width={self.noise_width!r} points is wider than the "
                f"spectra ({X.shape[1]} points): the smoothing would average "
                "whole spectra. Use a width of a few points."
            )
        self.noise_std_ = (
            _noise_std(X, self.noise_width) if self.noise else np.zeros(X.shape[1])
        )
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm
        self.generators_, self.history_, self._models = {}, {}, {}
        with seeded_torch(seed, self._device), autograd_on():
            if self.conditional:
                # the one model holds every spectrum: its own deviations from
                # the class means are those it borrows from
                self._fit_one(None, X, y_idx, None, progress)
                return self
            # the spectra of every class and their class means, which each
            # model borrows deviations from for the classes it does not hold
            with np.errstate(over="ignore", invalid="ignore"):
                means = _class_means(X, y_idx)
            _check_finite_spread(X, means)
            pool = (X, y_idx, means)
            for c in self.sampling_strategy_:
                mask = y == c
                self._fit_one(c, X[mask], y_idx[mask], pool, progress)
        return self

    def _fit_one(self, key, X, y_idx, pool, progress):
        codes = y_idx if key is None else np.zeros(len(X), dtype=int)
        model = _AnchorModel(
            X,
            codes,
            anchor=self.anchor,
            k_neighbors=self.k_neighbors,
            noise_std=self.noise_std_,
            pool=pool,
            class_of_code=np.unique(y_idx),
            shared_variation=self.shared_variation,
        )
        model.to(self._device)
        n_classes = len(self.classes_) if key is None else 0
        # float32 whatever torch's default dtype (torch.set_default_dtype):
        # the same initial weights for a random_state in every process
        with float32_built():
            gen = Generator(X.shape[1], self.latent_dim, n_classes, self.channels)
            critic = Critic(X.shape[1], n_classes, self.channels, self.n_critic_layers)
        gen.to(self._device)
        critic.to(self._device)
        labels = to_tensor(codes, self._device, torch.long) if key is None else None
        history = train_wgan_gp(
            gen,
            critic,
            model.real,
            labels,
            n_iter=self.max_iter,
            n_critic=self.n_critic,
            gp_weight=self.gp_weight,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            betas=tuple(float(b) for b in self.betas),
            latent_dim=self.latent_dim,
            torch_generator=self._torch_gen,
            progress=progress,
            base=lambda rows: model.draw(rows, self._torch_gen),
        )
        if not all(np.isfinite(v).all() for v in history.values()):
            raise ValueError(
                "The WGAN-GP training losses became non-finite. Scale the "
                "spectra to moderate values (for example with "
                "sktransfer.preprocessing.MinMaxNormalizer) or lower "
                "learning_rate."
            )
        gen.eval()
        self.generators_[key] = gen
        self.history_[key] = history
        self._models[key] = model

    def sample(self, n_samples, *, y):
        """Generate spectra of the given class(es).

        Each call continues the sampler's random stream. Calls in several
        threads run one at a time, each drawing as it would alone.

        Parameters
        ----------
        n_samples : int
            Number of spectra to generate.
        y : object or array-like of shape (n_samples,)
            One class label for all spectra, or one label per spectrum.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Generated spectra (float64).
        """
        check_is_fitted(self, "generators_")
        check_param(n_samples, "n_samples", kind="int", low=0)
        if not self.generators_:
            raise ValueError(
                "No generator was trained: the sampler was fitted with "
                "conditional=False and a sampling_strategy that targets no "
                f"class ({self.sampling_strategy_!r})."
            )
        channels = next(iter(self.generators_.values())).channels
        _check_memory(n_samples, n_samples, self.n_features_in_, 8, channels)
        labels = np.asarray(y)
        if labels.ndim != 0 and labels.shape != (n_samples,):
            raise ValueError(
                f"y must be one label or {n_samples} labels; got shape {labels.shape}."
            )
        # before a single label is cast to the classes' dtype, which would
        # turn 7.9 into 7 or "bbb" into "bb"
        unknown = set(np.atleast_1d(labels).tolist()) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                f"y contains class(es) {sorted(unknown, key=str)} not seen in fit."
            )
        # (samplers pickled before the counts were kept cannot tell)
        _check_generable(
            set(np.atleast_1d(labels).tolist()) if n_samples else (),
            getattr(self, "_counts", {}),
            "Ask for the other classes only.",
        )
        if labels.ndim == 0:
            labels = np.full(n_samples, labels[()], dtype=self.classes_.dtype)
        out = np.empty((n_samples, self.n_features_in_))
        # one call at a time: each draws from the generator in one run
        with self._draw_lock():
            self._generate_into(out, labels)
        return out

    def _draw_lock(self):
        """Return the lock of the draws from the generator (made on first use)."""
        return self.__dict__.setdefault("_draws", threading.Lock())

    def _generate_into(self, out, labels):
        """Write spectra of the classes ``labels`` into the rows of ``out``.

        Generated by class in batches of ``_CHUNK`` spectra, each cast into
        ``out`` (of any float dtype) as soon as it is made.
        """
        classes = np.unique(labels).tolist()
        for c in classes:  # before anything is drawn from the generator
            self._key(c)
        for c in classes:
            rows = np.flatnonzero(labels == c)
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                new = self._generate(c, len(chunk))
                with np.errstate(over="ignore"):
                    out[chunk] = new  # float32 output: a value may overflow
                finite = bool(np.isfinite(new).all())
                if not (finite and np.isfinite(out[chunk]).all()):
                    raise ValueError(
                        "Generated spectra are not finite"
                        + (f" in {out.dtype}" if finite else "")
                        + ". Scale the spectra to moderate values (for example "
                        "with sktransfer.preprocessing.MinMaxNormalizer)."
                    )
                del new  # not held while the next batch is made

    def _key(self, c):
        """Return the key of the generator of class ``c``, or raise if it has none.

        As fitted: ``conditional`` may have been changed with ``set_params``
        since.
        """
        key = None if None in self.generators_ else c
        if key not in self.generators_:
            raise ValueError(
                f"No generator was trained for class {c!r}: the sampler was "
                "fitted with conditional=False, and only the classes of "
                f"sampling_strategy_ ({list(self.sampling_strategy_)}) have one."
            )
        return key

    def _generate(self, c, n):
        key = self._key(c)
        gen, model = self.generators_[key], self._models[key]
        self._move_to(resolve_device(self.device))
        code = int(np.searchsorted(self.classes_, c)) if key is None else 0
        lab = torch.full((n,), code, dtype=torch.long, device=self._device)
        z = torch.randn(
            n,
            gen.latent_dim,  # as fitted, whatever set_params says now
            dtype=torch.float32,
            generator=self._torch_gen,
            device=self._device,
        )
        onehot = None
        if key is None:
            onehot = torch.nn.functional.one_hot(lab, len(self.classes_)).float()
        with torch.no_grad():
            rows = model.rows_of(lab, self._torch_gen)
            fake = gen(z, onehot) + model.draw(rows, self._torch_gen)
            # variation of the other classes, after the adversarial step: the
            # critic only knows the class's own spectra
            fake += model.borrowed(lab, self._torch_gen)
        # a float64 array of its own, unscaled in place
        return model.unscale(to_numpy(fake), code)

    def _move_to(self, device):
        # ``device`` may have been changed with set_params after fit (or the
        # sampler unpickled on another machine): generate where it now says.
        if device == self._device:
            return
        for gen in self.generators_.values():
            gen.to(device)
        for model in self._models.values():
            model.to(device)
        gen_device = self._torch_gen.device
        seed = torch.randint(
            2**31 - 1, (1,), generator=self._torch_gen, device=gen_device
        )
        seed = int(seed.item())
        self._torch_gen = make_generator(seed, device)
        self._device = device

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_draws", None)  # a lock; a copy makes its own
        if "generators_" in state:
            # Store CPU copies, so that a sampler trained on a GPU unpickles
            # on a machine without one; _move_to puts them back on device.
            state["generators_"] = {
                k: copy.deepcopy(g).cpu() for k, g in self.generators_.items()
            }
            state["_models"] = {
                k: copy.deepcopy(m).to(torch.device("cpu"))
                for k, m in self._models.items()
            }
            with self._draw_lock():  # not in the middle of a sample call
                gen_state = self._torch_gen.get_state()
            state["_torch_gen"] = (str(self._device), gen_state)
            state["_device"] = torch.device("cpu")
        return state

    def __setstate__(self, state):
        device_after_unpickling(state, "generators_" in state, type(self).__name__)
        if isinstance(state.get("_torch_gen"), tuple):
            device, gen_state = state["_torch_gen"]
            cpu_gen = torch.Generator()
            if device == "cpu":
                cpu_gen.set_state(gen_state)
            else:
                # A CUDA generator state does not fit a CPU generator; derive
                # a CPU seed from all its bytes (their sum made seeds 1, 256
                # and 65536 one stream).
                digest = hashlib.sha256(gen_state.numpy().tobytes()).digest()
                cpu_gen.manual_seed(int.from_bytes(digest[:8], "little"))
            state["_torch_gen"] = cpu_gen
        self.__dict__.update(state)


class _AnchorModel:
    """Scaled training spectra of one model and the draw of anchors + noise.

    Every spectrum is centred on its class mean and divided by one global
    scale; anchors, noise and generated residuals live in those units.
    """

    def __init__(
        self,
        X,
        codes,
        *,
        anchor,
        k_neighbors,
        noise_std,
        pool,
        class_of_code,
        shared_variation,
    ):
        counts = np.bincount(codes)
        with np.errstate(over="ignore", invalid="ignore"):
            self.centers = _class_means(X, codes)
            std = _deviation_std(X, self.centers, codes)
        _check_finite_spread(X, self.centers, std)
        extent = float(np.abs(X if pool is None else pool[0]).max(initial=0.0))
        self.scale = _deviation_scale(std, self.centers, noise_std, extent)
        self.anchor = anchor
        self.real, real_sq, own_sq = _scaled_deviations(
            X, self.centers, codes, self.scale
        )
        self.noise = torch.as_tensor(noise_std / self.scale, dtype=torch.float32)
        self.codes = torch.as_tensor(codes, dtype=torch.long)
        # only SMOTE-style anchors read them (their cost grows with the
        # square of a class's size)
        neighbors = (
            _class_neighbors(X, codes, k_neighbors)
            if anchor == "smote"
            else np.empty((len(X), 0), dtype=np.intp)
        )
        self.neighbors = torch.as_tensor(neighbors, dtype=torch.long)
        order = np.argsort(codes, kind="stable")
        self.order = torch.as_tensor(order, dtype=torch.long)
        self.starts = torch.as_tensor(np.cumsum(counts) - counts, dtype=torch.long)
        self.counts = torch.as_tensor(counts, dtype=torch.long)
        if pool is None:  # this model's spectra are the pool
            pool = (self.real, codes, real_sq)
        else:
            pool_X, pool_codes, pool_means = pool
            dev, dev_sq, _ = _scaled_deviations(
                pool_X, pool_means, pool_codes, self.scale
            )
            pool = (dev, pool_codes, dev_sq)
        own = np.bincount(codes, weights=own_sq)
        self._init_borrowing(pool, own, class_of_code, shared_variation)

    def _init_borrowing(self, pool, own, class_of_code, shared_variation):
        """Set up the draw of deviations of other classes (scaled units).

        ``pool`` is ``(deviations, classes, squares)`` of every training
        spectrum: its deviation from its class mean in scaled units (float32
        tensor), its class and the sum of squares of its (float64) deviation;
        ``own`` holds the sums of squares of this model's ``real`` spectra
        per class code, and ``class_of_code`` maps its class codes to the
        pool's classes. ``borrow_factor[code]`` rescales a borrowed deviation
        to the RMS spread of the class and multiplies it by
        ``shared_variation``.
        """
        dev, pool_codes, dev_sq = pool
        n_pool = np.bincount(pool_codes, minlength=int(pool_codes.max()) + 1)
        sq = np.bincount(pool_codes, weights=dev_sq, minlength=len(n_pool))
        factor = np.zeros(len(class_of_code))
        for code, cls in enumerate(class_of_code):
            n_other = len(pool_codes) - n_pool[cls]
            other_sq = sq.sum() - sq[cls]
            if shared_variation and n_other and other_sq > 0:
                spread = np.sqrt(own[code] / self.counts[code].item())
                factor[code] = shared_variation * spread / np.sqrt(other_sq / n_other)
        self.borrow_factor = torch.as_tensor(factor, dtype=torch.float32)
        self.borrow = bool(factor.any())
        self.pool = dev
        self.pool_class = torch.as_tensor(class_of_code, dtype=torch.long)
        order = np.argsort(pool_codes, kind="stable")
        self.pool_order = torch.as_tensor(order, dtype=torch.long)
        self.pool_starts = torch.as_tensor(np.cumsum(n_pool) - n_pool, dtype=torch.long)
        self.pool_counts = torch.as_tensor(n_pool, dtype=torch.long)

    def to(self, device):
        # the pool may be ``real`` itself: it is moved once and stays shared
        pool_is_real = self.pool is self.real
        for name in (
            "real",
            "noise",
            "codes",
            "neighbors",
            "order",
            "starts",
            "counts",
            "borrow_factor",
            "pool",
            "pool_class",
            "pool_order",
            "pool_starts",
            "pool_counts",
        ):
            if not (name == "pool" and pool_is_real):
                setattr(self, name, getattr(self, name).to(device))
        if pool_is_real:
            self.pool = self.real
        return self

    def rows_of(self, codes, gen):
        """Random training rows of the classes ``codes``."""
        u = torch.rand(
            len(codes), dtype=torch.float32, generator=gen, device=gen.device
        ).to(codes.device)
        counts = self.counts[codes]
        offset = (u * counts).long().clamp_max(counts - 1)
        return self.order[self.starts[codes] + offset]

    def draw(self, rows, gen):
        """Anchors plus noise for the training rows ``rows`` (scaled units)."""
        device = self.real.device
        shape = (len(rows), self.real.shape[1])
        if self.anchor == "mean":
            base = torch.zeros(shape, dtype=self.real.dtype, device=device)
            noise_factor = 1.0
        elif self.anchor == "real":
            base, noise_factor = self.real[rows], 0.0
        else:
            k = self.neighbors.shape[1]
            n = len(rows)
            pick = torch.randint(k, (n,), generator=gen, device=gen.device).to(device)
            lam = torch.rand(
                n, 1, dtype=torch.float32, generator=gen, device=gen.device
            ).to(device)
            other = self.neighbors[rows, pick]
            own = self.real[rows]
            base = own + lam * (self.real[other] - own)
            # variance of the noise lost by averaging two measured spectra
            noise_factor = torch.sqrt(2 * lam * (1 - lam))
        eps = torch.randn(
            shape, dtype=torch.float32, generator=gen, device=gen.device
        ).to(device)
        # base + noise_factor * eps * self.noise, in place (base and eps are
        # new tensors)
        eps *= noise_factor
        eps *= self.noise
        return base.add_(eps)

    def borrowed(self, codes, gen):
        """Deviations of random spectra of other classes, rescaled per class.

        Returns zeros without a draw when nothing is borrowed
        (``shared_variation=0``, or the other classes do not vary).
        """
        if not self.borrow:
            return torch.zeros((), dtype=torch.float32, device=self.pool.device)
        device = self.pool.device
        n = len(codes)
        cls = self.pool_class[codes]
        n_own = self.pool_counts[cls]
        n_other = len(self.pool) - n_own
        u = torch.rand(n, dtype=torch.float32, generator=gen, device=gen.device).to(
            device
        )
        offset = (u * n_other).long().clamp_max((n_other - 1).clamp_min(0))
        # skip the block of the spectrum's own class in the class-sorted pool
        offset = offset + n_own * (offset >= self.pool_starts[cls])
        other = self.pool_order[offset.clamp_max(len(self.pool) - 1)]
        g = torch.randn(n, 1, dtype=torch.float32, generator=gen, device=gen.device).to(
            device
        )
        return self.borrow_factor[codes, None] * g * self.pool[other]

    def unscale(self, fake, code):
        """``fake * scale + centers[code]``, in place in the float64 ``fake``."""
        fake *= self.scale
        fake += self.centers[code]
        return fake


def _class_means(X, codes):
    """Mean spectrum of each class code ``0 .. codes.max()`` (zeros if empty).

    The rows of a class are added in float64 one after the other, from zero,
    as ``np.add.at`` does (the same sums to the last bit, at a fraction of
    its cost).
    """
    counts = np.bincount(codes)
    sums = np.zeros((len(counts), X.shape[1]))
    if X.shape[1] == 1:
        # numpy sums a single column pairwise, not one row after the other
        np.add.at(sums, codes, X)
    else:
        for c in np.flatnonzero(counts):
            rows = np.ascontiguousarray(X[codes == c])
            np.add.reduce(rows, axis=0, dtype=np.float64, out=sums[c], initial=0.0)
    return sums / np.maximum(counts, 1)[:, None]


def _check_finite_spread(X, *stats):
    """Refuse spectra whose class means or spread overflow float64."""
    if not all(np.isfinite(v).all() for v in stats):
        # spectra near 1e154 and above: their squares overflow float64
        raise ValueError(
            "The class means or the spread of the spectra are not finite in "
            f"float64 (largest magnitude {np.abs(X).max():.3g}). Scale the "
            "spectra to moderate values (for example with "
            "sktransfer.preprocessing.MinMaxNormalizer)."
        )


def _deviations(X, centers, codes, rows):
    """``X[rows] - centers[codes[rows]]``, in float64."""
    return np.subtract(X[rows], centers[codes[rows]], dtype=np.float64)


def _deviation_std(X, centers, codes):
    """``np.std(X - centers[codes])``, to the last bit, with one float64 copy."""
    dev = np.empty(X.shape)
    for rows in row_slices(len(X), X.shape[1], _CHUNK_POINTS):
        dev[rows] = _deviations(X, centers, codes, rows)
    # what np.std computes, in place
    dev -= dev.mean()
    np.square(dev, out=dev)
    return float(np.sqrt(dev.mean()))


def _float_frame(X):
    """``X``, or a DataFrame of integers or mixed dtypes as float64.

    imbalanced-learn casts the resampled array back to the dtypes of the
    DataFrame's columns: integer columns would cut the generated spectra to
    whole numbers (float16 ones round them), where the same data as an array
    gives float64.
    """
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "astype"):
        return X
    kinds = {np.dtype(d) if isinstance(d, np.dtype) else None for d in dtypes}
    if len(kinds) == 1 and kinds & {np.dtype(np.float32), np.dtype(np.float64)}:
        return X
    try:
        return X.astype(np.float64)
    except (TypeError, ValueError):
        return X  # not numbers: validation says so


def _deviation_scale(std, centers, noise_std, extent):
    """Return the scale of a model's deviations: their standard deviation ``std``.

    Spectra that do not vary within their classes (copies: a ``std`` of
    zero, or of rounding errors, at most 1e-9 of the largest class mean)
    have no spread to scale by. Then the root mean square of the measurement
    noise ``noise_std`` is used, else 1e-9 of the largest class mean, else
    (spectra of zeros) 1e-9 of ``extent``, the largest absolute value of the
    training spectra (the other classes'), else 1: the learned residual
    (which starts at zero) stays at the size of the noise, or negligible,
    whatever the units of the spectra.
    """
    floor = 1e-9 * float(np.abs(centers).max(initial=0.0))
    if std > floor:
        return std
    noise = float(np.sqrt(np.mean(np.square(noise_std))))
    return noise if noise > 0 else floor or 1e-9 * extent or 1.0


def _scaled_deviations(X, centers, codes, scale):
    """Deviations of the rows from their class centres, over ``scale``.

    Returns ``(dev, dev_sq, dev32_sq)``: ``dev`` the float32 tensor of
    ``(X - centers[codes]) / scale`` (computed in float64), ``dev_sq`` the
    sum of squares of each row in float64 before the cast and ``dev32_sq``
    that of its float32 row. Worked out a slice of rows at a time.
    """
    dev = torch.empty(X.shape, dtype=torch.float32)
    dev_sq, dev32_sq = np.empty(len(X)), np.empty(len(X), dtype=np.float32)
    for rows in row_slices(len(X), X.shape[1], _CHUNK_POINTS):
        chunk = _deviations(X, centers, codes, rows)
        chunk /= scale
        dev_sq[rows] = (chunk**2).sum(1)
        part = dev[rows].numpy()
        part[:] = chunk
        dev32_sq[rows] = (part**2).sum(1)
    return dev, dev_sq, dev32_sq


def _class_neighbors(X, codes, k):
    """Return up to ``k`` nearest neighbours of each row within its class.

    A class with fewer rows repeats its neighbours, nearest first, to fill
    the ``k`` places: the nearer are drawn more often (a class of 4 rows,
    ``k=5``: 2/5, 2/5, 1/5). A one-row class is its own neighbour.
    """
    out = np.repeat(np.arange(len(X))[:, None], k, axis=1)
    for c in np.unique(codes):
        rows = np.flatnonzero(codes == c)
        if len(rows) < 2:
            continue
        n_nb = min(k, len(rows) - 1)
        nn = NearestNeighbors(n_neighbors=n_nb + 1).fit(X[rows])
        idx = nn.kneighbors(X[rows], return_distance=False)[:, 1:]
        out[rows] = rows[np.stack([np.resize(r, k) for r in idx])]
    return out


def _check_generable(classes, counts, remedy):
    """Refuse to generate spectra of a class of fewer than 2 training spectra."""
    for c in classes:
        if counts.get(c, 2) < 2:
            c = c.item() if isinstance(c, np.generic) else c
            raise ValueError(
                f"Class {c!r} has 1 sample; WGANGPOverSampler needs at least 2 "
                f"spectra in every class it generates. {remedy}"
            )


def _residual_noise_fraction(width):
    """Return the std of ``x - gaussian_filter1d(x, width)`` for white noise of std 1.

    Part of the noise stays in the smoothed spectrum, so the residual holds
    ``sqrt(1 - 2 g_0 + sum_k g_k^2)`` of it, ``g`` being the filter's
    weights (0.86 at a width of 2 points).
    """
    if width > _WIDE_FILTER:
        # the sums of the sampled Gaussian, as integrals (the filter of an
        # impulse costs width**2; the two agree to 1e-7 at this width)
        g0, g2 = 1 / (np.sqrt(2 * np.pi) * width), 1 / (2 * np.sqrt(np.pi) * width)
        return float(np.sqrt(1 - 2 * g0 + g2))
    impulse = np.zeros(2 * int(4 * width + 0.5) + 3)
    impulse[len(impulse) // 2] = 1.0
    g = gaussian_filter1d(impulse, width, mode="constant")
    return float(np.sqrt(1 - 2 * g[len(g) // 2] + np.sum(g**2)))


_WIDE_FILTER = 100.0
# noise_width may exceed the length of spectra shorter than this
_NARROW_SPECTRA = 16


def _noise_std(X, width):
    """Robust per-point standard deviation of the measurement noise.

    Taken from the high-frequency residual (the spectrum less its Gaussian
    smoothing of ``width`` points), corrected for the part of the noise that
    the smoothing keeps, so that white noise of standard deviation 1 gives 1.
    One copy of ``X`` in all: the residual is filtered a slice of rows at a
    time, and its medians are taken a slice of columns at a time.
    """
    resid = np.empty_like(X)
    for rows in row_slices(len(X), X.shape[1], _CHUNK_POINTS):
        smooth = gaussian_filter1d(X[rows], width, axis=1, mode="nearest")
        np.subtract(X[rows], smooth, out=resid[rows])
    mad = []
    for cols in row_slices(X.shape[1], len(X), _CHUNK_POINTS):
        part = resid[:, cols]
        mad.append(np.median(np.abs(part - np.median(part, axis=0)), axis=0))
    return 1.4826 / _residual_noise_fraction(width) * np.concatenate(mad)


def _generate_bytes(channels, n_features):
    """Bytes per point held while a batch of spectra is generated.

    The generator's activations (its last layers weigh most with few
    channels, its first ones with many), the anchors, noise and borrowed
    deviations, and the float64 copy that is unscaled: measured on CPU at
    about 92 bytes per point with 8 to 32 channels and 1.26 bytes per point
    and channel with 128 or 256, on spectra long enough for four doublings
    of the length; with some room. A shorter spectrum has fewer doublings,
    so its first layer holds ``channels`` values at up to every point: up
    to about 8 bytes per point and channel, measured with no doubling.
    """
    n_up = _n_upsamplings(n_features)
    return max(96, 4 * channels // 3, (12 * channels) >> n_up)


def _check_memory(n_requested, n_rows, n_features, itemsize, channels):
    """Refuse, up front, an output that cannot fit in the free memory.

    ``n_requested`` spectra are asked for and written into an output of
    ``n_rows`` rows of ``n_features`` points of ``itemsize`` bytes; they
    are generated in batches of ``_CHUNK``, one at a time, by a generator of
    ``channels`` channels (see :func:`_generate_bytes`).
    """
    batch = (
        min(n_requested, _CHUNK) * n_features * _generate_bytes(channels, n_features)
    )
    need = n_rows * n_features * itemsize + batch
    free = _available_memory()
    if free is not None and need > free:
        raise MemoryError(
            f"Generating {n_requested} spectra of {n_features} points needs "
            f"{need / 2**30:.1f} GiB (an output of {n_rows} rows and a batch of "
            f"{min(n_requested, _CHUNK)} being made), but only "
            f"{free / 2**30:.1f} GiB of memory are free. Ask for fewer spectra "
            "(a smaller sampling_strategy or n_samples)."
        )
