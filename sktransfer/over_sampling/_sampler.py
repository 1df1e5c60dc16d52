"""WGAN-GP over-sampler of spectra."""

import copy

import numpy as np
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from sktransfer._validation import check_param
from sktransfer.over_sampling._modules import Critic, Generator
from sktransfer.over_sampling._sampling_strategy import resolve_sampling_strategy
from sktransfer.over_sampling._trainer import train_wgan_gp
from sktransfer.utils._torch import (
    make_generator,
    resolve_device,
    seed_from_random_state,
    to_numpy,
    to_tensor,
)


class WGANGPOverSampler(OneToOneFeatureMixin, BaseEstimator):
    """Over-sample rare classes of spectra with a Wasserstein GAN (WGAN-GP).

    A generator of transposed 1-D convolutions learns to produce spectra
    that a convolutional critic cannot tell from the measured ones; the
    critic is kept 1-Lipschitz by a gradient penalty. New spectra are drawn
    until the classes reach the counts asked by ``sampling_strategy``, with
    the same semantics as imbalanced-learn's over-samplers.

    By default one class-conditional model is trained on all classes, so a
    class of three spectra borrows what it shares with the others;
    ``conditional=False`` trains one model per targeted class instead.
    Training runs a fixed number of generator updates (``max_iter``) on
    class-balanced batches drawn with replacement, so that tiny data sets
    still train enough and large ones do not take longer.

    Read more in the :ref:`User Guide <over_sampling>`.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Which classes to over-sample and to how many samples:

        - float: ratio minority / majority after resampling (binary y only);
        - ``"minority"``, ``"not minority"``, ``"not majority"``, ``"all"``,
          ``"auto"`` (= ``"not majority"``): classes brought to the majority
          count;
        - dict ``{class: target count}``;
        - callable ``y -> dict`` of target counts.

    conditional : bool, default=True
        Train one class-conditional model (True) or one model per targeted
        class (False; as many trainings as classes).
    max_iter : int, default=300
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
        Adam betas of both networks.
    verbose : int, default=0
        If positive, show a progress bar while training.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, batches and latent draws. On CPU the same seed
        gives identical spectra.
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of spectra to generate for each targeted class.
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
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
    divided by one global standard deviation (which keeps peak shapes); the
    GAN learns the variation around each class mean, and generated spectra
    are scaled back. Every class to be over-sampled needs at least two
    spectra; a class with one spectrum raises a ``ValueError`` (use a dict
    ``sampling_strategy`` that leaves it out). Generated rows are returned in
    the input's float dtype (float32 stays float32).

    References
    ----------
    .. [1] I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin and A. Courville,
       "Improved training of Wasserstein GANs", NeurIPS 2017.

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

    _estimator_type = "sampler"

    def __init__(
        self,
        sampling_strategy="auto",
        *,
        conditional=True,
        max_iter=300,
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
        self.sampling_strategy = sampling_strategy
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
        tags.estimator_type = "sampler"
        tags.target_tags.required = True
        return tags

    def _check_params(self):
        for name, low in (
            ("max_iter", 1),
            ("n_critic", 1),
            ("batch_size", 1),
            ("latent_dim", 1),
            ("channels", 1),
            ("n_critic_layers", 1),
        ):
            check_param(getattr(self, name), name, kind="int", low=low)
        check_param(self.gp_weight, "gp_weight", low=0)
        check_param(self.learning_rate, "learning_rate", low=0, closed="neither")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1); got {self.betas}.")

    def _validate(self, X, y):
        if y is not None and type_of_target(y) == "multilabel-indicator":
            y = np.asarray(y)
            if not np.all(y.sum(axis=1) == 1):
                raise ValueError(
                    "A 2-D y must be one-hot (exactly one 1 per row); "
                    "multilabel targets are not supported."
                )
            y = np.argmax(y, axis=1)
        X, y = validate_data(
            self, X, y, dtype=(np.float64, np.float32), reset=True, y_numeric=False
        )
        check_classification_targets(y)
        return X, column_or_1d(y)

    def fit(self, X, y):
        """Train the generator(s) on the spectra ``X`` of classes ``y``.

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
        self._check_params()
        return self._fit(*self._validate(X, y))

    def _fit(self, X, y):
        self.sampling_strategy_ = resolve_sampling_strategy(self.sampling_strategy, y)
        self.classes_, y_idx, counts = np.unique(
            y, return_inverse=True, return_counts=True
        )
        index = {c: i for i, c in enumerate(self.classes_.tolist())}
        for c in self.sampling_strategy_:
            if counts[index[c]] < 2:
                raise ValueError(
                    f"Class {c!r} has 1 sample; WGANGPOverSampler needs at least "
                    "2 spectra in every class it generates. Leave it out with a "
                    "dict sampling_strategy."
                )
        self._device = resolve_device(self.device)
        seed = seed_from_random_state(self.random_state)
        self._torch_gen = make_generator(seed, self._device)
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm
        self.generators_, self.history_, self._scaling = {}, {}, {}
        fork = [self._device.index or 0] if self._device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork):
            torch.manual_seed(seed)
            if self.conditional:
                groups = {None: np.ones(len(y), dtype=bool)}
            else:
                groups = {c: y == c for c in self.sampling_strategy_}
            for key, mask in groups.items():
                self._fit_one(key, X[mask], y_idx[mask], progress)
        return self

    def _fit_one(self, key, X, y_idx, progress):
        # Each class is centred on its own mean spectrum, so the generator
        # starts from the class mean and only has to learn the variation.
        codes = y_idx if key is None else np.zeros(len(X), dtype=int)
        counts = np.bincount(codes)
        centers = np.zeros((len(counts), X.shape[1]))
        np.add.at(centers, codes, X)
        centers /= np.maximum(counts, 1)[:, None]
        scale = float(np.std(X - centers[codes])) or 1.0
        self._scaling[key] = (centers, scale)
        n_classes = len(self.classes_) if key is None else 0
        gen = Generator(X.shape[1], self.latent_dim, n_classes, self.channels)
        critic = Critic(X.shape[1], n_classes, self.channels, self.n_critic_layers)
        gen.to(self._device)
        critic.to(self._device)
        Xt = to_tensor((X - centers[codes]) / scale, self._device)
        labels = to_tensor(y_idx, self._device, torch.long) if key is None else None
        self.history_[key] = train_wgan_gp(
            gen,
            critic,
            Xt,
            labels,
            n_iter=self.max_iter,
            n_critic=self.n_critic,
            gp_weight=self.gp_weight,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            betas=tuple(self.betas),
            latent_dim=self.latent_dim,
            torch_generator=self._torch_gen,
            progress=progress,
        )
        gen.eval()
        self.generators_[key] = gen

    def sample(self, n_samples, *, y):
        """Generate spectra of the given class(es).

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
        check_is_fitted(self)
        check_param(n_samples, "n_samples", kind="int", low=0)
        labels = np.asarray(y)
        if labels.ndim == 0:
            labels = np.full(n_samples, labels[()], dtype=self.classes_.dtype)
        if labels.shape != (n_samples,):
            raise ValueError(
                f"y must be one label or {n_samples} labels; got shape {labels.shape}."
            )
        unknown = set(labels.tolist()) - set(self.classes_.tolist())
        if unknown:
            raise ValueError(
                f"y contains class(es) {sorted(unknown, key=str)} not seen in fit."
            )
        out = np.empty((n_samples, self.n_features_in_))
        for c in np.unique(labels).tolist():
            rows = labels == c
            out[rows] = self._generate(c, int(rows.sum()))
        return out

    def _generate(self, c, n):
        key = None if self.conditional else c
        if key not in self.generators_:
            raise ValueError(
                f"No generator was trained for class {c!r}: with "
                "conditional=False only the classes of sampling_strategy_ "
                f"({list(self.sampling_strategy_)}) have one."
            )
        gen = self.generators_[key]
        self._move_to(resolve_device(self.device))
        centers, scale = self._scaling[key]
        idx = int(np.searchsorted(self.classes_, c)) if key is None else 0
        z = torch.randn(
            n, self.latent_dim, generator=self._torch_gen, device=self._device
        )
        onehot = None
        if key is None:
            onehot = torch.zeros(n, len(self.classes_), device=self._device)
            onehot[:, idx] = 1.0
        with torch.no_grad():
            fake = to_numpy(gen(z, onehot))
        return fake * scale + centers[idx]

    def _move_to(self, device):
        # ``device`` may have been changed with set_params after fit (or the
        # sampler unpickled on another machine): generate where it now says.
        if device == self._device:
            return
        for gen in self.generators_.values():
            gen.to(device)
        gen_device = self._torch_gen.device
        seed = torch.randint(
            2**31 - 1, (1,), generator=self._torch_gen, device=gen_device
        )
        seed = int(seed.item())
        self._torch_gen = make_generator(seed, device)
        self._device = device

    def __getstate__(self):
        state = self.__dict__.copy()
        if "generators_" in state:
            # Store CPU copies, so that a sampler trained on a GPU unpickles
            # on a machine without one; _move_to puts them back on device.
            state["generators_"] = {
                k: copy.deepcopy(g).cpu() for k, g in self.generators_.items()
            }
            state["_torch_gen"] = (str(self._device), self._torch_gen.get_state())
            state["_device"] = torch.device("cpu")
        return state

    def __setstate__(self, state):
        if isinstance(state.get("_torch_gen"), tuple):
            device, gen_state = state["_torch_gen"]
            cpu_gen = torch.Generator()
            if device == "cpu":
                cpu_gen.set_state(gen_state)
            else:
                # A CUDA generator state does not fit a CPU generator; derive
                # a CPU seed from it deterministically instead.
                cpu_gen.manual_seed(int(gen_state.double().sum().item()) % (2**31 - 1))
            state["_torch_gen"] = cpu_gen
        self.__dict__.update(state)

    def fit_resample(self, X, y):
        """Fit the sampler and return the data with generated spectra appended.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training spectra; a DataFrame or a list gives the same type back.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or one-hot rows; a Series or DataFrame gives the
            same type back, a list gives a list.

        Returns
        -------
        X_resampled : ndarray or DataFrame of shape (n_samples_new, n_features)
            The original rows first, then the generated ones.
        y_resampled : ndarray or Series of shape (n_samples_new,)
            Their labels.
        """
        X_in, y_in = X, y
        self._check_params()
        X, y = self._validate(X, y)
        self._fit(X, y)
        labels = [
            np.full(n, c, dtype=y.dtype) for c, n in self.sampling_strategy_.items()
        ]
        y_new = np.concatenate([y, *labels])
        X_new = self.sample(len(y_new) - len(y), y=y_new[len(y) :])
        X_res = np.vstack([X, X_new.astype(X.dtype)])
        return _as_input_type(X_res, y_new, X_in, y_in)


def _as_input_type(X, y, X_in, y_in):
    """Give back the containers that came in (as imbalanced-learn does)."""
    if type_of_target(y_in) == "multilabel-indicator":
        y = np.eye(np.shape(y_in)[1], dtype=np.asarray(y_in).dtype)[y]
    if hasattr(X_in, "iloc"):
        import pandas as pd

        X = pd.DataFrame(X, columns=X_in.columns)
    elif isinstance(X_in, list):
        X = X.tolist()
    if hasattr(y_in, "iloc"):
        import pandas as pd

        if y_in.ndim == 1:
            y = pd.Series(y, name=y_in.name, dtype=y_in.dtype)
        else:
            y = pd.DataFrame(y, columns=y_in.columns).astype(y_in.dtypes)
    elif isinstance(y_in, list):
        y = y.tolist()
    return X, y
