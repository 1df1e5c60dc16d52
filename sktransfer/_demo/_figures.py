"""PNG figures of the demo, drawn from its result records.

No pyplot: figures are built on :class:`matplotlib.figure.Figure` and saved
through the Agg backend, so the global matplotlib state of the caller (a
notebook, a test session) is left alone.
"""

import os

import numpy as np

from sktransfer.datasets._write import atomic_write


def _figure(n_cols, width=4.2, height=3.2, sharey=False):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_cols, height), layout="constrained")
    return fig, fig.subplots(1, n_cols, squeeze=False, sharey=sharey)[0]


def _save(fig, directory, name):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    path = os.path.join(directory, name)
    # Whole or absent, also when the disk is full: no temporary file stays.
    atomic_write(path, lambda f: fig.savefig(f, dpi=100, format="png"))
    return name


def transfer_figure(directory, result, n_show=3):
    """Baseline-corrected against predicted Raman spectra of held-out samples."""
    n_show = min(n_show, len(result.measured))
    fig, axes = _figure(n_show)
    curves = [
        (result.measured, "measured, baseline-corrected", {"color": "0.6", "lw": 0.8}),
        (result.clean, "true (no noise)", {"color": "black", "lw": 1.2}),
        (result.vae, "SpectroGen VAE", {"color": "tab:red", "lw": 1.0}),
        (result.knn, "5-NN", {"color": "tab:blue", "lw": 0.8, "ls": "--"}),
    ]
    for i, ax in enumerate(axes):
        for rows, label, style in curves:
            if rows is not None:  # no clean truth for measured data
                ax.plot(result.axis, rows[i], label=label, **style)
        ax.set_title(f"held-out sample {i}")
        ax.set_xlabel("Raman shift (cm$^{-1}$)")
    axes[0].set_ylabel("intensity")
    axes[0].legend(fontsize="small")
    return _save(fig, directory, "transfer.png")


def generated_figure(directory, result, n_show=5):
    """Real against generated spectra of the rare class."""
    panels = {"held-out real": result.real, **result.generated}
    fig, axes = _figure(len(panels), sharey=True)
    for ax, (name, spectra) in zip(axes, panels.items()):
        for s in spectra[:n_show]:
            ax.plot(result.grid, s, lw=0.8)
        ax.set_title(f"{result.rare_name}: {name}")
        ax.set_xlabel("Raman shift (cm$^{-1}$)")
    axes[0].set_ylabel("intensity")
    return _save(fig, directory, "generated.png")


def pca_figure(directory, result):
    """PCA scatter of the real training spectra and the generated rare class."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2).fit(result.X_train)
    fig, (ax,) = _figure(1, width=5.5, height=4.2)
    Z = pca.transform(result.X_train)
    for label in np.unique(result.y_train):
        mask = result.y_train == label
        style = {"s": 40, "edgecolor": "black"} if label == result.rare else {"s": 14}
        name = (
            f"class {label}"
            if result.class_names is None
            else result.class_names[label]
        )
        ax.scatter(Z[mask, 0], Z[mask, 1], label=f"training, {name}", **style)
    for (name, spectra), marker in zip(result.generated.items(), ("x", "+")):
        G = pca.transform(spectra)
        ax.scatter(
            G[:, 0], G[:, 1], marker=marker, s=40, label=f"{name}, {result.rare_name}"
        )
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize="small")
    return _save(fig, directory, "pca.png")


#: Every figure the demo may write, so that a run over an earlier one's
#: folder leaves none of the figures it did not draw.
FIGURE_NAMES = ("transfer.png", "generated.png", "pca.png")


def write_figures(results, directory):
    """Write every figure the stage results have data for.

    A figure of :data:`FIGURE_NAMES` that this run does not draw (its stage
    did not run) is removed from ``directory``: it would be an earlier
    run's. No other file is touched.

    Parameters
    ----------
    results : dict of str to StageResult
        The records of a demo run, by stage name.
    directory : str
        Output folder.

    Returns
    -------
    figures : list of (str, str)
        ``(caption, file name)`` of each figure written.
    notes : list of str
        Why figures are missing, if they are.
    """
    from sktransfer._demo._learning import AugmentationResult, TransferResult

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return [], [
            "matplotlib is not installed (pip install 'sktransfer[plot]'): no figures"
        ]
    figures, notes = [], []
    transfer = results.get("transfer")
    if isinstance(transfer, TransferResult):
        caption = "Baseline-corrected measured against predicted Raman (held-out)"
        figures.append((caption, transfer_figure(directory, transfer)))
    else:
        notes.append("no transfer figure: the transfer stage did not run")
    augmentation = results.get("augmentation")
    if isinstance(augmentation, AugmentationResult):
        caption = (
            f"Held-out measured against generated spectra of {augmentation.rare_name}"
        )
        figures.append((caption, generated_figure(directory, augmentation)))
        caption = "PCA of the training spectra and the generated ones"
        figures.append((caption, pca_figure(directory, augmentation)))
    else:
        notes.append("no generated-spectra figures: augmentation did not run")
    drawn = {name for _, name in figures}
    for name in FIGURE_NAMES:
        path = os.path.join(directory, name)
        if name not in drawn and os.path.isfile(path):
            os.remove(path)
    return figures, notes
