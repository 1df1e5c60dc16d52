"""Benchmark: WGAN-GP over-sampling against none, random over-sampling and SMOTE.

Three imbalanced tasks on real spectra by default, two more on request.
Every task but ``ir-species`` is split so that no material or production
batch is on both sides of a fold; ``ir-species`` classifies the species
itself, so its folds are stratified by spectrum (each test species has
training spectra, and the task measures identification from a few):

raman-anion : chemical class (anion group, :func:`sktransfer.datasets.anion_group`
    of RRUFF's ``IDEAL CHEMISTRY``) of the paired RRUFF minerals from their
    Raman spectra; 7 classes of 10-132 spectra, ``StratifiedGroupKFold`` by
    species.
ir-species : species of the paired RRUFF minerals from their IR spectra,
    every species with at least 3 samples (about 23 classes of 3-5),
    ``StratifiedKFold`` (each class keeps 2-4 training spectra).
tablets-nir : type (4 classes) of pharmaceutical tablets from their NIR
    spectra (standard normal variate), ``StratifiedGroupKFold`` by
    production batch; in every training fold two types are cut to two
    batches each (20 spectra against 50-60).
tablets-raman : type of the same tablets from their Raman spectra (every
    third point of 200-3600 cm-1, standard normal variate), types 1 and 2
    cut to every third tablet (10 and 9 against 33 and 30),
    ``StratifiedGroupKFold`` by batch. Not run unless asked for
    (``--tasks tablets-raman``, with ``--folds 3``: types 1, 2 and 4 come
    from three batches each): added after the defaults were chosen, as a
    task they were not chosen on.

For each task, fold and classifier (logistic regression, SVC, 3-NN), balanced
accuracy and macro-F1 of: no resampling, ``RandomOverSampler``, ``SMOTE`` and
``WGANGPOverSampler`` (defaults, or ``--wgan key=value,...``), each inside an
imbalanced-learn ``Pipeline``-equivalent (the resampled training set is
computed once per fold and shared by the classifiers). For every over-sampled
class, the realism of the generated spectra against the *held-out* real
spectra of the class: two-sample accuracy (:func:`two_sample_accuracy`,
0.5 = indistinguishable) and the nearest-neighbour ratio (median distance of
a generated spectrum to its nearest training spectrum of the class, divided
by the same for held-out real spectra: 0 = copies, 1 = as far as new
measurements). For the tablets, the same realism against spectra of the
*training* batches that the samplers did not see (a third of every batch of
every type is held out of the training fold): this separates how measured-like
the generated spectra are from how unlike unseen batches all training
spectra are. The summary counts the cells where WGAN-GP is at least as good
as SMOTE and its mean gain over no resampling, then the same fold by fold.
Last, the default fit time on 300 spectra x 1024 points.

Usage::

    python benchmarks/bench_augmentation.py --data ../shared/data \
        [--tasks raman-anion,ir-species,tablets-nir] [--folds 5] [--device cuda]
        [--seed 0] [--no-timing] [--no-within] [--csv MY_TASK.csv ...]
        [--tune shared_variation=0,1] [--tune sampler=none,smote,wgan-gp]

``--csv`` adds tasks of your own (or runs them alone, without ``--data``):
one CSV file per task, named after the file, with a ``label`` column, an
optional ``group`` column (subject, batch or material; folds are then
``StratifiedGroupKFold`` by it, else ``StratifiedKFold``) and the
spectrum's points in every other column, used as they are.

``--tune name=v1,v2,...`` adds a row ``tuned``: WGAN-GP with that parameter
chosen for each classifier inside each training fold, by balanced accuracy
in a 3-fold ``StratifiedGroupKFold`` of the training fold's groups (ties go
to the value listed first), so that the sampler is tuned as a user would
tune it, without looking at the test fold. Grouped tasks only.
``--tune sampler=none,smote,wgan-gp`` chooses the sampler itself the same
way (names from ``none``, ``random``, ``smote``, ``wgan-gp``), as a user
who checks each on grouped folds before picking one would.
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

from sktransfer.datasets import anion_group, load_rruff
from sktransfer.metrics import two_sample_accuracy
from sktransfer.over_sampling import WGANGPOverSampler

CLASSIFIERS = {
    "logreg": LogisticRegression(C=10.0, max_iter=5000),
    "svc": SVC(C=10.0),
    "knn3": KNeighborsClassifier(n_neighbors=3),
}
SAMPLERS = ("none", "random", "smote", "wgan-gp")
TASKS = ("raman-anion", "ir-species", "tablets-nir", "tablets-raman", "ir-anion")


def _max_normalise(X):
    X = X - X.min(axis=1, keepdims=True)
    return X / np.maximum(X.max(axis=1, keepdims=True), 1e-12)


def _snv(X):
    """Standard normal variate of each row.

    The arithmetic of the benchmark's recorded runs: logistic regression's
    balanced accuracy on the tablets moves in the third decimal under
    changes of 1e-15 (as ``StandardNormalVariate`` rounds differently).
    """
    return (X - X.mean(1, keepdims=True)) / X.std(1, keepdims=True)


def _tablets(root, name):
    """``Matrix`` of a tablets file and each row's production batch."""
    from scipy.io import loadmat

    m = loadmat(root / "tablets" / name)
    batch = np.array([str(s).strip().split("_")[0] for s in m["ObjLabels"]])
    return m["Matrix"], batch


