import numpy as np
import pytest

from sktransfer._validation import (
    check_bool,
    check_option,
    check_param,
    check_sequence,
    check_verbose,
    check_x_axis,
)


def test_check_x_axis_default_is_index():
    np.testing.assert_array_equal(check_x_axis(None, 4), [0.0, 1.0, 2.0, 3.0])


def test_check_x_axis_copies_and_accepts_decreasing():
    x = np.array([3.0, 2.0, 1.0])
    out = check_x_axis(x, 3)
    out[0] = 99
    assert x[0] == 3.0


@pytest.mark.parametrize(
    "x, match",
    [
        ([1.0, 2.0], "has 2 values but X has 3"),
        ([1.0, 3.0, 2.0], "strictly monotonic"),
        ([1.0, 1.0, 2.0], "strictly monotonic"),
        ([1.0, np.nan, 2.0], "NaN"),
        ([[1.0, 2.0, 3.0]], "1-D"),
    ],
)
def test_check_x_axis_errors(x, match):
    with pytest.raises(ValueError, match=match):
        check_x_axis(x, 3)


def test_check_param():
    assert check_param(2, "n", "int", low=1) == 2
    with pytest.raises(ValueError, match="lam must be in \\(0"):
        check_param(0.0, "lam", low=0, closed="neither")
    with pytest.raises(ValueError, match="poly_order must be an integer"):
        check_param(2.5, "poly_order", "int")
    with pytest.raises(ValueError, match="must be a real number"):
        check_param(True, "p")
    with pytest.raises(ValueError, match="p must be in \\(0, 1\\)"):
        check_param(1.0, "p", low=0, high=1, closed="neither")


def test_check_option():
    assert check_option("a", "m", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="m must be one of 'a', 'b'"):
        check_option("c", "m", ["a", "b"])


def test_check_bool():
    assert check_bool(True, "flag") is True
    assert check_bool(np.False_, "flag") == np.False_
    for bad in (0, 1, "yes", None):
        with pytest.raises(ValueError, match="flag must be True or False"):
            check_bool(bad, "flag")


def test_check_verbose():
    for good in (0, 3, True, False):
        assert check_verbose(good) is good
    for bad in (-1, 1.5, "x", None):
        with pytest.raises(ValueError, match="verbose must be"):
            check_verbose(bad)


def test_check_sequence():
    assert check_sequence([16, 32], "channels", kind="int", low=1) == (16, 32)
    assert check_sequence((0.5, 0.9), "betas", length=2, low=0, high=1) == (0.5, 0.9)
    for bad in ((), 8, "ab", None):
        with pytest.raises(ValueError, match="channels must be a non-empty sequence"):
            check_sequence(bad, "channels", kind="int")
    with pytest.raises(ValueError, match="betas must be a 2-item sequence of numbers"):
        check_sequence((0.5, 0.9, 0.99), "betas", length=2)
    with pytest.raises(ValueError, match=r"channels\[1\] must be in \[1, inf\)"):
        check_sequence((8, 0), "channels", kind="int", low=1)
    with pytest.raises(ValueError, match=r"betas\[0\] must be a real number"):
        check_sequence((True, 0.9), "betas", length=2)
