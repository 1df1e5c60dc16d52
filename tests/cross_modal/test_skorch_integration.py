"""SpectroGenRegressor with skorch's own machinery: set_params on a fitted
net, validation splits, scoring and early-stopping callbacks, odd batches."""

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.metrics import r2_score
from skorch.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LoadInitState,
)
from skorch.dataset import Dataset, ValidSplit
from skorch.exceptions import NotInitializedError
from torch.utils.data import BatchSampler, SequentialSampler, TensorDataset

from sktransfer.cross_modal import SpectroGenRegressor, SpectroGenVAE
from sktransfer.cross_modal._modules import CorrelationLoss, _safe_scale, kl_divergence
from sktransfer.cross_modal._regressor import _JoinedTail
from tests.cross_modal.test_regressor import FAST, paired_spectra

QUICK = {**FAST, "max_epochs": 8}


@pytest.fixture(scope="module")
def pairs():
    X, Y, _ = paired_spectra(60)
    return X, Y


# ------------------------------------------------ set_params after fit
def test_rebuilt_network_is_not_used_untrained(pairs):
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **QUICK).fit(X, Y)
    reg.set_params(module__hidden=16)  # skorch rebuilds the module
    with pytest.raises(NotInitializedError, match="rebuilt after fit"):
        reg.predict(X)
    assert reg.initialize_module() is reg  # as skorch's, and still untrained
    with pytest.raises(NotInitializedError, match="rebuilt after fit"):
        reg.encode(X)


def test_loader_and_dataset_parameters_can_be_set_after_fit(pairs):
    # skorch refused them on a fitted net ("Something went wrong, please open
    # an issue"), although they rebuild nothing
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **{**QUICK, "max_epochs": 2}).fit(X, Y)
    expected = reg.predict(X)
    reg.set_params(iterator_valid__batch_size=7, iterator_train__drop_last=True)
    assert_array_equal(reg.predict(X), expected)
    assert reg.get_iterator(reg.get_dataset(X), training=False).loader.batch_size == 7
    batches = reg.get_iterator(reg.get_dataset(X, Y), training=True)
    assert [len(xb) for xb, _ in batches] == [QUICK["batch_size"]] * (
        len(X) // QUICK["batch_size"]
    )
    reg.partial_fit(X, Y)  # trains with them
    assert len(reg.history) == 4
    with pytest.raises(ValueError, match="bogus__x"):
        reg.set_params(bogus__x=1)


def test_optimizer_loader_and_dataset_classes_can_be_set_after_fit(pairs):
    # skorch refused them on a fitted net ("Something went wrong"); a new
    # optimizer class trains on from the fitted weights
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **{**QUICK, "max_epochs": 2}).fit(X, Y)
    expected = reg.predict(X)
    reg.set_params(
        optimizer=torch.optim.SGD,
        iterator_train=torch.utils.data.DataLoader,
        dataset=Dataset,
    )
    assert type(reg.optimizer_) is torch.optim.SGD
    assert reg.optimizer_.param_groups[0]["lr"] == reg.lr
    assert_array_equal(reg.predict(X), expected)
    reg.set_params(optimizer__momentum=0.5).partial_fit(X, Y)
    assert type(reg.optimizer_) is torch.optim.SGD
    assert reg.optimizer_.param_groups[0]["momentum"] == 0.5
    assert len(reg.history) == 4


@pytest.mark.parametrize("method", ["predict", "encode", "sample", "kneighbors"])
def test_unfitted_use_is_a_not_fitted_error(pairs, method):
    # encode raised AttributeError ('no attribute module_')
    with pytest.raises(NotInitializedError, match="not initialized"):
        getattr(SpectroGenRegressor(), method)(pairs[0])


def test_initialize_before_fit_says_the_module_is_sized_from_the_data():
    with pytest.raises(ValueError, match="call fit, or load_params with the param"):
        SpectroGenRegressor().initialize()


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_training_a_rebuilt_network_starts_afresh(pairs, method):
    # the rebuilt module has default standardisation buffers: training it
    # on from there skipped the standardisation (r2 -12.6 on scaled targets)
    X, Y = pairs
    Y = 1000 * Y + 500
    params = {**QUICK, "warm_start": True, "module__hidden": 16}
    fresh = SpectroGenRegressor(random_state=0, **params).fit(X, Y)
    reg = SpectroGenRegressor(random_state=0, **{**params, "module__hidden": 32})
    reg.fit(X, Y)
    reg.set_params(module__hidden=16)
    with pytest.warns(UserWarning, match="trains the new one from the start") as w:
        getattr(reg, method)(X, Y)
    assert [entry.filename for entry in w] == [__file__]  # the caller's line
    assert float(reg.module_.y_scale) == float(fresh.module_.y_scale) != 1.0
    assert len(reg.history) == len(fresh.history)
    assert_array_equal(reg.predict(X), fresh.predict(X))