def load_tasks(root, names):
    root = Path(root)
    tasks = {}
    unknown = sorted(set(names) - set(TASKS))
    if unknown:
        raise SystemExit(
            f"unknown task(s) {', '.join(unknown)}; known: {', '.join(TASKS)}"
        )
    if {"raman-anion", "ir-anion", "ir-species"} & set(names):
        d = load_rruff(root / "rruff" / "paired", outside="zero", normalize="max")
        chem = [m.get("ideal_chemistry") for m in d.metadata]
        species = np.asarray(d.species)
        groups = np.asarray(d.species_groups)  # names of one sample's files joined
        keep = np.array([c is not None for c in chem])
        y = np.array([anion_group(c) for c in np.asarray(chem)[keep]])
        if "raman-anion" in names:
            tasks["raman-anion"] = (d.raman[keep], y, groups[keep], "group")
        if "ir-anion" in names:
            tasks["ir-anion"] = (d.ir[keep], y, groups[keep], "group")
        if "ir-species" in names:
            names_, counts = np.unique(species, return_counts=True)
            keep = np.isin(species, names_[counts >= 3])
            tasks["ir-species"] = (d.ir[keep], species[keep], None, "stratified")
    if "tablets-nir" in names:
        M, batch = _tablets(root, "NIRdata_tablets.mat")
        X = _snv(M[:, 3:])
        tasks["tablets-nir"] = (X, M[:, 1].astype(int), batch, "batches")
    if "tablets-raman" in names:
        M, batch = _tablets(root, "Ramandata_tablets.mat")
        # stored from 3600 down to 200 cm-1: ascending, every third point
        X = _snv(np.ascontiguousarray(M[:, :1:-1][:, ::3], dtype=float))
        y = M[:, 1].astype(int)
        # types 1 and 2 cut to every third tablet, across all their batches
        keep = np.ones(len(y), dtype=bool)
        for c in (1, 2):
            rows = np.flatnonzero(y == c)
            keep[rows] = np.arange(len(rows)) % 3 == 0
        tasks["tablets-raman"] = (X[keep], y[keep], batch[keep], "group")
    return tasks


def load_csv_task(path):
    """A task of your own: a CSV file, one spectrum per row.

    The header names a ``label`` column (the class), optionally a ``group``
    column (the subject, batch or material: folds are then grouped by it),
    and the spectrum's points in every other column, used as they are (no
    normalisation). Returns ``(X, y, groups, mode)`` as :func:`load_tasks`.
    """
    import csv

    # utf-8-sig: also the byte-order mark that spreadsheet programs write
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise SystemExit(f"{path}: a header and at least one spectrum are needed")
    header = [h.strip() for h in rows[0]]
    if "label" not in header:
        raise SystemExit(f"{path}: no 'label' column in the header {header[:5]}")
    if len(set(header)) != len(header):
        raise SystemExit(f"{path}: a column name appears twice in the header")
    i_label = header.index("label")
    i_group = header.index("group") if "group" in header else None
    points = [i for i in range(len(header)) if i not in (i_label, i_group)]
    X = np.empty((len(rows) - 1, len(points)))
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SystemExit(
                f"{path}, line {n}: {len(row)} fields, the header has {len(header)}"
            )
        try:
            X[n - 2] = [float(row[i]) for i in points]
        except ValueError as exc:
            raise SystemExit(f"{path}, line {n}: not a number ({exc})") from None
    if not np.isfinite(X).all():
        raise SystemExit(f"{path}: the spectra hold NaN or infinite values")
    y = np.array([row[i_label].strip() for row in rows[1:]])
    if len(np.unique(y)) < 2:
        raise SystemExit(f"{path}: at least two classes are needed")
    if i_group is None:
        return X, y, None, "stratified"
    groups = np.array([row[i_group].strip() for row in rows[1:]])
    return X, y, groups, "group"


