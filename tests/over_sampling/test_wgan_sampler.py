import pickle
import warnings

import numpy as np
import pytest
import torch

from sktransfer.over_sampling import WGANGPOverSampler
from tests.conftest import gaussian_spectra, traced_peak

FAST = {"max_iter": 3, "batch_size": 8, "channels": 8, "n_critic_layers": 2}


def tiny(**params):
    return WGANGPOverSampler(**{**FAST, "random_state": 0, **params})


def untrained(**params):
    """A sampler whose generator has not moved from its start (zero output).

    Its spectra are its anchors, plus the noise and the borrowed variation.
    """
    return tiny(max_iter=1, learning_rate=1e-12, **params)


def two_class_spectra(n0=30, n1=4, n_features=64, random_state=0):
    """Class 0: a peak at 1/3 of the axis; class 1: a peak at 2/3."""
    rng = np.random.default_rng(random_state)
    t = np.linspace(0, 1, n_features)
    X0 = np.exp(-0.5 * ((t - 1 / 3) / 0.04) ** 2) * rng.uniform(0.8, 1.2, (n0, 1))
    X1 = np.exp(-0.5 * ((t - 2 / 3) / 0.04) ** 2) * rng.uniform(0.8, 1.2, (n1, 1))
    X = np.vstack([X0, X1]) + rng.normal(0, 0.01, (n0 + n1, n_features))
    return X, np.array([0] * n0 + [1] * n1)


@pytest.fixture(scope="module")
def data():
    return two_class_spectra()


@pytest.fixture(scope="module")
def trained(data):
    """A sampler trained long enough to learn where each class has its peak."""
    X, y = data
    sampler = WGANGPOverSampler(max_iter=80, batch_size=16, channels=16, random_state=0)
    return sampler.fit(X, y)


def test_fit_resample_counts_and_order(data):
    X, y = data
    X_res, y_res = tiny().fit_resample(X, y)
    assert X_res.shape == (60, X.shape[1])
    assert np.bincount(y_res).tolist() == [30, 30]
    np.testing.assert_array_equal(X_res[: len(X)], X)
    np.testing.assert_array_equal(y_res[: len(y)], y)
    assert np.all(y_res[len(y) :] == 1)


def test_fitted_attributes(trained, data):
    X, _ = data
    assert trained.sampling_strategy_ == {1: 26}
    assert trained.classes_.tolist() == [0, 1]
    assert trained.n_features_in_ == X.shape[1]
    assert list(trained.generators_) == [None]
    hist = trained.history_[None]
    assert set(hist) == {
        "critic_loss",
        "generator_loss",
        "wasserstein",
        "gradient_penalty",
    }
    assert all(len(v) == 80 and np.all(np.isfinite(v)) for v in hist.values())