def test_changed_normalize_source_does_not_change_a_fitted_model(pairs):
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **QUICK).fit(40 * X, Y)
    expected = reg.predict(40 * X)
    reg.set_params(normalize_source=False)
    # predictions read the sources as the fit did
    assert_array_equal(reg.predict(40 * X), expected)
    with pytest.raises(ValueError, match="fitted with normalize_source=True"):
        reg.partial_fit(40 * X, Y)
    # a new fit takes the new value
    reg.set_params(warm_start=False).fit(40 * X, Y)
    assert float(reg.module_.source_max_scaled) == 0.0


# ------------------------------------------------------ validation split
class _MemorySize(Callback):
    """Record the number of pairs in the retrieval memory at each epoch end."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("memory", int(net.module_.retrieval.memory_z.shape[0]))


def _memory_recorded(train_split, **params):
    """A regressor with ``train_split`` that records its memory at each epoch."""
    return SpectroGenRegressor(
        random_state=0,
        train_split=train_split,
        callbacks=[("memory", _MemorySize())],
        **{**QUICK, **params},
    )


def test_validation_pairs_stay_out_of_the_memory_while_scored(pairs):
    X, Y = pairs
    reg = _memory_recorded(ValidSplit(4)).fit(X, Y)
    # 45 of the 60 pairs train; the validation pairs are decoded from those
    assert set(reg.history[:, "memory"]) == {45}
    # afterwards the memory holds every pair, in the order of X
    assert reg.module_.retrieval.memory_z.shape[0] == 60
    assert_array_equal(reg.kneighbors(None, 1, return_distance=False).shape, (60, 1))


def test_partial_fit_scores_its_validation_pairs_against_every_earlier_pair(pairs):
    X, Y = pairs
    reg = _memory_recorded(ValidSplit(4), max_epochs=2)
    reg.fit(X[:40], Y[:40]).partial_fit(X[40:], Y[40:])
    # 30 of the first 40 train, then those 40 and 15 of the next 20
    assert reg.history[:, "memory"] == [30, 30, 55, 55]
    assert_array_equal(reg.kneighbors(X, 1)[1][:, 0], np.arange(60))


def test_a_custom_split_of_other_datasets_keeps_its_pairs_out_too(pairs):
    # datasets that are not skorch's (no X and y to read) are read item by item
    X, Y = pairs

    def split(dataset, y=None, **kwargs):
        parts = [torch.as_tensor(a) for a in (dataset.X, dataset.y)]
        first = TensorDataset(*(a[:40] for a in parts))
        return first, TensorDataset(*(a[40:] for a in parts))

    reg = _memory_recorded(split).fit(X, Y)
    assert set(reg.history[:, "memory"]) == {40}
    assert reg.module_.retrieval.memory_z.shape[0] == 60
    # the same memory as skorch's own split of the same rows gives
    first_40 = ValidSplit(cv=[(np.arange(40), np.arange(40, 60))], stratified=False)
    same = SpectroGenRegressor(random_state=0, train_split=first_40, **QUICK).fit(X, Y)
    assert_allclose(reg.history[:, "valid_loss"], same.history[:, "valid_loss"])


def test_validation_loss_is_that_of_decoding_from_the_training_pairs(pairs):
    X, Y = pairs
    split = ValidSplit(4)
    reg = SpectroGenRegressor(random_state=0, train_split=split, **QUICK).fit(X, Y)
    # rebuild the validation rows and score them against a memory of the
    # training rows only, with the final weights: the last epoch's loss
    _, valid = split(Dataset(X, Y))
    rows = np.asarray(valid.indices)
    train = np.setdiff1d(np.arange(len(X)), rows)
    ref = SpectroGenRegressor(random_state=0, **QUICK).fit(X[train], Y[train])
    ref.module_.load_state_dict(
        {k: v for k, v in reg.module_.state_dict().items() if "memory" not in k},
        strict=False,
    )
    ref.module_.set_memory(
        torch.as_tensor(X[train] / np.abs(X[train]).max(1, keepdims=True)).float(),
        torch.as_tensor(Y[train] / float(reg.module_.y_scale)).float(),
    )
    pred = ref.predict(X[rows])
    # the loss adds beta * KL / n_out to one minus the correlation
    ref.module_.eval()
    with torch.no_grad():
        _, mu, logvar = ref.infer(torch.as_tensor(X[rows]).float())
    kl = float(kl_divergence(mu, logvar)) * QUICK["beta"] / Y.shape[1]
    corr = float(CorrelationLoss()(torch.as_tensor(pred), torch.as_tensor(Y[rows])))
    assert reg.history[-1, "valid_loss"] == pytest.approx(corr + kl, abs=1e-5)


def test_validation_loss_of_the_plain_decoder_is_in_standardised_units(pairs):
    # the plain decoder centres the targets per point: its validation loss
    # (here the squared error) is that of the predictions, centred and scaled
    X, Y = pairs
    Y = 3 * Y + 7
    split = ValidSplit(4)
    params = {**QUICK, "max_epochs": 2, "beta": 0, "module__retrieval": False}
    reg = SpectroGenRegressor(
        random_state=0, train_split=split, criterion=torch.nn.MSELoss, **params
    ).fit(X, Y)
    assert np.abs(reg.module_.y_center.numpy()).max() > 1  # a real centre
    rows = np.asarray(split(Dataset(X, Y))[1].indices)
    error = (reg.predict(X[rows]) - Y[rows]) / float(reg.module_.y_scale)
    assert reg.history[-1, "valid_loss"] == pytest.approx(np.mean(error**2), rel=1e-5)


# ---------------------------------------------------------- callbacks
@pytest.mark.parametrize("use_caching", [True, False])
def test_epoch_scoring_scores_in_the_units_of_the_targets(pairs, use_caching):
    # it failed on the Dataset skorch passes to predict, and compared
    # predictions in units with standardised targets (r2 -276215)
    X, Y = pairs
    # noise, so that no point of the targets is constant (r2 averages the
    # r2 of every point)
    Y = Y + np.random.default_rng(0).normal(0, 0.05, Y.shape)
    scores = []
    for scale, offset in [(1.0, 0.0), (100.0, 20.0)]:
        reg = SpectroGenRegressor(
            random_state=0,
            train_split=ValidSplit(4),
            callbacks=[EpochScoring("r2", use_caching=use_caching)],
            **QUICK,
        ).fit(X, scale * Y + offset)
        scores.append(reg.history[:, "r2"])
    assert_allclose(scores[0], scores[1], atol=1e-3)
    assert -1 < scores[0][-1] <= 1


def test_cached_and_uncached_validation_scores_agree(pairs):
    X, Y = pairs
    history = []
    for use_caching in (True, False):
        reg = SpectroGenRegressor(
            random_state=0,
            train_split=ValidSplit(4),
            callbacks=[EpochScoring("r2", use_caching=use_caching)],
            **QUICK,
        ).fit(X, Y)
        history.append(reg.history[:, "r2"])
    assert_allclose(history[0], history[1], rtol=1e-5)


def test_predict_reads_a_dataset_as_the_arrays(pairs):
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **QUICK).fit(X, Y)
    assert_allclose(reg.predict(Dataset(X, Y)), reg.predict(X), rtol=1e-5, atol=1e-6)


def test_a_prediction_loader_says_how_many_batches_it_gives(pairs):
    X, Y = pairs
    reg = SpectroGenRegressor(batch_size=25)
    loader = reg.get_iterator(Dataset(X, Y))
    assert len(loader) == 3
    assert [len(xb) for xb, _ in loader] == [25, 25, 10]


def test_cached_training_scores_of_altered_batches_are_refused(pairs):
    X, Y = pairs
    cached = [EpochScoring("r2", on_train=True)]
    with pytest.raises(ValueError, match="use_caching=False"):
        SpectroGenRegressor(callbacks=cached, **QUICK).fit(X, Y)
    # uncached, it scores the training data as predict does
    uncached = [EpochScoring("r2", on_train=True, use_caching=False)]
    reg = SpectroGenRegressor(random_state=0, callbacks=uncached, **QUICK).fit(X, Y)
    assert reg.history[-1, "r2"] == pytest.approx(r2_score(Y, reg.predict(X)))
    # either alone alters them; without both the batches are as given
    for stretch, mixup in [(0.025, 0), (0, 0.4)]:
        one = {**QUICK, "max_epochs": 1, "stretch": stretch, "mixup": mixup}
        with pytest.raises(ValueError, match="use_caching=False"):
            SpectroGenRegressor(callbacks=cached, **one).fit(X, Y)
    plain = {**QUICK, "stretch": 0, "mixup": 0}
    SpectroGenRegressor(callbacks=cached, **plain).fit(X, Y)


class _TrainingData(Callback):
    """Record the X and y callbacks are given as training begins and ends."""

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.begin = (X, y)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.end = (X, y)


def test_callbacks_are_given_the_training_pairs_as_the_network_reads_them(pairs):
    # the sources scaled to a largest absolute value of 1, the targets in
    # their units (as the epochs see them)
    X, Y = pairs
    seen = _TrainingData()
    params = {**QUICK, "max_epochs": 1}
    SpectroGenRegressor(callbacks=[seen], **params).fit(40 * X, 3 * Y + 1)
    scaled = (X / np.abs(X).max(1, keepdims=True)).astype(np.float32)
    for X_seen, Y_seen in (seen.begin, seen.end):
        assert_allclose(X_seen, scaled, rtol=1e-6)
        assert_array_equal(Y_seen, 3 * Y + 1)


class _Epochs(Callback):
    """Count the epochs it is called at."""

    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs += 1


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_callbacks_set_after_fit_run_in_further_training(pairs, how):
    # skorch builds its callbacks from the ones it had before set_params:
    # training on without a new fit ran the old callbacks and not the new
    X, Y = pairs
    params = {**QUICK, "max_epochs": 2, "warm_start": how == "warm_start"}
    old = _Epochs()
    reg = SpectroGenRegressor(callbacks=[("count", old)], **params).fit(X, Y)
    new = _Epochs()
    reg.set_params(callbacks=[("count", new)])
    assert dict(reg.callbacks_)["count"] is new
    reg.partial_fit(X, Y) if how == "partial_fit" else reg.fit(X, Y)
    assert (old.epochs, new.epochs) == (2, 2)
    reg.set_params(callbacks=[("count", old)]).partial_fit(X, Y)
    assert (old.epochs, new.epochs) == (4, 2)
    # "disable" and back: skorch failed to set a list after "disable"
    reg.set_params(callbacks="disable").partial_fit(X, Y)
    assert reg.callbacks_ == [] and (old.epochs, new.epochs) == (4, 2)
    reg.set_params(callbacks=[("count", new)]).partial_fit(X, Y)
    assert (old.epochs, new.epochs) == (4, 4)


def test_callbacks_set_after_disable_before_fit(pairs):
    X, Y = pairs
    count = _Epochs()
    reg = SpectroGenRegressor(callbacks="disable", **{**QUICK, "max_epochs": 2})
    reg.set_params(callbacks=[("count", count)], callbacks__count__epochs=5)
    reg.fit(X, Y)
    assert count.epochs == 7


def test_early_stopping_is_not_an_interruption(pairs):
    X, Y = pairs
    reg = SpectroGenRegressor(
        random_state=0,
        train_split=ValidSplit(4),
        callbacks=[EarlyStopping(patience=1, threshold=10.0)],
        **{**QUICK, "max_epochs": 30},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "interrupted" warning
        reg.fit(X, Y)
    assert len(reg.history) == 2  # no epoch improves by 10
    assert not reg._interrupted
    reg._fit_to_the_end(X, Y)  # a program is not stopped by it either


@pytest.mark.parametrize("split", [None, ValidSplit(4)])
def test_early_stopping_best_weights_come_with_their_memory(pairs, split):
    # the restored weights came with a memory of another size (train_loss,
    # no split: RuntimeError) or encoded by other weights
    X, Y = pairs
    monitor = "train_loss" if split is None else "valid_loss"
    reg = SpectroGenRegressor(
        random_state=0,
        train_split=split,
        callbacks=[EarlyStopping(monitor=monitor, patience=3, load_best=True)],
        **{**QUICK, "max_epochs": 12},
    ).fit(X, Y)
    assert_allclose(
        reg.module_.retrieval.memory_z.numpy(), reg.encode(X), rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("split", [None, ValidSplit(4)])
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_a_checkpoint_loads_as_a_model_that_predicts(pairs, tmp_path, split, how):
    # a Checkpoint saved the retrieval memory as it was mid-training: empty
    # after the first epochs (predict raised), the training part only with a
    # split, or encoded by the weights of an earlier fit after partial_fit
    X, Y = pairs
    params = {**QUICK, "max_epochs": 4, "random_state": 0, "train_split": split}
    checkpoint = Checkpoint(  # every epoch, also as a pickle
        monitor=None, dirname=str(tmp_path), f_pickle="model.pkl"
    )
    reg = SpectroGenRegressor(callbacks=[checkpoint], **params)
    if how == "partial_fit":
        reg.fit(X[:30], Y[:30])
        reg.partial_fit(X[30:], Y[30:])
    else:
        reg.fit(X, Y)
    # the file of the last epoch: the weights of the fitted model, and the
    # memory of every pair encoded by them
    loaded = SpectroGenRegressor(**{**params, "callbacks": None})
    loaded.load_params(checkpoint=checkpoint)
    assert loaded.module_.retrieval.memory_z.shape[0] == len(X)
    assert_allclose(loaded.predict(X), reg.predict(X), rtol=1e-5, atol=1e-6)
    assert_array_equal(loaded.kneighbors(X[:5], 3), reg.kneighbors(X[:5], 3))
    # the pickle of the last epoch predicts from every pair too (it held the
    # training split's only, and forgot the other pairs on resuming)
    with open(tmp_path / "model.pkl", "rb") as f:
        pickled = pickle.load(f)
    left = [k for k in vars(pickled) if k.startswith("_memory_")]
    assert left == ["_memory_pairs"]
    assert_allclose(pickled.predict(X), reg.predict(X), rtol=1e-5, atol=1e-6)
    assert_array_equal(pickled.kneighbors(X[:5], 3), reg.kneighbors(X[:5], 3))
    reg.load_params(checkpoint=checkpoint)  # into the regressor that trained
    assert_allclose(reg.predict(X), loaded.predict(X), rtol=1e-5, atol=1e-6)
    # (training the pickle further writes its own checkpoints: last)
    assert len(pickled.partial_fit(X[:5], Y[:5]).module_.retrieval.memory_z) == (
        len(X) + 5
    )
    # checkpoints do not change training
    plain = SpectroGenRegressor(**params)
    if how == "partial_fit":
        plain.fit(X[:30], Y[:30]).partial_fit(X[30:], Y[30:])
    else:
        plain.fit(X, Y)
    assert_array_equal(plain.predict(X), reg.predict(X))


class _WeightsAtStart(Callback):
    """Record the module's weights when training begins."""

    def on_train_begin(self, net, **kwargs):
        self.state_ = copy.deepcopy(net.module_.state_dict())


