"""
===========================================
The peak table of a folder of RRUFF spectra
===========================================

A collection of different minerals has a different set of peaks in every
spectrum. :func:`~sktransfer.peaks.fit_peak_table` detects the peaks of each
spectrum, fits all spectra in one batched call and returns one row per
peak: where it is, how high and wide, its shape and area, and how good the
fit of its spectrum is.

The example writes a small folder of RRUFF-format Raman files (so that it
runs without a download); with real data, point
:func:`~sktransfer.datasets.load_rruff` at a folder of RRUFF files, or use
:func:`~sktransfer.datasets.fetch_rruff`.
"""

# %%
# A folder of RRUFF Raman files
# -----------------------------
# Five "minerals" with two to six Voigt peaks each, and one file that holds
# only a sloping background, written in RRUFF's text format (``##KEY=value``
# headers, then ``x, y`` rows) on each file's own axis.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from sktransfer.datasets import load_rruff
from sktransfer.peaks import fit_peak_table, render_peaks

rng = np.random.default_rng(0)
folder = Path(tempfile.mkdtemp()) / "raman"
folder.mkdir()
minerals = {
    "Quartzish": [(128, 0.4, 8), (206, 0.5, 12), (464, 1.0, 7)],
    "Calcitish": [(155, 0.3, 10), (282, 0.4, 12), (712, 0.2, 6), (1086, 1.0, 5)],
    "Albitish": [(290, 0.3, 14), (480, 0.7, 9), (508, 1.0, 8), (765, 0.15, 12)],
    "Gypsumish": [
        (414, 0.3, 9),
        (494, 0.25, 10),
        (618, 0.2, 8),
        (670, 0.15, 9),
        (1008, 1.0, 6),
        (1135, 0.2, 10),
    ],
    "Rutilish": [(447, 0.8, 30), (612, 1.0, 35)],
    "Background": [],
}
for i, (name, peaks) in enumerate(minerals.items()):
    x = np.arange(120.0 + rng.uniform(0, 5), 1300.0, 0.5)
    if peaks:
        c, h, f = (torch.tensor(v, dtype=torch.float64) for v in zip(*peaks))
        s = torch.full_like(c, 0.5)
        y = render_peaks(torch.from_numpy(x), c, h, f, s).numpy()
    else:
        y = np.zeros_like(x)
    y = 1000 * (y + 0.05 + 2e-5 * (x - 700) + rng.normal(0, 0.004, x.size))
    rows = "\n".join(f"{a:.4f}, {b:.6g}" for a, b in zip(x, y))
    text = f"##NAMES={name}\n##RRUFFID=R0{i:05d}\n{rows}\n##END=\n"
    file = f"{name}__R0{i:05d}__Raman__532__0__unoriented__Raman_Data_Processed__1.txt"
    (folder / file).write_text(text)

# %%
# Load the folder onto one axis and fit the peak table
# ----------------------------------------------------
# ``load_rruff`` puts every Raman file on a common 1024-point grid
# (150-1250 cm-1) and scales each to a maximum of 1. ``fit_peak_table``
# then finds the peaks of each spectrum on its own: its local maxima whose
# prominence, once a straight line is taken off, is at least 5 % of the
# spectrum's range and 8 noise levels.
data = load_rruff(folder, pair=False, modality="raman", normalize="max", outside="drop")
X, x = data.raman, data.raman_axis
peaks, summary = fit_peak_table(X, x, profile="voigt", return_summary=True)
summary.insert(1, "mineral", data.species)
print(summary.to_string(float_format="{:.4f}".format))

# %%
# One row per peak
# ----------------
# ``center``, ``fwhm`` (axis units), ``height`` (the maximum, not the area),
# ``shape`` (the Lorentzian share of a Voigt peak's width) and ``area``; the
# spectrum's ``r2``, ``rmse``, ``n_iter`` and ``converged`` repeat on each
# of its rows, so that the table can be filtered on its own.
peaks["mineral"] = np.asarray(data.species)[peaks["spectrum"]]
cols = ["mineral", "peak", "center", "height", "fwhm", "shape", "area", "r2"]
print(peaks[cols].to_string(float_format="{:.3f}".format))

# %%
# Reading ``r2`` and ``converged``
# --------------------------------
# ``r2`` is the share of a spectrum's variance that the fitted peaks and
# baseline explain: close to 1 for a spectrum the peaks describe, lower
# where peaks were missed (a shoulder below the detection threshold) or the
# background is not linear. The background-only file has no peak row; its
# summary row says how well the straight baseline alone fits it, and its
# ``r2`` is well below 1 although its background is a straight line: on a
# nearly flat spectrum the noise is a large share of the variance.
# ``converged`` is False where the solver stopped at ``max_iter`` or stalled
# (a ``ConvergenceWarning`` names those spectra): treat their rows with
# care, for example refit them with a larger ``max_iter``.
good = peaks[peaks.converged & (peaks.r2 > 0.99)]
print(f"{len(good)} of {len(peaks)} peaks come from well-fitted spectra")

# %%
# The fits, drawn from the table
# ------------------------------
# :func:`~sktransfer.peaks.render_peaks` draws the peaks of a table back on
# the axis (plus each spectrum's baseline from the summary).
u = x - 0.5 * (x[0] + x[-1])
fig, axes = plt.subplots(2, 3, figsize=(11, 5.5), sharex=True)
for i, ax in enumerate(axes.ravel()):
    rows = peaks[peaks.spectrum == i]
    base = summary.baseline_offset[i] + summary.baseline_slope[i] * u
    fit = base.copy()
    if len(rows):
        c, h, f, s = (
            torch.tensor(rows[k].to_numpy())
            for k in ("center", "height", "fwhm", "shape")
        )
        fit += render_peaks(torch.from_numpy(x), c, h, f, s).numpy()
    ax.plot(x, X[i], color="0.6", lw=1)
    ax.plot(x, fit, color="C3", lw=1)
    top = rows.height + np.interp(rows.center, x, base)
    ax.plot(rows.center, top, "v", color="C0", ms=4)
    ax.set_title(
        f"{data.species[i]}: {len(rows)} peaks, R2 = {summary.r2[i]:.4f}", fontsize=9
    )
for ax in axes[-1]:
    ax.set_xlabel("Raman shift (cm$^{-1}$)")
fig.tight_layout()
plt.show()
