"""
===============================================
Removing a fluorescence background with airPLS
===============================================

A Raman spectrum often sits on a broad fluorescence background many times
taller than its peaks. :class:`~sktransfer.baseline.AirPLS` estimates that
background under each spectrum and subtracts it. This example shows a raw
synthetic spectrum, the airPLS baseline, the corrected spectrum against the
true peaks, and how the smoothness ``lam`` changes the baseline.
"""

# %%
# A synthetic Raman spectrum
# --------------------------
# Five Lorentzian-like peaks on a curved fluorescence background, plus noise.
# We know the true peaks, so we can judge the correction.
import matplotlib.pyplot as plt
import numpy as np

from sktransfer.baseline import AirPLS

rng = np.random.default_rng(0)
x = np.linspace(150.0, 1250.0, 1024)  # Raman shift, cm-1
peaks = np.zeros_like(x)
for center, height, width in [
    (300, 0.6, 6),
    (465, 1.0, 5),
    (700, 0.3, 10),
    (1085, 0.8, 7),
    (1160, 0.25, 12),
]:
    peaks += height / (1 + ((x - center) / width) ** 2)
background = 3.0 * np.exp(-(((x - 900.0) / 700.0) ** 2)) + 0.5 + 4e-4 * x
X = (peaks + background + rng.normal(0.0, 0.01, x.size))[np.newaxis, :]

# %%
# Fit and correct
# ---------------
# ``fit_transform`` returns the spectrum minus its baseline (and records in
# ``n_iter_`` the number of fits: the first, equal-weight one plus the
# reweighting passes); ``baseline`` returns the baseline itself. The
# spectral axis is passed as ``x_axis``.
corrector = AirPLS(lam=1e6, x_axis=x)
corrected = corrector.fit_transform(X)[0]
baseline = corrector.baseline(X)[0]
print(f"fits: {corrector.n_iter_} (reweighting passes: {corrector.n_iter_ - 1})")
print(f"largest error against the true peaks: {np.abs(corrected - peaks).max():.3f}")

fig, (ax_raw, ax_corr) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
ax_raw.plot(x, X[0], color="0.3", lw=1, label="raw spectrum")
ax_raw.plot(x, baseline, color="tab:red", lw=2, label="airPLS baseline")
ax_raw.plot(x, background, color="tab:orange", ls="--", lw=1, label="true background")
ax_raw.set_ylabel("intensity")
ax_raw.legend(loc="upper left")
ax_corr.plot(x, corrected, color="tab:blue", lw=1, label="corrected")
ax_corr.plot(x, peaks, color="k", ls=":", lw=1, label="true peaks")
ax_corr.set_xlabel("Raman shift (cm$^{-1}$)")
ax_corr.set_ylabel("intensity")
ax_corr.legend(loc="upper left")
fig.tight_layout()

# %%
# How ``lam`` changes the baseline
# --------------------------------
# Too small a ``lam`` lets the baseline bend into the peaks and eat part of
# them; too large a one cannot follow the background's curvature. ``lam``
# also depends on the number of points (for ``diff_order=2`` it scales with
# the fourth power of it), so a value tuned on one grid does not carry over to
# another.
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(x, X[0], color="0.6", lw=1, label="raw spectrum")
for lam, color in [(1e3, "tab:green"), (1e6, "tab:red"), (1e10, "tab:purple")]:
    b = AirPLS(lam=lam, x_axis=x).fit(X).baseline(X)[0]
    err = np.abs(b - background).max()
    ax.plot(x, b, color=color, lw=1.5, label=f"lam={lam:.0e} (max error {err:.2f})")
ax.set_xlabel("Raman shift (cm$^{-1}$)")
ax.set_ylabel("intensity")
ax.legend(loc="upper left", fontsize="small")
fig.tight_layout()
plt.show()
