"""Benchmark: WGAN-GP augmentation against no resampling, random over-sampling
and SMOTE on imbalanced classification tasks built from real RRUFF spectra.

Tasks
-----
A-Processed, A-RAW : the 6 minerals of ``raman_raw_processed`` (RAW spectra
    baseline-corrected with ``AirPLS``), split by RRUFF sub-sample with
    ``StratifiedGroupKFold`` so the orientations of one crystal never straddle
    train and test; in every training fold the 4 smallest classes are cut to
    2-5 spectra (drawn per class and fold), the 2 largest are kept whole.
B-IR : the harder task: infrared spectra of the paired set, every species
    with at least 3 RRUFF samples (one spectrum each, ~23 classes of 3-5),
    stratified folds (at least 3, so every class keeps 2-4 training spectra).

For each task, fold and classifier (logistic regression, SVC, 3-NN), balanced
accuracy and macro-F1 of: no resampling, RandomOverSampler, SMOTE and
WGANGPOverSampler (defaults). The resampled training set is computed once per
fold and shared by the three classifiers. Realism of the generated rows
(two-sample accuracy and K-means indistinguishability against the held-out
real spectra of the same classes, and against the training spectra they were
made from) is given for SMOTE and WGAN-GP side by side. A separate timing
fits the default WGANGPOverSampler on 200 spectra of 1000 points with 2 torch
threads.

Usage::

    python benchmarks/bench_augmentation.py --data ../shared/data/rruff [--quick]
        [--device cuda] [--folds 3]
"""

import argparse
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from imblearn.over_sampling import SMOTE, RandomOverSampler
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from sktransfer.baseline import AirPLS
from sktransfer.datasets import load_rruff
from sktransfer.metrics import kmeans_indistinguishability, two_sample_accuracy
from sktransfer.over_sampling import WGANGPOverSampler

CLASSIFIERS = {
    "logreg": LogisticRegression(C=10.0, max_iter=5000),
    "svc": SVC(C=10.0),
    "knn": KNeighborsClassifier(n_neighbors=3),
}
SAMPLERS = ("none", "random", "smote", "wgan-gp")


def _max_normalise(X):
    X = X - X.min(axis=1, keepdims=True)
    return X / np.maximum(X.max(axis=1, keepdims=True), 1e-12)


def load_tasks(data):
    root = Path(data)
    tasks = {}
    for kind in ("Processed", "RAW"):
        b = load_rruff(
            root / "raman_raw_processed",
            pair=False,
            modality="raman",
            kind=kind,
            outside="edge",
        )
        X = b.data
        if kind == "RAW":
            X = AirPLS(lam=1e5).fit_transform(X)
        tasks[f"A-{kind}"] = (
            _max_normalise(X),
            np.asarray(b.species),
            np.asarray(b.sample_ids),
            "cut",
        )
    p = load_rruff(root / "paired", require=("ir", "raman"), outside="zero")
    species = np.asarray(p.species)
    names, counts = np.unique(species, return_counts=True)
    keep = np.isin(species, names[counts >= 3])
    tasks["B-IR"] = (
        _max_normalise(p.ir[keep]),
        species[keep],
        np.asarray(p.rruff_ids)[keep],
        "plain",
    )
    return tasks


def folds(X, y, groups, mode, n_folds, seed):
    rng = np.random.default_rng(seed)
    if mode == "cut":
        cv = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
        splits = cv.split(X, y, groups)
    else:
        # 3 folds at least: every class (3-5 samples) keeps 2 training spectra.
        cv = StratifiedKFold(max(n_folds, 3), shuffle=True, random_state=seed)
        splits = cv.split(X, y)
    for train, test in splits:
        if mode == "cut":
            names, counts = np.unique(y[train], return_counts=True)
            minority = names[np.argsort(counts)[:-2]]
            kept = [train[~np.isin(y[train], minority)]]
            for c in minority:
                rows = train[y[train] == c]
                n = min(len(rows), int(rng.integers(2, 6)))
                kept.append(rng.choice(rows, n, replace=False))
            train = np.sort(np.concatenate(kept))
        yield train, test


