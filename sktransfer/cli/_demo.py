"""``sktransfer demo``: the sktransfer chain on built-in synthetic data.

The demo is a list of stages (:data:`STAGES`). A stage is a function
``stage(ctx) -> list[Row]`` that reads what earlier stages left in the shared
context ``ctx`` (a :class:`~sklearn.utils.Bunch`), may add to it, and
returns rows for the results table. Each row shows a measured value beside a
reference (the truth, a simple baseline method or chance), so every number
can be judged at a glance. New stages are added by writing one function and
inserting it in :data:`STAGES`.
"""

import time
from typing import NamedTuple

import numpy as np

MIN_SAMPLES = 50
_WEIGHTS = (0.4, 0.3, 0.2, 0.1)


class Row(NamedTuple):
    """One line of the results table."""

    stage: str
    quantity: str
    value: object
    reference: object = ""
    note: str = ""


def register(subparsers):
    """Add the ``demo`` verb to ``subparsers``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``sktransfer`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``demo`` parser.
    """
    parser = subparsers.add_parser(
        "demo",
        help="run the sktransfer chain on built-in synthetic data",
        description="Run the sktransfer chain on built-in synthetic spectra and "
        "print a table of results, each beside a reference value.",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=160,
        metavar="N",
        help=f"number of synthetic materials (default 160, at least {MIN_SAMPLES})",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seed of the data and of every estimator (default 0)",
    )
    parser.set_defaults(func=run)
    return parser


def _cv(ctx, n_splits=5):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(n_splits, shuffle=True, random_state=ctx.random_state)


def stage_data(ctx):
    """Generate paired, imbalanced synthetic IR/Raman/XRD spectra."""
    from sktransfer.datasets import make_spectra

    data = make_spectra(ctx.n_samples, weights=_WEIGHTS, random_state=ctx.random_state)
    ctx.data = data
    counts = "/".join(str(c) for c in np.bincount(data.y))
    sizes = f"{data.ir.shape[1]} / {data.raman.shape[1]} / {data.xrd.shape[1]}"
    return [
        Row("data", "materials per class", counts, "", "make_spectra, imbalanced"),
        Row("data", "IR / Raman / XRD points", sizes, "", "with baseline and noise"),
    ]


