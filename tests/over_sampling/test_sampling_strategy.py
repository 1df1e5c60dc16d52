from collections import Counter

import numpy as np
import pytest

from sktransfer.over_sampling._sampling_strategy import resolve_sampling_strategy

imblearn_utils = pytest.importorskip("imblearn.utils")

Y3 = np.array([0] * 100 + [1] * 20 + [2] * 5)
Y2 = np.array([0] * 100 + [1] * 20)
YS = np.array(["quartz"] * 7 + ["albite"] * 3 + ["calcite"] * 12 + ["rutile"] * 2)
STRINGS = ["auto", "minority", "not majority", "not minority", "all"]

CASES = [(s, y) for s in STRINGS for y in (Y3, Y2, YS)] + [
    ({1: 50, 2: 30}, Y3),
    ({0: 100, 1: 20, 2: 5}, Y3),
    ({2: 400}, Y3),
    ({"albite": 10, "rutile": 3}, YS),
    (lambda y: {2: 40}, Y3),
    (lambda y: {c: 2 * n for c, n in Counter(y).items()}, YS),
    (0.5, Y2),
    (1.0, Y2),
    (0.25, Y2),
    (0.9, np.array(["a"] * 10 + ["b"] * 3)),
]


@pytest.mark.parametrize(("strategy", "y"), CASES)
def test_same_counts_as_imblearn(strategy, y):
    expected = imblearn_utils.check_sampling_strategy(strategy, y, "over-sampling")
    got = resolve_sampling_strategy(strategy, y)
    assert got == dict(expected)
    assert list(got) == list(expected)


def test_documented_table():
    assert resolve_sampling_strategy("auto", Y3) == {1: 80, 2: 95}
    assert resolve_sampling_strategy("not minority", Y3) == {0: 0, 1: 80}
    assert resolve_sampling_strategy({1: 50, 2: 30}, Y3) == {1: 30, 2: 25}
    assert resolve_sampling_strategy(0.5, Y2) == {1: 30}


@pytest.mark.parametrize(
    ("strategy", "y", "match"),
    [
        (0.1, Y2, "remove samples"),
        ({1: 10}, Y3, "cannot remove"),
        ({3: 10}, Y3, "not present"),
        ({1: -1}, Y3, "negative"),
        (0.5, Y3, "only when y is binary"),
        (1.5, Y2, r"\(0, 1\]"),
        ("majority", Y3, "must be one of"),
        ([1, 2], Y3, "must be a float"),
        ("auto", np.zeros(10), "at least 2 classes"),
        (lambda y: {5: 3}, Y3, "not present"),
    ],
)
def test_errors_like_imblearn(strategy, y, match):
    with pytest.raises(ValueError, match=match):
        resolve_sampling_strategy(strategy, y)
    with pytest.raises(ValueError):
        imblearn_utils.check_sampling_strategy(strategy, y, "over-sampling")