def test_conditional_generator_learns_the_class(trained):
    """Generated spectra of each class peak where that class peaks."""
    n_features = trained.n_features_in_
    for cls, centre in ((0, n_features // 3), (1, 2 * n_features // 3)):
        G = trained.sample(40, y=cls)
        peak = np.argmax(G.mean(axis=0))
        assert abs(peak - centre) <= 3, (cls, peak)


def test_generated_spread_is_learned(trained, data):
    """The generator starts at the class mean; training adds real-sized spread."""
    X, y = data
    real = X[y == 0].std(axis=0).mean()
    fake = trained.sample(60, y=0).std(axis=0).mean()
    assert 0.1 * real < fake < 5 * real, (fake, real)


def test_sample_labels_and_errors(trained):
    assert trained.sample(5, y=1).shape == (5, trained.n_features_in_)
    assert trained.sample(0, y=1).shape == (0, trained.n_features_in_)
    mixed = trained.sample(4, y=[0, 1, 1, 0])
    assert mixed.shape == (4, trained.n_features_in_)
    # a single label is checked as given, not after a cast to the classes'
    # dtype (which would make 1.5 class 1), and also when no spectrum is asked
    for label in (7, 1.5, "1", 0.9):
        for n in (2, 0):
            with pytest.raises(ValueError, match="not seen in fit"):
                trained.sample(n, y=label)
    with pytest.raises(ValueError, match=r"\[1.5\] not seen in fit"):
        trained.sample(2, y=[1, 1.5])
    assert trained.sample(3, y=1.0).shape == (3, trained.n_features_in_)
    with pytest.raises(ValueError, match="one label or 3 labels"):
        trained.sample(3, y=[0, 1])


def test_sample_does_not_truncate_an_unknown_string_label(data):
    X, y = data
    sampler = tiny().fit(X, np.where(y == 0, "a", "bb"))
    with pytest.raises(ValueError, match=r"\['bbb'\] not seen in fit"):
        sampler.sample(2, y="bbb")
    assert sampler.sample(2, y="bb").shape == (2, X.shape[1])


def test_pandas_in_pandas_out(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    Xdf = pd.DataFrame(X, columns=[f"w{i}" for i in range(X.shape[1])])
    ys = pd.Series(np.where(y == 1, "rare", "common"), name="mineral")
    X_res, y_res = tiny().fit_resample(Xdf, ys)
    assert isinstance(X_res, pd.DataFrame) and list(X_res.columns) == list(Xdf)
    assert isinstance(y_res, pd.Series) and y_res.name == "mineral"
    assert (y_res == "rare").sum() == (y_res == "common").sum() == 30


@pytest.mark.parametrize("dtype", [np.int64, np.float16, "mixed"])
def test_a_frame_of_integers_or_mixed_dtypes_gives_float64_spectra(data, dtype):
    # imbalanced-learn cast the output back to the columns' dtypes: integer
    # columns cut the generated spectra to whole numbers, where the same data
    # as an array gave float64
    pd = pytest.importorskip("pandas")
    X, y = data
    X = np.round(X * 100)
    if dtype == "mixed":
        frame = pd.DataFrame(X).astype({0: np.float32, 1: np.int64})
        array = frame.to_numpy(dtype=np.float64)
    else:
        array = X.astype(dtype)
        frame = pd.DataFrame(array)
    X_res, _ = tiny().fit_resample(frame, y)
    expected, _ = tiny().fit_resample(array, y)
    assert set(X_res.dtypes) == {np.dtype(np.float64)}
    np.testing.assert_array_equal(X_res.to_numpy(), expected)
    assert not np.all(
        X_res.to_numpy()[len(X) :] == np.round(X_res.to_numpy()[len(X) :])
    )


def test_generated_float32_spectra_beyond_float32_are_refused(data, monkeypatch):
    # generated values beyond the float32 range (from spectra near its
    # maximum) overflowed to inf, with a warning only, when the float64
    # batch was written into the float32 output
    X, y = data
    generate = WGANGPOverSampler._generate

    def beyond(self, c, n):
        return generate(self, c, n) * 0.0 + 1e39  # finite in float64

    monkeypatch.setattr(WGANGPOverSampler, "_generate", beyond)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="not finite in float32"):
            tiny().fit_resample(X.astype(np.float32), y)
    # in float64 they are finite, and kept
    X_res, _ = tiny().fit_resample(X, y)
    assert np.all(X_res[len(X) :] == 1e39)


def test_list_y_gives_list(data):
    X, y = data
    _, y_res = tiny().fit_resample(X, y.tolist())
    assert isinstance(y_res, list) and len(y_res) == 60


def test_float32_preserved_and_inputs_untouched(data):
    X, y = data
    X32 = X.astype(np.float32)
    X_copy, y_copy = X32.copy(), y.copy()
    X_res, _ = tiny().fit_resample(X32, y)
    assert X_res.dtype == np.float32
    np.testing.assert_array_equal(X32, X_copy)
    np.testing.assert_array_equal(y, y_copy)


def test_reproducible_with_random_state(data):
    X, y = data
    a, _ = tiny(random_state=3).fit_resample(X, y)
    b, _ = tiny(random_state=3).fit_resample(X, y)
    c, _ = tiny(random_state=4).fit_resample(X, y)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[len(X) :], c[len(X) :])


def test_global_torch_rng_untouched(data):
    X, y = data
    state = torch.get_rng_state()
    tiny().fit(X, y)
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("n_rare", [2, 3, 5])
def test_tiny_classes_work(n_rare):
    X, y = two_class_spectra(n0=12, n1=n_rare, random_state=n_rare)
    X3 = np.vstack([X, X[:3] + 0.1])
    y3 = np.r_[y, [2, 2, 2]]
    X_res, y_res = tiny().fit_resample(X3, y3)
    assert np.bincount(y_res).tolist() == [12, 12, 12]
    assert np.all(np.isfinite(X_res))


@pytest.mark.parametrize("conditional", [True, False])
def test_works_under_a_float64_default_dtype(data, conditional):
    # torch.set_default_dtype(torch.float64) made the networks float64 and
    # their float32 inputs failed inside torch ("mat1 and mat2 must have the
    # same dtype")
    X, y = data
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        sampler = tiny(conditional=conditional)
        X_res, y_res = sampler.fit_resample(X, y)
        new = sampler.sample(3, y=1)
    finally:
        torch.set_default_dtype(previous)
    assert X_res.shape == (2 * np.sum(y == 0), X.shape[1])
    assert np.isfinite(X_res).all() and np.isfinite(new).all()
    networks = [*sampler.generators_.values()]
    assert {p.dtype for g in networks for p in g.parameters()} == {torch.float32}
    # the same spectra as under the float32 default (the networks built in
    # float64 drew other initial weights from the seeded stream)
    np.testing.assert_array_equal(
        X_res, tiny(conditional=conditional).fit_resample(X, y)[0]
    )


@pytest.mark.parametrize("no_grad", [torch.no_grad, torch.inference_mode])
def test_trains_inside_the_callers_no_grad_block(data, no_grad):
    # training inside torch.no_grad() failed with "element 0 of tensors does
    # not require grad"
    X, y = data
    expected = tiny().fit_resample(X, y)[0]
    with no_grad():
        got = tiny().fit_resample(X, y)[0]
        assert not torch.is_grad_enabled()
    np.testing.assert_array_equal(got, expected)


def test_one_sample_class_is_a_clear_error():
    X, y = two_class_spectra(n0=10, n1=1)
    with pytest.raises(ValueError, match="Class 1 has 1 sample"):
        tiny().fit(X, y)


def test_a_refused_refit_leaves_the_sampler_as_it_was(data):
    # classes_ and n_features_in_ were set before a class of one spectrum
    # was refused, and spectra too large for float64 were refused after the
    # generators had been dropped
    X, y = data
    sampler = tiny().fit(X, y)
    expected = pickle.loads(pickle.dumps(sampler)).sample(3, y=1)
    X1, y1 = two_class_spectra(n0=10, n1=1, n_features=20)
    refits = [
        lambda: sampler.fit(X1, y1 + 2),
        lambda: sampler.fit_resample(X1, y1),
        lambda: sampler.fit(X * 1e300, y),
    ]
    for refit in refits:
        with pytest.raises(ValueError):
            refit()
        assert sampler.n_features_in_ == X.shape[1]
        assert sampler.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(sampler.sample(3, y=1), expected)


def test_one_sample_class_left_out_by_dict():
    X, y = two_class_spectra(n0=10, n1=3)
    X = np.vstack([X, X[:1]])
    y = np.r_[y, 2]
    _, y_res = tiny(sampling_strategy={1: 10}).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [10, 10, 1]


@pytest.mark.parametrize("noise", [True, False])
@pytest.mark.parametrize("units", [1e-3, 1.0, 1e3])
def test_class_of_copies_is_generated_near_them_in_any_units(units, noise):
    # a class of identical spectra has no spread to scale by: the scale was
    # 1 in the spectra's units, so with conditional=False its generated
    # spectra were the copy plus a residual of the same size whatever the
    # units (0.019 here: 16 times spectra of height 1e-3)
    X, y = two_class_spectra(n0=12, n1=4)
    X = np.vstack([X, np.repeat(X[12:13], 2, axis=0)]) * units
    y = np.r_[y, 2, 2]
    sampler = tiny(conditional=False, noise=noise, max_iter=10).fit(X, y)
    new = sampler.sample(20, y=2)
    assert np.abs(new - X[-1]).max() < 0.2 * np.abs(X[-1]).max()


def test_per_class_models(data):
    X, y = data
    sampler = tiny(conditional=False, sampling_strategy="all").fit(X, y)
    assert set(sampler.generators_) == {0, 1} == set(sampler.history_)
    assert sampler.sample(2, y=0).shape == (2, X.shape[1])
    sampler = tiny(conditional=False).fit(X, y)
    assert list(sampler.generators_) == [1]
    with pytest.raises(ValueError, match="No generator was trained for class 0"):
        sampler.sample(2, y=0)


@pytest.mark.parametrize(
    "fitted, changed",
    [
        ({}, {"conditional": False}),
        ({"conditional": False}, {"conditional": True}),
        ({}, {"latent_dim": 4}),
        ({"conditional": False}, {"latent_dim": 64}),
        ({}, {"channels": 4, "n_critic_layers": 3, "anchor": "mean", "noise": False}),
    ],
)
def test_parameters_set_after_fit_leave_the_fitted_generators_as_they_are(
    data, fitted, changed
):
    # sample used the conditional and latent_dim parameters, not the
    # generators fitted: class 1 was said to have no generator, or the latent
    # codes did not fit the first layer
    X, y = data
    sampler = tiny(**fitted).fit(X, y)
    expected = pickle.loads(pickle.dumps(sampler)).sample(3, y=1)
    sampler.set_params(**changed)
    np.testing.assert_array_equal(sampler.sample(3, y=1), expected)
    if fitted.get("conditional") is False:  # class 0 has no generator
        with pytest.raises(ValueError, match="fitted with conditional=False"):
            sampler.sample(2, y=0)
    # a new fit takes the new values
    params = sampler.fit(X, y).get_params()
    keys = [None] if params["conditional"] else [1]
    assert list(sampler.generators_) == keys
    assert sampler.generators_[keys[0]].latent_dim == params["latent_dim"]


def test_a_refused_sample_draws_nothing(data):
    # the classes were generated one by one, so a class without a generator
    # was refused after the classes before it had drawn from the stream
    X, y = data
    sampler = tiny(conditional=False).fit(X, 1 - y)  # class 0 has a generator
    expected = pickle.loads(pickle.dumps(sampler)).sample(3, y=0)
    with pytest.raises(ValueError, match="No generator was trained for class 1"):
        sampler.sample(2, y=[0, 1])
    np.testing.assert_array_equal(sampler.sample(3, y=0), expected)


def test_any_length_spectra():
    for n_features in (1, 7, 100, 333):
        _, X, _ = gaussian_spectra(10, max(n_features, 2), random_state=1)
        X = X[:, :n_features]
        y = np.array([0] * 7 + [1] * 3)
        X_res, y_res = tiny().fit_resample(X, y)
        assert X_res.shape == (14, n_features)
        np.testing.assert_array_equal(X_res[:10], X)
        assert np.all(np.isfinite(X_res)) and np.all(y_res[10:] == 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rejected(data, bad):
    X, y = data
    X = X.copy()
    X[0, 0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        tiny().fit_resample(X, y)


def test_bad_inputs(data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tiny().fit(X, y[:-1])
    with pytest.raises(ValueError, match="more than 1 class"):
        tiny().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        tiny().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="greater or equal to the original"):
        tiny(sampling_strategy={1: 2}).fit(X, y)
    with pytest.raises(ValueError, match="not present"):
        tiny(sampling_strategy={"x": 40}).fit(X, y)
    y3 = y.copy()
    y3[:5] = 2
    with pytest.raises(
        ValueError, match="float only when the type of target is binary"
    ):
        tiny(sampling_strategy=0.5).fit(X, y3)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("max_iter", 0),
        ("n_critic", 1.5),
        ("n_critic", 0),
        ("latent_dim", 0),
        ("n_critic_layers", 0),
        ("k_neighbors", 0),
        ("noise_width", 0.0),
        ("noise_width", -1.0),
        ("anchor", "median"),
        ("gp_weight", -1.0),
        ("learning_rate", 0.0),
        ("batch_size", 0),
        ("betas", (0.5, 1.0)),
        ("betas", (-0.1, 0.9)),
        ("betas", 0.5),
        ("betas", ("a", "b")),
        ("betas", (0.5, 0.9, 0.99)),
        ("shared_variation", -0.5),
        ("noise", "no"),
        ("noise", None),
        ("conditional", "yes"),
        ("verbose", -1),
        ("verbose", "x"),
    ],
)
def test_bad_params(data, param, value):
    X, y = data
    with pytest.raises(ValueError, match=param):
        tiny(**{param: value}).fit(X, y)


@pytest.mark.parametrize(
    "betas", [(np.float32(0.5), np.float32(0.75)), np.array([0.5, 0.75], np.float32)]
)
def test_numpy_betas_train_as_the_numbers(data, betas):
    # torch's Adam refused float32 betas ("betas must be either both floats
    # or both Tensors"), which passed the sampler's own validation
    X, y = data
    X_ref, _ = tiny(betas=(0.5, 0.75)).fit_resample(X, y)
    X_res, _ = tiny(betas=betas).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X_ref)