def folds(X, y, groups, mode, n_folds, seed):
    """Yield (train, test) indices; ``batches`` cuts two types in training."""
    if mode == "stratified":
        _, counts = np.unique(y, return_counts=True)
        cv = StratifiedKFold(min(n_folds, counts.min()), shuffle=True, random_state=0)
        yield from cv.split(X, y)
        return
    cv = StratifiedGroupKFold(n_folds, shuffle=True, random_state=0)
    rng = np.random.default_rng(seed)
    for train, test in cv.split(X, y, groups):
        if mode == "batches":
            keep = np.ones(len(train), dtype=bool)
            for c in np.unique(y)[:2]:  # two rare types: two batches each
                b = np.unique(groups[train][y[train] == c])
                kept = rng.choice(b, min(2, len(b)), replace=False)
                keep &= (y[train] != c) | np.isin(groups[train], kept)
            train = train[keep]
        yield train, test


def resample(name, X, y, seed, device, wgan_params):
    """The training set ``X, y`` after the sampler ``name`` (as is for ``none``)."""
    if name == "none":
        return X, y
    return make_sampler(name, y, seed, device, wgan_params).fit_resample(X, y)


def make_sampler(name, y, seed, device, wgan_params, sampling_strategy="auto"):
    """The over-sampler ``name`` for training labels ``y``."""
    kw = {"sampling_strategy": sampling_strategy, "random_state": seed}
    if name == "random":
        return RandomOverSampler(**kw)
    if name == "smote":
        # k_neighbors must fit the smallest class of this training fold
        k = min(5, np.unique(y, return_counts=True)[1].min() - 1)
        return SMOTE(k_neighbors=k, **kw)
    return WGANGPOverSampler(device=device, **{**kw, **wgan_params})


def nn_ratio(gen, train, test):
    """Median NN distance to the training spectra, generated over held-out."""

    def nearest(A):
        d = ((A[:, None, :] - train[None, :, :]) ** 2).sum(-1)
        return np.sqrt(d.min(1))

    return float(np.median(nearest(gen)) / max(np.median(nearest(test)), 1e-12))


def _score(clf, Xr, yr, Xte, yte):
    """Balanced accuracy and macro-F1 of ``clf`` fitted on the resampled set."""
    with warnings.catch_warnings():
        # convergence; an inner fold of --tune may miss a class
        warnings.simplefilter("ignore")
        pred = clone(clf).fit(Xr, yr).predict(Xte)
        bacc = balanced_accuracy_score(yte, pred)
    return bacc, f1_score(yte, pred, average="macro")


def tuned_resample(tune, value, X, y, seed, device, wgan_params):
    """``X, y`` resampled with the tuned parameter at ``value``: WGAN-GP with
    that parameter, or, when the parameter is ``sampler``, that sampler."""
    if tune[0] == "sampler":
        return resample(value, X, y, seed, device, wgan_params)
    params = {**wgan_params, tune[0]: value}
    return resample("wgan-gp", X, y, seed, device, params)


def tune_in_fold(X, y, groups, seed, device, wgan_params, tune):
    """Each classifier's best value of one WGAN-GP parameter (or the best
    sampler), by 3-fold CV grouped as the outer folds are, inside one
    training fold only.

    ``tune`` is (name, values); ties go to the value listed first.
    """
    _, values = tune
    cv = StratifiedGroupKFold(3, shuffle=True, random_state=0)
    inner = defaultdict(list)  # (value, clf) -> [bacc]
    for tr, te in cv.split(X, y, groups):
        for v in values:
            Xr, yr = tuned_resample(tune, v, X[tr], y[tr], seed, device, wgan_params)
            for cname, clf in CLASSIFIERS.items():
                inner[v, cname].append(_score(clf, Xr, yr, X[te], y[te])[0])
    return {
        c: max(values, key=lambda v: (np.mean(inner[v, c]), -values.index(v)))
        for c in CLASSIFIERS
    }