def test_a_checkpoint_without_a_history_file_loads(pairs, tmp_path):
    # skorch formatted the file names from the new regressor's empty history
    # (IndexError), although the names hold nothing to format
    X, Y = pairs
    checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path), f_history=None)
    params = {**QUICK, "max_epochs": 2, "random_state": 0}
    reg = SpectroGenRegressor(callbacks=[checkpoint], **params).fit(X, Y)
    loaded = SpectroGenRegressor(**params).load_params(checkpoint=checkpoint)
    assert_allclose(loaded.predict(X), reg.predict(X), rtol=1e-5, atol=1e-6)
    # the optimizer's state comes with it, as skorch loads it
    assert loaded.optimizer_.state_dict()["state"]
    # names formatted from a history that is nowhere: an error, not the
    # optimizer's state alone (which resumed from half a state)
    formatted = Checkpoint(
        monitor=None,
        dirname=str(tmp_path),
        f_params="p_{last_epoch[epoch]}.pt",
        f_history=None,
    )
    SpectroGenRegressor(callbacks=[formatted], **params).fit(X, Y)
    with pytest.raises(ValueError, match=r"f_params='p_\{last_epoch\[epoch\]\}.pt'"):
        SpectroGenRegressor(**params).load_params(checkpoint=formatted)


