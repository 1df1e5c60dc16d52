"""Training stages of ``sktransfer demo``: transfer and augmentation.

IR -> Raman transfer with SpectroGenRegressor, and WGAN-GP augmentation in
front of a classifier.

Each stage is ``stage(ctx) -> list[Row]``; see :mod:`sktransfer.cli._demo`.
"""

import numpy as np

from sktransfer.cli._demo_report import Row
from sktransfer.cli._demo_stages import skipped

#: Points of the Raman grid the classifiers and the GAN work on (the GAN's
#: cost grows with it; peaks stay a few points wide).
N_CLASSIFY_POINTS = 256


def _versus(value, reference, name):
    if value > reference + 0.005:
        return f"beats {name}"
    if value < reference - 0.005:
        return f"loses to {name}"
    return f"ties with {name}"


def _epoch_progress(label, every):
    from skorch.callbacks import Callback

    class EpochProgress(Callback):
        def on_epoch_end(self, net, **kwargs):
            epoch = len(net.history)
            if epoch % every == 0 or epoch == net.max_epochs:
                loss = net.history[-1, "train_loss"]
                print(
                    f"    {label}: epoch {epoch}/{net.max_epochs}, loss {loss:.4f}",
                    flush=True,
                )

    return EpochProgress()


def stage_transfer(ctx):
    """Predict held-out Raman spectra from IR: SpectroGen VAE against k-NN."""
    from sklearn.neighbors import KNeighborsRegressor

    from sktransfer.cross_modal import SpectroGenRegressor
    from sktransfer.metrics import spectral_correlation, spectral_rmse

    X, Y = ctx.ir_corr, ctx.raman_corr
    tr, te = ctx.train, ctx.test
    epochs = ctx.epochs
    vae = SpectroGenRegressor(
        max_epochs=epochs,
        lr=3e-3,
        target_axis=ctx.raman_axis,
        random_state=ctx.random_state,
        device=ctx.device,
        callbacks=[_epoch_progress("SpectroGen VAE", max(1, epochs // 5))],
    )
    knn = KNeighborsRegressor(n_neighbors=min(5, len(tr)))
    predicted = {
        "vae": vae.fit(X[tr], Y[tr]).predict(X[te]),
        "knn": knn.fit(X[tr], Y[tr]).predict(X[te]),
    }
    truths = [("measured", Y[te])]
    if ctx.get("rruff") is None:
        truths.append(("clean", ctx.data.raman_clean[te]))
    ctx.transfer_fig = (
        ctx.raman_axis,
        Y[te],
        predicted["vae"],
        predicted["knn"],
        truths[-1][1] if len(truths) > 1 else None,
    )
    rows = []
    for what, truth in truths:
        for name, func, sign in (
            ("r", spectral_correlation, 1),
            ("RMSE", spectral_rmse, -1),
        ):
            value, ref = (func(truth, predicted[k]) for k in ("vae", "knn"))
            rows.append(
                Row(
                    "transfer",
                    f"held-out Raman vs {what}, {name}",
                    value,
                    ref,
                    f"VAE {_versus(sign * value, sign * ref, '5-NN')} (ref: 5-NN)",
                )
            )
    return rows


def _classification_data(ctx):
    """Spectra, labels and split of the classification task, or a reason."""
    from sktransfer.preprocessing import Resampler

    if ctx.get("rruff") is None:
        X, axis, y = ctx.raman_corr, ctx.raman_axis, ctx.y
        tr, te = ctx.train, ctx.test
    else:
        labelled = ctx.rruff.labelled
        if labelled is None:
            return None, ctx.rruff.labelled_note
        from sklearn.model_selection import StratifiedGroupKFold

        X, axis, y = labelled.X, labelled.axis, labelled.y
        # Spectra of one RRUFF sample (several orientations) stay on one side.
        folds = StratifiedGroupKFold(3, shuffle=True, random_state=ctx.random_state)
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


def stage_augmentation(ctx):
    """Classify held-out spectra with no augmentation, SMOTE and WGAN-GP."""
    from sklearn.linear_model import LogisticRegression

    from sktransfer.metrics import kmeans_indistinguishability, two_sample_accuracy
    from sktransfer.over_sampling import WGANGPOverSampler
    from sktransfer.pipeline import AugmentedClassifier

    task, why = _classification_data(ctx)
    if task is None:
        return skipped("augmentation", why)
    X, y, tr, te, grid = task
    seed = ctx.random_state
    # Strong regularisation leans towards the majority classes: the case
    # over-sampling is for.
    classifier = LogisticRegression(C=0.1, max_iter=2000)
    counts = np.bincount(y[tr])
    rare = int(np.argmin(counts))
    rruff = ctx.get("rruff")
    rare_name = f"class {rare}" if rruff is None else rruff.labelled.names[rare]
    models = {"none": classifier}
    smote = _smote(int(counts.min()), seed)
    if smote is not None:
        models["SMOTE"] = AugmentedClassifier(smote, classifier)
    models["WGAN-GP"] = AugmentedClassifier(
        WGANGPOverSampler(
            max_iter=ctx.gan_iter, verbose=1, random_state=seed, device=ctx.device
        ),
        classifier,
    )
    scores = {}
    for name, model in models.items():
        model.fit(X[tr], y[tr])
        scores[name] = _scores(y[te], model.predict(X[te]))
    real = X[y == rare]
    generated = {
        "WGAN-GP": models["WGAN-GP"].sampler_.sample(len(real), y=rare),
    }
    if smote is not None:
        X_res, y_res = models["SMOTE"].sampler_.fit_resample(X[tr], y[tr])
        new = X_res[len(tr) :][y_res[len(tr) :] == rare][: len(real)]
        # Balanced classes leave SMOTE nothing to generate.
        if len(new) >= 2:
            generated["SMOTE"] = new
    ctx.generated_fig = (grid, X[tr], y[tr], rare, real, generated)
    note_n = f"{len(te)} held-out, chance {1 / len(counts):.3f}"
    rows = []
    for k, metric in enumerate(("balanced acc.", "macro-F1")):
        rows.append(
            Row(
                "augmentation",
                f"{metric}, no augmentation",
                scores["none"][k],
                1 / len(counts) if k == 0 else "",
                note_n if k == 0 else "LogisticRegression, C=0.1",
            )
        )
        if smote is not None:
            rows.append(
                Row(
                    "augmentation",
                    f"{metric}, SMOTE",
                    scores["SMOTE"][k],
                    scores["none"][k],
                    f"{_versus(scores['SMOTE'][k], scores['none'][k], 'none')}"
                    " (ref: no augmentation)",
                )
            )
        else:
            rows.append(
                Row("augmentation", f"{metric}, SMOTE", "skipped", "", _NO_IMBLEARN)
            )
        ref_name = "SMOTE" if smote is not None else "none"
        ref = scores[ref_name][k]
        rows.append(
            Row(
                "augmentation",
                f"{metric}, WGAN-GP",
                scores["WGAN-GP"][k],
                ref,
                f"{_versus(scores['WGAN-GP'][k], ref, ref_name)} (ref: {ref_name})",
            )
        )
    cv = int(min(5, len(real)))
    for name, func, kwargs in (
        ("two-sample acc.", two_sample_accuracy, {"cv": cv}),
        ("k-means indist.", kmeans_indistinguishability, {}),
    ):
        value = {
            k: func(real, g, random_state=seed, **kwargs) for k, g in generated.items()
        }
        rows.append(
            Row(
                "augmentation",
                f"{rare_name} real vs WGAN-GP, {name}",
                value["WGAN-GP"],
                value.get("SMOTE", 0.5),
                "0.5 = looks real (ref: "
                + ("SMOTE's spectra)" if "SMOTE" in value else "ideal)"),
            )
        )
    return rows


_NO_IMBLEARN = "imbalanced-learn not installed (pip install sktransfer[imblearn])"


def _smote(min_count, seed):
    try:
        from imblearn.over_sampling import SMOTE
    except ImportError:
        return None
    return SMOTE(k_neighbors=min(5, min_count - 1), random_state=seed)
