"""Fast constructor settings and expected failures for the common tests.

The one place where slow estimators get small settings (tiny networks, few
epochs) and where every expected failure of sklearn's estimator checks is
written down with its reason. Keyed by class name, one block per area.
"""

from sktransfer.utils import all_estimators

# class name -> list of parameter dicts; each dict is one instance to check.
# A callable value receives the class and returns a list of instances.
INSTANCES = {
    "PeakProfileFitter": [
        {},
        {"profile": "gaussian", "output": "reconstruction", "baseline": "none"},
    ],
    "SpectroGenRegressor": [
        {
            "max_epochs": 3,
            "batch_size": 64,
            "random_state": 0,
            "module__latent_dim": 2,
            "module__hidden": 16,
            "module__channels": (4,),
        }
    ],
    "WGANGPOverSampler": lambda cls: [_tiny_wgan()],
    "AugmentedClassifier": lambda cls: [
        cls(_tiny_wgan(), _logistic()),
        cls("passthrough", _logistic()),
    ],
}

# class name -> {check function name: reason}
_BASELINE_N_ITER = {
    "check_transformer_n_iter": (
        "stateless: fit only validates, so n_iter_ is recorded by "
        "fit_transform, where the baselines are computed"
    ),
}

EXPECTED_FAILED = {
    **dict.fromkeys(("AirPLS", "ArPLS", "AsLS", "ModPoly"), _BASELINE_N_ITER),
    "SpectroGenRegressor": {
        "check_no_attributes_set_in_init": (
            "skorch's NeuralNet.__init__ sets attributes (history, "
            "initialized_, ...) that are not parameters"
        ),
        "check_set_params": (
            "skorch's set_params re-initializes components and validates "
            "values, so arbitrary values do not round-trip"
        ),
        "check_supervised_y_2d": (
            "a 2-D target of one column is a target spectrum of one point, "
            "which is rejected on purpose; a 1-D y is a scalar target"
        ),
    },
}


def _tiny_wgan():
    from sktransfer.over_sampling import WGANGPOverSampler

    return WGANGPOverSampler(
        max_iter=2, batch_size=8, channels=8, n_critic_layers=2, random_state=0
    )


def _logistic():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


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
