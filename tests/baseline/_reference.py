"""Plain per-spectrum pybaselines loop: the oracle of the equality tests."""

import numpy as np
from pybaselines import Baseline


def loop_baselines(X, method, kwargs=None, x_data=None):
    fitter = Baseline(x_data)
    return np.stack([getattr(fitter, method)(row, **(kwargs or {}))[0] for row in X])
