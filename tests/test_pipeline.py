import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sktransfer.over_sampling import WGANGPOverSampler
from sktransfer.pipeline import AugmentedClassifier


class CountingOverSampler(BaseEstimator):
    """Duplicate rows of the smaller classes; count calls (test double)."""

    n_calls = 0

    def __init__(self, factor=1):
        self.factor = factor

    def fit_resample(self, X, y):
        type(self).n_calls += 1
        classes, counts = np.unique(y, return_counts=True)
        extra = [
            np.flatnonzero(y == c)[: max(counts) - n] for c, n in zip(classes, counts)
        ]
        idx = np.r_[np.arange(len(y)), *extra].astype(int)
        return np.repeat(X[idx], self.factor, axis=0), np.repeat(y[idx], self.factor)


def wgan():
    return WGANGPOverSampler(
        max_iter=3, batch_size=8, channels=8, n_critic_layers=2, random_state=0
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 20))
    y = np.array(["common"] * 40 + ["rare"] * 8)
    X[y == "rare", :5] += 2.0
    return X, y


def test_resamples_in_fit_only(data):
    X, y = data
    CountingOverSampler.n_calls = 0
    clf = AugmentedClassifier(CountingOverSampler(), LogisticRegression()).fit(X, y)
    assert CountingOverSampler.n_calls == 1
    assert clf.predict(X).shape == (48,)
    clf.predict_proba(X)
    clf.score(X, y)
    assert CountingOverSampler.n_calls == 1


def test_classifier_sees_the_resampled_data(data):
    X, y = data
    clf = AugmentedClassifier(CountingOverSampler(), LogisticRegression()).fit(X, y)
    ref = LogisticRegression().fit(*CountingOverSampler().fit_resample(X, y))
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X))
    assert clf.classes_.tolist() == ["common", "rare"]
    assert clf.sampler_ is not clf.sampler


def test_delegates_only_what_the_classifier_has(data):
    X, y = data
    clf = AugmentedClassifier(wgan(), SVC())
    assert hasattr(clf, "decision_function")
    assert not hasattr(clf, "predict_proba")
    clf.fit(X, y)
    assert not hasattr(clf, "predict_proba")
    assert clf.decision_function(X).shape == (48,)
    knn = AugmentedClassifier(wgan(), KNeighborsClassifier())
    assert not hasattr(knn, "decision_function")
    assert hasattr(knn, "predict_proba")