@pytest.mark.parametrize("f_params", ["params.pt", "p_{last_epoch[epoch]}.pt"])
def test_load_init_state_resumes_training_from_a_checkpoint(pairs, tmp_path, f_params):
    # skorch's way to resume (Checkpoint + LoadInitState) raised IndexError:
    # the file name was formatted from the new run's empty history
    X, Y = pairs
    params = {**QUICK, "max_epochs": 3, "random_state": 0}

    def resumable():
        checkpoint = Checkpoint(monitor=None, dirname=str(tmp_path), f_params=f_params)
        start = _WeightsAtStart()
        reg = SpectroGenRegressor(
            callbacks=[checkpoint, LoadInitState(checkpoint), start], **params
        )
        return reg, start

    first, _ = resumable()
    first.fit(X, Y)  # nothing saved yet: trains from scratch, as without
    assert len(first.history) == 3
    assert_array_equal(
        first.predict(X), SpectroGenRegressor(**params).fit(X, Y).predict(X)
    )
    second, start = resumable()
    second.fit(X, Y)  # starts from the first run's weights and history
    assert len(second.history) == 6
    for name, value in first.module_.state_dict().items():
        assert_array_equal(start.state_[name].numpy(), value.numpy(), err_msg=name)
    assert np.isfinite(second.predict(X)).all()


