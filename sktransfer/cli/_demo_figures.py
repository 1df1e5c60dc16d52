"""PNG figures of ``sktransfer demo``, drawn with matplotlib's Agg canvas.

No pyplot: figures are built on :class:`matplotlib.figure.Figure` and saved
through the Agg backend, so the global matplotlib state of the caller (a
notebook, a test session) is left alone.
"""

import os

import numpy as np


def _figure(n_cols, width=4.2, height=3.2, sharey=False):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_cols, height), layout="constrained")
    return fig, fig.subplots(1, n_cols, squeeze=False, sharey=sharey)[0]


def _save(fig, directory, name):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.savefig(os.path.join(directory, name), dpi=100)
    return name


def transfer_figure(directory, axis, measured, vae, knn, clean=None, n_show=3):
    """Measured against predicted Raman spectra of a few held-out samples."""
    n_show = min(n_show, len(measured))
    fig, axes = _figure(n_show)
    for i, ax in enumerate(axes):
        ax.plot(axis, measured[i], color="0.6", lw=0.8, label="measured")
        if clean is not None:
            ax.plot(axis, clean[i], color="black", lw=1.2, label="true (no noise)")
        ax.plot(axis, vae[i], color="tab:red", lw=1.0, label="SpectroGen VAE")
        ax.plot(axis, knn[i], color="tab:blue", lw=0.8, ls="--", label="5-NN")
        ax.set_title(f"held-out sample {i}")
        ax.set_xlabel("Raman shift (cm$^{-1}$)")
    axes[0].set_ylabel("intensity")
    axes[0].legend(fontsize="small")
    return _save(fig, directory, "transfer.png")


def generated_figure(directory, axis, real, generated, rare, n_show=5):
    """Real against generated spectra of the rare class."""
    panels = {"real": real, **generated}
    fig, axes = _figure(len(panels), sharey=True)
    for ax, (name, spectra) in zip(axes, panels.items()):
        for s in spectra[:n_show]:
            ax.plot(axis, s, lw=0.8)
        ax.set_title(f"class {rare}: {name}")
        ax.set_xlabel("Raman shift (cm$^{-1}$)")
    axes[0].set_ylabel("intensity")
    return _save(fig, directory, "generated.png")


def pca_figure(directory, X_train, y_train, rare, generated):
    """PCA scatter of the real training spectra and the generated rare class."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2).fit(X_train)
    fig, (ax,) = _figure(1, width=5.5, height=4.2)
    Z = pca.transform(X_train)
    for label in np.unique(y_train):
        mask = y_train == label
        style = {"s": 40, "edgecolor": "black"} if label == rare else {"s": 14}
        ax.scatter(Z[mask, 0], Z[mask, 1], label=f"real class {label}", **style)
    for (name, spectra), marker in zip(generated.items(), ("x", "+")):
        G = pca.transform(spectra)
        ax.scatter(G[:, 0], G[:, 1], marker=marker, s=40, label=f"{name}, class {rare}")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize="small")
    return _save(fig, directory, "pca.png")


def write_figures(ctx, directory):
    """Write every figure the stages left data for.

    Parameters
    ----------
    ctx : Bunch
        The demo context after the stages.
    directory : str
        Output folder.

    Returns
    -------
    figures : list of (str, str)
        ``(caption, file name)`` of each figure written.
    notes : list of str
        Why figures are missing, if they are.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return [], [
            "matplotlib is not installed (pip install sktransfer[plot]): no figures"
        ]
    figures, notes = [], []
    drawers = []
    if "transfer_fig" in ctx:
        drawers.append(
            (
                "Measured against predicted Raman (held-out)",
                lambda: transfer_figure(directory, *ctx.transfer_fig),
            )
        )
    else:
        notes.append("no transfer figure: the transfer stage did not finish")
    if "generated_fig" in ctx:
        grid, X_train, y_train, rare, real, generated = ctx.generated_fig
        drawers.append(
            (
                f"Real against generated spectra of class {rare}",
                lambda: generated_figure(directory, grid, real, generated, rare),
            )
        )
        drawers.append(
            (
                "PCA of real and generated spectra",
                lambda: pca_figure(directory, X_train, y_train, rare, generated),
            )
        )
    else:
        notes.append("no generated-spectra figures: augmentation did not run")
    for caption, draw in drawers:
        try:
            figures.append((caption, draw()))
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - a figure must not sink the run
            notes.append(f"figure '{caption}' failed: {type(exc).__name__}: {exc}")
    return figures, notes