def test_in_pipeline_grid_search_and_cross_val(data):
    X, y = data
    pipe = make_pipeline(
        StandardScaler(), AugmentedClassifier(wgan(), LogisticRegression())
    )
    grid = GridSearchCV(
        pipe,
        {
            "augmentedclassifier__sampler__max_iter": [1, 2],
            "augmentedclassifier__classifier__C": [0.1, 1.0],
        },
        cv=StratifiedKFold(3),
        scoring="balanced_accuracy",
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_.predict(X).shape == (48,)
    cv = StratifiedKFold(3)
    scores = cross_val_score(pipe, X, y, cv=cv)
    by_hand = [
        clone(pipe).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in cv.split(X, y)
    ]
    np.testing.assert_array_equal(scores, by_hand)


def test_augmentation_changes_the_minority_recall(data):
    """Balancing shifts the decision towards the rare class (known direction)."""
    X, y = data
    X_test = np.random.default_rng(1).normal(size=(200, 20))
    X_test[:, :5] += 1.0
    plain = LogisticRegression(C=0.05).fit(X, y)
    aug = AugmentedClassifier(CountingOverSampler(), LogisticRegression(C=0.05)).fit(
        X, y
    )
    assert (aug.predict(X_test) == "rare").sum() > (
        plain.predict(X_test) == "rare"
    ).sum()


def test_bad_sampler_and_inputs(data):
    X, y = data
    with pytest.raises(ValueError, match="fit_resample"):
        AugmentedClassifier(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        AugmentedClassifier(wgan(), LogisticRegression()).fit(X, y[:-1])
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AugmentedClassifier(wgan(), LogisticRegression()).fit(X_bad, y)
    clf = AugmentedClassifier(wgan(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="AugmentedClassifier is expecting 20 feat"):
        clf.predict(X[:, :5])
    assert clf.n_features_in_ == 20


def test_clone_and_nested_params():
    clf = AugmentedClassifier(wgan(), LogisticRegression())
    params = clf.get_params()
    assert params["sampler__max_iter"] == 3 and "classifier__C" in params
    clf.set_params(sampler__max_iter=7, classifier__C=3.0)
    cloned = clone(clf)
    assert cloned.sampler.max_iter == 7 and cloned.classifier.C == 3.0


def test_wgan_in_augmented_classifier_generates_rare_rows(data):
    X, y = data
    clf = AugmentedClassifier(wgan(), LogisticRegression()).fit(X, y)
    assert clf.sampler_.sampling_strategy_ == {"rare": 32}
    assert clf.predict(X).dtype.kind == "U"


@pytest.mark.parametrize("classifier", [None, "svc", 5, StandardScaler()])
def test_classifier_that_is_not_a_classifier(data, classifier):
    X, y = data
    clf = AugmentedClassifier(CountingOverSampler(), classifier)
    with pytest.raises(ValueError, match="classifier must be a scikit-learn"):
        clf.fit(X, y)


def test_a_regressor_is_not_taken_for_a_classifier(data):
    # it fitted the labels as numbers and predicted values between them
    from sklearn.linear_model import LinearRegression

    X, y = data
    clf = AugmentedClassifier(CountingOverSampler(), LinearRegression())
    with pytest.raises(ValueError, match="must be a classifier; got the regressor"):
        clf.fit(X, y)


class IndexedOverSampler(CountingOverSampler):
    """Like CountingOverSampler, recording the source row of each output row."""

    def fit_resample(self, X, y):
        X_res, y_res = super().fit_resample(X, y)
        classes, counts = np.unique(y, return_counts=True)
        extra = [
            np.flatnonzero(y == c)[: max(counts) - n] for c, n in zip(classes, counts)
        ]
        self.sample_indices_ = np.r_[np.arange(len(y)), *extra].astype(int)
        return X_res, y_res


def test_sample_weight_follows_the_resampled_rows(data):
    X, y = data
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    clf = AugmentedClassifier(IndexedOverSampler(), LogisticRegression())
    clf.fit(X, y, sample_weight=w)
    idx = clf.sampler_.sample_indices_
    assert len(idx) == 56 and (y[idx] == "rare").sum() == 16
    ref = LogisticRegression().fit(X[idx], y[idx], sample_weight=w[idx])
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    unweighted = AugmentedClassifier(IndexedOverSampler(), LogisticRegression())
    assert not np.allclose(
        unweighted.fit(X, y).predict_proba(X), clf.predict_proba(X), atol=1e-3
    )


def test_metadata_routing_sends_sample_weight_to_the_classifier(data):
    import sklearn
    from sklearn.model_selection import cross_validate

    X, y = data
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        requested = LogisticRegression().set_fit_request(sample_weight=True)
        clf = AugmentedClassifier(IndexedOverSampler(), requested)
        # scored unweighted, as cross_validate scores without routing
        clf.set_score_request(sample_weight=False)
        got = cross_validate(clf, X, y, cv=cv, params={"sample_weight": w})
        # routed, the weights follow the resampled rows as without routing
        clf.fit(X, y, sample_weight=w)
        idx = clf.sampler_.sample_indices_
        ref = LogisticRegression().fit(X[idx], y[idx], sample_weight=w[idx])
        np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
        # a classifier that did not request them is an error, as in sklearn
        plain = AugmentedClassifier(IndexedOverSampler(), LogisticRegression())
        with pytest.raises(ValueError, match="sample_weight"):
            plain.fit(X, y, sample_weight=w)
    unrouted = cross_validate(
        AugmentedClassifier(IndexedOverSampler(), LogisticRegression()),
        X,
        y,
        cv=cv,
        params={"sample_weight": w},
    )
    np.testing.assert_allclose(got["test_score"], unrouted["test_score"])


def test_per_row_fit_params_rejected_without_sample_indices(data):
    X, y = data
    clf = AugmentedClassifier(CountingOverSampler(), LogisticRegression())
    with pytest.raises(ValueError, match=r"per-row fit parameters \(sample_weight\)"):
        clf.fit(X, y, sample_weight=np.ones(len(y)))


def test_a_refused_refit_leaves_the_estimator_as_it_was(data):
    # n_features_in_ was set before the labels, the sampler and the per-row
    # parameters were checked: the fitted estimator refused its own data
    X, y = data
    clf = AugmentedClassifier(CountingOverSampler(), LogisticRegression()).fit(X, y)
    expected, fitted = clf.predict_proba(X), dict(vars(clf))
    refits = [
        lambda: clf.fit(X[:, :5], np.linspace(0, 1, len(y))),  # continuous
        lambda: clf.fit(X[:, :5], y, sample_weight=np.ones(len(y))),
    ]
    for refit in refits:
        with pytest.raises(ValueError):
            refit()
        assert vars(clf) == fitted
        np.testing.assert_array_equal(clf.predict_proba(X), expected)


def test_dataframes_reach_the_sampler_and_the_classifier(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    columns = [f"x{i}" for i in range(X.shape[1])]
    df, ys = pd.DataFrame(X, columns=columns), pd.Series(y)
    seen = {}

    class Recording(IndexedOverSampler):
        def fit_resample(self, X, y):
            seen["types"] = (type(X), type(y))
            X_res, y_res = super().fit_resample(X.to_numpy(), y.to_numpy())
            return pd.DataFrame(X_res, columns=X.columns), pd.Series(y_res)

    clf = AugmentedClassifier(Recording(), LogisticRegression()).fit(df, ys)
    assert seen["types"] == (pd.DataFrame, pd.Series)
    assert clf.classifier_.feature_names_in_.tolist() == columns
    assert clf.feature_names_in_.tolist() == columns
    ref = LogisticRegression().fit(*Recording().fit_resample(df, ys))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_allclose(clf.predict_proba(df), ref.predict_proba(df))


def test_takes_missing_values_where_sampler_and_classifier_both_do():
    from imblearn.over_sampling import RandomOverSampler
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = np.r_[[0] * 45, [1] * 15]
    X[y == 1, 0] += 3
    X[::7, 2] = np.nan
    X_before = X.copy()
    clf = AugmentedClassifier(RandomOverSampler(random_state=0), _hgb())
    expected = _hgb().fit(*RandomOverSampler(random_state=0).fit_resample(X, y))
    np.testing.assert_array_equal(clf.fit(X, y).predict(X), expected.predict(X))
    np.testing.assert_array_equal(X, X_before)
    assert clf.__sklearn_tags__().input_tags.allow_nan
    # a part that does not take them: the error names this estimator
    with pytest.raises(ValueError, match="AugmentedClassifier does not accept"):
        AugmentedClassifier(RandomOverSampler(), LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        clf.fit(np.where(np.isnan(X), np.inf, X), y)
    assert not HistGradientBoostingClassifier().__sklearn_tags__().input_tags.sparse


def _hgb():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=10, random_state=0)


def test_takes_sparse_input_where_sampler_and_classifier_both_do():
    from imblearn.over_sampling import SMOTE
    from scipy import sparse

    rng = np.random.default_rng(0)
    X = rng.random((60, 8)) * (rng.random((60, 8)) > 0.6)
    y = np.r_[[0] * 45, [1] * 15]
    Xs = sparse.csr_matrix(X)
    with pytest.raises(TypeError, match="Sparse data was passed"):
        AugmentedClassifier(WGANGPOverSampler(), LogisticRegression()).fit(Xs, y)
    clf = AugmentedClassifier(SMOTE(random_state=0), LogisticRegression())
    if not clf.__sklearn_tags__().input_tags.sparse:
        # scikit-learn 1.6's LogisticRegression does not declare sparse
        # input in its tags: then it is refused, as the tags say
        with pytest.raises(TypeError, match="Sparse data was passed"):
            clf.fit(Xs, y)
        return
    dense = clone(clf).fit(X, y)
    np.testing.assert_allclose(
        clf.fit(Xs, y).predict_proba(Xs), dense.predict_proba(X), atol=1e-6
    )


def test_categories_as_strings_reach_a_categorical_sampler():
    from imblearn.over_sampling import SMOTEN
    from imblearn.pipeline import make_pipeline as imb_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    X = rng.choice(["red", "green", "blue"], size=(50, 3)).astype(object)
    y = np.r_[[0] * 40, [1] * 10]
    encoded = make_pipeline(OneHotEncoder(), LogisticRegression())
    clf = AugmentedClassifier(SMOTEN(random_state=0), encoded).fit(X, y)
    ref = imb_pipeline(SMOTEN(random_state=0), encoded).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))
    assert clf.n_features_in_ == 3
    # a part that needs numbers still says so
    with pytest.raises(ValueError, match="could not convert string to float"):
        AugmentedClassifier(SMOTEN(random_state=0), LogisticRegression()).fit(X, y)


class _RecordingClassifier(LogisticRegression):
    """LogisticRegression that records the extra fit parameters it gets."""

    def fit(self, X, y, sample_weight=None, note=None, level=None):
        self.got_ = {"sample_weight": sample_weight, "note": note, "level": level}
        return super().fit(X, y, sample_weight=sample_weight)


def test_only_per_row_fit_params_follow_the_rows(data):
    # A list of weights follows the resampled rows as an array does; a
    # string, a number and a 0-d array are passed as given, even a string
    # as long as the data.
    X, y = data
    w = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    note, level = "x" * len(y), np.array(2.0)
    clf = AugmentedClassifier(IndexedOverSampler(), _RecordingClassifier())
    clf.fit(X, y, sample_weight=w.tolist(), note=note, level=level)
    idx = clf.sampler_.sample_indices_
    got = clf.classifier_.got_
    np.testing.assert_array_equal(got["sample_weight"], w[idx])
    assert got["note"] is note and got["level"] is level
    # without sample_indices_, what is not per row still passes
    plain = AugmentedClassifier(CountingOverSampler(), _RecordingClassifier())
    plain.fit(X, y, note=note, level=3)
    assert plain.classifier_.got_ == {"sample_weight": None, "note": note, "level": 3}


def test_extra_outputs_of_the_sampler_are_ignored(data):
    class WithExtra(CountingOverSampler):
        def fit_resample(self, X, y):
            return (*super().fit_resample(X, y), "extra", "more")

    X, y = data
    clf = AugmentedClassifier(WithExtra(), LogisticRegression()).fit(X, y)
    ref = LogisticRegression().fit(*CountingOverSampler().fit_resample(X, y))
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X))