def run_task(X, y, groups, mode, n_folds, seed, device, wgan_params, tune=None):
    """Scores, realism, fit times and, with ``tune``, the values picked."""
    scores = defaultdict(list)  # (sampler, clf) -> [(bacc, f1)]
    realism = defaultdict(list)  # sampler -> [(two-sample acc, nn ratio)]
    fit_time = defaultdict(float)
    picks = defaultdict(list)  # clf -> [value chosen in each fold]
    for fold, (train, test) in enumerate(folds(X, y, groups, mode, n_folds, seed)):
        Xtr, ytr = X[train], y[train]
        resampled = {}  # sampler -> its training set of this fold
        for name in SAMPLERS:
            t0 = time.perf_counter()
            Xr, yr = resample(name, Xtr, ytr, seed + fold, device, wgan_params)
            resampled[name] = Xr, yr
            fit_time[name] += time.perf_counter() - t0
            for cname, clf in CLASSIFIERS.items():
                scores[name, cname].append(_score(clf, Xr, yr, X[test], y[test]))
            if name in ("none",):
                continue
            Xg, yg = Xr[len(Xtr) :], yr[len(Xtr) :]
            for c in np.unique(yg):
                gen, held = Xg[yg == c], X[test][y[test] == c]
                if len(gen) < 5 or len(held) < 5:
                    continue
                cv = min(5, len(held))
                realism[name].append(
                    (
                        two_sample_accuracy(held, gen, cv=cv, random_state=0),
                        nn_ratio(gen, Xtr[ytr == c], held),
                    )
                )
        # after the other samplers, so that their rows are as without --tune
        if tune is not None and groups is not None:
            t0 = time.perf_counter()
            chosen = tune_in_fold(
                Xtr, ytr, groups[train], seed + fold, device, wgan_params, tune
            )
            # a chosen sampler's fit is the one its own row used
            fits = resampled if tune[0] == "sampler" else {}
            for cname, clf in CLASSIFIERS.items():
                v = chosen[cname]
                if v not in fits:
                    fits[v] = tuned_resample(
                        tune, v, Xtr, ytr, seed + fold, device, wgan_params
                    )
                scores["tuned", cname].append(_score(clf, *fits[v], X[test], y[test]))
                picks[cname].append(v)
            fit_time["tuned"] += time.perf_counter() - t0
    return scores, realism, fit_time, picks


