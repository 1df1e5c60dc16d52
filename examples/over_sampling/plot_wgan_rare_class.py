"""
============================================
Augmenting a rare class of spectra (WGAN-GP)
============================================

Three classes of synthetic Raman-like spectra: two with 60 training spectra
each, one rare class with only 4. :class:`~sktransfer.over_sampling.WGANGPOverSampler`
learns the spectra of all classes with one class-conditional WGAN-GP and
generates new spectra of the rare class. We look at real against generated
spectra, at a PCA scatter, and at a classifier's balanced accuracy with and
without augmentation (inside :class:`~sktransfer.pipeline.AugmentedClassifier`,
so generated spectra only enter training).
"""

# %%
# Synthetic spectra
# -----------------
# Each class has its own set of peaks; peak heights and positions vary from
# spectrum to spectrum, plus noise. The rare class shares two of its three
# peaks with class "B", so a classifier that barely saw it confuses the two.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier

from sktransfer.metrics import kmeans_indistinguishability, two_sample_accuracy
from sktransfer.over_sampling import WGANGPOverSampler
from sktransfer.pipeline import AugmentedClassifier

rng = np.random.default_rng(0)
x = np.linspace(200.0, 1200.0, 256)
CLASSES = {"A": [350, 620, 1000], "B": [480, 800, 1050], "rare": [480, 800, 900]}


def spectra(label, n):
    out = np.zeros((n, x.size))
    for center in CLASSES[label]:
        c = center + rng.normal(0, 6, (n, 1))
        h = rng.uniform(0.5, 1.0, (n, 1))
        out += h * np.exp(-0.5 * ((x - c) / 12.0) ** 2)
    return out + rng.normal(0, 0.02, out.shape)


def dataset(counts):
    X = np.vstack([spectra(c, n) for c, n in counts.items()])
    y = np.repeat(list(counts), list(counts.values()))
    return X, y


X_train, y_train = dataset({"A": 60, "B": 60, "rare": 4})
X_test, y_test = dataset({"A": 100, "B": 100, "rare": 100})

# %%
# Train the sampler
# -----------------
# The defaults balance every class to the majority count; here the rare
# class gets 56 generated spectra. ``max_iter`` is lowered to keep this
# example fast.
sampler = WGANGPOverSampler(max_iter=200, random_state=0)
X_res, y_res = sampler.fit_resample(X_train, y_train)
print(sampler.sampling_strategy_)
generated = X_res[len(X_train) :]
real_rare = X_train[y_train == "rare"]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
axes[0].plot(x, real_rare.T, color="k", lw=1)
axes[0].set_title("the 4 real spectra of the rare class")
axes[1].plot(x, generated[:8].T, lw=1)
axes[1].set_title("8 generated spectra")
for ax in axes:
    ax.set_xlabel("Raman shift (cm$^{-1}$)")
fig.tight_layout()

# %%
# Training losses: the critic's estimate of the Wasserstein distance.
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(sampler.history_[None]["wasserstein"])
ax.set_xlabel("generator step")
ax.set_ylabel("critic's distance estimate")
fig.tight_layout()

# %%
# PCA of real and generated spectra
# ---------------------------------
# Generated spectra of the rare class should fall among the (test) spectra
# of that class, not among class "B".
pca = PCA(2).fit(X_test)
fig, ax = plt.subplots(figsize=(5, 4))
for label, color in zip(CLASSES, ["tab:blue", "tab:orange", "tab:green"]):
    Z = pca.transform(X_test[y_test == label])
    ax.scatter(*Z.T, s=8, alpha=0.3, color=color, label=f"{label} (test)")
ax.scatter(
    *pca.transform(real_rare).T, color="k", marker="x", s=60, label="rare (train)"
)
ax.scatter(
    *pca.transform(generated).T,
    facecolor="none",
    edgecolor="tab:red",
    s=25,
    label="rare (generated)",
)
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# Does it look real? Both scores are 0.5 for indistinguishable spectra and
# 1.0 for perfectly separable ones; here against held-out real spectra of
# the rare class. Expect them well above 0.5: a generator that saw 4 spectra
# varies them, but cannot know the full spread of peak positions and heights
# of the class, and the classifier two-sample test notices. Augmentation can
# still help a classifier, as the next section shows.
real_test_rare = X_test[y_test == "rare"][:56]
ts = two_sample_accuracy(real_test_rare, generated, random_state=0)
km = kmeans_indistinguishability(real_test_rare, generated, random_state=0)
print(f"two-sample accuracy: {ts:.2f}, k-means score: {km:.2f}")

# %%
# Balanced accuracy with and without augmentation
# -----------------------------------------------
# A 5-nearest-neighbour classifier rarely finds 5 neighbours of a class
# that has 4 training spectra; with the rare class augmented, it does.
plain = KNeighborsClassifier(5).fit(X_train, y_train)
augmented = AugmentedClassifier(
    WGANGPOverSampler(max_iter=200, random_state=0), KNeighborsClassifier(5)
).fit(X_train, y_train)
for name, clf in [("no augmentation", plain), ("WGAN-GP augmentation", augmented)]:
    score = balanced_accuracy_score(y_test, clf.predict(X_test))
    print(f"{name:<22} balanced accuracy = {score:.3f}")
