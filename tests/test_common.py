"""sklearn's estimator checks over every public sktransfer estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktransfer.utils import all_estimators
from tests._instances import INSTANCES, expected_failed_checks, make_instances


@parametrize_with_checks(
    list(make_instances()), expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_instances_name_real_estimators(name):
    assert name in dict(all_estimators()), f"{name} in _instances is not public"


def test_all_estimators_filters_by_kind():
    from sklearn.base import is_classifier, is_regressor

    names = {
        kind: [name for name, _ in all_estimators(kind)]
        for kind in ("classifier", "regressor", "sampler", "transformer")
    }
    assert names["classifier"] == ["AugmentedClassifier"]
    assert names["regressor"] == ["SpectroGenRegressor"]
    assert names["sampler"] == ["WGANGPOverSampler"]
    assert "AirPLS" in names["transformer"] and "Resampler" in names["transformer"]
    # the same verdict as sklearn's on instances
    for est in make_instances():
        name = type(est).__name__
        assert is_classifier(est) == (name in names["classifier"]), name
        assert is_regressor(est) == (name in names["regressor"]), name
    with pytest.raises(ValueError, match="type_filter must be one of"):
        all_estimators("cluster")
