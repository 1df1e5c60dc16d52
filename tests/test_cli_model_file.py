"""Model files of the command line, on an estimator that needs no training."""

import io
import json
import struct
import zipfile

import numpy as np
import pytest
import torch

from sktransfer.cli._model_file import (
    ModelFileError,
    PickleFileError,
    _decode,
    _Encoder,
    _resolve,
    load_model,
    save_model,
)
from sktransfer.preprocessing import RangeCut


def _cut():
    x = np.linspace(400.0, 1000.0, 7)
    X = np.arange(14.0).reshape(2, 7)
    return RangeCut(start=500.0, end=800.0, x_axis=x).fit(X), X


def _save(path, estimator, extra=None):
    with open(path, "wb") as f:
        save_model(f, estimator, extra)
    return path


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {info.filename: (info, zf.read(info)) for info in zf.infolist()}


def _rewrite(path, edit=None, **members):
    old = _members(path)
    manifest = json.loads(old["sktransfer-model.json"][1])
    if edit is not None:
        edit(manifest)
    data = {name: raw for name, (_, raw) in old.items()}
    data["sktransfer-model.json"] = json.dumps(manifest).encode()
    data.update(members)
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in data.items():
            if raw is not None:
                zf.writestr(name, raw)


def test_model_round_trip_keeps_params_attributes_and_extra(tmp_path):
    cut, X = _cut()
    extra = {"axis": np.arange(3), "names": ["a", "b"], "pair": (1, 2.5), "x": None}
    path = _save(tmp_path / "m.skmodel", cut, extra)
    loaded, extra_back = load_model(path)
    assert type(loaded) is RangeCut
    assert (loaded.start, loaded.end) == (500.0, 800.0)
    np.testing.assert_array_equal(loaded.x_axis, cut.x_axis)
    np.testing.assert_array_equal(loaded.transform(X), cut.transform(X))
    np.testing.assert_array_equal(extra_back["axis"], np.arange(3))
    assert extra_back["axis"].dtype == np.arange(3).dtype
    assert extra_back["names"] == ["a", "b"] and extra_back["pair"] == (1, 2.5)
    assert extra_back["x"] is None
    assert load_model(_save(tmp_path / "n.skmodel", cut))[1] == {}
    # constructor parameters can be overridden
    assert load_model(path, set_params={"end": 900.0})[0].end == 900.0


def test_model_file_members_are_stored_with_fixed_dates_and_modes(tmp_path):
    cut, _ = _cut()
    members = _members(_save(tmp_path / "m.skmodel", cut))
    assert sorted(members) == [
        "arrays.safetensors",
        "modules.safetensors",
        "sktransfer-model.json",
    ]
    for name, (info, _) in members.items():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o600
        expected = zipfile.ZIP_DEFLATED if name.endswith(".json") else 0
        assert info.compress_type == expected, name
    manifest = json.loads(members["sktransfer-model.json"][1])
    assert manifest["format"] == "sktransfer-model" and manifest["version"] == 1
    assert manifest["estimator"] == "sktransfer.preprocessing._axis.RangeCut"
    assert manifest["params"]["start"] == 500.0
    assert set(manifest["params"]["x_axis"]) == {"__array__"}


def test_encoder_stores_plain_values_arrays_and_allowed_classes():
    encode = _Encoder()
    assert encode(None, "v") is None and encode("s", "v") == "s"
    for value, expected in [(np.int64(3), 3), (np.float32(0.5), 0.5), (True, True)]:
        encoded = encode(value, "v")
        assert encoded == expected and type(encoded) is type(expected)
    assert type(encode(np.bool_(True), "v")) is bool
    assert encode([np.zeros(2), (1,)], "v") == [
        {"__array__": "a0"},
        {"__tuple__": [1]},
    ]
    assert encode({"k": np.ones(3, dtype=np.uint8)}, "v") == {
        "__dict__": {"k": {"__array__": "a1"}}
    }
    assert list(encode.arrays) == ["a0", "a1"]
    assert encode.arrays["a1"].dtype == np.uint8
    assert encode(torch.nn.ReLU, "v") == {"__ref__": "torch.nn.modules.activation.ReLU"}


@pytest.mark.parametrize(
    "value, message",
    [
        (np.zeros(2, dtype=complex), "extra="),
        (np.array(["a"]), "extra="),
        ({1: "a"}, "extra={1: 'a'} cannot be stored in a safe model file"),
        ({"a": [1, {2}]}, "extra['a'][1]={2} cannot be stored"),
        (dict, "extra=builtins.dict cannot be stored in a safe model file: only"),
        (len, "extra=<built-in function len> cannot be stored"),
        (np.linspace, "extra=<function linspace at 0x"),
    ],
)
def test_encoder_refuses_what_a_safe_file_cannot_hold(value, message):
    with pytest.raises(TypeError) as exc:
        _Encoder()(value, "extra")
    assert str(exc.value).startswith(message)


