import threading

import numpy as np
import pytest
import torch

from sktransfer.utils._peaks import plateau_peaks
from sktransfer.utils._torch import (
    autograd_on,
    global_generators_kept,
    make_generator,
    resolve_device,
    seed_from_random_state,
    seeded_torch,
    to_numpy,
    to_tensor,
)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_autograd_on_inside_a_no_grad_block_and_restored_after(mode):
    outer = torch.no_grad() if mode == "no_grad" else torch.inference_mode()
    with outer:
        with autograd_on():
            assert torch.is_grad_enabled()
            assert not torch.is_inference_mode_enabled()
            w = torch.ones(2, requires_grad=True)
            (w * 3).sum().backward()
        torch.testing.assert_close(w.grad, torch.full((2,), 3.0))
        assert not torch.is_grad_enabled()
        assert torch.is_inference_mode_enabled() == (mode == "inference_mode")


def test_seeded_torch_draws_the_seeds_numbers_and_restores_the_global_stream():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    with seeded_torch(7, "cpu"):
        a = torch.rand(4)
    with seeded_torch(7, "cpu"):
        b = torch.rand(4)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.testing.assert_close(a, torch.rand(4, generator=make_generator(7)))
    # the caller's stream goes on as if nothing had been drawn
    torch.testing.assert_close(torch.rand(3), expected_next, rtol=0, atol=0)


def test_global_generators_kept_restores_the_stream_outside_a_seeded_block():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    with global_generators_kept():
        torch.rand(10)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)
    # inside a seeded block it draws from the seeded stream, as the code
    # around it does
    with seeded_torch(1, "cpu"):
        with global_generators_kept():
            first = torch.rand(2)
        second = torch.rand(2)
    both = torch.rand(4, generator=make_generator(1))
    torch.testing.assert_close(torch.cat([first, second]), both, rtol=0, atol=0)
    # and outside again once the seeded block is over
    torch.manual_seed(5)
    with global_generators_kept():
        torch.rand(10)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)


def test_seeded_blocks_in_threads_give_the_numbers_of_one_after_the_other():
    expected = {s: torch.rand(50, generator=make_generator(s)) for s in range(4)}
    got = {}

    def work(seed):
        with seeded_torch(seed, "cpu"):
            got[seed] = torch.cat([torch.rand(1) for _ in range(50)])

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in range(4):
        torch.testing.assert_close(got[s], expected[s], rtol=0, atol=0)


def test_resolve_device_accepts_the_cpu_and_names_bad_or_absent_devices():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="is not a valid torch device"):
        resolve_device("gpu0")
    with pytest.raises(ValueError, match="is not a valid torch device"):
        resolve_device(None)
    with pytest.raises(ValueError, match="is not supported; use 'cpu'"):
        resolve_device("meta")
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="MPS is not available"):
            resolve_device("mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0")
    else:
        n = torch.cuda.device_count()
        assert resolve_device(f"cuda:{n - 1}") == torch.device(f"cuda:{n - 1}")
        with pytest.raises(ValueError, match=f"only {n} CUDA device"):
            resolve_device(f"cuda:{n}")


def test_seed_from_random_state_is_the_random_states_draw():
    seed = seed_from_random_state(0)
    assert seed == np.random.RandomState(0).randint(2**31 - 1)
    assert isinstance(seed, int)
    rs = np.random.RandomState(3)
    seeds = [seed_from_random_state(rs) for _ in range(200)]
    assert len(set(seeds)) == 200
    assert all(0 <= s < 2**31 - 1 for s in seeds)
    assert max(seeds) > 2**30


def test_to_tensor_copies_any_array_and_to_numpy_comes_back():
    X = np.arange(12.0).reshape(3, 4)
    X.setflags(write=False)
    t = to_tensor(X[:, ::-1], "cpu")
    assert t.dtype == torch.float32
    np.testing.assert_array_equal(t.numpy(), X[:, ::-1])
    Y = np.arange(4.0)
    t = to_tensor(Y, "cpu", dtype=torch.float64)
    Y[0] = 99.0
    assert float(t[0]) == 0.0
    w = torch.tensor([1.5, 2.5], requires_grad=True)
    back = to_numpy(w * 2)
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, [3.0, 5.0])
    assert to_numpy(w, dtype=np.float32).dtype == np.float32


def test_plateau_peaks_are_at_the_middle_of_their_plateau_in_axis_units():
    y = np.array([0.0, 1.0, 3.0, 3.0, 3.0, 3.0, 1.0, 0.0, 2.0, 0.0])
    x = 10.0 + 0.5 * np.arange(10)
    peaks, positions, props = plateau_peaks(y, x)
    np.testing.assert_array_equal(peaks, [3, 8])
    np.testing.assert_allclose(positions, [10.0 + 0.5 * 3.5, 14.0])
    np.testing.assert_array_equal(props["plateau_sizes"], [4, 1])
    # the same peaks, at the same positions, on a reversed axis
    _, down, _ = plateau_peaks(y[::-1], x[::-1])
    np.testing.assert_allclose(np.sort(down), positions)
    # options reach scipy's find_peaks
    peaks, _, props = plateau_peaks(y, x, prominence=2.5)
    np.testing.assert_array_equal(peaks, [3])
    assert "prominences" in props


def test_error_gist_keeps_the_line_after_a_colon_and_cuts_to_the_limit():
    from sktransfer.utils._torch import error_gist

    torch_error = RuntimeError(
        "Error(s) in loading state_dict for Net:\n"
        "\tsize mismatch for w: 3 vs 4.\n\tmore"
    )
    gist = "Error(s) in loading state_dict for Net: size mismatch for w: 3 vs 4."
    assert error_gist(torch_error) == gist
    assert error_gist(ValueError("one line\nsecond")) == "one line"
    assert error_gist(ValueError("")) == ""
    assert error_gist(torch_error, limit=20) == gist[:17] + "..."