def test_a_classifier_fitted_without_names_predicts_on_arrays(data):
    # The sampler returned an array: its classifier gets arrays, and warns
    # of no feature names, even when the DataFrame names are known here.
    pd = pytest.importorskip("pandas")
    X, y = data
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])

    class ToArray(IndexedOverSampler):
        def fit_resample(self, X, y):
            return super().fit_resample(np.asarray(X), np.asarray(y))

    clf = AugmentedClassifier(ToArray(), LogisticRegression()).fit(df, y)
    assert not hasattr(clf.classifier_, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        proba = clf.predict_proba(df)
    np.testing.assert_allclose(proba, clf.classifier_.predict_proba(X))


class _DuckSampler:
    """A sampler that is no scikit-learn estimator: it has no tags."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit_resample(self, X, y):
        return X, y


def test_a_sampler_without_tags_is_taken_as_the_strictest():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = np.r_[[0] * 20, [1] * 10]
    clf = AugmentedClassifier(_DuckSampler(), _hgb())
    tags = clf.__sklearn_tags__().input_tags
    assert not tags.allow_nan and not tags.sparse
    np.testing.assert_array_equal(clf.fit(X, y).predict(X), _hgb().fit(X, y).predict(X))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="AugmentedClassifier does not accept"):
        clf.fit(X, y)


@pytest.mark.parametrize("none", ["passthrough", None])
def test_passthrough_fits_the_classifier_on_the_data_as_given(data, none):
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = data
    rng = np.random.default_rng(1)
    w = rng.uniform(0.5, 2.0, len(y))
    clf = AugmentedClassifier(none, LogisticRegression()).fit(X, y, sample_weight=w)
    direct = LogisticRegression().fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(clf.classifier_.coef_, direct.coef_)
    np.testing.assert_array_equal(clf.predict_proba(X), direct.predict_proba(X))
    assert clf.sampler_ == "passthrough" and clf.n_features_in_ == 20
    # the weights reach the classifier: unweighted, the coefficients differ
    plain = AugmentedClassifier(none, LogisticRegression()).fit(X, y)
    assert not np.allclose(plain.classifier_.coef_, clf.classifier_.coef_)
    # what the classifier takes, this takes: NaN for gradient boosting
    hgb = AugmentedClassifier(none, HistGradientBoostingClassifier(max_iter=5))
    assert hgb.__sklearn_tags__().input_tags.allow_nan
    logreg = AugmentedClassifier(none, LogisticRegression())
    assert not logreg.__sklearn_tags__().input_tags.allow_nan


def test_grid_search_weighs_resampling_against_none(data):
    from imblearn.over_sampling import RandomOverSampler

    X, y = data
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    grid = GridSearchCV(
        AugmentedClassifier("passthrough", LogisticRegression(C=0.05)),
        {"sampler": ["passthrough", RandomOverSampler(random_state=0)]},
        cv=cv,
        scoring="balanced_accuracy",
    ).fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    plain = cross_val_score(
        LogisticRegression(C=0.05), X, y, cv=cv, scoring="balanced_accuracy"
    )
    assert scores[0] == pytest.approx(plain.mean(), abs=1e-12)
    # over-sampling the rare class helps the strongly regularised model here
    assert scores[1] > scores[0]
    assert isinstance(grid.best_params_["sampler"], RandomOverSampler)


def test_a_string_other_than_passthrough_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="'passthrough' or None for no .*'smote'"):
        AugmentedClassifier("smote", LogisticRegression()).fit(X, y)


def test_meta_estimators_pass_weights_to_it_with_metadata_routing(data):
    # CalibratedClassifierCV reads the signature, which (as Pipeline's)
    # does not name sample_weight: with routing, the weights reach the
    # classifier that asks for them, as they would reach it alone
    import sklearn
    from sklearn.calibration import CalibratedClassifierCV

    X, y = data
    w = np.random.default_rng(3).uniform(0.2, 5.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        requested = LogisticRegression().set_fit_request(sample_weight=True)
        clf = AugmentedClassifier("passthrough", requested)
        got = CalibratedClassifierCV(clf, cv=3).fit(X, y, sample_weight=w)
        ref = CalibratedClassifierCV(requested, cv=3).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(got.predict_proba(X), ref.predict_proba(X))
    unweighted = CalibratedClassifierCV(LogisticRegression(), cv=3).fit(X, y)
    assert not np.allclose(unweighted.predict_proba(X), ref.predict_proba(X))