def make_sampler(name, y_train, seed, device, max_iter):
    if name == "random":
        return RandomOverSampler(random_state=seed)
    if name == "smote":
        k = int(np.unique(y_train, return_counts=True)[1].min()) - 1
        return SMOTE(k_neighbors=max(1, min(5, k)), random_state=seed)
    params = {"random_state": seed, "device": device}
    if max_iter:
        params["max_iter"] = max_iter
    return WGANGPOverSampler(**params)


def realism(X_gen, y_gen, X_ref, y_ref, seed):
    """Two-sample and K-means scores of generated rows against real rows.

    The real rows are those of ``X_ref`` in the generated classes; for each
    class at most as many generated rows as real ones are used, so both
    groups have the same class mix.
    """
    rng = np.random.default_rng(seed)
    real, gen = [], []
    for c in np.unique(y_gen):
        r, g = X_ref[y_ref == c], X_gen[y_gen == c]
        if len(r) == 0:
            continue
        real.append(r)
        gen.append(g[rng.choice(len(g), min(len(g), len(r)), replace=False)])
    if not real:
        return np.nan, np.nan
    real, gen = np.vstack(real), np.vstack(gen)
    if min(len(real), len(gen)) < 4:
        return np.nan, np.nan
    cv = min(5, len(real), len(gen))
    return (
        two_sample_accuracy(real, gen, cv=cv, random_state=seed),
        kmeans_indistinguishability(real, gen, random_state=seed),
    )


def run_task(X, y, groups, mode, n_folds, seed, device, max_iter):
    scores = defaultdict(list)
    real = defaultdict(list)
    fit_time = defaultdict(list)
    for fold, (train, test) in enumerate(folds(X, y, groups, mode, n_folds, seed)):
        X_tr, y_tr = X[train], y[train]
        for s_name in SAMPLERS:
            t0 = time.perf_counter()
            if s_name == "none":
                X_res, y_res = X_tr, y_tr
            else:
                sampler = make_sampler(s_name, y_tr, seed + fold, device, max_iter)
                X_res, y_res = sampler.fit_resample(X_tr, y_tr)
                X_res, y_res = np.asarray(X_res), np.asarray(y_res)
            fit_time[s_name].append(time.perf_counter() - t0)
            if s_name in ("smote", "wgan-gp"):
                X_gen, y_gen = X_res[len(X_tr) :], y_res[len(X_tr) :]
                real[s_name].append(
                    (
                        *realism(X_gen, y_gen, X[test], y[test], seed + fold),
                        *realism(X_gen, y_gen, X_tr, y_tr, seed + fold),
                    )
                )
            for c_name, clf in CLASSIFIERS.items():
                pred = clone(clf).fit(X_res, y_res).predict(X[test])
                scores[c_name, s_name].append(
                    (
                        balanced_accuracy_score(y[test], pred),
                        f1_score(y[test], pred, average="macro"),
                    )
                )
        print(f"  fold {fold}: {fit_time['wgan-gp'][-1]:.1f} s WGAN-GP fit", flush=True)
    return scores, real, fit_time


def print_scores(task, scores):
    print(f"\n{task}: balanced accuracy / macro-F1 (mean over folds)")
    head = "".join(f"{s:>16}" for s in SAMPLERS)
    print(f"{'classifier':<10}{head}   WGAN>=SMOTE (bal.acc)")
    wins = 0
    for c_name in CLASSIFIERS:
        row = ""
        means = {}
        for s_name in SAMPLERS:
            ba, f1 = np.mean(scores[c_name, s_name], axis=0)
            means[s_name] = ba
            row += f"{ba:>9.3f}/{f1:.3f}"
        win = means["wgan-gp"] >= means["smote"] - 1e-12
        wins += win
        print(f"{c_name:<10}{row}   {'yes' if win else 'no'}")
    return wins