def test_absent_device_is_a_value_error(data):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        tiny(device="cuda").fit(*data)


@pytest.mark.gpu
def test_cuda_fit_resample(data):
    X, y = data
    X_res, y_res = tiny(device="cuda").fit_resample(X, y)
    assert X_res.shape == (60, X.shape[1]) and np.all(np.isfinite(X_res))


def test_verbose_progress_bar(data, capsys):
    tiny(verbose=1).fit(*data)
    assert "3/3" in capsys.readouterr().err


def test_is_an_imblearn_sampler_and_works_in_its_pipeline(data):
    pytest.importorskip("imblearn")
    from imblearn.base import is_sampler
    from imblearn.pipeline import make_pipeline
    from sklearn.linear_model import LogisticRegression

    X, y = data
    sampler = tiny()
    assert is_sampler(sampler)
    assert not hasattr(sampler, "transform")
    assert not hasattr(sampler, "sample_indices_")
    pipe = make_pipeline(sampler, LogisticRegression()).fit(X, y)
    assert pipe.predict(X).shape == y.shape
    X_res, y_res = make_pipeline(tiny()).fit_resample(X, y)
    assert X_res.shape == (60, X.shape[1])


def test_pickle_roundtrip_samples(trained):
    import pickle

    blob = pickle.dumps(trained)
    expected = trained.sample(3, y=0)
    # The unpickled sampler resumes from the pickled generator state.
    np.testing.assert_array_equal(pickle.loads(blob).sample(3, y=0), expected)
    # an unfitted sampler pickles too
    assert pickle.loads(pickle.dumps(tiny(max_iter=7))).get_params() == (
        tiny(max_iter=7).get_params()
    )


def test_a_sampler_pickled_on_a_gpu_unpickles_on_the_cpu(trained):
    # A CUDA generator's state does not fit a CPU generator: the CPU one is
    # seeded from it, the same seed for the same state.
    state = trained.__getstate__()

    def unpickled(seed, offset=40):
        # a CUDA state: its seed and offset, 8 bytes each
        raw = np.array([seed, offset], dtype="<u8").view(np.uint8)
        state["_torch_gen"] = ("cuda:0", torch.from_numpy(raw.copy()))
        copy = WGANGPOverSampler.__new__(WGANGPOverSampler)
        copy.__setstate__(dict(state))
        assert copy._torch_gen.device == torch.device("cpu")
        return copy

    a, b = unpickled(7), unpickled(7)
    assert a._torch_gen.initial_seed() == b._torch_gen.initial_seed()
    np.testing.assert_array_equal(a.sample(3, y=0), b.sample(3, y=0))
    # different states, different streams: seeded by the sum of the state's
    # bytes, the seeds 1, 256 and 65536 drew the same spectra
    samples = [unpickled(seed).sample(3, y=0) for seed in (1, 256, 65536)]
    assert not np.array_equal(samples[0], samples[1])
    assert not np.array_equal(samples[0], samples[2])
    seeds = {unpickled(seed)._torch_gen.initial_seed() for seed in range(300)}
    assert len(seeds) == 300


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_fitted_sampler_saved_for_a_gpu_samples_on_a_machine_without(trained):
    # it raised "CUDA is not available" until set_params(device="cpu")
    import pickle

    from skorch.exceptions import DeviceWarning

    on_gpu = pickle.loads(pickle.dumps(trained))
    on_gpu.device = "cuda"  # as a fit on a GPU leaves it
    with pytest.warns(DeviceWarning, match="device='cuda'.*on the CPU"):
        here = pickle.loads(pickle.dumps(on_gpu))
    assert here.device == "cpu"
    np.testing.assert_array_equal(
        here.sample(3, y=0), pickle.loads(pickle.dumps(trained)).sample(3, y=0)
    )
    # an unfitted one keeps its device, so that fit raises where it is absent
    assert pickle.loads(pickle.dumps(tiny(device="cuda"))).device == "cuda"


