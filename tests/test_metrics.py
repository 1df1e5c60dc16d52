import warnings

import numpy as np
import pytest
import sklearn
from scipy.stats import pearsonr
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    StratifiedKFold,
    TimeSeriesSplit,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.utils import Bunch

from sktransfer.metrics import (
    get_scorer,
    get_scorer_names,
    kmeans_indistinguishability,
    spectral_correlation,
    spectral_correlation_scorer,
    spectral_rmse,
    spectral_rmse_scorer,
    two_sample_accuracy,
)
from tests.conftest import gaussian_spectra, traced_peak


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    _, Y, _ = gaussian_spectra(n_samples=12, n_features=80)
    return Y, Y + rng.normal(0, 0.2, Y.shape)


def test_identical_and_negated(pair):
    Y, _ = pair
    assert spectral_correlation(Y, Y) == pytest.approx(1.0)
    assert spectral_rmse(Y, Y) == 0.0
    np.testing.assert_allclose(
        spectral_correlation(Y, -Y, multioutput="raw_values"), -1.0
    )
    np.testing.assert_allclose(
        spectral_correlation(Y, 3.0 * Y - 7.0, multioutput="raw_values"), 1.0
    )


def test_correlation_matches_scipy_per_row(pair):
    Y, P = pair
    raw = spectral_correlation(Y, P, multioutput="raw_values")
    expected = [pearsonr(a, b).statistic for a, b in zip(Y, P)]
    assert raw.shape == (len(Y),)
    np.testing.assert_allclose(raw, expected, rtol=1e-12)
    assert spectral_correlation(Y, P) == pytest.approx(np.mean(expected))


def test_correlation_of_values_near_the_largest_float(pair):
    # the means of these rows overflow; r does not depend on the scale
    Y, P = pair
    big = 0.5 * np.finfo(np.float64).max / np.abs(Y).max()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = spectral_correlation(big * Y, P, multioutput="raw_values")
        both = spectral_correlation(big * Y, big * P, multioutput="raw_values")
    expected = spectral_correlation(Y, P, multioutput="raw_values")
    np.testing.assert_allclose(raw, expected, rtol=1e-12)
    np.testing.assert_allclose(both, expected, rtol=1e-12)
    r = spectral_correlation([1.5e308, 1.5e308, 1e308], [1.0, 2.0, 3.0])
    assert r == pytest.approx(pearsonr([1.5, 1.5, 1.0], [1, 2, 3]).statistic)


def test_correlation_of_each_spectrum_does_not_depend_on_the_others():
    # spectra of very different magnitudes in one call: each row is scaled
    # by its own largest deviation, so every coefficient is Pearson's r of
    # its pair to rounding
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 40))
    b = a + rng.normal(0, 0.5, a.shape)
    scale = np.array([[1e300], [1e140], [1.0], [1e-80], [1e-300]])
    raw = spectral_correlation(scale * a, scale * b, multioutput="raw_values")
    expected = [pearsonr(u, v).statistic for u, v in zip(a, b)]
    np.testing.assert_allclose(raw, expected, rtol=1e-14)


def test_correlation_of_an_affine_copy_stays_within_one():
    # rounding puts the unclipped quotient of some of these rows 1 ulp
    # beyond 1 (or -1); the coefficient never leaves [-1, 1]
    Y = np.random.default_rng(0).normal(size=(50, 7))
    up = spectral_correlation(Y, 3.0 * Y - 7.0, multioutput="raw_values")
    down = spectral_correlation(Y, -3.0 * Y + 7.0, multioutput="raw_values")
    assert up.max() == 1.0 and up.min() > 1.0 - 1e-15
    assert down.min() == -1.0 and down.max() < -1.0 + 1e-15


def test_rmse_matches_reference(pair):
    Y, P = pair
    raw = spectral_rmse(Y, P, multioutput="raw_values")
    np.testing.assert_allclose(raw, np.sqrt(((Y - P) ** 2).mean(axis=1)))
    assert spectral_rmse(Y, P) == pytest.approx(raw.mean())


def test_weights_and_1d(pair):
    Y, P = pair
    w = np.arange(len(Y), dtype=float)
    raw = spectral_rmse(Y, P, multioutput="raw_values")
    assert spectral_rmse(Y, P, multioutput=w) == pytest.approx(
        np.average(raw, weights=w)
    )
    # weights that sum to 1, as well as any other positive sum
    w = np.r_[0.25, 0.75, np.zeros(len(Y) - 2)]
    assert spectral_rmse(Y, P, multioutput=w) == pytest.approx(
        0.25 * raw[0] + 0.75 * raw[1], rel=1e-14
    )
    assert spectral_correlation(Y[0], P[0]) == pytest.approx(pearsonr(Y[0], P[0])[0])
    assert spectral_rmse(Y[0].tolist(), P[0].tolist()) == pytest.approx(raw[0])