def time_default_fit(X, y, device, threads):
    """Time the default WGANGPOverSampler on 200 spectra x 1000 points."""
    grid = np.linspace(0, 1, 1000)
    src = np.linspace(0, 1, X.shape[1])
    X200 = np.array([np.interp(grid, src, row) for row in X[:200]])
    assert len(X200) == 200
    torch.set_num_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    WGANGPOverSampler(random_state=0, device=device).fit(X200, y)
    return time.perf_counter() - t0, time.process_time() - c0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the rruff data directory")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="2 folds, 60 WGAN iterations"
    )
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument(
        "--threads", type=int, default=2, help="torch threads of the timed fit"
    )
    parser.add_argument(
        "--tasks", nargs="+", default=None, help="subset of A-Processed A-RAW B-IR"
    )
    args = parser.parse_args()
    n_folds = 2 if args.quick else args.folds
    max_iter = 60 if args.quick else None
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(1)

    tasks = load_tasks(args.data)
    all_wins, cells = 0, 0
    realism_rows = []
    time_rows = []
    for task, (X, y, groups, mode) in tasks.items():
        if args.tasks and task not in args.tasks:
            continue
        print(
            f"\n== {task}: {X.shape[0]} spectra x {X.shape[1]} points, "
            f"{len(np.unique(y))} classes, {n_folds} folds",
            flush=True,
        )
        scores, real, fit_time = run_task(
            X, y, groups, mode, n_folds, args.seed, args.device, max_iter
        )
        all_wins += print_scores(task, scores)
        cells += len(CLASSIFIERS)
        for s_name in ("smote", "wgan-gp"):
            vals = np.nanmean(np.array(real[s_name], dtype=float), axis=0)
            realism_rows.append((task, s_name, *vals))
        time_rows.append(
            (task, *(np.mean(fit_time[s]) for s in ("random", "smote", "wgan-gp")))
        )

    print(
        "\nRealism of generated spectra (0.5 = indistinguishable; against held-out"
        " test spectra\nof the same classes, and against the training spectra they"
        " came from, where\nvalues well below 0.5 mean near-copies)"
    )
    print(
        f"{'task':<12}{'sampler':<10}{'2-sample(test)':>16}{'k-means(test)':>15}"
        f"{'2-sample(train)':>17}{'k-means(train)':>16}"
    )
    for task, s_name, *vals in realism_rows:
        print(
            f"{task:<12}{s_name:<10}"
            + "".join(f"{v:>{w}.3f}" for v, w in zip(vals, (16, 15, 17, 16)))
        )
    print("\nResampling time per fold (s)")
    print(f"{'task':<12}{'random':>10}{'smote':>10}{'wgan-gp':>10}")
    for task, *t in time_rows:
        print(f"{task:<12}" + "".join(f"{v:>10.2f}" for v in t))
    if not realism_rows:
        cells = 0
    print(f"\nWGAN-GP >= SMOTE balanced accuracy in {all_wins}/{cells} cells")
    wgan_ts = [r[2] for r in realism_rows if r[1] == "wgan-gp"]
    if wgan_ts:
        print(
            "max WGAN-GP two-sample accuracy vs held-out spectra: "
            f"{np.nanmax(wgan_ts):.3f} (bar <= 0.7)"
        )
    if not args.skip_timing:
        # The 192 Processed spectra and the first 8 baseline-corrected RAW ones.
        X = np.vstack([tasks["A-Processed"][0], tasks["A-RAW"][0]])[:200]
        y = np.concatenate([tasks["A-Processed"][1], tasks["A-RAW"][1]])[:200]
        wall, cpu = time_default_fit(X, y, args.device, args.threads)
        print(
            f"default fit, 200 x 1000, device={args.device}, {args.threads} threads: "
            f"{wall:.1f} s wall, {cpu:.1f} s CPU (bar < 60 s wall on 2 cores)"
        )


if __name__ == "__main__":
    main()
