"""Scale-out through joblib's Dask backend gives the same results as serial."""

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline

from sktransfer.baseline import AirPLS
from sktransfer.metrics import spectral_correlation_scorer
from tests.conftest import gaussian_spectra

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _data():
    x, X, _ = gaussian_spectra(n_samples=30, n_features=120, random_state=1)
    Y = X[:, ::-1] * 0.5 + 0.1 * X
    return x, X, Y


def _search(x):
    pipe = make_pipeline(AirPLS(x_axis=x), Ridge())
    return GridSearchCV(
        pipe,
        {"airpls__lam": [1e2, 1e4, 1e6], "ridge__alpha": [0.1, 10.0]},
        cv=KFold(3, shuffle=True, random_state=0),
        scoring=spectral_correlation_scorer,
        n_jobs=-1,
    )


def test_grid_search_on_dask_equals_serial(client):
    x, X, Y = _data()
    serial = _search(x).set_params(n_jobs=None).fit(X, Y)
    with parallel_config(backend="dask"):
        dask = _search(x).fit(X, Y)
    assert dask.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    np.testing.assert_allclose(dask.predict(X), serial.predict(X))


def test_cross_validate_on_dask_equals_serial(client):
    x, X, Y = _data()
    pipe = make_pipeline(AirPLS(x_axis=x), Ridge(alpha=1.0))
    cv = KFold(3, shuffle=True, random_state=0)
    serial = cross_validate(pipe, X, Y, cv=cv, scoring=spectral_correlation_scorer)
    with parallel_config(backend="dask"):
        dask = cross_validate(
            pipe, X, Y, cv=cv, scoring=spectral_correlation_scorer, n_jobs=-1
        )
    np.testing.assert_allclose(dask["test_score"], serial["test_score"])


def test_torch_fits_in_threads_equal_serial_fits():
    # torch's global generator is shared by the threads of a process: fits
    # in threads overwrote each other's random state (predictions 0.6-1.9
    # apart from serial ones, and different from run to run)
    from joblib import Parallel, delayed

    from sktransfer.cross_modal import SpectroGenRegressor
    from sktransfer.over_sampling import WGANGPOverSampler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 60)).astype(np.float32)
    Y, y = X.cumsum(axis=1), np.r_[[0] * 30, [1] * 10]

    def regress(beta):
        reg = SpectroGenRegressor(random_state=0, max_epochs=3, batch_size=8, beta=beta)
        return reg.fit(X, Y).predict(X[:3])

    def augment(seed):
        sampler = WGANGPOverSampler(random_state=seed, max_iter=3, channels=8)
        return sampler.fit_resample(X, y)[0]

    for work, args in ((regress, (0.1, 1.0, 0.1, 1.0)), (augment, (0, 1, 0, 1))):
        serial = [work(a) for a in args]
        threads = Parallel(n_jobs=4, backend="threading")(
            delayed(work)(a) for a in args
        )
        for s, t in zip(serial, threads):
            np.testing.assert_array_equal(s, t)


def test_torch_fits_on_dask_equal_serial_fits_with_the_workers_threads(client):
    # torch's results depend on its number of threads by rounding: the
    # workers' fits equal serial fits with as many threads as they have
    import torch

    from sktransfer.cross_modal import SpectroGenRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 60)).astype(np.float32)
    Y = X.cumsum(axis=1)
    search = GridSearchCV(
        SpectroGenRegressor(random_state=0, max_epochs=3, batch_size=8),
        {"beta": [0.1, 1.0]},
        cv=KFold(2),
        scoring=spectral_correlation_scorer,
        n_jobs=-1,
    )
    with parallel_config(backend="dask"):
        dask = search.fit(X, Y).cv_results_["mean_test_score"]
    (workers,) = set(client.run(torch.get_num_threads).values())
    threads = torch.get_num_threads()
    torch.set_num_threads(workers)
    try:
        serial = search.set_params(n_jobs=None).fit(X, Y).cv_results_
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(dask, serial["mean_test_score"])