def within_batch_realism(X, y, groups, mode, n_folds, seed, device, wgan_params):
    """Realism against held-out spectra of the batches the samplers saw.

    In each training fold a third of every (type, batch) is held out; the
    samplers are fitted on the rest and generate 200 spectra of every type.
    Types with at least 15 held-out spectra are scored (the two cut types
    keep 6-7, too few for the two-sample test): two-sample accuracy against
    those spectra and against the test fold's (unseen batches), and the NN
    ratio against the held-out spectra of the seen batches. "measured" is the
    training spectra themselves (below 0.5 against spectra that were left
    out of them: see ``two_sample_accuracy``).
    """
    rng = np.random.default_rng(seed)
    out = defaultdict(list)  # sampler -> [(acc seen batches, acc unseen, ratio)]
    for fold, (train, test) in enumerate(folds(X, y, groups, mode, n_folds, seed)):
        held = np.zeros(len(train), dtype=bool)
        for c, b in sorted(set(zip(y[train].tolist(), groups[train].tolist()))):
            idx = np.flatnonzero((y[train] == c) & (groups[train] == b))
            held[rng.choice(idx, len(idx) // 3, replace=False)] = True
        Xf, yf, Xh, yh = (
            X[train[~held]],
            y[train[~held]],
            X[train[held]],
            y[train[held]],
        )
        classes, counts = np.unique(yf, return_counts=True)
        strategy = {c: n + 200 for c, n in zip(classes, counts)}
        gen = {"measured": {c: Xf[yf == c] for c in classes}}
        for name in SAMPLERS[1:]:
            sampler = make_sampler(
                name, yf, seed + fold, device, wgan_params, sampling_strategy=strategy
            )
            Xr, yr = sampler.fit_resample(Xf, yf)
            gen[name] = {c: Xr[len(yf) :][yr[len(yf) :] == c] for c in classes}
        for c in classes:
            seen, unseen = Xh[yh == c], X[test][y[test] == c]
            if len(seen) < 15 or len(unseen) < 5:
                continue
            for name, g in gen.items():
                out[name].append(
                    (
                        two_sample_accuracy(seen, g[c], cv=5, random_state=0),
                        two_sample_accuracy(
                            unseen, g[c], cv=min(5, len(unseen)), random_state=0
                        ),
                        np.nan
                        if name == "measured"
                        else nn_ratio(g[c], Xf[yf == c], seen),
                    )
                )
    n = len(out["measured"])
    print(
        f"realism against held-out spectra of the seen batches ({n} fold x type "
        f"cells)\n{'':9s}  two-sample acc, seen batches / unseen batches   "
        f"NN ratio (seen batches)"
    )
    for name, v in out.items():
        a, u, r = np.array(v).T
        ratio = "" if name == "measured" else f"{np.median(r):.2f}"
        print(f"{name:9s}  {a.mean():.3f} / {u.mean():.3f}{'':26s}{ratio}")


def split_of(task, y, groups, mode, n_folds):
    """Say how a task is split into folds (as :func:`folds` splits it)."""
    if mode == "stratified":
        k = min(n_folds, np.unique(y, return_counts=True)[1].min())
        return f"{k} folds stratified by spectrum, not grouped"
    what = {"raman-anion": "species", "ir-anion": "species"}.get(task, "group")
    if task.startswith("tablets-"):
        what = "production batch"
    return f"{n_folds} folds grouped by {what} ({len(np.unique(groups))} groups)"


def print_task(task, X, y, scores, realism, fit_time, picks=None, tune=None, split=""):
    _, counts = np.unique(y, return_counts=True)
    print(
        f"\n== {task}: {len(y)} spectra x {X.shape[1]} points, {len(counts)} "
        f"classes of {counts.min()}-{counts.max()}; {split} =="
    )
    print(f"{'sampler':9s}" + "".join(f"{c:>16s}" for c in CLASSIFIERS) + "   fit s")
    print(f"{'':9s}" + "".join(f"{'bal.acc  F1':>16s}" for _ in CLASSIFIERS))
    for s in dict.fromkeys(s for s, _ in scores):  # SAMPLERS, then "tuned"
        row = "".join(
            f"{np.mean([v[0] for v in scores[s, c]]):9.3f}"
            f"{np.mean([v[1] for v in scores[s, c]]):7.3f}"
            for c in CLASSIFIERS
        )
        print(f"{s:9s}{row}   {fit_time[s]:5.1f}")
    if picks:
        print(
            f"picks     {tune[0]} of the tuned row, chosen per classifier inside each "
            "training fold (grouped 3-fold CV), per fold: "
            + "; ".join(f"{c} {' '.join(map(str, v))}" for c, v in picks.items())
        )
    elif tune is not None:
        print("tuned     not run: the task has no groups for the inner folds")
    if not any(realism.values()):
        print(
            "realism   none measured (no over-sampled class has 5 generated and "
            "5 held-out spectra in a fold)"
        )
        return
    print(f"{'realism':9s}  two-sample acc (0.5 = real)   NN ratio (0 = copies)")
    for s in SAMPLERS[1:]:
        if realism[s]:
            a, r = np.array(realism[s]).T
            print(
                f"{s:9s}  {a.mean():.3f} (range {a.min():.2f}-{a.max():.2f})"
                f"       {np.median(r):.2f} (range {r.min():.2f}-{r.max():.2f})"
            )


def time_default_fit(device, threads):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 1024)
    centres = rng.uniform(0.1, 0.9, (4, 6))
    y = np.repeat(np.arange(4), [150, 80, 50, 20])
    X = np.stack(
        [sum(np.exp(-0.5 * ((t - c) / 0.01) ** 2) for c in centres[k]) for k in y]
    ) + rng.normal(0, 0.02, (len(y), 1024))
    prev = torch.get_num_threads()
    torch.set_num_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    WGANGPOverSampler(random_state=0, device=device).fit(X, y)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    torch.set_num_threads(prev)
    print(
        f"\nDefault fit, 300 spectra x 1024 points, 4 classes, {threads} torch "
        f"thread(s): {wall:.1f} s wall, {cpu:.1f} s CPU (bar < 30 s: "
        f"{'met' if wall < 30 else 'MISSED'})"
    )


def summary(all_scores, key="wgan-gp", label="WGAN-GP"):
    """``key`` against SMOTE and against none, over (task, classifier) cells.

    ``all_scores`` maps a cell to each sampler's balanced accuracy per fold.
    The cells are compared on their means; then fold by fold, since a cell's
    mean can hide a win in one fold and losses in the others.
    """
    if not any(key in s for s in all_scores.values()):
        print(f"\n{label}: no cell to compare")
        return
    wins = ties_at_one = cells = 0
    d_none, f_smote, f_none = [], [], []
    for s in all_scores.values():
        if key not in s:
            continue
        w, sm, no = (np.asarray(s[k]) for k in (key, "smote", "none"))
        if w.mean() == sm.mean() == no.mean() == 1.0:
            ties_at_one += 1
            continue
        cells += 1
        wins += w.mean() >= sm.mean() - 1e-9
        d_none.append(w.mean() - no.mean())
        f_smote.extend(w - sm)
        f_none.extend(w - no)
    f_smote, f_none = np.array(f_smote), np.array(f_none)
    if not cells:
        print(
            f"\n{label} against SMOTE: every cell ({ties_at_one}) tied at 1.000, "
            "nothing to compare"
        )
        return
    print(
        f"\n{label} >= SMOTE (balanced accuracy) in {wins} of {cells} cells "
        f"({ties_at_one} tied at 1.000 left out); mean difference to no "
        f"augmentation {np.mean(d_none):+.3f}"
    )
    print(
        f"per (cell, fold): {label} >= SMOTE in {np.sum(f_smote >= -1e-9)} of "
        f"{len(f_smote)} (difference mean {f_smote.mean():+.3f}, sd "
        f"{f_smote.std():.3f}); >= no augmentation in {np.sum(f_none >= -1e-9)} "
        f"of {len(f_none)} (mean {f_none.mean():+.3f}, sd {f_none.std():.3f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="the shared data folder")
    parser.add_argument("--tasks", default="raman-anion,ir-species,tablets-nir")
    parser.add_argument(
        "--csv",
        nargs="+",
        default=[],
        help="tasks of your own, one CSV file each: a 'label' column, an "
        "optional 'group' column (folds grouped by it) and the spectrum's "
        "points in the other columns; run beside the --data tasks, or alone",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wgan", default="", help="WGAN-GP params, k=v,...")
    parser.add_argument(
        "--tune",
        default=None,
        help="one WGAN-GP parameter and its values, name=v1,v2,...: a row "
        "'tuned' with the value chosen per classifier inside each training "
        "fold (grouped tasks only; costs (3 + 1) fits per value and fold); "
        "sampler=none,smote,wgan-gp chooses among the samplers instead",
    )
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument(
        "--no-within", action="store_true", help="skip the seen-batch realism"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    wgan = {}
    for kv in filter(None, args.wgan.split(",")):
        k, v = kv.split("=")
        wgan[k] = eval(v, {})  # benchmark convenience: numbers, strings, bools
    tune = None
    if args.tune is not None:
        name, _, values = args.tune.partition("=")
        values = [v for v in values.split(",") if v]
        if not name or len(values) < 2:
            parser.error("--tune takes name=v1,v2,... with two values or more")
        if name == "sampler":
            unknown = sorted(set(values) - set(SAMPLERS))
            if unknown:
                parser.error(
                    f"--tune sampler=...: unknown sampler(s) {', '.join(unknown)}; "
                    f"known: {', '.join(SAMPLERS)}"
                )
        else:
            values = [eval(v, {}) for v in values]
        tune = (name, values)
    if args.data is None and not args.csv:
        parser.error("give --data, --csv or both")
    tasks = {}
    if args.data is not None:
        tasks.update(load_tasks(args.data, args.tasks.split(",")))
    for path in args.csv:
        name = Path(path).stem
        if name in tasks:
            parser.error(f"two tasks are named {name!r}")
        tasks[name] = load_csv_task(path)
    all_scores = {}
    for task, (X, y, groups, mode) in tasks.items():
        scores, realism, fit_time, picks = run_task(
            X, y, groups, mode, args.folds, args.seed, args.device, wgan, tune
        )
        split = split_of(task, y, groups, mode, args.folds)
        print_task(task, X, y, scores, realism, fit_time, picks, tune, split)
        if mode == "batches" and not args.no_within:
            within_batch_realism(
                X, y, groups, mode, args.folds, args.seed, args.device, wgan
            )
        for c in CLASSIFIERS:
            all_scores[task, c] = {
                s: [v[0] for v in folds_] for (s, k), folds_ in scores.items() if k == c
            }
    summary(all_scores)
    if tune is not None:
        label = "sampler tuned" if tune[0] == "sampler" else f"WGAN-GP, {tune[0]} tuned"
        summary(all_scores, "tuned", label)
    if not args.no_timing:
        time_default_fit(args.device, args.threads)


if __name__ == "__main__":
    main()
