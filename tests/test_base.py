import numpy as np
import pytest
from sklearn.base import OneToOneFeatureMixin

from sktransfer._base import FeatureChangingTransformer, SpectralTransformer
from sktransfer.baseline import SNIP, AirPLS, ArPLS, AsLS, ModPoly, PybaselinesCorrector
from sktransfer.peaks import PeakProfileFitter
from sktransfer.preprocessing import (
    AreaNormalizer,
    MinMaxNormalizer,
    Resampler,
    StandardNormalVariate,
)

ONE_TO_ONE = [
    AirPLS,
    ArPLS,
    AsLS,
    ModPoly,
    SNIP,
    PybaselinesCorrector,
    MinMaxNormalizer,
    StandardNormalVariate,
    AreaNormalizer,
]


@pytest.mark.parametrize("cls", ONE_TO_ONE)
def test_feature_preserving_transformers_are_one_to_one(cls):
    assert issubclass(cls, SpectralTransformer)
    assert issubclass(cls, OneToOneFeatureMixin)
    assert not issubclass(cls, FeatureChangingTransformer)


@pytest.mark.parametrize("cls", [Resampler, PeakProfileFitter])
def test_feature_changing_transformers_are_not_one_to_one(cls):
    assert issubclass(cls, FeatureChangingTransformer)
    assert not issubclass(cls, OneToOneFeatureMixin)


def test_feature_changing_base_names_come_from_the_subclass():
    class Halve(FeatureChangingTransformer):
        def _transform(self, X):
            return X[:, ::2]

    X = np.arange(12.0).reshape(3, 4)
    est = Halve().fit(X)
    np.testing.assert_array_equal(est.transform(X), X[:, ::2])
    with pytest.raises(NotImplementedError, match="Halve must define"):
        est.get_feature_names_out()
    assert est._input_feature_names().tolist() == ["x0", "x1", "x2", "x3"]
    with pytest.raises(ValueError, match="input_features"):
        est._input_feature_names(["a", "b"])


def test_resampler_names_the_grid_and_checks_input_names():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    est = Resampler(grid=[0.5, 2.5], x_axis=x).fit(np.ones((2, 4)))
    assert est.get_feature_names_out().tolist() == ["x0.5", "x2.5"]
    with pytest.raises(ValueError, match="input_features"):
        est.get_feature_names_out(["a", "b", "c"])


def test_area_normalizer_is_stateless_with_its_axis():
    x = np.array([0.0, 1.0, 2.0, 4.0])
    X = np.array([[0.0, 2.0, 2.0, 0.0]])
    np.testing.assert_allclose(
        AreaNormalizer(x_axis=x).transform(X), [[0.0, 0.4, 0.4, 0.0]]
    )
    with pytest.raises(ValueError, match="x_axis has 4 values"):
        AreaNormalizer(x_axis=x).transform(np.ones((1, 3)))
    with pytest.raises(ValueError, match="norm must be one of"):
        AreaNormalizer(norm="max").transform(X)


def test_spectra_need_the_minimum_number_of_points():
    class Identity(SpectralTransformer):
        def _transform(self, X):
            return X

    class Pairwise(Identity):
        _min_features = 2

    for cls, n in [(Identity, 1), (Pairwise, 2)]:
        with pytest.raises(
            ValueError, match=f"minimum of {n} is required by {cls.__name__}"
        ):
            cls().fit(np.ones((2, n - 1)))
        assert cls().fit(np.ones((2, n))).n_features_in_ == n


def test_a_stateless_transformer_uses_the_axis_it_is_given_now():
    # A stateless transformer checks its x_axis when it transforms, as its
    # other parameters: one set after fit takes effect at once (it was
    # ignored, even with the wrong length). A failed fit keeps x_.
    x = np.array([0.0, 1.0, 2.0, 4.0])
    X = np.array([[0.0, 2.0, 2.0, 0.0]])
    est = AreaNormalizer(x_axis=x).fit(X)
    np.testing.assert_allclose(est.transform(X), [[0.0, 0.4, 0.4, 0.0]])
    est.set_params(x_axis=np.arange(3.0))
    with pytest.raises(ValueError, match="x_axis has 3 values"):
        est.transform(X)
    with pytest.raises(ValueError, match="x_axis has 3 values"):
        est.fit(X)
    np.testing.assert_array_equal(est.x_, x)
    est.set_params(x_axis=2 * x)
    np.testing.assert_allclose(est.transform(X), [[0.0, 0.2, 0.2, 0.0]])


def test_a_transformer_without_its_transform_raises():
    class Unfinished(SpectralTransformer):
        pass

    est = Unfinished().fit(np.ones((2, 3)))
    with pytest.raises(NotImplementedError):
        est.transform(np.ones((2, 3)))