def test_the_kept_training_pairs_are_a_copy_of_the_caller_s(pairs):
    # float32 sources kept as given (normalize_source=False) were the
    # caller's array: reusing it changed the pairs partial_fit re-encodes
    X, Y = pairs
    X = X.astype(np.float32)
    params = {**QUICK, "max_epochs": 2, "random_state": 0, "normalize_source": False}
    given = X.copy()
    reg = SpectroGenRegressor(**params).fit(given, Y)
    given[:] = 0.0  # the caller reuses its buffer
    reg.partial_fit(X[:10], Y[:10])
    reference = SpectroGenRegressor(**params).fit(X, Y).partial_fit(X[:10], Y[:10])
    assert_array_equal(reg.predict(X), reference.predict(X))


def test_a_training_batch_size_of_one_is_refused_whichever_parameter_sets_it(pairs):
    # iterator_train__batch_size=1 trained silently on one batch of everything
    X, Y = pairs
    reg = SpectroGenRegressor(**{**QUICK, "iterator_train__batch_size": 1})
    with pytest.raises(ValueError, match="iterator_train__batch_size=1 leaves"):
        reg.fit(X, Y)
    # the training loader's size is what counts
    reg = SpectroGenRegressor(**{**QUICK, "max_epochs": 1, "batch_size": 1})
    reg.set_params(iterator_train__batch_size=8).fit(X, Y)
    assert reg.history[-1, "batches", 0, "train_batch_size"] == 8