def test_sample_calls_in_threads_draw_as_calls_one_after_the_other(trained):
    # Two sample calls in threads shared the sampler's generator draw by
    # draw, so that neither gave what a call alone gives. Here the second
    # call starts while the first is between its draws.
    import pickle
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sktransfer.over_sampling._sampler import _AnchorModel

    blob = pickle.dumps(trained)
    serial = pickle.loads(blob)
    expected = [serial.sample(5, y=1), serial.sample(5, y=1)]
    sampler = pickle.loads(blob)
    first_in, second_in = threading.Event(), threading.Event()
    real_rows_of = _AnchorModel.rows_of

    def rows_of(self, codes, gen):
        if not first_in.is_set():
            first_in.set()
            second_in.wait(1)  # held back by the first call, if it waits
        else:
            second_in.set()
        return real_rows_of(self, codes, gen)

    def second():
        first_in.wait(30)
        return sampler.sample(5, y=1)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_AnchorModel, "rows_of", rows_of)
        with ThreadPoolExecutor(2) as pool:
            calls = [pool.submit(sampler.sample, 5, y=1), pool.submit(second)]
            results = [call.result() for call in calls]
    for result, want in zip(results, expected):
        np.testing.assert_array_equal(result, want)


def _imblearn_checks():
    from imblearn.utils.estimator_checks import parametrize_with_checks

    mark = parametrize_with_checks(
        [tiny(max_iter=1, n_critic=1)],
        expected_failed_checks=lambda est: {
            "check_samplers_sparse": "spectra are dense; sparse X is refused",
            "check_samplers_pandas_sparse": "spectra are dense; sparse X is refused",
        },
    )
    return pytest.mark.parametrize(mark.args[0], list(mark.args[1]), **mark.kwargs)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
@_imblearn_checks()
def test_imblearn_sampler_checks(estimator, check):
    """imbalanced-learn's own estimator checks for samplers."""
    check(estimator)


def test_generated_spectra_lie_around_measured_ones():
    """Without noise and before training, a spectrum is a SMOTE interpolate."""
    X, y = two_class_spectra(n0=30, n1=6)
    sampler = untrained(noise=False, shared_variation=0).fit(X, y)
    new = sampler.sample(50, y=1)
    real = X[y == 1]
    # each generated spectrum is on a segment between two real ones of class 1
    d = []
    for g in new:
        best = np.inf
        for a in real:
            for b in real:
                v = b - a
                lam = np.clip((g - a) @ v / max(v @ v, 1e-12), 0, 1)
                best = min(best, np.linalg.norm(g - a - lam * v))
        d.append(best)
    spread = np.linalg.norm(real - real.mean(0), axis=1).mean()
    assert max(d) < 0.05 * spread
    assert np.linalg.norm(new - new.mean(0), axis=1).mean() > 0.2 * spread


def test_noise_model_recovers_the_measurement_noise():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 400)
    smooth = np.exp(-0.5 * ((t - 0.5) / 0.1) ** 2)
    sigma = 0.02 + 0.03 * t  # noise that grows along the axis
    X = smooth * rng.uniform(0.5, 1.5, (60, 1)) + rng.normal(0, 1, (60, 400)) * sigma
    y = np.repeat([0, 1], [50, 10])
    sampler = tiny(max_iter=1).fit(X, y)
    # the residual of a Gaussian smoothing keeps ~70-80 % of white noise
    ratio = sampler.noise_std_ / sigma
    assert 0.6 < np.median(ratio) < 1.0
    assert np.corrcoef(sampler.noise_std_[20:-20], sigma[20:-20])[0, 1] > 0.8
    assert np.all(tiny(max_iter=1, noise=False).fit(X, y).noise_std_ == 0)


@pytest.mark.parametrize("anchor", ["real", "mean"])
def test_other_anchors(anchor):
    X, y = two_class_spectra(n0=20, n1=5)
    sampler = untrained(anchor=anchor, noise=False, shared_variation=0)
    new = sampler.fit(X, y).sample(10, y=1)
    real = X[y == 1]
    if anchor == "real":  # copies of measured spectra before training
        d = np.abs(new[:, None, :] - real[None]).max(-1).min(1)
        assert d.max() < 1e-6
    else:  # the class mean
        np.testing.assert_allclose(new, np.tile(real.mean(0), (10, 1)), atol=1e-6)


def three_blocks(n=(40, 30, 6), n_features=48, random_state=0):
    """Class k varies only on its own block of 10 points, around its mean."""
    rng = np.random.default_rng(random_state)
    means = rng.uniform(0.5, 1.5, (3, n_features))
    X = np.repeat(means, n, axis=0)
    y = np.repeat(np.arange(3), n)
    for k, size in enumerate(n):
        X[y == k, 10 * k : 10 * k + 10] += rng.normal(0, 0.1 * (k + 1), (size, 10))
    return X, y


@pytest.mark.parametrize("conditional", [True, False])
@pytest.mark.parametrize("amount", [0.5, 1.0])
def test_shared_variation_is_borrowed_from_other_classes(conditional, amount):
    """Class 2 gets deviations of classes 0 and 1, scaled to its own spread."""
    X, y = three_blocks()
    sampler = untrained(
        anchor="real", noise=False, shared_variation=amount, conditional=conditional
    ).fit(X, y)
    new = sampler.sample(3000, y=2)
    real = X[y == 2]
    # the class's own block is a copy of one of its measured spectra ...
    own = np.abs(new[:, None, 20:30] - real[None, :, 20:30]).max(-1)
    assert own.min(1).max() < 1e-6
    base = real[own.argmin(1)]
    diff = new - base
    np.testing.assert_allclose(diff[:, 30:], 0, atol=1e-6)
    # ... plus a deviation of exactly one other class (block 0 or block 1)
    on0 = np.abs(diff[:, :10]).max(1) > 1e-9
    on1 = np.abs(diff[:, 10:20]).max(1) > 1e-9
    assert not np.any(on0 & on1)
    assert 0.2 < on0.mean() < 0.8  # both other classes are drawn from
    # with the class's root-mean-square spread times shared_variation
    spread = np.sqrt(((real - real.mean(0)) ** 2).sum(1).mean())
    rms = np.sqrt((diff**2).sum(1).mean())
    assert rms == pytest.approx(amount * spread, rel=0.1)