def test_decoder_refuses_unknown_values():
    arrays = {"a0": np.arange(2.0)}
    decoded = _decode({"__tuple__": [{"__array__": "a0"}, [1]]}, arrays)
    assert isinstance(decoded, tuple) and decoded[1] == [1]
    relu = {"__ref__": "torch.nn.modules.activation.ReLU"}
    assert _decode({"__dict__": {"m": relu}}, arrays) == {"m": torch.nn.ReLU}
    decoded[0][0] = 5.0
    assert arrays["a0"][0] == 0.0  # a copy
    for value in ({"__array__": "a1"}, {"__array__": ["a0"]}):
        with pytest.raises(ModelFileError, match="refers to an array it does not"):
            _decode(value, arrays)
    for value in ({"a": 1}, {"__dict__": [1]}, {"__array__": "a0", "x": 1}):
        with pytest.raises(ModelFileError, match="holds a value of unknown kind"):
            _decode([value], arrays)


@pytest.mark.parametrize(
    "name, message",
    [
        ("ReLU", "not allowed"),
        ("torch.nnx.Module", "not allowed"),
        ("torch.nn.ReLU", "which is not a class"),  # not its own name
        ("torch.nn.modules.activation.Nope", "which does not exist"),
        ("torch.nn.modules.activation.<ReLU>", "not allowed"),
        ("sktransfer.preprocessing._axis.RangeCut", "not allowed"),
        # datasets that open files and unpickle what they read
        (
            "torch.utils.data.datapipes.iter.fileopener.FileOpenerIterDataPipe",
            "not allowed",
        ),
    ],
)
def test_class_names_are_resolved_only_inside_the_allow_list(name, message):
    from sktransfer.cli._model_file import _CLASS_PACKAGES

    with pytest.raises(ModelFileError) as exc:
        _resolve(name, _CLASS_PACKAGES)
    assert str(exc.value).startswith(f"refers to {name!r}, ")
    assert message in str(exc.value)
    relu = "torch.nn.modules.activation.ReLU"
    assert _resolve(relu, _CLASS_PACKAGES) is torch.nn.ReLU


def test_estimator_outside_sktransfer_cannot_be_saved(tmp_path):
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(ModelFileError, match="not allowed in a model"):
        save_model(io.BytesIO(), StandardScaler())


@pytest.mark.parametrize(
    "head", [b"\x80\x04\x95", b"\x78\x9c\x00", b"\x1f\x8b\x08", b"BZh91"]
)
def test_pickles_are_refused_before_they_are_read(tmp_path, head):
    path = tmp_path / "m.joblib"
    path.write_bytes(head + b"\x00" * 20)
    with pytest.raises(PickleFileError, match="is a pickle"):
        load_model(path)


def test_unreadable_model_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.skmodel")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.update(format="other"), "is not a model saved by sktransfer$"),
        (lambda m: m.pop("version"), "has format version None; this sktransfer"),
        (lambda m: m.pop("params"), "has an incomplete description of the model"),
        (lambda m: m.pop("extra"), "has an incomplete description of the model"),
        (
            lambda m: m["attributes"].update({"not a name": 1}),
            "has an incomplete description",
        ),
        (
            lambda m: m["params"].update(new_option=1),
            "cannot be rebuilt into sktransfer.preprocessing._axis.RangeCut "
            r"\(.*new_option'\)$",
        ),
        (
            lambda m: (
                m.update(sktransfer_version="0.0.1") or m["params"].update(new_option=1)
            ),
            r"new_option'; saved by sktransfer 0.0.1, this is .*\)$",
        ),
    ],
)
def test_inconsistent_manifests_are_refused(tmp_path, edit, message):
    cut, _ = _cut()
    path = _save(tmp_path / "m.skmodel", cut)
    _rewrite(path, edit)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_manifest_that_is_no_object_is_refused(tmp_path):
    cut, _ = _cut()
    path = _save(tmp_path / "m.skmodel", cut)
    _rewrite(path, **{"sktransfer-model.json": b"[1, 2]"})
    with pytest.raises(ModelFileError, match="is not a model saved by sktransfer$"):
        load_model(path)
    _rewrite(path, **{"sktransfer-model.json": b"{"})
    with pytest.raises(ModelFileError, match="is damaged \\(JSONDecodeError: "):
        load_model(path)


