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
