"""Benchmark: SpectroGenRegressor on real RRUFF pairs, on species never seen.

Usage::

    python benchmarks/bench_cross_modal.py --data ../shared/data/rruff/paired
        [--folds 5] [--seeds 20] [--device cuda] [--skip random,xrd,tablets,speed]
        [--tablets ../shared/data/tablets] [--wide]
        [--test-data OTHER_PAIRED_FOLDER [--keep-seen]] [--join-similar R]

IR -> Raman on the paired samples, with 5-fold cross-validation grouped by
mineral species (no species on both sides), and the shuffled split of the
SpectroGen paper beside it. Every baseline is tuned by an inner species-grouped
CV on the training folds only (nested CV): Ridge, PLS, k-nearest-neighbour
regression (k, weights, Euclidean or cosine metric) and extremely randomised
trees (300 trees on the principal-component scores of the source, fitted to
the targets' shapes, each spectrum centred and scaled to unit variance;
number of components and ``max_features`` tuned). One more reference is
not tuned inside the folds: a retrieval by a learned pairwise similarity
(``PairwiseSimilarity`` below, gradient-boosted trees predicting how well
two training targets correlate from their two sources), whose parameters
were fixed on these folds like the regressor's defaults; the row
"SpectroGen + pairwise, averaged" averages the two predictions (not
something sktransfer offers; it shows how much the two models' errors
differ). The margin is given against the best baseline and, when that one
is not tuned inside the folds, against the best nested-tuned baseline too.
``SpectroGenRegressor``
runs with its defaults, which were chosen on these same 296 pairs and folds
(see its docstring), so that row is not a nested estimate. The "3 tuned
in folds" row picks ``beta``, ``mixup`` and ``stretch`` (on or off) by the
same inner CV as the baselines, on the training folds only; but its other
settings (retrieval, loss, encoder, temperature, epochs) and the values in
its grid were chosen on these folds too, so it is not a clean nested
estimate either (nothing was chosen on the XRD and tablets data). With
``--wide``, a "5 tuned in folds" row picks among the 32 combinations of
the settings the defaults were chosen among (``beta`` 1 or 3, ``mixup`` 0
or 0.4, ``stretch`` 0 or 0.025, 150 or 300 epochs, temperature 0.05 or
0.1) inside the training folds: the nearest this benchmark comes to a
nested estimate of how the regressor was tuned (the retrieval, the loss and
the encoder were still chosen on these folds). The
defaults
are also run with ``random_state`` 1 to ``--seeds - 1`` and the margin is
given for their mean as well, since one seed can be lucky; then the r of
the mean of the predictions of seeds 1 to 5 (the user guide's seed-averaging
recipe). Oracle
rows show the headroom: the single training Raman spectrum that best matches
each test spectrum, and the mean of the 5 best; then the best among the 10
candidates that the regressor's ``kneighbors`` offers, and among the 10
training sources that correlate best with the test source (how much a
re-ranking of the candidates could gain). Each margin comes with a 95 %
interval from a paired bootstrap over species (2000 resamples of the
species, both models' per-spectrum r kept together) and, where there is a
bar, the share of resamples in which it reaches it: how much the margin
could move on another set of species, for the same training. Scores: mean
per-spectrum Pearson r, RMSE of [0, 1]-scaled spectra, peak recall
(:func:`sktransfer.metrics.peak_recall`, within 10 cm-1; 0.2 degrees 2-theta
for XRD).

With ``--join-similar R``, the species whose samples' IR or Raman spectra
correlate at ``R`` or more (solid-solution series such as diopside-augite
or tremolite-actinolite, whose spectra are near-copies) form one group, so
that none of them is predicted from another: a harder split than by
species, closer to a material of a new family.

With ``--test-data``, the grouped CV above is replaced by one hold-out
split: every model is trained on all pairs of ``--data`` (the baselines and
the tuned rows tuned by species-grouped CV inside them) and tested on the
pairs of a second folder, read onto the same grids, such as minerals of
your own. Test pairs of a species that ``--data`` holds are left out, and
the script says how many; ``--keep-seen`` keeps them. The oracle rows,
margins and bootstrap intervals are those of the test pairs.

Then IR -> XRD and Raman -> XRD on the measured powder scans (few samples,
leave-one-species-out is too costly: 5 grouped folds, no bar).

Then a second, independent data set on which no default was chosen: NIR ->
Raman on the 120 pharmaceutical tablets measured both ways (``--tablets``,
by default the ``tablets`` folder beside the RRUFF data), 4-fold
cross-validation grouped by production batch, the same tuned baselines. All
tablets share one excipient spectrum (every model scores r > 0.999), so the
scores are what a chemometrician would ask of a predicted spectrum: the r of
its deviation from the training folds' mean shape ("centred r"), and how well
a PLS model of the active substance (% w/w), fitted on *measured* Raman
shapes of the training folds, quantifies the test tablets from their
*predicted* Raman (RMSEP), beside the same PLS on their measured Raman and a
PLS on the NIR itself (no bar).

Last, speed: the default fit on all RRUFF pairs (1024 -> 1024 points) and
prediction throughput.

``--quick`` makes every model tiny (SpectroGen 3 epochs, 10 trees, 20
boosting iterations of the pairwise similarity): a check that the script
runs (on small data, in seconds), not a result.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.cross_decomposition import PLSRegression
from sklearn.decomposition import PCA
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.neighbors import KNeighborsRegressor, NearestNeighbors
from sklearn.pipeline import make_pipeline

from sktransfer.cross_modal import SpectroGenRegressor
from sktransfer.datasets import load_rruff
from sktransfer.metrics import (
    peak_recall,
    spectral_correlation,
    spectral_correlation_scorer,
)


def minmax(Y):
    lo, hi = Y.min(1, keepdims=True), Y.max(1, keepdims=True)
    return (Y - lo) / np.where(hi > lo, hi - lo, 1.0)


def scores(Y, P, axis, tol):
    r = spectral_correlation(Y, P, multioutput="raw_values")
    rmse = np.sqrt(np.mean((minmax(Y) - minmax(P)) ** 2, axis=1))
    recall = peak_recall(Y, P, x_axis=axis, tolerance=tol, multioutput="raw_values")
    return r, rmse, recall


def shapes(Y):
    """Each spectrum centred and scaled to unit variance (r ignores both)."""
    Y = Y - Y.mean(1, keepdims=True)
    return Y / np.maximum(Y.std(1, keepdims=True), 1e-12)


class Oracle(BaseEstimator, RegressorMixin):
    """Not a model: looks at the test targets to pick training targets.

    With ``among`` (an estimator with ``kneighbors``), the pick is limited to
    the ``n_candidates`` training pairs that ``among`` finds nearest to the
    test source: how good the candidates of a retrieval are. With
    ``centred``, the targets' shapes are compared less the training targets'
    mean shape: the pick by the "centred r" that the tablets are scored by
    (where every shape correlates above 0.999, the plain r picks almost at
    random among them).
    """

    def __init__(self, k=1, among=None, n_candidates=10, centred=False):
        self.k = k
        self.among = among
        self.n_candidates = n_candidates
        self.centred = centred

    def fit(self, X, Y):
        self.Y_ = np.asarray(Y)
        if self.among is not None:
            self.among_ = clone(self.among).fit(X, Y)
        return self

    def predict_from(self, X_test, Y_test):
        A, B = shapes(Y_test), shapes(self.Y_)
        if self.centred:
            mean = B.mean(0)
            A, B = shapes(A - mean), shapes(B - mean)
        R = A @ B.T
        if self.among is not None:
            near = self.among_.kneighbors(X_test, self.n_candidates)[1]
            allowed = np.zeros(R.shape, dtype=bool)
            np.put_along_axis(allowed, near, True, axis=1)
            R = np.where(allowed, R, -np.inf)
        best = np.argsort(-R, axis=1)[:, : self.k]
        return self.Y_[best].mean(1)


class PairwiseSimilarity(BaseEstimator, RegressorMixin):
    """Retrieval by a learned pairwise similarity (a reference, not ours).

    Gradient-boosted trees learn, from every pair of training spectra (of
    different groups when ``groups`` is given, as a model for unseen
    species must), the correlation of their targets from their sources:
    the source pooled to ``bins`` bins (absolute differences and products)
    plus the correlations of the two sources and of their first
    derivatives. A prediction is the softmax-weighted mean (``temperature``)
    of the training targets' shapes under the predicted similarities. Its
    parameters were fixed once, on the IR -> Raman folds (the temperature
    among 0.03, 0.05 and 0.1), so like the regressor's defaults it is not a
    nested estimate there.
    """

    def __init__(self, bins=64, temperature=0.05, max_iter=300, learning_rate=0.05):
        self.bins = bins
        self.temperature = temperature
        self.max_iter = max_iter
        self.learning_rate = learning_rate

    def _pairs(self, A, B):
        edges = np.linspace(0, A.shape[1], self.bins + 1).astype(int)[:-1]
        width = np.diff(np.r_[edges, A.shape[1]])
        pa = np.add.reduceat(A, edges, axis=1) / width
        pb = np.add.reduceat(B, edges, axis=1) / width
        za, zb = shapes(A), shapes(B)
        da, db = shapes(np.diff(A, axis=1)), shapes(np.diff(B, axis=1))
        ia = np.repeat(np.arange(len(A)), len(B))
        ib = np.tile(np.arange(len(B)), len(A))
        n = A.shape[1]
        return np.hstack(
            [
                np.abs(pa[ia] - pb[ib]),
                pa[ia] * pb[ib],
                (za @ zb.T).reshape(-1, 1) / n,
                (da @ db.T).reshape(-1, 1) / (n - 1),
            ]
        )

    def fit(self, X, Y, groups=None):
        X = np.asarray(X, dtype=np.float64)
        self.X_, self.shapes_ = X, shapes(np.asarray(Y, dtype=np.float64))
        n = len(X)
        r = (self.shapes_ @ self.shapes_.T / self.shapes_.shape[1]).reshape(-1)
        keep = ~np.eye(n, dtype=bool).reshape(-1)
        if groups is not None:
            groups = np.asarray(groups)
            keep &= (groups[:, None] != groups[None, :]).reshape(-1)
        self.model_ = HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=0
        ).fit(self._pairs(X, X)[keep], r[keep])
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        S = self.model_.predict(self._pairs(X, self.X_)).reshape(len(X), -1)
        W = np.exp((S - S.max(1, keepdims=True)) / self.temperature)
        return (W / W.sum(1, keepdims=True)) @ self.shapes_


class Averaged(BaseEstimator, RegressorMixin):
    """The mean of the shapes predicted by several regressors."""

    def __init__(self, estimators):
        self.estimators = estimators

    def fit(self, X, Y, groups=None):
        self.estimators_ = [
            fit_grouped(clone(est), X, Y, groups) for est in self.estimators
        ]
        return self

    def predict(self, X):
        return np.mean([shapes(est.predict(X)) for est in self.estimators_], axis=0)


def fit_grouped(est, X, Y, groups):
    """Fit ``est``, passing it the groups when its ``fit`` takes them."""
    takes = isinstance(est, GridSearchCV | PairwiseSimilarity | Averaged)
    return est.fit(X, Y, **({"groups": groups} if takes and groups is not None else {}))


def unchanged(Y):
    return Y


def extra_trees(components, n_trees=300):
    trees = make_pipeline(
        PCA(random_state=0), ExtraTreesRegressor(n_trees, random_state=0, n_jobs=2)
    )
    return TransformedTargetRegressor(
        trees, func=shapes, inverse_func=unchanged, check_inverse=False
    ), {
        "regressor__pca__n_components": list(components),
        "regressor__extratreesregressor__max_features": [0.3, 1.0],
    }


def estimators(
    inner_cv,
    device,
    target_axis,
    with_tuned,
    components=(10, 30),
    wide=False,
    quick=False,
):
    """The rows: models by name. ``quick``: the same models made tiny."""
    tune = {"scoring": spectral_correlation_scorer, "cv": inner_cv}
    # --quick: a smoke run that checks the script works, not a result
    sg = {"device": device, **({"max_epochs": 3} if quick else {})}
    pairwise = {"max_iter": 20} if quick else {}
    ests = {
        "SpectroGen (defaults)": SpectroGenRegressor(
            random_state=0, target_axis=target_axis, **sg
        ),
    }
    if with_tuned:
        ests["SpectroGen (3 tuned in folds)"] = GridSearchCV(
            SpectroGenRegressor(random_state=0, **sg),
            {"beta": [1.0, 3.0], "mixup": [0.0, 0.4], "stretch": [0.0, 0.025]},
            **tune,
        )
    if wide:
        # the settings the defaults were chosen among, tuned inside the folds
        ests["SpectroGen (5 tuned in folds)"] = GridSearchCV(
            SpectroGenRegressor(random_state=0, **sg),
            {
                "beta": [1.0, 3.0],
                "mixup": [0.0, 0.4],
                "stretch": [0.0, 0.025],
                "max_epochs": [150, 300],
                "module__temperature": [0.05, 0.1],
            },
            **tune,
        )
    ests["SpectroGen + pairwise, averaged"] = Averaged(
        [ests["SpectroGen (defaults)"], PairwiseSimilarity(**pairwise)]
    )
    ests.update(
        {
            "mean spectrum": DummyRegressor(),
            "Ridge (tuned, nested)": GridSearchCV(
                Ridge(), {"alpha": np.logspace(-2, 3, 6)}, **tune
            ),
            "PLS (tuned, nested)": GridSearchCV(
                PLSRegression(scale=False), {"n_components": [2, 4, 8, 16]}, **tune
            ),
            "kNN (tuned, nested)": GridSearchCV(
                KNeighborsRegressor(),
                {
                    "n_neighbors": [1, 3, 5, 10, 20],
                    "weights": ["uniform", "distance"],
                    "metric": ["euclidean", "cosine"],
                },
                **tune,
            ),
            "Extra trees (tuned, nested)": GridSearchCV(
                *extra_trees(components, 10 if quick else 300), **tune
            ),
            "pairwise similarity (fixed)": PairwiseSimilarity(**pairwise),
            "oracle: best training spectrum": Oracle(1),
            "oracle: mean of 5 best": Oracle(5),
            # the best of the candidates that a retrieval offers
            "oracle: best of SpectroGen's 10": Oracle(
                among=SpectroGenRegressor(random_state=0, **sg)
            ),
            "oracle: best of 10 by source r": Oracle(
                among=NearestNeighbors(metric="correlation", algorithm="brute")
            ),
        }
    )
    return ests


def cross_validate(
    X, Y, axis, split, groups, ests, label, tol=10.0, bar=True, n_seeds=1
):
    # rows that some split tests (a hold-out split leaves its training rows out)
    tested = np.zeros(len(X), dtype=bool)
    for _, test in split.split(X, Y, groups):
        tested[test] = True
    Y_test = Y[tested]
    groups_test = None if groups is None else np.asarray(groups)[tested]
    print(f"\n== {label} ({tested.sum()} samples) ==")
    print(
        f"{'model':32s} {'r mean':>7s} {'r sd':>6s} {'r median':>8s} "
        f"{'RMSE[0,1]':>9s} {'peak rec.':>9s} {'time s':>7s}"
    )
    results = {}
    for name, est in ests.items():
        t0 = time.perf_counter()
        P = out_of_fold(est, X, Y, split, groups)[tested]
        r, rmse, rec = scores(Y_test, P, axis, tol)
        results[name] = r
        print(
            f"{name:32s} {r.mean():7.3f} {r.std():6.3f} {np.median(r):8.3f} "
            f"{rmse.mean():9.3f} {np.nanmean(rec):9.3f} "
            f"{time.perf_counter() - t0:7.1f}",
            flush=True,
        )
    ours = results["SpectroGen (defaults)"]
    baselines = [
        (k, v) for k, v in results.items() if not k.startswith(("SpectroGen", "oracle"))
    ]
    best_name, best = max(baselines, key=lambda kv: kv[1].mean())
    nested_name, nested = max(
        ((k, v) for k, v in baselines if "nested" in k), key=lambda kv: kv[1].mean()
    )
    unit = "species" if groups is not None else "spectra"

    def verdict(r, ref=best, judge=True):
        """Margin of the per-spectrum r ``r`` over ``ref``, with its spread;
        with ``judge``, whether it meets the bar (where there is one)."""
        margin = r.mean() - ref.mean()
        lo, hi, share = margin_interval(r - ref, groups_test, bar=0.05)
        text = (
            f"margin {margin:+.3f} (95 % bootstrap interval over {unit} "
            f"{lo:+.3f} to {hi:+.3f}"
        )
        if not bar:
            return text + ")"
        text += f"; >= +0.05 in {share:.0%} of resamples)"
        if not judge:
            return text
        return text + f" (bar +0.05: {'met' if margin >= 0.05 else 'MISSED'})"

    # the defaults, then the row that tunes beta, mixup and stretch inside
    # the training folds (its other settings were chosen on these folds)
    for row in ("defaults", "3 tuned in folds", "5 tuned in folds"):
        r = results.get(f"SpectroGen ({row})")
        if r is None:
            continue
        print(
            f"SpectroGen {row} r {r.mean():.3f} vs best baseline {best_name} "
            f"{best.mean():.3f}: {verdict(r)}"
        )
        if bar:
            # the margin over every reference, not only the best
            for name, ref in baselines:
                print(f"  vs {name:30s} {verdict(r, ref, judge=False)}")
        elif nested_name != best_name:
            print(
                f"  vs best nested-tuned baseline {nested_name} "
                f"{nested.mean():.3f}: {verdict(r, nested)}"
            )
    if n_seeds > 1:
        # The defaults row is one draw of the weights, batches and mixup;
        # the same model with other seeds shows how much of a margin is luck.
        est = ests["SpectroGen (defaults)"]
        rs, preds = [ours], []
        for seed in range(1, n_seeds):
            P = out_of_fold(
                clone(est).set_params(random_state=seed), X, Y, split, groups
            )[tested]
            preds.append(P)
            rs.append(spectral_correlation(Y_test, P, multioutput="raw_values"))
        means = [r.mean() for r in rs]
        print(
            f"SpectroGen defaults over random_state 0-{n_seeds - 1}: r "
            + ", ".join(f"{m:.3f}" for m in means)
            + f"\n  min {min(means):.3f}, max {max(means):.3f}, mean "
            + f"{np.mean(means):.3f}, "
            + verdict(np.mean(rs, axis=0))
        )
        if n_seeds > 5:
            # the user guide's recipe: average the predictions of 5 seeds
            r5 = spectral_correlation(
                Y_test, np.mean(preds[:5], axis=0), multioutput="raw_values"
            )
            print(
                f"  mean of the predictions of random_state 1-5: r {r5.mean():.3f}, "
                + verdict(r5)
            )
    return {k: v.mean() for k, v in results.items()}


def margin_interval(diff, groups, bar, n_boot=2000, seed=0):
    """Paired bootstrap of a mean difference, resampling whole groups.

    ``diff`` holds one per-spectrum difference of r between two models on the
    same out-of-fold predictions; the groups (species) are drawn with
    replacement, so that the interval says how much the margin could move on
    another set of species of the same kind. Returns the 2.5 and 97.5
    percentiles and the share of resamples whose margin reaches ``bar``.
    """
    groups = np.arange(len(diff)) if groups is None else np.asarray(groups)
    _, inverse = np.unique(groups, return_inverse=True)
    sums = np.bincount(inverse, weights=diff)
    counts = np.bincount(inverse)
    draw = np.random.default_rng(seed).integers(0, len(sums), size=(n_boot, len(sums)))
    margins = sums[draw].sum(1) / counts[draw].sum(1)
    lo, hi = np.percentile(margins, [2.5, 97.5])
    return lo, hi, np.mean(margins >= bar)


def out_of_fold(est, X, Y, split, groups):
    """Out-of-fold predictions of ``est`` (oracles read the test targets)."""
    P = np.zeros_like(Y)
    for train, test in split.split(X, Y, groups):
        est = fit_grouped(
            clone(est), X[train], Y[train], None if groups is None else groups[train]
        )
        if isinstance(est, Oracle):
            P[test] = est.predict_from(X[test], Y[test])
        else:
            P[test] = est.predict(X[test])
    return P


class Holdout:
    """One split: the first ``n_train`` rows train, the others are tested."""

    def __init__(self, n_train):
        self.n_train = n_train

    def split(self, X, y=None, groups=None):
        yield np.arange(self.n_train), np.arange(self.n_train, len(X))

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1


def species_key(name):
    """A species name compared across folders: case and spacing ignored."""
    return " ".join(str(name).lower().replace("_", " ").split())


def held_out(d, folder, keep_seen):
    """Join the pairs of ``folder`` to the training pairs ``d`` as a test set.

    Returns the source and target rows (training first), the species and
    the hold-out split. The test pairs are read onto the training grids;
    those of a species that the training pairs hold are left out (said,
    not silent) unless ``keep_seen``.
    """
    t = load_rruff(
        folder,
        outside="zero",
        normalize="max",
        ir_axis=d.ir_axis,
        raman_axis=d.raman_axis,
    )
    known = {species_key(s) for g in d.species_groups for s in g.split("/")}
    seen = np.array(
        [any(species_key(s) in known for s in g.split("/")) for g in t.species_groups]
    )
    keep = np.ones(len(seen), dtype=bool) if keep_seen else ~seen
    test_species = [species_key(s) for s in np.asarray(t.species_groups)[keep]]
    n_species = len(set(test_species))
    print(
        f"test pairs from {folder}: {len(seen)} read, {seen.sum()} of a species "
        f"the training pairs hold ({'kept' if keep_seen else 'left out'}); "
        f"{keep.sum()} tested, {n_species} species"
    )
    if not keep.any():
        raise SystemExit(
            "no test pair left: every test species is in the training pairs"
        )
    X = np.vstack([d.ir, t.ir[keep]])
    Y = np.vstack([d.raman, t.raman[keep]])
    groups = np.array([*(species_key(s) for s in d.species_groups), *test_species])
    return X, Y, groups, Holdout(len(d.ir))


def load_tablets(folder):
    """NIR and Raman of the tablets measured both ways, matched by label."""
    from scipy.io import loadmat

    nir = loadmat(folder / "NIRdata_tablets.mat")
    ram = loadmat(folder / "Ramandata_tablets.mat")
    labels = [str(s).strip() for s in np.ravel(ram["ObjLabels"])]
    row = {str(s).strip(): i for i, s in enumerate(np.ravel(nir["ObjLabels"]))}
    X = nir["Matrix"][[row[lab] for lab in labels], 3:].astype(float)
    # Raman is stored from 3600 down to 200 cm-1: ascending, every third point
    Y = np.ascontiguousarray(ram["Matrix"][:, :1:-1][:, ::3], dtype=float)
    axis = np.linspace(200.0, 3600.0, ram["Matrix"].shape[1] - 2)[::3]
    active = ram["Matrix"][:, 0]
    # a group is a production batch (the labels' prefix); three tablets of
    # batches 11 and 12 are type 3 in the Raman file but type 2 in the NIR
    # file, so the type does not split a batch
    batch = np.array([lab.split("_")[0] for lab in labels])
    return X, Y, axis, active, batch


def tablets(folder, device, n_seeds=5, quick=False):
    X, Y, axis, active, batch = load_tablets(folder)
    split, inner = GroupKFold(4), GroupKFold(3)
    print(
        f"\n== NIR -> Raman, tablets, GroupKFold(4) by batch ({len(X)} tablets, "
        f"{len(set(batch))} batch groups; NIR {X.shape[1]} points, Raman "
        f"{Y.shape[1]} points; no bar) =="
    )

    S = shapes(Y)
    folds = list(split.split(X, Y, batch))

    def fitted_pls(F):
        """Per training fold, a PLS model of the active substance on ``F``."""
        return [
            GridSearchCV(
                PLSRegression(scale=False),
                {"n_components": [1, 2, 4, 8, 12]},
                scoring="neg_root_mean_squared_error",
                cv=inner,
            ).fit(F[train], active[train], groups=batch[train])
            for train, _ in folds
        ]

    def rmsep(models, F):
        """RMSEP of the active substance read from the test rows of ``F``."""
        q = np.zeros(len(Y))
        for pls, (_, test) in zip(models, folds):
            q[test] = pls.predict(F[test]).ravel()
        return np.sqrt(np.mean((q - active) ** 2))

    on_raman = fitted_pls(S)  # the same for every model: fitted once

    def judge(P):
        """Centred r and RMSEP of the active substance from predicted Raman."""
        P, rc = shapes(P), np.zeros(len(Y))
        for train, test in folds:
            mean = S[train].mean(0)
            rc[test] = spectral_correlation(
                S[test] - mean, P[test] - mean, multioutput="raw_values"
            )
        return rc.mean(), rmsep(on_raman, P)

    print(
        f"active substance {active.min():.2f}-{active.max():.2f} % w/w (sd "
        f"{active.std():.2f}); PLS fitted on measured Raman of the training "
        "folds, applied to:"
    )
    print(
        f"{'Raman of the test tablets':32s} {'r':>7s} {'centred r':>9s} {'RMSEP':>6s}"
    )
    print(f"{'measured (reference)':32s} {'':7s} {'':9s} {rmsep(on_raman, S):6.3f}")
    ests = estimators(inner, device, axis, False, quick=quick)
    for est in ests.values():
        if isinstance(est, Oracle):  # pick by the centred r scored here
            est.set_params(centred=True)
    for name, est in ests.items():
        P = out_of_fold(est, X, Y, split, batch)
        r = spectral_correlation(Y, P)
        rc, err = judge(P)
        print(f"{name:32s} {r:7.4f} {rc:9.3f} {err:6.3f}", flush=True)
    runs = [
        judge(
            out_of_fold(
                clone(ests["SpectroGen (defaults)"]).set_params(random_state=seed),
                X,
                Y,
                split,
                batch,
            )
        )
        for seed in range(1, n_seeds)
    ]
    rc, err = np.mean(runs, axis=0)
    print(
        f"SpectroGen defaults, random_state 1-{n_seeds - 1}: centred r "
        f"{rc:.3f}, RMSEP {err:.3f}"
    )
    print(f"PLS on the NIR itself (no Raman): RMSEP {rmsep(fitted_pls(X), X):.3f}")
    print(
        "(the oracle rows pick training spectra by centred r; they bound that "
        "column, not the RMSEP)"
    )


def join_similar(X, Y, species, r):
    """Join species whose samples' spectra correlate at ``r`` or more.

    Groups are the connected components of the species under "some sample
    of one has an IR or a Raman spectrum that correlates at ``r`` or more
    with some sample of the other" (solid-solution series such as
    diopside-augite or tremolite-actinolite, near-copies under two names).
    """
    species = np.asarray(species)
    parent = {s: s for s in species}

    def root(s):
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    for Z in (X, Y):
        C = np.corrcoef(Z)
        rows, cols = np.nonzero(np.triu(C >= r, k=1))
        for i, j in zip(rows, cols):
            a, b = root(species[i]), root(species[j])
            if a != b:
                parent[b] = a
    groups = np.array([root(s) for s in species])
    members = {}
    for g, s in zip(groups, species):
        members.setdefault(g, set()).add(s)
    joined = sorted((len(m) for m in members.values() if len(m) > 1), reverse=True)
    print(
        f"species joined at r >= {r:g}: {len(set(species))} species -> "
        f"{len(members)} groups; {len(joined)} of several species (sizes "
        f"{', '.join(map(str, joined[:8]))}{', ...' if len(joined) > 8 else ''})"
    )
    return groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="RRUFF 'paired' directory")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--no-tuned", action="store_true", help="skip the tuned row")
    parser.add_argument(
        "--wide",
        action="store_true",
        help="add a row that tunes five settings inside the folds (32 settings: "
        "about 45 minutes more on 2 cores)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=20,
        help="random_state values 0..N-1 of the defaults row (grouped split)",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma list of parts to skip: random,xrd,tablets,speed",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run that checks the script works: SpectroGen fitted for 3 "
        "epochs, 10 trees, 20 boosting iterations (the scores mean nothing)",
    )
    parser.add_argument(
        "--tablets",
        default=None,
        help="folder of the NIR and Raman tablets (.mat); default: 'tablets' "
        "beside the RRUFF data",
    )
    parser.add_argument(
        "--test-data",
        default=None,
        help="a second folder of RRUFF IR and Raman pairs: train every model on "
        "all of --data (baselines tuned by species-grouped CV inside it) and "
        "test on these pairs instead of the grouped CV on --data",
    )
    parser.add_argument(
        "--keep-seen",
        action="store_true",
        help="with --test-data: keep the test pairs of species that --data holds",
    )
    parser.add_argument(
        "--join-similar",
        type=float,
        default=None,
        metavar="R",
        help="group the species whose samples' IR or Raman spectra correlate at "
        "R or more (solid-solution series, near-copies) into one group of the "
        "grouped split",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    skip = set(filter(None, args.skip.split(",")))

    d = load_rruff(args.data, outside="zero", normalize="max")
    X, Y, axis = d.ir, d.raman, d.raman_axis
    species = np.asarray(d.species_groups)  # names of one sample's files joined
    print(
        f"RRUFF pairs: {len(X)} samples, {len(set(species))} species; IR "
        f"{X.shape[1]} points, Raman {Y.shape[1]} points "
        f"({axis[0]:.0f}-{axis[-1]:.0f} cm-1); torch threads {args.threads}, "
        f"device {args.device}"
    )
    inner = GroupKFold(3)
    if args.test_data:
        X_cv, Y_cv, groups, split = held_out(d, args.test_data, args.keep_seen)
        label = (
            f"IR -> Raman, trained on all {len(X)} pairs of --data, tested on "
            f"--test-data{' (species seen in training kept)' if args.keep_seen else ''}"
            ", baselines tuned inside the training pairs"
        )
    else:
        X_cv, Y_cv, groups, split = X, Y, species, GroupKFold(args.folds)
        label = f"IR -> Raman, GroupKFold({args.folds}) by species, nested tuning"
        if args.join_similar is not None:
            groups = join_similar(X, Y, species, args.join_similar)
            label = (
                f"IR -> Raman, GroupKFold({args.folds}) by species joined where "
                f"IR or Raman correlate >= {args.join_similar:g}, nested tuning"
            )
    cross_validate(
        X_cv,
        Y_cv,
        axis,
        split,
        groups,
        estimators(
            inner,
            args.device,
            axis,
            not args.no_tuned,
            wide=args.wide,
            quick=args.quick,
        ),
        label,
        n_seeds=args.seeds,
    )
    if "random" not in skip:
        inner = KFold(3, shuffle=True, random_state=0)
        ests = estimators(inner, args.device, axis, False, quick=args.quick)
        cross_validate(
            X,
            Y,
            axis,
            KFold(args.folds, shuffle=True, random_state=0),
            None,
            ests,
            f"IR -> Raman, shuffled KFold({args.folds}) (species leak)",
            bar=False,
        )

    if "xrd" not in skip:
        for source in ("ir", "raman"):
            dx = load_rruff(
                args.data, require=(source, "xrd"), outside="zero", normalize="max"
            )
            keep = np.array([m["xrd_kind"] == "XY" for m in dx.metadata])
            Xx, Yx = getattr(dx, source)[keep], dx.xrd[keep]
            sp = np.asarray(dx.species_groups)[keep]
            # about 30 pairs per inner training fold: fewer components
            ests = estimators(
                GroupKFold(3),
                args.device,
                dx.xrd_axis,
                False,
                components=(5, 10),
                quick=args.quick,
            )
            cross_validate(
                Xx,
                Yx,
                dx.xrd_axis,
                GroupKFold(5),
                sp,
                ests,
                f"{source.upper()} -> measured XRD, GroupKFold(5) by species "
                "(few samples, no bar; peak recall within 0.2 degrees)",
                tol=0.2,
                bar=False,
            )

    if "tablets" not in skip:
        folder = Path(args.tablets or Path(args.data).resolve().parents[1] / "tablets")
        if (folder / "Ramandata_tablets.mat").is_file():
            tablets(folder, args.device, quick=args.quick)
        else:
            print(f"\n(tablets skipped: no Ramandata_tablets.mat in {folder})")

    if "speed" not in skip:
        print(f"\n== Speed ({len(X)} pairs x {X.shape[1]} -> {Y.shape[1]} points) ==")
        reg = SpectroGenRegressor(
            random_state=0,
            device=args.device,
            **({"max_epochs": 3} if args.quick else {}),
        )
        t0, c0 = time.perf_counter(), time.process_time()
        reg.fit(X, Y)
        fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        big = np.tile(X, (max(1, 20000 // len(X)), 1))
        reg.predict(big[:100])
        t0 = time.perf_counter()
        reg.predict(big)
        rate = len(big) / (time.perf_counter() - t0)
        print(
            f"fit with defaults ({reg.max_epochs} epochs): {fit_s:.1f} s wall, "
            f"{fit_cpu:.1f} s CPU, {args.threads} thread(s) (bar < 60 s: "
            f"{'met' if fit_s < 60 else 'MISSED'})"
        )
        print(
            f"prediction: {rate:.0f} spectra/s on {len(big)} spectra "
            f"(bar > 1000: {'met' if rate > 1000 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
