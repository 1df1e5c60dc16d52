"""Running the demo: settings, the stages in order, and the run's record."""

import time
import warnings
from dataclasses import dataclass, field

from sktransfer._demo import _learning, _stages
from sktransfer._demo._data import rruff_data, synthetic_data

#: Smallest number of synthetic materials.
MIN_SAMPLES = 50
#: (synthetic materials, VAE epochs, GAN generator updates) of a full and a
#: quick run.
FULL = (200, 80, 400)
QUICK = (80, 4, 8)
#: The stages, in order.
STAGES = (
    "data",
    "preprocessing",
    "metrics",
    "baseline",
    "peaks",
    "transfer",
    "augmentation",
)


@dataclass(frozen=True)
class DemoSettings:
    """What to run the demo on, and how.

    Parameters
    ----------
    n_samples : int or None, default=None
        Synthetic materials; None takes the run's default (``FULL`` or
        ``QUICK``). Ignored with ``rruff``.
    quick : bool, default=False
        A short run with little training.
    random_state : int, default=0
        Seed of the data and of every estimator.
    device : str, default="cpu"
        Torch device of the neural estimators.
    rruff : RRUFFData or None, default=None
        RRUFF files to run on instead of synthetic spectra.
    """

    n_samples: int | None = None
    quick: bool = False
    random_state: int = 0
    device: str = "cpu"
    rruff: object = None

    @property
    def sizes(self):
        """``(n_samples, VAE epochs, GAN generator updates)`` of this run."""
        n_samples, epochs, gan_iter = QUICK if self.quick else FULL
        if self.n_samples is not None:
            n_samples = self.n_samples
        return n_samples, epochs, gan_iter


@dataclass
class DemoRun:
    """The record of a demo run: every stage's result and its time."""

    settings: DemoSettings
    results: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    total: float = 0.0

    @property
    def source(self):
        """One line naming the data."""
        if self.settings.rruff is not None:
            return f"RRUFF files in {self.settings.rruff.directory}"
        return f"{self.settings.sizes[0]} synthetic materials"

    def rows(self):
        """Return the results table: every stage's rows, in stage order."""
        return [row for result in self.results.values() for row in result.rows()]


def run_demo(settings, progress=None):
    """Run every stage of the demo and return the run's record.

    An error in a stage propagates: later stages need its result.

    Parameters
    ----------
    settings : DemoSettings
        What to run on, and how.
    progress : callable or None, default=None
        Called with a line of text when a stage starts and ends, and during
        training; None runs silently.

    Returns
    -------
    run : DemoRun
        The results of the stages, by name, and their times.
    """
    from sklearn.exceptions import ConvergenceWarning

    n_samples, epochs, gan_iter = settings.sizes
    if settings.rruff is None and n_samples < MIN_SAMPLES:
        raise ValueError(f"n_samples must be at least {MIN_SAMPLES}, got {n_samples}.")
    seed, device = settings.random_state, settings.device
    say = progress or (lambda line: None)
    run = DemoRun(settings)
    results = run.results

    def data():
        if settings.rruff is None:
            return synthetic_data(n_samples, seed)
        return rruff_data(settings.rruff, seed)

    steps = {
        "data": data,
        "preprocessing": lambda: _stages.preprocessing(results["data"]),
        "metrics": lambda: _stages.metrics(results["data"], seed),
        "baseline": lambda: _stages.baseline(results["data"]),
        "peaks": lambda: _stages.peaks(
            results["data"], results["baseline"], quick=settings.quick, device=device
        ),
        "transfer": lambda: _learning.transfer(
            results["data"],
            results["baseline"],
            epochs=epochs,
            random_state=seed,
            device=device,
            progress=progress,
        ),
        "augmentation": lambda: _learning.augmentation(
            results["data"],
            results["baseline"],
            gan_iter=gan_iter,
            random_state=seed,
            device=device,
            verbose=int(progress is not None),
        ),
    }
    begin = time.perf_counter()
    with warnings.catch_warnings():
        # Convergence and parameter notes of the baseline and peak solvers
        # on noisy spectra would bury the progress lines; the table scores
        # them.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", module=r"pybaselines\.")
        for k, name in enumerate(STAGES, 1):
            say(f"[{k}/{len(STAGES)}] {name} ...")
            start = time.perf_counter()
            results[name] = steps[name]()
            run.timings[name] = time.perf_counter() - start
            say(
                f"[{k}/{len(STAGES)}] {name} done in {run.timings[name]:.1f} s "
                f"(elapsed {time.perf_counter() - begin:.1f} s)"
            )
    run.total = time.perf_counter() - begin
    return run
