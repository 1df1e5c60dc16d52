"""
======================================================
Predicting Raman spectra from infrared spectra
======================================================

:class:`~sktransfer.cross_modal.SpectroGenRegressor` learns to predict the
Raman spectrum of a material from its infrared spectrum. Here it is trained
on synthetic paired spectra from :func:`~sktransfer.datasets.make_spectra`,
whose vibrational modes are shared between the two modalities with different
strengths, and judged on held-out samples against the measured (here:
simulated) Raman spectra and against the mean training spectrum.
"""

# %%
# Paired IR and Raman spectra
# ---------------------------
# Each sample has an IR and a Raman spectrum on their own grids (different
# lengths). We hold out a quarter of the samples.
import matplotlib.pyplot as plt
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import train_test_split

from sktransfer.cross_modal import SpectroGenRegressor
from sktransfer.datasets import make_spectra
from sktransfer.metrics import spectral_correlation

data = make_spectra(
    160,
    n_classes=4,
    n_ir_points=400,
    n_raman_points=300,
    baseline=False,
    random_state=0,
)
X_train, X_test, Y_train, Y_test = train_test_split(
    data.ir, data.raman, test_size=0.25, random_state=0
)
print(f"IR: {X_train.shape[1]} points, Raman: {Y_train.shape[1]} points")

# %%
# Fit and predict
# ---------------
# The spectra are passed as they are; the model standardises them inside and
# predicts in the original units. A short training keeps the example fast.
reg = SpectroGenRegressor(max_epochs=60, random_state=0)
reg.fit(X_train, Y_train)
Y_pred = reg.predict(X_test)
Y_mean = DummyRegressor().fit(X_train, Y_train).predict(X_test)

print(f"mean Pearson r, SpectroGen:    {spectral_correlation(Y_test, Y_pred):.3f}")
print(f"mean Pearson r, mean spectrum: {spectral_correlation(Y_test, Y_mean):.3f}")

# %%
# Predicted against measured spectra
# -----------------------------------
# Three held-out samples. The shaded band spans 20 draws from the latent
# distribution (:meth:`~sktransfer.cross_modal.SpectroGenRegressor.sample`):
# where it is wide, the model is unsure.
draws = reg.sample(X_test[:3], n_samples=20, random_state=0)
fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
for i, ax in enumerate(axes):
    r = spectral_correlation(Y_test[i], Y_pred[i])
    ax.fill_between(
        data.raman_axis,
        draws[i].min(0),
        draws[i].max(0),
        color="C1",
        alpha=0.25,
        label="20 latent draws",
    )
    ax.plot(data.raman_axis, Y_test[i], "k", lw=1.2, label="measured")
    ax.plot(data.raman_axis, Y_pred[i], "C1", lw=1.2, label=f"predicted (r={r:.2f})")
    ax.legend(loc="upper right", fontsize=8)
axes[-1].set_xlabel("Raman shift (cm$^{-1}$)")
fig.tight_layout()
plt.show()
