"""Fast constructor settings and expected failures for the common tests.

The one place where slow estimators get small settings (tiny networks, few
epochs) and where every expected failure of sklearn's estimator checks is
written down with its reason. Keyed by class name, one block per area.
"""

from sktransfer.utils import all_estimators

# class name -> list of parameter dicts; each dict is one instance to check.
# A callable value receives the class and returns a list of instances.
INSTANCES = {
    # --- baseline --------------------------------------------------------
    # --- peaks -----------------------------------------------------------
    # --- cross_modal -----------------------------------------------------
    # --- over_sampling / pipeline ----------------------------------------
}

# class name -> {check function name: reason}
EXPECTED_FAILED = {
    # --- baseline --------------------------------------------------------
    # --- peaks -----------------------------------------------------------
    # --- cross_modal -----------------------------------------------------
    # --- over_sampling / pipeline ----------------------------------------
}


def make_instances():
    """Yield one or more fast instances of every public estimator."""
    for name, cls in all_estimators():
        spec = INSTANCES.get(name, [{}])
        if callable(spec):
            yield from spec(cls)
        else:
            for params in spec:
                yield cls(**params)


def expected_failed_checks(estimator):
    """Expected failures of ``estimator``, each with its reason."""
    return EXPECTED_FAILED.get(type(estimator).__name__, {})