# ------------------------------------------------------ fit parameters
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_fit_parameter_the_module_does_not_take_is_refused_first(pairs, method):
    # sample_weight reached SpectroGenVAE.forward at the first batch, after
    # the network had been built anew: "SpectroGenVAE.forward() got an
    # unexpected keyword argument", and the fitted model was gone
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **QUICK).fit(X, Y)
    expected = reg.predict(X)
    with pytest.raises(TypeError, match=rf"SpectroGenRegressor.{method} got .*weight"):
        getattr(reg, method)(X, Y, sample_weight=np.ones(len(X)))
    assert_array_equal(reg.predict(X), expected)


class _ScaledVAE(SpectroGenVAE):
    """A module whose forward takes one more fit parameter."""

    def forward(self, x, y=None, scale=1.0):
        return super().forward(x * scale, y)


def test_a_fit_parameter_the_module_takes_reaches_it(pairs):
    X, Y = pairs
    reg = SpectroGenRegressor(_ScaledVAE, random_state=0, **QUICK)
    plain = reg.fit(X, Y).predict(X)
    assert_array_equal(reg.fit(X, Y, scale=1.0).predict(X), plain)
    assert not np.allclose(reg.fit(X, Y, scale=3.0).predict(X), plain)


# ------------------------------------------------------ odd batch sizes
def test_a_last_batch_of_one_joins_the_one_before(pairs):
    # alone, a spectrum retrieves itself: a loss of zero that teaches nothing
    X, Y = pairs
    params = {**QUICK, "max_epochs": 2, "batch_size": 20}
    reg = SpectroGenRegressor(random_state=0, **params).fit(X[:41], Y[:41])
    sizes = reg.history[-1, "batches", :, "train_batch_size"]
    assert sizes == [20, 21]
    assert min(reg.history[-1, "batches", :, "train_loss"]) > 0.01
    reg.fit(X[:40], Y[:40])  # otherwise nothing changes
    assert reg.history[-1, "batches", :, "train_batch_size"] == [20, 20]


