"""Demo stages that train models: IR -> Raman transfer and augmentation."""

from dataclasses import dataclass

import numpy as np

from sktransfer._demo._records import Row, Skipped, StageResult, versus

#: Points of the Raman grid the classifiers and the GAN work on (the GAN's
#: cost grows with it; peaks stay a few points wide).
N_CLASSIFY_POINTS = 256
_NO_IMBLEARN = "imbalanced-learn not installed (pip install imbalanced-learn)"


def _epoch_progress(label, every, progress):
    from skorch.callbacks import Callback

    class EpochProgress(Callback):
        def on_epoch_end(self, net, **kwargs):
            epoch = len(net.history)
            if epoch % every == 0 or epoch == net.max_epochs:
                loss = net.history[-1, "train_loss"]
                progress(
                    f"    {label}: epoch {epoch}/{net.max_epochs}, loss {loss:.4f}"
                )

    return EpochProgress()


@dataclass
class TransferResult(StageResult):
    """Held-out Raman spectra predicted from IR by the VAE and by k-NN.

    ``scores`` maps each truth ("corrected": the measured spectra after
    baseline correction, which the models learn; and "clean" on synthetic
    data) to ``{"r": (VAE, k-NN), "RMSE": (VAE, k-NN)}``. ``measured`` holds
    the held-out baseline-corrected spectra.
    """

    axis: np.ndarray
    measured: np.ndarray
    vae: np.ndarray
    knn: np.ndarray
    clean: np.ndarray | None
    scores: dict
    n_epochs: int

    def rows(self):
        """Return r and RMSE of the VAE against 5-NN for every truth."""
        rows = []
        for what, by_metric in self.scores.items():
            for name, sign in (("r", 1), ("RMSE", -1)):
                value, ref = by_metric[name]
                rows.append(
                    Row(
                        "transfer",
                        f"held-out Raman vs {what}, {name}",
                        value,
                        ref,
                        f"VAE {versus(value, ref, '5-NN', sign > 0)} (ref: 5-NN)",
                    )
                )
        return rows