def test_constant_rows_follow_documented_rule():
    y_true = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [1.0, 2.0, 3.0], [0.1] * 3])
    y_pred = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0], [5.0, 5.0, 5.0], [0.1] * 3])
    r = spectral_correlation(y_true, y_pred, multioutput="raw_values")
    np.testing.assert_array_equal(r, [1.0, 0.0, 0.0, 1.0])
    assert not np.any(np.isnan(r))
    np.testing.assert_allclose(
        spectral_rmse(y_true, y_pred, multioutput="raw_values"),
        [0, 1, np.sqrt(29 / 3), 0],
    )


def test_extreme_scales_stay_finite():
    x = np.sin(np.linspace(0, 6, 50))
    for scale in (1e-200, 1e200):
        assert spectral_correlation(scale * x, 2 * scale * x) == pytest.approx(1.0)
        assert spectral_rmse(scale * x, 2 * scale * x) == pytest.approx(
            scale * np.sqrt(np.mean(x**2)), rel=1e-12
        )


def test_rmse_of_tiny_differences_does_not_underflow():
    # the squares of differences below 1e-154 underflow: the error was 0
    # (pytest.approx's absolute tolerance hid it above)
    x = np.sin(np.linspace(0, 6, 50))
    for scale in (1e-200, 1e-300):
        got = spectral_rmse(scale * x, 2 * scale * x)
        assert got == pytest.approx(scale * np.sqrt(np.mean(x**2)), rel=1e-12, abs=0)


