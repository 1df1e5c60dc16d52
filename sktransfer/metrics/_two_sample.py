"""Two-sample tests of "generated spectra look real"."""

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold, check_cv, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch, check_array, check_random_state

from sktransfer._base import FLOAT_DTYPES
from sktransfer._validation import check_bool, check_param, check_spectra


def _pool(real, generated):
    """Validate both groups and stack them with labels 0 (real) / 1 (generated).

    Float32 spectra stay float32 (both groups float32: the pool is too, and
    PCA works in it), which halves the memory and the time; any other data
    are pooled in float64.
    """
    real = check_spectra(real, dtype=FLOAT_DTYPES, input_name="real")
    # NaN in generated spectra is a sampler's doing, not load_rruff's
    generated = check_array(generated, dtype=FLOAT_DTYPES, input_name="generated")
    if real.shape[1] != generated.shape[1]:
        raise ValueError(
            f"real and generated must have the same number of features; got "
            f"{real.shape[1]} and {generated.shape[1]}."
        )
    X = np.vstack([real, generated])
    y = np.r_[np.zeros(len(real), dtype=int), np.ones(len(generated), dtype=int)]
    return X, y


def _all_rows_equal(X):
    """Whether every row of ``X`` is the same spectrum (nothing to learn from)."""
    return bool(np.all(X == X[0]))


def _unit_exponent(X):
    """Return the power of two of ``X``'s widest feature range, or None."""
    with np.errstate(over="ignore"):
        spread = float(np.ptp(X, axis=0).max(initial=0.0))
    if not (np.isfinite(spread) and spread > 0):
        return None
    return int(np.frexp(spread)[1])


def _unit_range(X):
    """``X`` times the power of two that brings its widest feature range into [0.5, 1).

    Multiplying by a power of two is exact: only the units change. ``X``
    itself is returned when its range is zero or overflows.
    """
    exponent = _unit_exponent(X)
    return X if exponent is None else np.ldexp(X, -exponent)


