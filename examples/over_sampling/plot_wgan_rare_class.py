"""
============================================
Augmenting a rare class of spectra (WGAN-GP)
============================================

Three classes of noisy synthetic Raman-like spectra: two with 40 training
spectra each, one rare class with only 4 that overlaps one of the others.
We compare four ways to train a classifier on them: no resampling, random
over-sampling, SMOTE, and
:class:`~sktransfer.over_sampling.WGANGPOverSampler`, which trains a
class-conditional WGAN-GP on all classes and generates new spectra of the
rare class. The winner is computed, not assumed; the results on real RRUFF
spectra are on :ref:`which_method`.
"""

# %%
# Synthetic spectra that are hard to tell apart
# ---------------------------------------------
# Each class has three peaks whose heights and positions vary from spectrum
# to spectrum, on top of noise. The rare class shares two peaks with class
# "B" and has its third one 60 cm-1 from B's, so a classifier that barely
# saw it confuses the two.
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier

from sktransfer.metrics import two_sample_accuracy
from sktransfer.over_sampling import WGANGPOverSampler

rng = np.random.default_rng(0)
x = np.linspace(200.0, 1200.0, 128)
CLASSES = {
    "A": [350, 620, 1000],
    "B": [480, 800, 1000],
    "rare": [480, 800, 940],
}


def spectra(label, n):
    out = np.zeros((n, x.size))
    for center in CLASSES[label]:
        c = center + rng.normal(0, 15, (n, 1))
        h = rng.uniform(0.3, 1.0, (n, 1))
        out += h * np.exp(-0.5 * ((x - c) / 25.0) ** 2)
    return out + rng.normal(0, 0.12, out.shape)


def dataset(counts):
    X = np.vstack([spectra(c, n) for c, n in counts.items()])
    y = np.repeat(list(counts), list(counts.values()))
    return X, y


X_train, y_train = dataset({"A": 40, "B": 40, "rare": 4})
X_test, y_test = dataset({"A": 150, "B": 150, "rare": 150})

fig, ax = plt.subplots(figsize=(7, 3))
for label, color in zip(CLASSES, ["C0", "C1", "C3"]):
    ax.plot(x, X_train[y_train == label][:4].T, color=color, lw=0.8, alpha=0.8)
    ax.plot([], [], color=color, label=label)
ax.set_xlabel("Raman shift (cm$^{-1}$)")
ax.legend()
fig.tight_layout()

# %%
# Four training sets
# ------------------
# Each sampler balances the classes of the training set only; the test
# spectra are never resampled. SMOTE interpolates between the 4 rare
# spectra (``k_neighbors=3``, as there are only 4), random over-sampling
# repeats them, WGAN-GP draws new ones from a trained generator (with its
# defaults and a short training, to keep the example fast). In a
# cross-validation, put the sampler inside the model with
# :class:`~sktransfer.pipeline.AugmentedClassifier` or an imbalanced-learn
# pipeline, so that generated spectra never enter a test fold.
samplers = {
    "none": None,
    "random over-sampling": RandomOverSampler(random_state=0),
    "SMOTE": SMOTE(k_neighbors=3, random_state=0),
    "WGAN-GP": WGANGPOverSampler(max_iter=50, random_state=0),
}
training_sets = {}
for name, sampler in samplers.items():
    if sampler is None:
        training_sets[name] = X_train, y_train
    else:
        training_sets[name] = sampler.fit_resample(X_train, y_train)
    print(f"{name:<21s} {len(training_sets[name][0])} training spectra")

# %%
# Which resampling classifies best?
# ---------------------------------
# A 5-nearest-neighbour classifier cannot find 5 neighbours of a class that
# has 4 training spectra; resampling gives it more. Balanced accuracy
# weighs the three classes equally and decides the ranking below; the
# recall of the rare class is the share of its test spectra recognised, and
# the best sampler by one need not be the best by the other.
scores = {}
for name, (X_fit, y_fit) in training_sets.items():
    pred = KNeighborsClassifier(5).fit(X_fit, y_fit).predict(X_test)
    rare_recall = np.mean(pred[y_test == "rare"] == "rare")
    scores[name] = balanced_accuracy_score(y_test, pred), rare_recall

print(f"\n{'resampling':<21s} {'balanced acc.':>13s} {'rare recall':>12s}")
for name, (bacc, rare) in scores.items():
    print(f"{name:<21s} {bacc:13.3f} {rare:12.3f}")

best = max(bacc for bacc, _ in scores.values())
winners = [name for name, (bacc, _) in scores.items() if best - bacc < 0.005]
gan = scores["WGAN-GP"][0]
simple_samplers = ["random over-sampling", "SMOTE"]
simple_name = max(simple_samplers, key=lambda n: scores[n][0])
simple = scores[simple_name][0]
verdict = f"Highest balanced accuracy ({best:.3f}): {', '.join(winners)}."
if gan > simple + 0.005:
    verdict += f" WGAN-GP beats the simple samplers by {gan - simple:.3f}."
else:
    verdict += (
        f" WGAN-GP ({gan:.3f}) does not beat {simple_name} ({simple:.3f}), "
        "which costs a fraction of a GAN's training."
    )
print(textwrap.fill(verdict, width=72, break_on_hyphens=False))

# %%
# Do the generated spectra look real?
# -----------------------------------
# :func:`~sktransfer.metrics.two_sample_accuracy` trains a classifier to
# tell new rare-class spectra from held-out real ones: 0.5 means it cannot,
# 1.0 that it always can. SMOTE's interpolations are the reference. The
# spread (standard deviation across spectra, averaged over the axis) shows
# whether the new spectra vary as much as real ones do.
real_rare = X_test[y_test == "rare"]
print(f"{'':<8s} two-sample accuracy  spread")
print(f"{'real':<8s} {'':>19s} {real_rare.std(axis=0).mean():7.3f}")
for name in ["SMOTE", "WGAN-GP"]:
    X_res, y_res = training_sets[name]
    new = X_res[len(X_train) :][y_res[len(X_train) :] == "rare"]
    realism = two_sample_accuracy(real_rare, new, random_state=0)
    print(f"{name:<8s} {realism:19.2f} {new.std(axis=0).mean():7.3f}")

X_gan, y_gan = training_sets["WGAN-GP"]
generated = X_gan[len(X_train) :][y_gan[len(X_train) :] == "rare"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
axes[0].plot(x, X_train[y_train == "rare"].T, color="k", lw=1)
axes[0].set_title("the 4 real training spectra of the rare class")
axes[1].plot(x, generated[:8].T, lw=1)
axes[1].set_title("8 spectra generated by WGAN-GP")
for ax in axes:
    ax.set_xlabel("Raman shift (cm$^{-1}$)")
fig.tight_layout()
plt.show()
