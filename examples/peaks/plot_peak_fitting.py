"""
===========================================
Fitting a spectrum with Voigt peak profiles
===========================================

:class:`~sktransfer.peaks.PeakProfileFitter` turns spectra into named peak
parameters (centre, height, FWHM, shape) and renders them back. This example
fits a RRUFF-like Raman spectrum, shows its peaks and the residual, and then
compares Gaussian, Lorentzian and Voigt profiles on an overlapping doublet.
"""

# %%
# A RRUFF-like Raman spectrum
# ---------------------------
# Eight Voigt peaks of different widths and shapes on a small offset, with
# noise, on 1024 points from 150 to 1250 cm-1 (a processed RRUFF spectrum
# looks like this once its fluorescence background is removed).
import matplotlib.pyplot as plt
import numpy as np
import torch

from sktransfer.peaks import PeakProfileFitter, render_peaks

rng = np.random.default_rng(0)
x = np.linspace(150.0, 1250.0, 1024)
true = np.array(
    [  # centre, height, FWHM, Lorentzian share
        [205.0, 0.35, 14.0, 0.6],
        [263.0, 0.20, 18.0, 0.3],
        [355.0, 0.55, 9.0, 0.5],
        [464.0, 1.00, 7.0, 0.7],
        [508.0, 0.15, 20.0, 0.2],
        [696.0, 0.25, 12.0, 0.5],
        [1082.0, 0.45, 10.0, 0.4],
        [1160.0, 0.12, 25.0, 0.3],
    ]
)
t = torch.from_numpy
clean = render_peaks(t(x), *(t(true[:, i]) for i in range(4))).numpy()
X = (clean + 0.03 + rng.normal(0.0, 0.005, x.size))[np.newaxis, :]

# %%
# Fit eight peaks
# ---------------
# ``fit`` finds the eight most prominent peaks of the (mean) spectrum and fits
# them with a linear baseline; ``fit_transform`` returns the parameter row.
fitter = PeakProfileFitter("voigt", n_peaks=8, x_axis=x)
P = fitter.fit_transform(X)
names = fitter.get_feature_names_out()
peaks = P[0, :32].reshape(8, 4)
print(f"R2 = {fitter.r2_[0]:.5f}, iterations: {fitter.n_iter_}")
for (c, h, f, s), (tc, th, tf, ts) in zip(peaks, true):
    print(
        f"centre {c:7.1f} ({tc:6.1f})  height {h:.3f} ({th:.2f})  "
        f"FWHM {f:5.1f} ({tf:4.1f})  shape {s:.2f} ({ts:.1f})"
    )

# %%
# The fitted peaks and the residual
# ---------------------------------
# ``inverse_transform`` renders the parameters back into a spectrum.
fitted = fitter.inverse_transform(P)[0]
# one peak per row: parameters of shape (8, 1) render 8 spectra of one peak
each = render_peaks(t(x), *(t(peaks[:, i : i + 1]) for i in range(4))).numpy()
fig, (ax, axr) = plt.subplots(
    2, 1, figsize=(8, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
)
ax.plot(x, X[0], color="0.6", lw=1, label="spectrum")
ax.plot(x, fitted, color="C3", lw=1.2, label="fit")
for row in each:
    ax.fill_between(x, P[0, -2] + P[0, -1] * (x - x.mean()), row + P[0, -2], alpha=0.3)
ax.set_ylabel("intensity")
ax.legend()
axr.plot(x, X[0] - fitted, color="k", lw=0.8)
axr.set_xlabel("Raman shift (cm$^{-1}$)")
axr.set_ylabel("residual")
fig.tight_layout()

# %%
# Gaussian, Lorentzian or Voigt on an overlapping doublet
# -------------------------------------------------------
# Two Voigt peaks 12 cm-1 apart, each 10 cm-1 wide with a Lorentzian share
# of 0.5. A Gaussian misses the tails, a Lorentzian overshoots them; the
# Voigt profile recovers both peaks.
xd = np.linspace(400.0, 600.0, 400)
doublet = render_peaks(
    t(xd),
    t(np.array([494.0, 506.0])),
    t(np.array([1.0, 0.7])),
    t(np.array([10.0, 10.0])),
    t(np.array([0.5, 0.5])),
).numpy()
Xd = (doublet + rng.normal(0.0, 0.004, xd.size))[np.newaxis, :]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
for ax, profile in zip(axes, ["gaussian", "lorentzian", "voigt"]):
    fd = PeakProfileFitter(
        profile, centers=[494.0, 506.0], x_axis=xd, baseline="constant"
    )
    fit = fd.set_params(output="reconstruction").fit_transform(Xd)[0]
    ax.plot(xd, Xd[0], color="0.6", lw=1)
    ax.plot(xd, fit, color="C3", lw=1.2)
    ax.plot(xd, Xd[0] - fit - 0.15, color="k", lw=0.8)
    ax.set_title(f"{profile}: R2 = {fd.r2_[0]:.4f}")
    ax.set_xlabel("Raman shift (cm$^{-1}$)")
axes[0].set_ylabel("intensity (residual offset by -0.15)")
fig.tight_layout()
plt.show()