def stage_preprocessing(ctx):
    """Resample, cut and scale spectra with sktransfer.preprocessing."""
    from sktransfer.metrics import spectral_correlation, spectral_rmse
    from sktransfer.preprocessing import RangeCut, Resampler

    data = ctx.data
    x, clean = data.ir_axis, data.ir_clean
    coarse = np.linspace(x[0], x[-1], x.size // 3)
    scores = {}
    for method in ("cubic", "linear"):
        down = Resampler(grid=coarse, x_axis=x, method=method).fit_transform(clean)
        back = Resampler(grid=x, x_axis=coarse, method=method).fit_transform(down)
        scores[method] = (spectral_correlation(clean, back), spectral_rmse(clean, back))
    label = f"IR {x.size} -> {coarse.size} -> {x.size} pts"
    note = "Resampler cubic (ref: linear)"
    rows = [
        Row("preprocessing", f"{label}, {name}", cubic, linear, note)
        for name, cubic, linear in zip(("r", "RMSE"), *scores.values())
    ]
    cut = RangeCut(start=400.0, end=1250.0, x_axis=data.raman_axis).fit(data.raman)
    ctx.raman_cut = cut
    rows.append(
        Row(
            "preprocessing",
            "Raman 400-1250 cm-1, points kept",
            int(cut.support_.sum()),
            data.raman.shape[1],
            "RangeCut (ref: all)",
        )
    )
    return rows


def stage_metrics(ctx):
    """Compare observed with clean spectra; calibrate the realism tests."""
    from sktransfer.metrics import (
        kmeans_indistinguishability,
        spectral_correlation,
        spectral_rmse,
        two_sample_accuracy,
    )
    from sktransfer.preprocessing import StandardNormalVariate

    data, seed = ctx.data, ctx.random_state
    snv = StandardNormalVariate()
    clean = snv.fit_transform(data.raman_clean)
    observed = snv.fit_transform(data.raman)
    # The true baseline gives the ceiling a perfect baseline correction reaches.
    corrected = snv.fit_transform(data.raman - data.raman_baseline)
    rows = [
        Row(
            "metrics",
            "Raman observed vs clean, r",
            spectral_correlation(data.raman_clean, data.raman),
            spectral_correlation(data.raman_clean, data.raman - data.raman_baseline),
            "ref: true baseline removed",
        ),
        Row(
            "metrics",
            "Raman observed vs clean, RMSE after SNV",
            spectral_rmse(clean, observed),
            spectral_rmse(clean, corrected),
            "ref: true baseline removed",
        ),
    ]
    # The largest class split in two: half "a" is the real set; half "b" is
    # what a perfect generator would produce, and its mean plus independent
    # noise what a naive one would (fitted on "b", never on "a").
    real = corrected[data.y == 0]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    a, b = real[order[: len(real) // 2]], real[order[len(real) // 2 :]]
    naive = b.mean(axis=0) + rng.normal(0.0, 1.0, b.shape) * b.std(axis=0)
    for name, func in (
        ("two_sample_accuracy", two_sample_accuracy),
        ("kmeans_indistinguishability", kmeans_indistinguishability),
    ):
        rows.append(
            Row(
                "metrics",
                f"{name}: real vs held-out real",
                func(a, b, random_state=seed),
                0.5,
                "0.5 = indistinguishable",
            )
        )
        rows.append(
            Row(
                "metrics",
                f"{name}: real vs mean + noise",
                func(a, naive, random_state=seed),
                0.5,
                "naive generator",
            )
        )
    return rows


def stage_classifier(ctx):
    """Cross-validated balanced accuracy of plain sklearn classifiers."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    from sktransfer.preprocessing import StandardNormalVariate

    data = ctx.data
    cv = _cv(ctx)
    chance = cross_val_score(
        DummyClassifier(), data.raman, data.y, cv=cv, scoring="balanced_accuracy"
    ).mean()
    logreg = LogisticRegression(max_iter=2000)
    models = {
        "Raman, LogisticRegression": (logreg, data.raman),
        "Raman, RangeCut + SNV + LogReg": (
            make_pipeline(clone(ctx.raman_cut), StandardNormalVariate(), logreg),
            data.raman,
        ),
        "IR, SNV + LogReg": (
            make_pipeline(StandardNormalVariate(), logreg),
            data.ir,
        ),
    }
    rows = []
    for name, (model, X) in models.items():
        score = cross_val_score(
            model, X, data.y, cv=cv, scoring="balanced_accuracy"
        ).mean()
        rows.append(
            Row(
                "classifier",
                f"{name}, balanced acc.",
                score,
                chance,
                "5-fold CV (ref: chance)",
            )
        )
    return rows


#: The demo's stages, in order: (name, function).
STAGES = [
    ("data", stage_data),
    ("preprocessing", stage_preprocessing),
    ("metrics", stage_metrics),
    ("classifier", stage_classifier),
]


def run_stages(ctx, stages=None):
    """Run the stages in order and collect their rows.

    A stage that raises does not stop the others: its error becomes a row
    and is listed in ``ctx.failed``; stages that need what it would have
    left in ``ctx`` then fail too.

    Parameters
    ----------
    ctx : Bunch
        Shared context with at least ``n_samples`` and ``random_state``.
    stages : list of (str, callable) or None, default=None
        The stages; ``None`` runs :data:`STAGES`.

    Returns
    -------
    rows : list of Row
        The results table, in stage order.
    """
    rows = []
    ctx.setdefault("failed", [])
    ctx.setdefault("timings", {})
    for name, stage in STAGES if stages is None else stages:
        start = time.perf_counter()
        try:
            rows.extend(stage(ctx))
        except Exception as exc:  # noqa: BLE001 - reported in the table
            ctx.failed.append(name)
            rows.append(Row(name, "FAILED", f"{type(exc).__name__}: {exc}"))
        ctx.timings[name] = time.perf_counter() - start
    return rows


def _cell(value):
    if isinstance(value, float | np.floating):
        return f"{value:.3f}"
    return str(value)


def format_table(rows):
    """Format rows as an aligned plain-text table.

    Parameters
    ----------
    rows : list of Row
        The rows.

    Returns
    -------
    table : str
        The table, with a header line.
    """
    header = Row("stage", "quantity", "value", "reference", "note")
    cells = [[_cell(v) for v in row] for row in [header, *rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    right = {2, 3}

    def line(c):
        parts = [
            c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i])
            for i in range(len(c))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


def run(args):
    """Run the demo and print the results table.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of the ``demo`` verb.

    Returns
    -------
    status : int
        0 if every stage ran, 1 otherwise.
    """
    from sklearn.utils import Bunch

    from sktransfer import __version__
    from sktransfer.cli import CLIError

    if args.n_samples < MIN_SAMPLES:
        raise CLIError(
            f"--n-samples must be at least {MIN_SAMPLES}, got {args.n_samples}."
        )
    ctx = Bunch(n_samples=args.n_samples, random_state=args.random_state)
    print(
        f"sktransfer {__version__} demo: {args.n_samples} synthetic materials, "
        f"random state {args.random_state}\n"
    )
    start = time.perf_counter()
    rows = run_stages(ctx)
    print(format_table(rows))
    times = ", ".join(f"{k} {v:.1f} s" for k, v in ctx.timings.items())
    print(f"\nTotal {time.perf_counter() - start:.1f} s ({times}).")
    if ctx.failed:
        print(f"Failed stages: {', '.join(ctx.failed)}.")
        return 1
    return 0