@pytest.mark.parametrize(
    "n, drop_last, sizes",
    [
        (9, False, [4, 5]),
        (10, False, [4, 4, 2]),
        (8, False, [4, 4]),
        (9, True, [4, 4]),
        (5, False, [5]),
        (1, False, [1]),
    ],
)
def test_joined_batches_hold_every_row_once_and_say_how_many_they_are(
    n, drop_last, sizes
):
    # len() (read by progress bars) counts the batches the iteration gives
    rows = torch.arange(float(n))[:, None]
    loader = torch.utils.data.DataLoader(
        TensorDataset(rows, 2 * rows), batch_size=4, drop_last=drop_last
    )
    joined = _JoinedTail(loader)
    batches = list(joined)
    assert [len(xb) for xb, _ in batches] == sizes
    assert len(joined) == len(sizes)
    X = torch.cat([xb for xb, _ in batches])
    assert torch.equal(X, rows[: sum(sizes)])
    assert torch.equal(torch.cat([yb for _, yb in batches]), 2 * X)


@pytest.mark.parametrize(
    "loader_kwargs, sizes",
    [
        # torch's BatchSampler given by the caller: the loader's batch_size is
        # None, the sampler's is 4
        (
            {"batch_sampler": BatchSampler(SequentialSampler(range(9)), 4, False)},
            [4, 5],
        ),
        ({"batch_sampler": BatchSampler(SequentialSampler(range(9)), 4, True)}, [4, 4]),
        # a sampler over 5 of the 12 rows: the last batch has 1 row of them
        ({"batch_size": 4, "sampler": [0, 2, 4, 6, 8]}, [5]),
        ({"batch_size": 4, "sampler": [0, 2, 4, 6, 8, 10]}, [4, 2]),
    ],
)
def test_joined_batches_are_counted_from_the_loaders_batch_sampler(
    loader_kwargs, sizes
):
    # with a sampler or batch sampler of the caller's, the data set's size
    # does not tell how many rows the last batch has
    rows = torch.arange(12.0)[:, None]
    loader = torch.utils.data.DataLoader(TensorDataset(rows, rows), **loader_kwargs)
    joined = _JoinedTail(loader)
    assert [len(xb) for xb, _ in joined] == sizes
    assert len(joined) == len(sizes)


def test_a_numpy_integer_batch_size_trains_as_the_int(pairs):
    # a grid over np.arange(...) gives np.int64, which torch's DataLoader
    # refused ("batch_size should be a positive integer value")
    X, Y = pairs
    params = {**QUICK, "max_epochs": 2}
    ref = SpectroGenRegressor(random_state=0, **{**params, "batch_size": 20})
    reg = SpectroGenRegressor(random_state=0, **{**params, "batch_size": np.int64(20)})
    assert_array_equal(reg.fit(X, Y).predict(X), ref.fit(X, Y).predict(X))
    assert reg.history[-1, "batches", :, "train_batch_size"] == [20, 20, 20]
    reg.partial_fit(X, Y)
    split = {
        **params,
        "train_split": ValidSplit(3),
        "iterator_valid__batch_size": np.int64(7),
    }
    valid = SpectroGenRegressor(random_state=0, **split).fit(X, Y)
    sizes = valid.history[-1, "batches", :, "valid_batch_size"]
    assert sizes[0] == 7 and sum(sizes) == len(X) // 3


@pytest.mark.parametrize("mixup", [np.int64(1), np.float32(0.5)])
def test_a_numpy_scalar_mixup_trains_as_the_number(pairs, mixup):
    # torch's Beta distribution refused NumPy scalars ("Input arguments must
    # all be instances of Number, torch.Tensor ...")
    X, Y = pairs
    params = {**QUICK, "max_epochs": 2, "random_state": 0}
    ref = SpectroGenRegressor(**{**params, "mixup": mixup.item()}).fit(X, Y)
    reg = SpectroGenRegressor(**{**params, "mixup": mixup}).fit(X, Y)
    assert_array_equal(reg.predict(X), ref.predict(X))