def test_request_larger_than_memory_is_refused_up_front(data):
    X, y = data
    sampler = tiny().fit(X, y)
    with pytest.raises(MemoryError, match="Generating 10000000000000 spectra"):
        sampler.sample(10**13, y=1)
    # the count asked for, not the rows held while filling the output
    n_new = 10**12 - np.sum(y == 1)
    with pytest.raises(MemoryError, match=f"Generating {n_new} spectra .* GiB"):
        tiny(sampling_strategy={1: 10**12}).fit_resample(X, y)


def test_diverging_training_is_a_clear_error(data):
    X, y = data
    for scale, conditional in [(1e160, True), (1e307, True), (1e307, False)]:
        # refused before training, without numpy's overflow warnings first
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises(ValueError, match="not finite.*Scale the spectra"):
                tiny(conditional=conditional).fit_resample(X * scale, y)


def test_one_hot_y_round_trip(data):
    X, y = data
    y3 = y.copy()
    y3[:8] = 2
    Y = np.eye(3, dtype=int)[y3]
    X_res, Y_res = tiny().fit_resample(X, Y)
    assert Y_res.shape == (66, 3) and Y_res.sum(axis=0).tolist() == [22, 22, 22]
    np.testing.assert_array_equal(Y_res[: len(Y)], Y)


def test_fit_resample_generates_into_the_output(data, monkeypatch):
    # scale: float32 fit_resample made a float64 block of every new row
    # (870 MiB for 57,000 x 2,000) and cast it into X_res; batches are now
    # written straight into X_res, with the same values
    from sktransfer.over_sampling import _sampler

    X, y = data
    X = X.astype(np.float32)
    monkeypatch.setattr(_sampler, "_CHUNK", 256)
    strategy = {1: 20000}
    fitted = tiny(sampling_strategy=strategy).fit(X, y)
    expected = fitted.sample(fitted.sampling_strategy_[1], y=1).astype(np.float32)
    sampler = tiny(sampling_strategy=strategy)
    _, peak = traced_peak(sampler.fit_resample, X, y)
    X_res, _ = tiny(sampling_strategy=strategy).fit_resample(X, y)
    assert X_res.dtype == np.float32
    np.testing.assert_array_equal(X_res[len(X) :], expected)
    # X_res is 5 MB, the float64 block was 10 MB more; a batch is 0.13 MB
    assert peak < X_res.nbytes + 2e6


def test_up_front_memory_check_counts_the_output_and_a_batch(data, monkeypatch):
    # scale: the check counted the generated rows at X's itemsize (4 bytes
    # for float32) where they were made in float64, and no room for making
    # them; it now counts the output plus a batch being generated
    from sktransfer.over_sampling import _sampler

    X, y = data
    X = X.astype(np.float32)
    n_out, n_new = 60, 26
    output = n_out * X.shape[1] * 4

    def free(n_bytes):
        monkeypatch.setattr(_sampler, "_available_memory", lambda: n_bytes)

    # room for the output and a float64 copy of the batch, not for making it
    free(output + n_new * X.shape[1] * 8)
    with pytest.raises(MemoryError, match=f"an output of {n_out} rows"):
        tiny().fit_resample(X, y)
    free(
        output
        + n_new * X.shape[1] * _sampler._generate_bytes(FAST["channels"], X.shape[1])
    )
    assert tiny().fit_resample(X, y)[0].shape == (n_out, X.shape[1])


def test_class_statistics_equal_the_whole_array_formulas(monkeypatch):
    # the class means summed per class (np.add.at was 40 times slower), the
    # scale, deviations and noise level worked out on slices of rows: the
    # same values to the last bit, so a seed gives the same spectra as before
    from scipy.ndimage import gaussian_filter1d

    from sktransfer.over_sampling import _sampler

    rng = np.random.default_rng(0)
    for n_features in (1, 37):
        X = rng.normal(size=(300, n_features)) * 10.0 ** rng.integers(-3, 4, (300, 1))
        X = X.astype(np.float32)
        codes = rng.integers(0, 5, len(X))
        codes[codes == 3] = 4  # a class without rows
        means = np.zeros((5, n_features))
        np.add.at(means, codes, X)
        means /= np.maximum(np.bincount(codes), 1)[:, None]
        dev = X - means[codes]
        scale = float(np.std(dev))
        resid = X - gaussian_filter1d(X, 2.0, axis=1, mode="nearest")
        mad = np.median(np.abs(resid - np.median(resid, axis=0)), axis=0)
        noise = 1.4826 / _sampler._residual_noise_fraction(2.0) * mad
        monkeypatch.setattr(_sampler, "_CHUNK_POINTS", 7 * n_features, raising=False)
        got = _sampler._class_means(X, codes)
        np.testing.assert_array_equal(got, means)
        assert _sampler._deviation_std(X, got, codes) == scale
        real, real_sq, own_sq = _sampler._scaled_deviations(X, got, codes, scale)
        np.testing.assert_array_equal(real, torch.as_tensor(dev / scale).float())
        np.testing.assert_array_equal(real_sq, ((dev / scale) ** 2).sum(1))
        np.testing.assert_array_equal(own_sq, (real.numpy() ** 2).sum(1))
        np.testing.assert_array_equal(_sampler._noise_std(X, 2.0), noise)
        monkeypatch.undo()


def test_class_means_without_add_at(monkeypatch):
    from sktransfer.over_sampling import _sampler

    class Add:
        def __getattr__(self, name):
            assert name != "at", "np.add.at adds one element at a time"
            return getattr(np.add, name)

    class Numpy:
        add = Add()

        def __getattr__(self, name):
            return getattr(np, name)

    X = np.random.default_rng(0).normal(size=(40, 8))
    expected = _sampler._class_means(X, np.arange(40) % 3)
    monkeypatch.setattr(_sampler, "np", Numpy())
    np.testing.assert_array_equal(_sampler._class_means(X, np.arange(40) % 3), expected)