def test_rmse_of_differences_beyond_the_largest_float():
    # each value is finite, their difference is not: the error was inf
    got = spectral_rmse([[1.7e308, 0, 0, 0]], [[-1.7e308, 0, 0, 0]])
    assert got == pytest.approx(1.7e308, rel=1e-15)
    rows = spectral_rmse(
        [[1.7e308, 0.0, 0.0, 0.0], [1.0, 2.0, 0.0, 0.0]],
        [[-1.7e308, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        multioutput="raw_values",
    )
    np.testing.assert_allclose(rows, [1.7e308, np.sqrt(5 / 4)], rtol=1e-15)


def test_rmse_of_each_spectrum_does_not_depend_on_the_others():
    # a pair whose difference overflows is computed halved; the other rows
    # of the call are not (halving the smallest subnormal gives 0)
    y_true = np.array([[1.7e308, 0.0, 0.0, 0.0], [5e-324] * 4, [1.0, 2.0, 0.0, 0.0]])
    y_pred = np.array([[-1.7e308, 0.0, 0.0, 0.0], [0.0] * 4, [0.0] * 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = spectral_rmse(y_true, y_pred, multioutput="raw_values")
    np.testing.assert_array_equal(raw, [1.7e308, 5e-324, np.sqrt(5 / 4)])


def test_inputs_not_modified(pair):
    Y, P = pair
    Y0, P0 = Y.copy(), P.copy()
    spectral_correlation(Y, P)
    spectral_rmse(Y, P)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(P, P0)


@pytest.mark.parametrize("metric", [spectral_correlation, spectral_rmse])
def test_bad_input(metric):
    Y = np.ones((3, 4))
    with pytest.raises(ValueError, match="same shape"):
        metric(Y, np.ones((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        metric(Y, np.full((3, 4), np.nan))
    with pytest.raises(ValueError, match="infinity"):
        metric(Y, np.full((3, 4), np.inf))
    with pytest.raises(ValueError, match="multioutput"):
        metric(Y, Y, multioutput="variance_weighted")
    for scalar in (1.0, True):
        with pytest.raises(ValueError, match="multioutput must be one of"):
            metric(Y, Y, multioutput=scalar)
    with pytest.raises(ValueError, match="1-D array of weights"):
        metric(Y, Y, multioutput=np.ones((3, 1)))
    for weights in ([0.0, 0.0, 0.0], [1.0, -1.0, 1.0]):
        with pytest.raises(ValueError, match=">= 0 and not all zero"):
            metric(Y, Y, multioutput=weights)
    with pytest.raises(ValueError, match="dim 3"):
        metric(np.ones((2, 2, 2)), np.ones((2, 2, 2)))


def test_scorers_in_grid_search():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    Y = X @ rng.normal(size=(6, 40)) + rng.normal(0, 0.1, (60, 40))
    for scorer in (spectral_correlation_scorer, get_scorer("spectral_correlation")):
        search = GridSearchCV(Ridge(), {"alpha": [1e-2, 1e4]}, cv=3, scoring=scorer)
        assert search.fit(X, Y).best_params_ == {"alpha": 1e-2}
    cv = cross_validate(
        Ridge(alpha=1e-2), X, Y, cv=KFold(3), scoring={"rmse": spectral_rmse_scorer}
    )
    model = Ridge(alpha=1e-2).fit(X[:40], Y[:40])
    assert spectral_rmse_scorer(model, X[40:], Y[40:]) == pytest.approx(
        -spectral_rmse(Y[40:], model.predict(X[40:]))
    )
    assert np.all(cv["test_rmse"] < 0)
    scorer = get_scorer("neg_spectral_rmse")
    assert scorer(model, X[40:], Y[40:]) == spectral_rmse_scorer(model, X[40:], Y[40:])
    assert get_scorer("r2")._score_func.__name__ == "r2_score"
    assert {"spectral_correlation", "neg_spectral_rmse", "r2"} <= set(
        get_scorer_names()
    )


def test_get_scorer_gives_a_copy():
    # as sklearn's get_scorer: a request set on one scorer changed the
    # module's scorer, and every later search that used it
    scorer = get_scorer("neg_spectral_rmse")
    assert scorer is not spectral_rmse_scorer
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sample_weight=True)
        assert scorer.get_metadata_routing().score.requests["sample_weight"]
        for other in (get_scorer("neg_spectral_rmse"), spectral_rmse_scorer):
            assert not other.get_metadata_routing().score.requests.get("sample_weight")


@pytest.fixture(scope="module")
def groups():
    rng = np.random.default_rng(1)
    _, A, _ = gaussian_spectra(n_samples=90, n_features=60, random_state=1)
    same = A[:50], A[50:]
    shifted = A[:50], A[50:] + 2.0 + rng.normal(0, 0.05, A[50:].shape)
    return same, shifted


def test_two_sample_accuracy_known_truths(groups):
    (a, b), (c, d) = groups
    same = two_sample_accuracy(a, b, random_state=0)
    assert 0.3 <= same <= 0.7
    assert two_sample_accuracy(c, d, random_state=0) > 0.95
    # copies: each held-out spectrum's twin is in training with the other
    # label, so the documented score is far below 0.5, not 0.5
    assert two_sample_accuracy(a, a, random_state=0) < 0.25
    rf = RandomForestClassifier(n_estimators=20)
    assert two_sample_accuracy(c, d, estimator=rf, cv=3, random_state=0) > 0.95
    # reproducible and unchanged inputs
    a0 = a.copy()
    assert two_sample_accuracy(a, b, random_state=3) == two_sample_accuracy(
        a, b, random_state=3
    )
    np.testing.assert_array_equal(a, a0)


@pytest.mark.parametrize(
    "n_real, n_generated, n_features",
    [(40, 5, 20), (40, 12, 20), (40, 40, 20), (30, 30, 3)],
)
def test_two_sample_accuracy_default_is_its_documented_pipeline(
    n_real, n_generated, n_features
):
    # whitened PCA (10 components, a third of the smaller group or the
    # number of features if fewer) and QDA(reg_param=0.01, priors=[0.5, 0.5])
    # on shuffled stratified folds
    rng = np.random.default_rng(0)
    real = rng.normal(size=(n_real, n_features))
    generated = 0.8 * rng.normal(size=(n_generated, n_features)) + 0.3
    X = np.vstack([real, generated])
    y = np.r_[np.zeros(n_real), np.ones(n_generated)]
    k = min(10, n_features, min(n_real, n_generated) // 3)
    pipe = make_pipeline(
        PCA(n_components=k, whiten=True),
        QuadraticDiscriminantAnalysis(reg_param=0.01, priors=[0.5, 0.5]),
    )
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    expected = cross_val_score(pipe, X, y, cv=cv, scoring="balanced_accuracy").mean()
    got = two_sample_accuracy(real, generated, random_state=0)
    assert got == pytest.approx(expected, abs=1e-12)


def test_two_sample_accuracy_seeds_the_classifier_and_raises_its_errors(groups):
    from sklearn.base import BaseEstimator, ClassifierMixin

    (a, b), _ = groups
    rf = RandomForestClassifier(n_estimators=3, max_features=1)
    scores = {two_sample_accuracy(a, b, estimator=rf, random_state=0) for _ in range(4)}
    assert len(scores) == 1

    class Failing(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            raise RuntimeError("this classifier cannot fit")

    with pytest.raises(RuntimeError, match="cannot fit"):
        two_sample_accuracy(a, b, estimator=Failing())


def test_two_sample_accuracy_default_sees_spread_differences():
    # Mode collapse and independent noise keep the right mean spectrum; a
    # linear classifier misses them, the default quadratic one must not.
    _, A, _ = gaussian_spectra(n_samples=80, n_features=60, random_state=2)
    a, b = A[:40], A[40:]
    m = b.mean(axis=0)
    collapse = m + 0.3 * (b - m)
    rough = m + np.random.default_rng(0).normal(size=b.shape) * b.std(axis=0)
    assert 0.35 <= two_sample_accuracy(a, b, random_state=0) <= 0.65
    assert two_sample_accuracy(a, collapse, random_state=0) > 0.85
    assert two_sample_accuracy(a, rough, random_state=0) > 0.85


def test_two_sample_accuracy_does_not_depend_on_units(groups):
    # whitened PCA took components below float32's epsilon for constant
    # ones: float32 spectra of 1e-8 and below scored 0.5, "indistinguishable"
    _, (c, d) = groups
    ref = two_sample_accuracy(c, d, random_state=0)
    assert ref > 0.95
    for scale, dtype in ((1e-9, np.float32), (1e-17, np.float64), (1e12, np.float32)):
        got = two_sample_accuracy(
            (c * scale).astype(dtype), (d * scale).astype(dtype), random_state=0
        )
        assert got == pytest.approx(ref, abs=0.03), (scale, dtype)


def test_two_sample_accuracy_unequal_groups():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(80, 5))
    # a majority-class guess would score 80/90 accuracy; balanced gives 0.5
    generated = rng.normal(size=(10, 5))
    assert two_sample_accuracy(real, generated, random_state=0) < 0.7
    assert two_sample_accuracy(real, generated + 4.0, random_state=0) > 0.95


def test_two_sample_accuracy_does_not_lean_to_the_larger_group():
    # the default classifier learnt the group sizes as priors: the larger
    # group won the doubtful cases and the score fell towards 0.5 as it grew
    # (0.85 with 60 real spectra, 0.60 with 1,200, against 60 generated
    # ones; 0.85 and 0.78 with equal priors)
    rng = np.random.default_rng(0)
    generated = rng.normal(size=(60, 30)) + 0.4
    scores = [
        two_sample_accuracy(rng.normal(size=(n, 30)), generated, random_state=0)
        for n in (60, 1200)
    ]
    assert scores[0] > 0.75
    assert scores[1] > scores[0] - 0.1


def test_two_sample_accuracy_bad_input():
    X = np.zeros((10, 4))
    with pytest.raises(ValueError, match="same number of features"):
        two_sample_accuracy(X, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="at least 5 spectra"):
        two_sample_accuracy(X, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="cv must be"):
        two_sample_accuracy(X, X, cv=1)
    # a bool used to reach sklearn as one fold ("n_splits=1")
    with pytest.raises(ValueError, match="cv must be an integer, got True"):
        two_sample_accuracy(X, X, cv=True)
    with pytest.raises(ValueError, match="NaN"):
        two_sample_accuracy(X, np.full((10, 4), np.nan))


def test_kmeans_indistinguishability_known_truths(groups):
    (a, b), (c, d) = groups
    same = kmeans_indistinguishability(a, b, random_state=0)
    assert 0.5 <= same < 0.75
    score, details = kmeans_indistinguishability(
        c, d, random_state=0, return_details=True
    )
    assert score == 1.0
    assert isinstance(details, Bunch)
    assert details.embedding.shape == (90, 2)
    assert details.contingency.sum() == 90
    np.testing.assert_array_equal(details.contingency.sum(axis=1), [50, 40])
    assert sorted(details.contingency.ravel().tolist()) == [0, 0, 40, 50]
    assert details.is_generated.sum() == 40
    assert kmeans_indistinguishability(c, d, random_state=0, n_components=5) == 1.0


def test_kmeans_indistinguishability_seeds_the_pca_of_long_spectra():
    # over 500 points PCA's solver draws random numbers: without the seed it
    # drew from NumPy's global generator, and the projection changed with it
    rng = np.random.default_rng(0)
    real, generated = rng.normal(size=(40, 600)), rng.normal(size=(40, 600)) + 0.1
    pooled = np.vstack([real, generated])
    expected = PCA(n_components=2, random_state=3).fit_transform(pooled)
    for global_seed in (0, 1):
        np.random.seed(global_seed)  # noqa: NPY002 - the global state a seed must not read
        _, details = kmeans_indistinguishability(
            real, generated, random_state=3, return_details=True
        )
        np.testing.assert_allclose(details.embedding, expected, rtol=1e-10)


def test_kmeans_indistinguishability_details_follow_their_definitions(groups):
    (a, b), _ = groups
    score, details = kmeans_indistinguishability(
        a, b, n_components=3, random_state=0, return_details=True
    )
    g, c = details.is_generated, details.clusters
    expected = [
        [np.sum(~g & (c == k)) for k in (0, 1)],
        [np.sum(g & (c == k)) for k in (0, 1)],
    ]
    np.testing.assert_array_equal(details.contingency, expected)
    (n00, n01), (n10, n11) = details.contingency
    kept = 0.5 * (n00 / (n00 + n01) + n11 / (n10 + n11))
    swapped = 0.5 * (n01 / (n00 + n01) + n10 / (n10 + n11))
    assert score == pytest.approx(max(kept, swapped), abs=1e-15)
    X = np.vstack([a, b])
    pca = PCA(n_components=3).fit(X)
    np.testing.assert_allclose(
        details.explained_variance_ratio, pca.explained_variance_ratio_, rtol=1e-10
    )
    np.testing.assert_allclose(
        np.abs(details.embedding), np.abs(pca.transform(X)), rtol=1e-8, atol=1e-12
    )
    # seeded: the same clusters, labelled the same way, every time
    for _ in range(3):
        again = kmeans_indistinguishability(
            a, b, n_components=3, random_state=0, return_details=True
        )[1]
        np.testing.assert_array_equal(again.clusters, c)


def test_kmeans_indistinguishability_embedding_ignores_the_global_output_config(
    groups,
):
    # with set_config(transform_output="pandas") the embedding came back as a
    # DataFrame (and embedding[:, 0] failed)
    import sklearn

    (a, b), _ = groups
    expected = kmeans_indistinguishability(a, b, random_state=0, return_details=True)
    with sklearn.config_context(transform_output="pandas"):
        got = kmeans_indistinguishability(a, b, random_state=0, return_details=True)
    assert got[0] == expected[0]
    assert type(got[1].embedding) is np.ndarray
    np.testing.assert_array_equal(got[1].embedding, expected[1].embedding)


def test_kmeans_indistinguishability_bad_input():
    X = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(ValueError, match="must be at most min"):
        kmeans_indistinguishability(X, X, n_components=5)
    with pytest.raises(ValueError, match="n_components must be an integer"):
        kmeans_indistinguishability(X, X, n_components=2.0)
    # one component, as many as features, and one generated spectrum are fine
    for n_components in (1, 4):
        got = kmeans_indistinguishability(X, X, n_components=n_components)
        assert 0.5 <= got <= 1.0
    assert 0.5 <= kmeans_indistinguishability(X, X[:1], random_state=0) <= 1.0
    with pytest.raises(ValueError, match="return_details must be True or False"):
        kmeans_indistinguishability(X, X, return_details="yes")
    with pytest.raises(ValueError, match="n_components"):
        kmeans_indistinguishability(X, X, n_components=0)
    with pytest.raises(ValueError, match="same number of features"):
        kmeans_indistinguishability(X, X[:, :3])


@pytest.mark.parametrize(
    "metric",
    [spectral_correlation, spectral_rmse, "peak_recall"],
)
def test_metrics_memory_does_not_grow_with_the_number_of_spectra(monkeypatch, metric):
    # scale: the metrics made float64 copies of both whole matrices and
    # several temporaries of their size (1.5 GiB for 20,000 x 2,000 float32
    # spectra); they now work on chunks of rows
    from sktransfer.metrics import _spectral, peak_recall

    metric = peak_recall if metric == "peak_recall" else metric
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(2000, 500)).astype(np.float32)
    P = Y + rng.normal(0, 0.1, Y.shape).astype(np.float32)
    whole = metric(Y, P, multioutput="raw_values")
    monkeypatch.setattr(_spectral, "_CHUNK_POINTS", 50 * 500, raising=False)
    chunked, peak = traced_peak(metric, Y, P, multioutput="raw_values")
    # one float64 copy of one matrix is 8 MB
    assert peak < 2e6
    np.testing.assert_allclose(chunked, whole, rtol=1e-14)


def test_two_sample_tests_keep_float32(groups):
    # scale: float32 spectra were copied to float64 (1.8 GiB and 17-23 s for
    # two groups of 20,000 x 2,000; 0.9 GiB and 7 s in float32)
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.dummy import DummyClassifier

    class Recorder(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            dtypes.append(X.dtype)
            self.classes_ = np.unique(y)
            self.dummy_ = DummyClassifier().fit(X, y)
            return self

        def predict(self, X):
            return self.dummy_.predict(X)

    (a, b), (c, d) = groups
    a32, b32, c32, d32 = (g.astype(np.float32) for g in (a, b, c, d))
    dtypes = []
    two_sample_accuracy(a32, b32, estimator=Recorder(), random_state=0)
    assert set(dtypes) == {np.dtype(np.float32)}
    dtypes.clear()
    two_sample_accuracy(a32, b, estimator=Recorder(), random_state=0)
    assert set(dtypes) == {np.dtype(np.float64)}  # mixed: float64
    score, details = kmeans_indistinguishability(
        c32, d32, random_state=0, return_details=True
    )
    assert details.embedding.dtype == np.float32
    # the scores of these groups do not move
    assert score == kmeans_indistinguishability(c, d, random_state=0)
    for x, y in ((a32, b32), (c32, d32)):
        assert two_sample_accuracy(x, y, random_state=0) == two_sample_accuracy(
            x.astype(np.float64), y.astype(np.float64), random_state=0
        )


def test_two_sample_accuracy_default_needs_two_spectra_per_training_fold():
    # cv=2 on groups of 3 keeps one spectrum of each group for training,
    # whose covariance the default quadratic discriminant cannot estimate
    rng = np.random.default_rng(0)
    real, generated = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    with pytest.raises(ValueError, match="cv=2 folds leave 1 spectrum"):
        two_sample_accuracy(real, generated, cv=2)
    with pytest.raises(ValueError, match="at least 3 in each group"):
        two_sample_accuracy(real[:2], generated[:2], cv=2)
    assert 0 <= two_sample_accuracy(real, generated, cv=3, random_state=0) <= 1
    # another classifier may do with a single spectrum of each group
    got = two_sample_accuracy(
        real, generated, estimator=LogisticRegression(), cv=2, random_state=0
    )
    assert 0 <= got <= 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_sample_tests_of_one_spectrum_throughout_score_half_silently(dtype):
    # identical constant spectra in both groups: PCA of data without
    # variance used to warn ("invalid value encountered in divide"), and
    # K-means of duplicates too
    X = np.full((12, 16), 3.0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert two_sample_accuracy(X, X.copy(), random_state=0) == 0.5
        score, details = kmeans_indistinguishability(
            X, X.copy(), random_state=0, return_details=True
        )
    assert score == 0.5
    np.testing.assert_array_equal(details.contingency, [[12, 0], [12, 0]])
    assert details.embedding.shape == (24, 2)
    assert details.embedding.dtype == dtype
    np.testing.assert_array_equal(details.explained_variance_ratio, [0.0, 0.0])
    # the folds are still checked
    with pytest.raises(ValueError, match="cv=5 folds need at least 5"):
        two_sample_accuracy(X[:3], X[:3], cv=5)


@pytest.mark.parametrize(
    "scale, dtype",
    [
        (1e-25, np.float32),
        (1e25, np.float32),
        (1e-200, np.float64),
        (1e160, np.float64),
    ],
)
def test_kmeans_indistinguishability_does_not_depend_on_units(scale, dtype):
    # squared distances of tiny or huge spectra used to underflow or
    # overflow, and separated groups scored 0.5 (with runtime warnings)
    rng = np.random.default_rng(0)
    real = rng.normal(size=(30, 8))
    generated = real[::-1] + 5.0 + rng.normal(size=(30, 8))
    expected, unit = kmeans_indistinguishability(
        real.astype(dtype), generated.astype(dtype), random_state=0, return_details=True
    )
    assert expected == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score, details = kmeans_indistinguishability(
            (real * scale).astype(dtype),
            (generated * scale).astype(dtype),
            random_state=0,
            return_details=True,
        )
    assert score == expected
    np.testing.assert_array_equal(details.clusters, unit.clusters)
    # the scores are in the units of the spectra
    assert details.embedding.dtype == dtype
    np.testing.assert_allclose(
        details.embedding / scale,
        unit.embedding,
        rtol=1e-3 if dtype == np.float32 else 1e-9,
    )


def test_averages_of_values_and_weights_near_the_float_limit():
    # the mean of two RMSEs of 1e308 overflowed to inf (with a warning), and
    # weights of 1e308 overflowed their sum to give NaN
    rng = np.random.default_rng(0)
    Y, P = rng.normal(size=(2, 10)), rng.normal(size=(2, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spectral_rmse([[1e308], [1e308]], [[0.0], [0.0]]) == 1e308
        assert (
            spectral_rmse([[1e308], [1e308]], [[0.0], [0.0]], multioutput=[1e308, 1])
            == 1e308
        )
        r = spectral_correlation(Y, P, multioutput="raw_values")
        got = spectral_correlation(Y, P, multioutput=[1e308, 1e308])
        assert got == pytest.approx(r.mean(), rel=1e-15)
        got = spectral_correlation(Y, P, multioutput=[3e307, 1e307])
        assert got == pytest.approx(np.average(r, weights=[3, 1]), rel=1e-15)
        # an RMSE beyond the float range is infinite, without a warning
        assert spectral_rmse([[1.7e308, -1.7e308]], [[-1.7e308, 1.7e308]]) == np.inf


def test_two_sample_accuracy_shuffles_the_pool_for_a_splitter_of_one_s_own():
    # the pool holds the real spectra first: KFold tested folds of one group
    # (a mean of 0.41 for one distribution; KFold(2) failed in the
    # discriminant with "Got 1 class")
    rng = np.random.default_rng(0)
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(10):
            real, generated = rng.normal(size=(40, 20)), rng.normal(size=(40, 20))
            scores.append(
                two_sample_accuracy(real, generated, cv=KFold(5), random_state=seed)
            )
        assert two_sample_accuracy(real, generated, cv=KFold(2), random_state=0) > 0.3
        assert (
            two_sample_accuracy(real, generated + 3.0, cv=KFold(5), random_state=0)
            == 1.0
        )
    assert 0.45 < np.mean(scores) < 0.55
    # the same seed, the same score
    assert two_sample_accuracy(real, generated, cv=KFold(5), random_state=3) == (
        two_sample_accuracy(real, generated, cv=KFold(5), random_state=3)
    )


def test_a_spectrum_of_weight_zero_does_not_count_even_if_infinite():
    # inf times a weight of 0 gave NaN
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = spectral_rmse([[1e308], [0.0]], [[-1e308], [1.0]], multioutput=[0, 1])
    assert got == 1.0


def test_two_sample_accuracy_keeps_splits_given_as_indices_and_stratified_splitters():
    # the pool used to be shuffled for any cv but an integer: splits given
    # as indices (the way to group) then pointed at other rows
    rng = np.random.default_rng(0)
    real, generated = rng.normal(size=(40, 8)), rng.normal(size=(40, 8)) + 0.3
    X, y = np.vstack([real, generated]), np.r_[np.zeros(40), np.ones(40)]
    groups = np.r_[np.arange(40) // 4, 10 + np.arange(40) // 4]
    splits = list(GroupKFold(5).split(X, y, groups))
    expected = cross_val_score(
        LogisticRegression(), X, y, cv=splits, scoring="balanced_accuracy"
    ).mean()
    got = two_sample_accuracy(
        real, generated, estimator=LogisticRegression(), cv=splits
    )
    assert got == pytest.approx(expected, abs=1e-12)
    # a stratified splitter without shuffling is deterministic, as before
    first = two_sample_accuracy(real, generated, cv=StratifiedKFold(5))
    assert two_sample_accuracy(real, generated, cv=StratifiedKFold(5)) == first
    # and a splitter of a set order is used as given
    series = TimeSeriesSplit(3, test_size=10)
    expected = cross_val_score(
        LogisticRegression(), X, y, cv=series, scoring="balanced_accuracy"
    ).mean()
    for seed in (0, 1):
        got = two_sample_accuracy(
            real,
            generated,
            estimator=LogisticRegression(),
            cv=series,
            random_state=seed,
        )
        assert got == pytest.approx(expected, abs=1e-12)


def test_a_column_target_beside_its_1d_prediction_is_one_target():
    # regressors fitted on y of shape (n, 1) predict shape (n,): the scorers
    # raised a shape error, which GridSearchCV turned into NaN scores
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = (X @ rng.normal(size=5) + rng.normal(size=40))[:, None]
    flat = spectral_correlation(y.ravel(), y.ravel() * 2 + 1)
    assert spectral_correlation(y, y.ravel() * 2 + 1) == flat == 1.0
    assert spectral_rmse(y.ravel() + 1, y) == 1.0
    search = GridSearchCV(
        Ridge(),
        {"alpha": [0.1, 10.0]},
        cv=3,
        scoring=spectral_correlation_scorer,
        error_score="raise",
    ).fit(X, y)
    assert np.all(search.cv_results_["mean_test_score"] > 0.5)
    # columns of other lengths are still refused
    with pytest.raises(ValueError, match="must have the same shape"):
        spectral_correlation(y, y.ravel()[:-1])


def test_sample_weight_weights_the_spectra_as_multioutput_does():
    # a scorer's set_score_request(sample_weight=True) passed a keyword the
    # metrics did not take: TypeError, NaN scores in a search
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, cross_validate

    rng = np.random.default_rng(0)
    Y = rng.random((6, 20))
    P = Y + rng.normal(0, [[0.1], [0.2], [0.3], [0.4], [0.5], [0.6]], Y.shape)
    w = np.array([1.0, 0.0, 2.0, 1.0, 0.0, 3.0])
    for metric in (spectral_correlation, spectral_rmse):
        assert metric(Y, P, sample_weight=w) == metric(Y, P, multioutput=w)
        np.testing.assert_array_equal(
            metric(Y, P, multioutput="raw_values", sample_weight=w),
            metric(Y, P, multioutput="raw_values"),
        )
        with pytest.raises(ValueError, match="once: as multioutput or as sample"):
            metric(Y, P, multioutput=w, sample_weight=w)
    X = rng.normal(size=(40, 5))
    Yb = X @ rng.normal(size=(5, 8))
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_spectral_rmse").set_score_request(sample_weight=True)
        result = cross_validate(
            Ridge().set_fit_request(sample_weight=False),
            X,
            Yb,
            cv=KFold(4),
            scoring=scorer,
            params={"sample_weight": np.ones(40)},
            error_score="raise",
        )
    assert np.all(np.isfinite(result["test_score"]))


def test_the_weight_of_a_matrix_of_one_spectrum_is_one_value():
    # a (1, n) matrix was taken for a 1-D target: its one weight failed the
    # length check (a grouped search with a species of one spectrum raised),
    # and n weights were read as weights of its points
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import LeaveOneGroupOut, cross_validate

    rng = np.random.default_rng(0)
    Y = rng.normal(size=(2, 30))
    P = Y + rng.normal(size=(2, 30))
    for metric in (spectral_correlation, spectral_rmse):
        assert metric(Y[:1], P[:1], sample_weight=[2.0]) == metric(Y[:1], P[:1])
        with pytest.raises(ValueError, match="30 weights of spectra .* for 1 spec"):
            metric(Y[:1], P[:1], sample_weight=np.ones(30))
        with pytest.raises(ValueError, match="2 weights of spectra .* for 1 spec"):
            metric(Y[:1], P[:1], multioutput=[1.0, 1.0])
        # a 1-D pair is a target of one value per sample: weights per point
        half = np.r_[np.ones(15), np.zeros(15)]
        assert metric(Y[0], P[0], sample_weight=half) == pytest.approx(
            metric(Y[0, :15], P[0, :15]), rel=1e-12
        )
    X = rng.normal(size=(7, 5))
    Yb = X @ rng.normal(size=(5, 30))
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("spectral_correlation").set_score_request(
            sample_weight=True
        )
        result = cross_validate(
            Ridge().set_fit_request(sample_weight=False),
            X,
            Yb,
            cv=LeaveOneGroupOut(),
            scoring=scorer,
            params={"sample_weight": np.ones(7), "groups": [0, 0, 1, 1, 2, 2, 3]},
            error_score="raise",
        )
    assert np.all(np.isfinite(result["test_score"]))


def test_sample_weight_of_a_1d_target_weights_its_samples():
    # a 1-D target is one spectrum: per-sample weights failed its length
    # check, and a routed search scored NaN
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import KFold, cross_val_score

    rng = np.random.default_rng(0)
    t, p = rng.normal(size=30), rng.normal(size=30)
    p = t + p
    w = rng.uniform(0, 2, 30)
    w[:4] = 0.0
    cov = np.cov(t, p, aweights=w)
    expected = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    assert spectral_correlation(t, p, sample_weight=w) == pytest.approx(expected)
    rmse = np.sqrt(mean_squared_error(t, p, sample_weight=w))
    assert spectral_rmse(t, p, sample_weight=w) == pytest.approx(rmse)
    # a column beside its 1-D prediction is the same target
    assert spectral_rmse(t[:, None], p, sample_weight=w) == pytest.approx(rmse)
    for bad, message in [
        (np.zeros(30), "sample_weight weights must be >= 0 and not all zero"),
        (np.ones((30, 1)), "sample_weight must be a 1-D array of weights"),
        (np.ones(29), "sample_weight has 29 weights for a 1-D target of 30 po"),
    ]:
        with pytest.raises(ValueError, match=message):
            spectral_correlation(t, p, sample_weight=bad)
    X = rng.normal(size=(40, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=40)
    with sklearn.config_context(enable_metadata_routing=True):
        for name in ("spectral_correlation", "neg_spectral_rmse"):
            scorer = get_scorer(name).set_score_request(sample_weight=True)
            scores = cross_val_score(
                Ridge().set_fit_request(sample_weight=False),
                X,
                y,
                cv=KFold(4),
                scoring=scorer,
                params={"sample_weight": np.ones(40)},
                error_score="raise",
            )
            assert np.all(np.isfinite(scores)), name


def test_spectra_of_one_point_warn_that_they_have_no_shape():
    # y of shape (n, 1) against predictions of shape (n, 1): n spectra of
    # one point, each r 0 or 1, silently
    y = np.arange(6.0)[:, None]
    with pytest.warns(UserWarning, match="one point each, which has no shape"):
        assert spectral_correlation(y, y + 1.0) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert spectral_correlation(y.ravel(), y.ravel() + 1.0) == 1.0
        spectral_rmse(y, y + 1.0)


def test_an_unknown_scorer_name_points_at_sktransfer_names():
    # sklearn's message listed sklearn's names, where the valid one is ours
    with pytest.raises(ValueError, match=r"'neg_spectral_rmse'\)\. Use sktransfer"):
        get_scorer("spectral_rmse")
    with pytest.raises(ValueError, match=r"'no_such' is not a valid scoring value\."):
        get_scorer("no_such")
    assert get_scorer("r2")._score_func.__name__ == "r2_score"  # sklearn's names