def test_retrieval_needs_two_spectra_per_batch_and_two_pairs(pairs):
    X, Y = pairs
    with pytest.raises(ValueError, match="batch_size=1 leaves"):
        SpectroGenRegressor(**{**QUICK, "batch_size": 1}).fit(X, Y)
    with pytest.raises(ValueError, match="n_samples=1"):
        SpectroGenRegressor(**QUICK).fit(X[:1], Y[:1])
    # a split that leaves one training pair: it learned to copy its target
    from skorch.dataset import ValidSplit

    split = SpectroGenRegressor(**QUICK, train_split=ValidSplit(2))
    with pytest.raises(ValueError, match="batch of one pair leaves it nothing"):
        split.fit(X[:2], Y[:2])
    # the plain decoder has no such need
    plain = {**QUICK, "batch_size": 1, "max_epochs": 1, "module__retrieval": False}
    SpectroGenRegressor(**plain).fit(X[:3], Y[:3])


# ----------------------------------------------------- scalar targets
def test_a_scalar_target_is_learned(pairs):
    # the correlation of one-point rows is undefined: the loss was a
    # constant 1 and nothing trained
    X, _ = pairs
    y = X[:, 20:40].sum(1)  # the position of the source's peak
    reg = SpectroGenRegressor(random_state=0, **{**FAST, "beta": 0}).fit(X, y)
    loss = reg.history[:, "train_loss"]
    assert loss[-1] < 0.5 * loss[0]
    assert reg.score(X, y) > 0.8
    one = torch.tensor([[0.5], [1.0]], requires_grad=True)
    loss = CorrelationLoss()(one, torch.tensor([[1.0], [0.0]]))
    assert float(loss.detach()) == pytest.approx(0.625)
    loss.backward()
    assert one.grad.abs().sum() > 0


# ----------------------------------------------------- extreme magnitudes
@pytest.mark.parametrize("factor", [1e-20, 1e-14, 1e20])
def test_targets_of_any_magnitude_give_the_same_model(pairs, factor):
    # the standardisation fell back to 1 below 1e-12 (no training) and
    # overflowed in float32 near 1e20 (NaN loss)
    X, Y = pairs
    reg = SpectroGenRegressor(random_state=0, **QUICK)
    expected = reg.fit(X, Y).predict(X)
    got = reg.fit(X, factor * Y).predict(X) / factor
    assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_safe_scale():
    t = torch.tensor([[1.0, -1.0], [3.0, -3.0]])
    assert _safe_scale(t, t) == pytest.approx(np.sqrt(5))
    tiny = torch.tensor([1e-25, -1e-25])  # squares underflow in float32
    assert _safe_scale(tiny, tiny) == pytest.approx(1e-25)
    big = torch.tensor([1e25, -1e25])  # squares overflow in float32
    assert _safe_scale(big, big) == pytest.approx(1e25)
    # a constant: the centred rounding errors are not a scale
    raw = torch.full((4,), 1e20, dtype=torch.float64)
    assert _safe_scale(raw - raw.mean() + 1e3, raw) == pytest.approx(1e20)
    zeros = torch.zeros(3)
    assert _safe_scale(zeros, zeros) == 1.0


@pytest.mark.parametrize("method", ["predict", "encode", "sample", "kneighbors"])
def test_a_device_set_after_fit_is_checked_as_fit_checks_it(pairs, method):
    X, Y = pairs
    with pytest.raises(ValueError) as refused:
        SpectroGenRegressor(device="nope", **QUICK).fit(X, Y)
    assert str(refused.value) == "device='nope' is not a valid torch device."
    reg = SpectroGenRegressor(random_state=0, **{**QUICK, "max_epochs": 1}).fit(X, Y)
    kwargs = {"random_state": 0} if method == "sample" else {}
    expected = getattr(reg, method)(X, **kwargs)
    reg.set_params(device="nope")
    with pytest.raises(ValueError) as exc:  # was torch's RuntimeError
        getattr(reg, method)(X, **kwargs)
    assert str(exc.value) == str(refused.value)
    reg.set_params(device="cpu")
    got = getattr(reg, method)(X, **kwargs)
    for a, b in zip(np.atleast_1d(got), np.atleast_1d(expected), strict=True):
        assert_array_equal(a, b)