@pytest.mark.parametrize("conditional", [True, False])
def test_fit_memory_does_not_grow_with_copies_of_the_data(monkeypatch, conditional):
    # scale: fit made about 10 float64 copies of the spectra (0.9 GiB for
    # 12,000 x 2,000 float32); one float64 copy is left, for the scale
    from sktransfer.over_sampling import _sampler

    rng = np.random.default_rng(0)
    X = rng.random((2000, 200)).astype(np.float32)
    y = rng.integers(0, 4, len(X))
    params = {"max_iter": 1, "n_critic": 1, "conditional": conditional}
    whole = tiny(**params).fit(X, y)
    monkeypatch.setattr(_sampler, "_CHUNK_POINTS", 20 * 200, raising=False)
    sampler = tiny(**params)
    _, peak = traced_peak(sampler.fit, X, y)
    # X is 1.6 MB; the float64 copies were 11 to 15 MB
    assert peak < 3 * X.nbytes
    np.testing.assert_array_equal(
        sampler.sample(5, y=[0, 1, 3, 3, 0]), whole.sample(5, y=[0, 1, 3, 3, 0])
    )


@pytest.mark.parametrize("width", [1.0, 2.0, 4.0])
def test_noise_std_of_white_noise_is_its_standard_deviation(width):
    # the residual of the smoothing holds only part of the noise (0.86 of
    # it at 2 points): noise_std_ was 14 % low and generated spectra too
    # smooth
    from sktransfer.over_sampling import _sampler

    X = np.random.default_rng(0).normal(0, 3.0, (400, 300))
    assert np.median(_sampler._noise_std(X, width)) == pytest.approx(3.0, rel=0.02)
    assert _sampler._residual_noise_fraction(2.0) == pytest.approx(0.861, abs=1e-3)


@pytest.mark.parametrize("width", [0.5, 2.0, 4.0])
def test_residual_noise_fraction_counts_the_whole_smoothing_kernel(width):
    # scipy's Gaussian kernel, cut at 4 widths: the residual x - g * x of
    # white noise of std 1 has std sqrt((1 - g_0)^2 + sum of the other g_k^2)
    from sktransfer.over_sampling import _sampler

    radius = int(4 * width + 0.5)
    g = np.exp(-0.5 * (np.arange(-radius, radius + 1) / width) ** 2)
    g /= g.sum()
    expected = np.sqrt((1 - g[radius]) ** 2 + np.sum(np.delete(g, radius) ** 2))
    got = _sampler._residual_noise_fraction(width)
    assert got == pytest.approx(expected, rel=1e-12)


def test_invalid_channels_are_named_before_the_memory_check(data):
    X, y = data
    for channels in ("32", None, 0):
        with pytest.raises(ValueError, match="channels"):
            tiny(channels=channels).fit_resample(X, y)


def test_sample_refuses_a_class_of_one_spectrum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 40))
    y = np.r_[[0] * 20, [1] * 3, [2]]
    sampler = tiny(sampling_strategy={1: 20}).fit(X, y)
    assert sampler.sample(3, y=1).shape == (3, 40)
    with pytest.raises(ValueError, match="Class 2 has 1 sample"):
        sampler.sample(3, y=2)
    with pytest.raises(ValueError, match="Class 2 has 1 sample"):
        sampler.sample(2, y=[1, 2])
    assert sampler.sample(0, y=2).shape == (0, 40)


def test_smallest_allowed_params_train():
    # every count may be 1; the penalty, the borrowing and the betas 0
    X, y = two_class_spectra(n0=6, n1=3, n_features=16)
    counts = ("max_iter", "n_critic", "batch_size", "latent_dim", "channels")
    sampler = WGANGPOverSampler(
        **dict.fromkeys((*counts, "n_critic_layers", "k_neighbors"), 1),
        gp_weight=0.0,
        shared_variation=0.0,
        noise_width=0.5,
        betas=(0.0, 0.0),
        random_state=0,
    )
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [6, 6]
    assert np.isfinite(X_res).all()


def test_tags_say_cpu_sampling_is_deterministic():
    assert not tiny().__sklearn_tags__().non_deterministic
    assert tiny(device="cuda").__sklearn_tags__().non_deterministic
    assert not tiny().__sklearn_tags__().input_tags.sparse


def test_integer_spectra_and_labels_keep_their_types(data):
    # spectra are validated as floats; the labels keep their dtype
    X, y = data
    X_int = np.round(X * 100).astype(np.int64)
    X_res, y_res = tiny().fit_resample(X_int, y.astype(np.int8))
    assert X_res.dtype == np.float64 and y_res.dtype == np.int8
    np.testing.assert_array_equal(X_res[: len(X)], X_int)
    assert np.bincount(y_res).tolist() == [30, 30]


def test_sample_checks_n_samples(trained):
    for n in (2.5, -1, "3"):
        with pytest.raises(ValueError, match="n_samples"):
            trained.sample(n, y=1)


def test_refuses_exactly_what_does_not_fit_in_memory(monkeypatch):
    # the output and a batch being made at 96 bytes per point (8 channels)
    # must fit in the free memory
    from sktransfer.over_sampling import _sampler

    def free(n_bytes):
        monkeypatch.setattr(_sampler, "_available_memory", lambda: n_bytes)

    X, y = two_class_spectra(n_features=10)
    X = X.astype(np.float32)
    # fit_resample: 60 rows of float32 out, 26 of them new
    need = 60 * 10 * 4 + 26 * 10 * 96
    free(need)
    assert tiny(channels=8).fit_resample(X, y)[0].shape == (60, 10)
    free(need - 1)
    with pytest.raises(MemoryError, match="Generating 26 spectra of 10 points"):
        tiny(channels=8).fit_resample(X, y)
    # sample: float64 out
    free(None)
    sampler = tiny(channels=8).fit(X, y)
    n = 7
    need = n * 10 * 8 + n * 10 * 96
    free(need)
    assert sampler.sample(n, y=1).shape == (n, 10)
    free(need - 1)
    with pytest.raises(MemoryError, match=f"Generating {n} spectra of 10 points"):
        sampler.sample(n, y=1)
    # a batch is at most _CHUNK spectra; more channels weigh more
    monkeypatch.setattr(_sampler, "_CHUNK", 4)
    free(need - 3 * 10 * 96)
    assert sampler.sample(n, y=1).shape == (n, 10)
    channels = (1, 32, 72, 128, 256)
    assert [_sampler._generate_bytes(c, 1024) for c in channels] == [
        96,
        96,
        96,
        170,
        341,
    ]
    # a spectrum too short for four doublings: the first layer holds
    # `channels` values at (up to) every point; 256 channels on 12 points
    # were measured at 2,024 bytes per point, against 341 estimated before
    assert [_sampler._generate_bytes(c, 12) for c in channels] == [
        96,
        384,
        864,
        1536,
        3072,
    ]
    assert _sampler._generate_bytes(256, 16) == 1536  # one doubling