def test_zip_without_every_member_is_no_model(tmp_path):
    cut, _ = _cut()
    path = _save(tmp_path / "m.skmodel", cut)
    _rewrite(path, **{"notes.txt": b"other members are left alone"})
    assert load_model(path)[0].end == 800.0
    _rewrite(path, **{"modules.safetensors": None})
    with pytest.raises(ModelFileError, match="is not a model saved by sktransfer"):
        load_model(path)


def test_member_that_inflates_far_beyond_its_size_is_refused(tmp_path):
    cut, _ = _cut()
    path = _save(tmp_path / "m.skmodel", cut)
    members = {n: raw for n, (_, raw) in _members(path).items()}
    members["modules.safetensors"] = b"\x00" * (2 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    with pytest.raises(ModelFileError) as exc:
        load_model(path)
    assert str(exc.value) == "holds an oversized modules.safetensors"


def test_large_stored_arrays_are_no_zip_bomb(tmp_path):
    cut, _ = _cut()
    big = np.zeros(300_000)  # 2.4 MB, stored uncompressed
    path = _save(tmp_path / "m.skmodel", cut, {"big": big})
    info, _ = _members(path)["arrays.safetensors"]
    assert info.file_size > 2 << 20 and info.compress_type == zipfile.ZIP_STORED
    np.testing.assert_array_equal(load_model(path)[1]["big"], big)


def test_small_members_may_compress_well(tmp_path):
    cut, _ = _cut()
    zeros = np.zeros(60_000)  # 480 kB that deflate to a few hundred bytes
    path = _save(tmp_path / "m.skmodel", cut, {"zeros": zeros})
    members = {n: raw for n, (_, raw) in _members(path).items()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    info, _ = _members(path)["arrays.safetensors"]
    assert info.file_size / info.compress_size > 100
    np.testing.assert_array_equal(load_model(path)[1]["zeros"], zeros)


def test_damaged_deflate_data_is_a_damaged_zip_file(tmp_path):
    cut, _ = _cut()
    path = _save(tmp_path / "m.skmodel", cut)
    info, _ = _members(path)["sktransfer-model.json"]
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 :][:4])
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + 7] = b"\xff" * 7  # a deflate block of reserved type
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"^is a damaged zip file \(Error -3 "):
        load_model(path)


@pytest.mark.parametrize(
    "name, value",
    [
        ("transform", 1),  # a method
        ("get_feature_names_out", {"__ref__": "torch.nn.modules.linear.Identity"}),
        ("start", 0.0),  # a parameter, set by the constructor
    ],
)
def test_attributes_that_would_replace_a_method_or_a_parameter_are_refused(
    tmp_path, name, value
):
    cut, X = _cut()
    path = _save(tmp_path / "m.skmodel", cut)
    _rewrite(path, lambda m: m["attributes"].update({name: value}))
    with pytest.raises(ModelFileError) as exc:
        load_model(path)
    assert (
        str(exc.value) == f"sets {name!r}, which is not a learned attribute of RangeCut"
    )


@pytest.fixture(scope="module")
def regressor_file(tmp_path_factory):
    from sktransfer.cross_modal import SpectroGenRegressor

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 16)), rng.normal(size=(8, 8))
    reg = SpectroGenRegressor(max_epochs=2, random_state=0).fit(X, Y)
    path = _save(tmp_path_factory.mktemp("model") / "reg.skmodel", reg)
    return path, reg, X


@pytest.mark.parametrize(
    "key, edit",
    [
        ("module_.x_center", lambda t: t[:1]),  # loaded and predicted wrongly
        ("module_.x_center", lambda t: t[:4]),
        ("module_.y_scale", lambda t: t.repeat(8)),
        ("module_.retrieval.memory_z", lambda t: t[:5]),  # 5 pairs, the rest 8
        ("module_.retrieval.memory_scale", lambda t: t[:5]),
    ],
)
def test_a_buffer_of_another_shape_is_refused(tmp_path, regressor_file, key, edit):
    from safetensors.torch import load, save

    source, reg, X = regressor_file
    path = tmp_path / "m.skmodel"
    path.write_bytes(source.read_bytes())
    tensors = load(_members(path)["modules.safetensors"][1])
    assert key in tensors
    tensors[key] = edit(tensors[key]).contiguous()
    _rewrite(path, **{"modules.safetensors": save(tensors)})
    with pytest.raises(ModelFileError, match="cannot be rebuilt into .*size"):
        load_model(path)
    # the file as saved loads and predicts as the regressor did
    loaded, _ = load_model(source)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