def transfer(data, corrected, *, epochs, random_state, device="cpu", progress=None):
    """Predict held-out Raman spectra from IR: SpectroGen VAE against k-NN."""
    from sklearn.neighbors import KNeighborsRegressor

    from sktransfer.cross_modal import SpectroGenRegressor
    from sktransfer.metrics import spectral_correlation, spectral_rmse

    X, Y = corrected.ir, corrected.raman
    tr, te = data.train, data.test
    callbacks = (
        None
        if progress is None
        else [_epoch_progress("SpectroGen VAE", max(1, epochs // 5), progress)]
    )
    vae = SpectroGenRegressor(
        max_epochs=epochs,
        target_axis=data.raman_axis,
        random_state=random_state,
        device=device,
        callbacks=callbacks,
    )
    knn = KNeighborsRegressor(n_neighbors=min(5, len(tr)))
    vae._fit_to_the_end(X[tr], Y[tr])  # Ctrl-C stops the demo, writing nothing
    predicted = {
        "vae": vae.predict(X[te]),
        "knn": knn.fit(X[tr], Y[tr]).predict(X[te]),
    }
    # the models learn baseline-corrected spectra: the held-out ones are the
    # truth they are judged against (not the raw measurements)
    truths = {"corrected": Y[te]}
    if data.truth is not None:
        truths["clean"] = data.truth.raman_clean[te]
    scores = {
        what: {
            name: tuple(func(truth, predicted[k]) for k in ("vae", "knn"))
            for name, func in (("r", spectral_correlation), ("RMSE", spectral_rmse))
        }
        for what, truth in truths.items()
    }
    return TransferResult(
        axis=data.raman_axis,
        measured=Y[te],
        vae=predicted["vae"],
        knn=predicted["knn"],
        clean=truths.get("clean"),
        scores=scores,
        n_epochs=epochs,
    )


def _classification_task(data, corrected, random_state):
    """Spectra, labels and split of the classification task, or a reason."""
    from sktransfer.preprocessing import Resampler

    if data.rruff is None:
        X, axis, y = corrected.raman, data.raman_axis, data.y
        tr, te = data.train, data.test
    else:
        labelled = data.rruff.labelled
        if labelled is None:
            return None, data.rruff.labelled_note
        from sklearn.model_selection import StratifiedGroupKFold

        X, axis, y = labelled.X, labelled.axis, labelled.y
        # Spectra of one RRUFF sample (several orientations) stay on one side.
        folds = StratifiedGroupKFold(3, shuffle=True, random_state=random_state)
        tr, te = next(folds.split(X, y, labelled.groups))
    grid = np.linspace(axis[0], axis[-1], N_CLASSIFY_POINTS)
    X = Resampler(grid=grid, x_axis=axis).fit_transform(X)
    if np.bincount(y[tr]).min() < 2:
        return None, "a class has fewer than 2 training spectra"
    return (X, y, tr, te, grid), ""


def _scores(y_true, y_pred):
    from sklearn.metrics import balanced_accuracy_score, f1_score

    return balanced_accuracy_score(y_true, y_pred), f1_score(
        y_true, y_pred, average="macro"
    )


@dataclass
class AugmentationResult(StageResult):
    """Held-out classification with and without augmentation, and realism.

    ``scores`` maps "none", "SMOTE" (when imbalanced-learn is installed)
    and "WGAN-GP" to ``(balanced accuracy, macro-F1)``; ``realism`` maps
    each test name to ``{generator: score}`` on the rare class.
    """

    scores: dict
    realism: dict
    n_classes: int
    n_test: int
    rare: int
    rare_name: str
    grid: np.ndarray
    X_train: np.ndarray
    y_train: np.ndarray
    real: np.ndarray
    generated: dict
    realism_against: str = "held-out spectra"
    #: the classes' names (species on RRUFF data), None for class numbers
    class_names: tuple = None

    def rows(self):
        """Return the classification rows, then the realism rows."""
        rows = []
        smote = "SMOTE" in self.scores
        for k, metric in enumerate(("balanced acc.", "macro-F1")):
            none = self.scores["none"][k]
            rows.append(
                Row(
                    "augmentation",
                    f"{metric}, no augmentation",
                    none,
                    1 / self.n_classes if k == 0 else "",
                    f"{self.n_test} held-out, chance {1 / self.n_classes:.3f}"
                    if k == 0
                    else "LogisticRegression, C=0.1",
                )
            )
            if smote:
                value = self.scores["SMOTE"][k]
                rows.append(
                    Row(
                        "augmentation",
                        f"{metric}, SMOTE",
                        value,
                        none,
                        f"{versus(value, none, 'none')} (ref: no augmentation)",
                    )
                )
            else:
                rows.append(
                    Row("augmentation", f"{metric}, SMOTE", "skipped", "", _NO_IMBLEARN)
                )
            ref_name = "SMOTE" if smote else "none"
            ref, value = self.scores[ref_name][k], self.scores["WGAN-GP"][k]
            # the sampler's spectra are a learned residual on SMOTE-style
            # blends of two real spectra: a tie with SMOTE is its start
            anchored = "; around SMOTE-style blends" if k == 0 else ""
            rows.append(
                Row(
                    "augmentation",
                    f"{metric}, WGAN-GP",
                    value,
                    ref,
                    f"{versus(value, ref, ref_name)} (ref: {ref_name}{anchored})",
                )
            )
        if not self.realism:
            rows.append(
                Row(
                    "augmentation",
                    f"{self.rare_name} real vs WGAN-GP",
                    "skipped",
                    "",
                    self.realism_against,
                )
            )
        for name, value in self.realism.items():
            rows.append(
                Row(
                    "augmentation",
                    f"{self.rare_name} real vs WGAN-GP, {name}",
                    value["WGAN-GP"],
                    value.get("SMOTE", 0.5),
                    f"0.5 = looks real, against {self.realism_against} (ref: "
                    + ("SMOTE's spectra)" if "SMOTE" in value else "ideal)"),
                )
            )
        return rows


def augmentation(data, corrected, *, gan_iter, random_state, device="cpu", verbose=0):
    """Classify held-out spectra with no augmentation, SMOTE and WGAN-GP."""
    from sklearn.linear_model import LogisticRegression

    from sktransfer.metrics import kmeans_indistinguishability, two_sample_accuracy
    from sktransfer.over_sampling import WGANGPOverSampler
    from sktransfer.pipeline import AugmentedClassifier

    task, why = _classification_task(data, corrected, random_state)
    if task is None:
        return Skipped("augmentation", why)
    X, y, tr, te, grid = task
    seed = random_state
    # Strong regularisation leans towards the majority classes: the case
    # over-sampling is for.
    classifier = LogisticRegression(C=0.1, max_iter=2000)
    counts = np.bincount(y[tr])
    rare = int(np.argmin(counts))
    rare_name = (
        f"class {rare}" if data.rruff is None else data.rruff.labelled.names[rare]
    )
    models = {"none": classifier}
    smote = _smote(int(counts.min()), seed)
    if smote is not None:
        models["SMOTE"] = AugmentedClassifier(smote, classifier)
    models["WGAN-GP"] = AugmentedClassifier(
        WGANGPOverSampler(
            max_iter=gan_iter, verbose=verbose, random_state=seed, device=device
        ),
        classifier,
    )
    scores = {}
    for name, model in models.items():
        model.fit(X[tr], y[tr])
        scores[name] = _scores(y[te], model.predict(X[te]))
    # judge realism against held-out spectra, never the generator's own
    # training spectra (which a copying generator would match perfectly)
    real, against = X[te][y[te] == rare], "held-out spectra"
    # as many generated as real spectra, and a few for the figures
    n_generated = max(len(real), _MIN_REAL)
    generated = {
        "WGAN-GP": models["WGAN-GP"].sampler_.sample(n_generated, y=rare),
    }
    if smote is not None:
        X_res, y_res = models["SMOTE"].sampler_.fit_resample(X[tr], y[tr])
        new = X_res[len(tr) :][y_res[len(tr) :] == rare][:n_generated]
        # Balanced classes leave SMOTE little or nothing to generate; a
        # reference of fewer spectra than the test's folds cannot be judged
        if len(new) >= min(_MIN_REAL, len(real)) and len(new) >= 2:
            generated["SMOTE"] = new
    cv = int(min(5, len(real)))
    realism = {}
    # the number says how rough the test is: with 5 and 5, in steps of 0.1
    against = f"{len(real)} {against}"
    if len(real) < _MIN_REAL:
        # a two-sample test on a handful of spectra says nothing
        against = f"too few held-out {rare_name} spectra ({len(real)}) to judge"
    for name, func, kwargs in (
        ("two-sample acc.", two_sample_accuracy, {"cv": cv}),
        ("k-means indist.", kmeans_indistinguishability, {}),
    ):
        if len(real) < _MIN_REAL:
            continue
        realism[name] = {
            k: func(real, g, random_state=seed, **kwargs) for k, g in generated.items()
        }
    return AugmentationResult(
        class_names=None if data.rruff is None else tuple(data.rruff.labelled.names),
        realism_against=against,
        scores=scores,
        realism=realism,
        n_classes=len(counts),
        n_test=len(te),
        rare=rare,
        rare_name=rare_name,
        grid=grid,
        X_train=X[tr],
        y_train=y[tr],
        real=real,
        generated=generated,
    )


#: Fewest real spectra of the rare class that the realism tests are run on.
_MIN_REAL = 5


def _smote(min_count, seed):
    try:
        from imblearn.over_sampling import SMOTE
    except ImportError:
        return None
    return SMOTE(k_neighbors=min(5, min_count - 1), random_state=seed)