def test_spectra_are_generated_in_batches_that_continue_the_stream(
    trained, monkeypatch
):
    # with batches of 4, one call for 10 spectra draws as calls for 4, 4
    # and 2 spectra do
    from sktransfer.over_sampling import _sampler

    monkeypatch.setattr(_sampler, "_CHUNK", 4)
    one, parts = (
        pickle.loads(pickle.dumps(trained)),
        pickle.loads(pickle.dumps(trained)),
    )
    expected = np.vstack([parts.sample(n, y=1) for n in (4, 4, 2)])
    np.testing.assert_array_equal(one.sample(10, y=1), expected)
    assert not np.array_equal(expected[:4], expected[4:8])


def test_non_finite_generated_spectra_are_an_error(data):
    X, y = data
    sampler = tiny().fit(X, y)
    with torch.no_grad():
        for p in sampler.generators_[None].parameters():
            p.fill_(np.nan)
    with pytest.raises(ValueError, match="Generated spectra are not finite"):
        sampler.sample(3, y=1)


def test_noise_width_too_narrow_to_measure_noise_is_a_clear_error(data):
    # a smoothing of a fraction of a point leaves the spectra as they are:
    # the noise level came out as a ZeroDivisionError
    X, y = data
    for width in (0.1, 0.15):
        with pytest.raises(ValueError, match="noise_width"):
            tiny(noise_width=width).fit(X, y)
    # without noise the width is not used
    without = tiny(noise_width=0.1, noise=False).fit(X, y)
    np.testing.assert_array_equal(without.noise_std_, np.zeros(X.shape[1]))
    assert np.isfinite(tiny(noise_width=0.5).fit(X, y).noise_std_).all()


def test_deviation_scale_falls_back_to_the_noise_then_the_means():
    from sktransfer.over_sampling._sampler import _deviation_scale as scale

    centers = np.array([[2.0, -4.0], [1.0, 0.5]])  # largest magnitude 4
    floor = 1e-9 * 4.0
    noise = np.array([0.3, 0.4])
    assert scale(0.3, centers, noise, 4.0) == 0.3
    assert scale(1.01 * floor, centers, noise, 4.0) == 1.01 * floor
    # a spread of at most 1e-9 of the largest mean is rounding: the RMS noise
    assert scale(floor, centers, noise, 4.0) == pytest.approx(np.sqrt(0.125))
    # without noise, 1e-9 of the largest mean; with all means zero, 1e-9 of
    # the largest value of the other classes (it was 1), else 1
    assert scale(0.0, centers, np.zeros(2), 4.0) == floor
    assert scale(0.0, np.zeros((2, 2)), np.zeros(2), 3e-6) == 1e-9 * 3e-6
    assert scale(0.0, np.zeros((2, 2)), np.zeros(2), 0.0) == 1.0
    assert scale(0.0, np.zeros((0, 2)), np.zeros(2), 0.0) == 1.0


def test_a_class_of_zeros_gets_spectra_of_its_own_size():
    # it was scaled by 1 whatever the units: generated spectra 20,000 times
    # larger than any training value
    X = np.zeros((16, 64))
    X[:12] += 1e-6 * np.random.default_rng(0).normal(size=(12, 64))
    y = np.array([0] * 12 + [1] * 4)
    sampler = tiny(conditional=False, noise=False, max_iter=20)
    X_res, _ = sampler.fit_resample(X, y)
    assert np.abs(X_res[16:]).max() < 1e-3 * np.abs(X).max()


def test_sample_without_any_generator_says_so():
    # an empty strategy trains no generator: sample raised a bare StopIteration,
    # which ends a surrounding loop or map silently
    X, y = two_class_spectra()
    sampler = tiny(conditional=False, sampling_strategy={}).fit(X, y)
    with pytest.raises(ValueError, match="No generator was trained"):
        sampler.sample(2, y=y[0])


def test_a_noise_width_wider_than_the_spectra_is_refused_at_once():
    # the smoothing of a width of 1e5 points took minutes on 64-point spectra
    X, y = two_class_spectra()
    with pytest.raises(ValueError, match="wider than the spectra"):
        tiny(noise_width=1e5).fit(X, y)
    assert tiny(noise_width=1e5, noise=False).fit(X, y).noise_std_.max() == 0.0


def test_class_neighbors_are_the_nearest_of_the_class():
    from sktransfer.over_sampling._sampler import _class_neighbors

    X = np.array([[0.0], [1.0], [3.0], [10.0], [0.4], [11.5], [7.0]])
    codes = np.array([0, 0, 0, 1, 0, 1, 2])
    # a class of two rows repeats its one neighbour; one of one row is its own
    expected = [[4, 1], [4, 0], [1, 4], [5, 5], [0, 1], [3, 3], [6, 6]]
    assert _class_neighbors(X, codes, 2).tolist() == expected
    # fewer rows than asked for: the neighbours, nearest first, repeated
    assert _class_neighbors(X, codes, 5)[:3].tolist() == [
        [4, 1, 2, 4, 1],
        [4, 0, 2, 4, 0],
        [1, 4, 0, 1, 4],
    ]


@pytest.mark.parametrize("conditional", [True, False])
def test_training_adds_the_residual_to_the_anchors(conditional):
    # with real anchors, no noise and a residual that has not moved, each
    # generated training batch is the measured spectra of its rows: the
    # critic scores them alike and estimates a distance of zero
    X, y = two_class_spectra(n0=12, n1=4)
    sampler = tiny(
        anchor="real",
        noise=False,
        shared_variation=0,
        conditional=conditional,
        learning_rate=1e-12,
    ).fit(X, y)
    for history in sampler.history_.values():
        np.testing.assert_allclose(history["wasserstein"], 0.0, atol=1e-6)


def test_per_class_models_generate_around_their_own_class():
    X, y = two_class_spectra(n0=20, n1=5)
    sampler = untrained(
        conditional=False,
        sampling_strategy="all",
        anchor="mean",
        noise=False,
        shared_variation=0,
    ).fit(X, y)
    for c in (0, 1):
        new = sampler.sample(4, y=c)
        np.testing.assert_allclose(new, np.tile(X[y == c].mean(0), (4, 1)), atol=1e-6)


def test_training_that_diverges_is_a_clear_error(data):
    X, y = data
    with pytest.raises(ValueError, match="training losses became non-finite"):
        tiny(learning_rate=1e30, max_iter=5).fit(X, y)


def test_real_anchors_are_measured_spectra_of_the_class_with_their_own_noise():
    # a measured spectrum carries its noise: none is added to a real anchor,
    # and every spectrum of the class is drawn
    X, y = two_class_spectra(n0=20, n1=5)
    sampler = untrained(anchor="real", shared_variation=0).fit(X, y)
    assert sampler.noise_std_.max() > 0
    new = sampler.sample(200, y=1)
    d = np.abs(new[:, None, :] - X[y == 1][None]).max(-1)
    assert d.min(1).max() < 1e-6
    assert set(d.argmin(1).tolist()) == set(range(5))