def two_sample_accuracy(real, generated, *, estimator=None, cv=5, random_state=None):
    """Cross-validated balanced accuracy of telling real from generated spectra.

    A classifier is trained to label each spectrum as real or generated (a
    classifier two-sample test). If it cannot do better than chance, the
    generated spectra are indistinguishable from the real ones for that
    classifier.

    Read more in the :ref:`User Guide <metrics>`.

    Parameters
    ----------
    real : array-like of shape (n_real, n_features)
        Real spectra.
    generated : array-like of shape (n_generated, n_features)
        Generated spectra, on the same axis. Two float32 groups are pooled
        in float32, anything else in float64.
    estimator : classifier or None, default=None
        The classifier. ``None`` uses whitened PCA scores (10 components, or
        a third of the smaller group if that is fewer) and a regularised
        quadratic discriminant analysis with equal priors
        (``QuadraticDiscriminantAnalysis(reg_param=0.01, priors=[0.5, 0.5])``),
        which sees differences of spread (e.g. mode collapse, excess noise)
        as well as differences of mean. Equal priors keep the larger group
        from winning the doubtful cases, which would pull the balanced
        accuracy towards 0.5. See Notes.
    cv : int or cross-validation generator, default=5
        An integer gives a shuffled :class:`~sklearn.model_selection.StratifiedKFold`
        with that many folds (each group needs at least that many spectra;
        with the default estimator, also at least 2 of each group left in
        every training fold). The pool holds the real spectra first, then
        the generated ones: a :class:`~sklearn.model_selection.KFold`
        without shuffling splits it in an order shuffled with
        ``random_state``, as it would otherwise test folds of one group
        only. Other splitters, and splits given as indices into that order,
        are used as given.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling and, if it has a ``random_state`` parameter,
        the classifier.

    Returns
    -------
    score : float
        Mean balanced accuracy over the folds: 0.5 means indistinguishable,
        1.0 means perfectly separated. Balanced accuracy, and the default
        classifier's equal priors, keep unequal group sizes from favouring
        one group; a larger group still gives a better-estimated boundary,
        so compare scores at similar group sizes. Values a little below 0.5 are
        chance fluctuations between independent samples; values well below
        it mean that the generated spectra copy real ones (a set tested
        against itself scores far below 0.5, see Notes). When every
        spectrum of both groups is the same, the default classifier has
        nothing to learn and the score is 0.5, without fitting.

    See Also
    --------
    kmeans_indistinguishability : The unsupervised PCA + K-means test.

    Notes
    -----
    A linear classifier only sees differences of the mean spectrum, so it
    misses the typical failure of generative models, mode collapse
    (generated spectra too similar to one another): on synthetic spectra
    whose spread is shrunk to 30 % around the right mean, logistic regression
    on standardised features scored about 0.7 where the default scores above
    0.9, while both stay near 0.5 for real-versus-real.

    Compare generated spectra with real spectra the generator was *not*
    trained on. Against its own training spectra a generator that memorises
    or averages them is favoured, and held-out folds can then score well
    below 0.5 (the classifier learns the leave-one-out shift of the mean).
    Copies are the extreme case: each held-out spectrum's twin sits in the
    training folds with the other label, so a set compared with itself
    scores near 0 (0.07-0.21 for sets of 40 noisy spectra, by seed), not
    0.5. That is no sanity check of the test; compare two halves of the
    real spectra.

    References
    ----------
    .. [1] D. Lopez-Paz and M. Oquab, "Revisiting classifier two-sample
       tests", ICLR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import two_sample_accuracy
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(60, 10))
    >>> round(two_sample_accuracy(real, real + 3.0, random_state=0), 2)
    1.0
    """
    X, y = _pool(real, generated)
    default = estimator is None
    if default and _all_rows_equal(X):
        # One spectrum throughout: no classifier can tell the groups apart,
        # and PCA of data without variance only warns.
        _check_cv_folds(cv, y, default)
        return 0.5
    if default:
        # Whitened PCA takes a component whose standard deviation is below
        # the dtype's epsilon (1.2e-7 in float32) for a constant one: the
        # spectra are scaled first, exactly, so that the score does not
        # depend on their units.
        X = _unit_range(X)
        # Few components for small groups keep the per-group covariance
        # matrices of the quadratic discriminant estimable.
        smaller = int(min(np.bincount(y, minlength=2)))
        k = max(1, min(10, X.shape[1], smaller // 3))
        estimator = make_pipeline(
            PCA(n_components=k, whiten=True),
            QuadraticDiscriminantAnalysis(reg_param=0.01, priors=[0.5, 0.5]),
        )
    estimator = clone(estimator)
    if random_state is not None:
        params = estimator.get_params()
        estimator.set_params(
            **{k: random_state for k in params if k.endswith("random_state")}
        )
    if isinstance(cv, int | np.integer | np.bool_):
        _check_cv_folds(cv, y, default)
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    elif _splits_in_order(cv):
        # the pool is ordered real first: a KFold would test one group only
        order = check_random_state(random_state).permutation(len(y))
        X, y = X[order], y[order]
    cv = check_cv(cv, y, classifier=True)
    scores = cross_val_score(
        estimator, X, y, cv=cv, scoring="balanced_accuracy", error_score="raise"
    )
    return float(np.mean(scores))


def _splits_in_order(cv):
    """Whether ``cv`` is a splitter that cuts the rows in their order.

    ``KFold()`` without shuffling: on the pool, real spectra first, its test
    folds would hold one group. Splits given as indices, and other
    splitters (of a set order, such as ``PredefinedSplit`` and
    ``TimeSeriesSplit``), are the caller's and are kept.
    """
    return isinstance(cv, KFold) and not cv.shuffle


def _check_cv_folds(cv, y, default):
    """Refuse a number of folds that the groups (or the default) cannot fill."""
    if not isinstance(cv, int | np.integer | np.bool_):
        return
    # a bool is refused here, not read by sklearn as one fold
    check_param(cv, "cv", kind="int", low=2)
    smallest = int(min(np.bincount(y, minlength=2)))
    if smallest < cv:
        raise ValueError(
            f"cv={cv} folds need at least {cv} spectra in each group; the "
            f"smaller group has {smallest}."
        )
    # The quadratic discriminant needs two spectra of each group to
    # estimate its covariance: a training fold holds all but the
    # ceil(smallest / cv) held-out spectra of the smaller group.
    train = smallest - -(-smallest // cv)
    if default and train < 2:
        raise ValueError(
            f"cv={cv} folds leave {train} spectrum of the smaller group "
            f"({smallest} spectra) in a training fold, and the default "
            "estimator needs at least 2; use more folds or more spectra "
            "(at least 3 in each group)."
        )


def kmeans_indistinguishability(
    real, generated, *, n_components=2, random_state=None, return_details=False
):
    """PCA + K-means test of whether generated spectra separate from real ones.

    The real and generated spectra are pooled, projected on their first
    ``n_components`` principal components, and split into two clusters by
    K-means. If the generated spectra look real, the clusters do not follow
    the real/generated split. The score is the balanced accuracy of the best
    matching of the two clusters to the two groups.

    Read more in the :ref:`User Guide <metrics>`.

    Parameters
    ----------
    real : array-like of shape (n_real, n_features)
        Real spectra.
    generated : array-like of shape (n_generated, n_features)
        Generated spectra, on the same axis. Two float32 groups are pooled
        (and projected) in float32, anything else in float64.
    n_components : int, default=2
        Number of principal components kept before clustering; at most
        ``min(n_real + n_generated, n_features)``.
    random_state : int, RandomState instance or None, default=None
        Seeds PCA's solver and K-means.
    return_details : bool, default=False
        Also return a :class:`~sklearn.utils.Bunch` with the projections,
        cluster labels and the contingency table.

    Returns
    -------
    score : float
        Balanced accuracy of the cluster/group matching, in ``[0.5, 1]``:
        0.5 means the clusters ignore the origin of the spectra
        (indistinguishable), 1.0 means each cluster holds exactly one group.
        When every spectrum of both groups is the same, all fall in one
        cluster (cluster 0, zero PCA scores) and the score is 0.5.
        Being the best of two matchings, it lies a little above 0.5 even
        for identical distributions.
    details : Bunch
        Only if ``return_details=True``: ``embedding`` (the PCA scores,
        shape (n_real + n_generated, n_components)), ``is_generated``
        (the group labels), ``clusters`` (the K-means labels),
        ``contingency`` (2 x 2 counts, rows real/generated, columns
        cluster 0/1) and ``explained_variance_ratio``.

    See Also
    --------
    two_sample_accuracy : The supervised classifier two-sample test.

    Notes
    -----
    This is the test used to evaluate WGAN-GP-augmented Raman spectra:
    principal component analysis of real and generated spectra together,
    then K-means with two clusters. Unlike that visual check, the score here
    is a number, and balanced accuracy keeps it fair for unequal group sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import kmeans_indistinguishability
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(50, 20))
    >>> float(kmeans_indistinguishability(real, real + 5.0, random_state=0))
    1.0
    """
    X, y = _pool(real, generated)
    check_param(n_components, "n_components", kind="int", low=1)
    check_bool(return_details, "return_details")
    if n_components > min(X.shape):
        raise ValueError(
            f"n_components={n_components} must be at most min(n_samples, "
            f"n_features) = {min(X.shape)} of the pooled spectra."
        )
    if min(np.bincount(y, minlength=2)) < 1:
        raise ValueError("real and generated must each contain a spectrum.")
    if _all_rows_equal(X):
        # One spectrum throughout: a single cluster, which ignores the
        # groups (PCA and K-means of it only warn).
        Z = np.zeros((len(X), n_components), dtype=X.dtype)
        clusters = np.zeros(len(X), dtype=np.int32)
        ratio = np.zeros(n_components, dtype=X.dtype)
    else:
        # Squared distances of very large or very small spectra overflow or
        # underflow: PCA and K-means work on the spectra scaled exactly by a
        # power of two, and the scores are scaled back.
        exponent = _unit_exponent(X)
        scaled = X if exponent is None else np.ldexp(X, -exponent)
        pca = PCA(n_components=n_components, random_state=random_state)
        pca.set_output(transform="default")  # an ndarray whatever the config
        Z = pca.fit_transform(scaled)
        kmeans = KMeans(n_clusters=2, n_init=10, random_state=random_state)
        clusters = kmeans.fit_predict(Z)
        ratio = pca.explained_variance_ratio_
        if exponent is not None:
            with np.errstate(over="ignore"):
                Z = np.ldexp(Z, exponent)
    score = max(
        balanced_accuracy_score(y, clusters), balanced_accuracy_score(y, 1 - clusters)
    )
    score = float(score)
    if not return_details:
        return score
    contingency = np.array(
        [[np.sum((y == g) & (clusters == c)) for c in (0, 1)] for g in (0, 1)]
    )
    details = Bunch(
        embedding=Z,
        is_generated=y.astype(bool),
        clusters=clusters,
        contingency=contingency,
        explained_variance_ratio=ratio,
    )
    return score, details