def test_mean_anchors_get_the_measurement_noise():
    X, y = two_class_spectra(n0=20, n1=5)
    sampler = untrained(anchor="mean", shared_variation=0).fit(X, y)
    new = sampler.sample(4000, y=1)
    noise = sampler.noise_std_
    assert noise.min() > 0
    np.testing.assert_allclose(new.mean(0), X[y == 1].mean(0), atol=4 * noise.max())
    np.testing.assert_allclose(new.std(0), noise, rtol=0.1)


@pytest.mark.parametrize("anchor", ["smote", "real", "mean"])
def test_sampling_under_a_float64_default_dtype_draws_the_same_spectra(data, anchor):
    X, y = data
    sampler = tiny(anchor=anchor).fit(X, y)
    twin = pickle.loads(pickle.dumps(sampler))
    expected = sampler.sample(20, y=1)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        got = twin.sample(20, y=1)
    finally:
        torch.set_default_dtype(previous)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("conditional", [True, False])
def test_moving_the_anchors_moves_every_tensor(data, conditional):
    # the conditional model borrows from its own spectra: its pool stays the
    # very tensor of its spectra where they are moved
    X, y = data
    sampler = tiny(conditional=conditional, max_iter=1).fit(X, y)
    (model,) = sampler._models.values()
    model = pickle.loads(pickle.dumps(model))
    assert (model.pool is model.real) == conditional
    model.to(torch.device("meta"))
    tensors = {k: v for k, v in vars(model).items() if isinstance(v, torch.Tensor)}
    assert len(tensors) == 13
    assert {t.device.type for t in tensors.values()} == {"meta"}
    assert (model.pool is model.real) == conditional


def test_smote_anchors_get_back_the_noise_that_interpolation_averages_away():
    # an interpolate lam * e1 + (1 - lam) * e2 of two noisy spectra keeps
    # lam^2 + (1 - lam)^2 of their noise variance (2/3 on average); the
    # noise added back, of variance 2 * lam * (1 - lam) (1/3 on average)
    # times noise_std_^2, restores the rest
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 200)
    s0, s1 = np.exp(-0.5 * ((t - [[0.3], [0.7]]) / 0.05) ** 2)
    e = rng.normal(0, 0.05, (40, 200))
    X = np.vstack([s0 + rng.normal(0, 0.05, (60, 200)), s1 + e])
    y = np.repeat([0, 1], [60, 40])
    sampler = untrained(shared_variation=0).fit(X, y)
    new = sampler.sample(4000, y=1)
    expected = 2 / 3 * np.mean(e**2) + 1 / 3 * np.mean(sampler.noise_std_**2)
    assert np.mean((new - s1) ** 2) == pytest.approx(expected, rel=0.04)


def test_shared_variation_of_a_class_between_others_skips_its_own_spectra():
    # class 1 sits between classes 0 and 2 in the pool of deviations: it
    # borrows from both, never from itself
    X, y = three_blocks()
    sampler = untrained(anchor="real", noise=False).fit(X, y)
    new = sampler.sample(3000, y=1)
    real = X[y == 1]
    own = np.abs(new[:, None, 10:20] - real[None, :, 10:20]).max(-1)
    assert own.min(1).max() < 1e-6
    diff = new - real[own.argmin(1)]
    on0 = np.abs(diff[:, :10]).max(1) > 1e-9
    on2 = np.abs(diff[:, 20:30]).max(1) > 1e-9
    assert not np.any(on0 & on2)
    # 40 spectra of class 0 and 6 of class 2 to borrow from
    assert on2.mean() == pytest.approx(6 / 46, abs=0.03)
    assert (on0 | on2).mean() > 0.95
    # rescaled to the class's root-mean-square spread
    spread = np.sqrt(((real - real.mean(0)) ** 2).sum(1).mean())
    assert np.sqrt((diff**2).sum(1).mean()) == pytest.approx(spread, rel=0.1)


@pytest.mark.parametrize("other_spread", [0.0, 1e-6])
def test_shared_variation_from_classes_that_barely_vary(other_spread):
    # copies lend nothing (and no 0 / 0); a tiny spread is rescaled to the
    # spread of the class it is lent to
    rng = np.random.default_rng(1)
    means = rng.uniform(0.5, 1.5, (2, 30))
    X = np.repeat(means, [20, 6], axis=0)
    X[:20, :10] += rng.normal(0, 1, (20, 10)) * other_spread
    X[20:, 10:20] += rng.normal(0, 0.1, (6, 10))
    y = np.repeat([0, 1], [20, 6])
    sampler = untrained(anchor="real", noise=False)
    new = sampler.fit(X, y).sample(2000, y=1)
    real = X[y == 1]
    own = np.abs(new[:, None, 10:20] - real[None, :, 10:20]).max(-1)
    assert own.min(1).max() < 1e-6
    diff = new - real[own.argmin(1)]
    spread = np.sqrt(((real - real.mean(0)) ** 2).sum(1).mean())
    rms = np.sqrt((diff**2).sum(1).mean())
    if other_spread:
        assert rms == pytest.approx(spread, rel=0.1)
    else:
        assert rms < 1e-6


@pytest.mark.parametrize("n_features", [1, 5])
def test_class_mean_of_a_single_spectrum_is_that_spectrum(n_features):
    from sktransfer.over_sampling._sampler import _class_means

    X = np.random.default_rng(0).normal(size=(4, n_features))
    codes = np.array([0, 0, 0, 2])  # class 2 holds one spectrum, class 1 none
    means = _class_means(X, codes)
    np.testing.assert_allclose(means[0], X[:3].mean(0), rtol=1e-12)
    np.testing.assert_array_equal(means[1], 0.0)
    np.testing.assert_array_equal(means[2], X[3])


def test_float_counts_are_refused_before_training(data, monkeypatch):
    # {class: 8.0} trained the whole GAN, then failed in numpy.full
    X, y = data
    labels, counts = np.unique(y, return_counts=True)
    rare = labels[np.argmin(counts)]
    monkeypatch.setattr(
        WGANGPOverSampler, "_train", lambda *a: pytest.fail("trained first")
    )
    sampler = tiny(sampling_strategy={rare: float(counts.max())})
    with pytest.raises(ValueError, match="whole numbers of spectra per class"):
        sampler.fit_resample(X, y)


@pytest.mark.parametrize("anchor", ["real", "mean"])
def test_neighbours_are_only_searched_for_smote_anchors(data, monkeypatch, anchor):
    # the search within each class costs the square of its size, and only
    # anchor="smote" reads it
    from sktransfer.over_sampling import _sampler

    X, y = data
    expected = tiny(anchor=anchor).fit_resample(X, y)
    monkeypatch.setattr(
        _sampler, "_class_neighbors", lambda *a: pytest.fail("searched")
    )
    got = tiny(anchor=anchor).fit_resample(X, y)
    np.testing.assert_array_equal(got[0], expected[0])
