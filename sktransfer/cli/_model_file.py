"""Model files that cannot run code: a zip of JSON parameters and safetensors.

A saved estimator is rebuilt, not unpickled. The zip holds

* ``sktransfer-model.json``: the estimator's class, its ``get_params()``,
  its learned attributes that are plain values, and the caller's extra
  values. Classes among them (``module=``, ``optimizer=``) are stored by
  dotted name and only resolved inside an allow-list of packages and base
  classes (torch modules, optimizers, datasets but not torch's datapipes,
  data loaders); functions are refused, since the rebuilt estimator could
  call them;
* ``arrays.safetensors``: every numpy array among those values;
* ``modules.safetensors``: the ``state_dict`` of every learned torch module.

Loading builds ``Estimator(**params)``, sets the attributes (learned ones
only: none may replace a parameter, a method or a property), calls
``initialize()`` (skorch estimators) and loads the module weights, each in
the shape the parameters give. Optimizer
state, training history and callbacks are not stored: a loaded model
predicts exactly like the saved one but does not resume training.
"""

import importlib
import inspect
import json
import types
import zipfile
import zlib

import numpy as np

from sktransfer.utils._torch import error_gist

FORMAT = "sktransfer-model"
VERSION = 1
_MANIFEST = "sktransfer-model.json"
_ARRAYS = "arrays.safetensors"
_MODULES = "modules.safetensors"
_MAX_MEMBER = 1 << 32
_ESTIMATOR_PACKAGES = ("sktransfer.",)
_CLASS_PACKAGES = (
    "sktransfer.",
    "torch.nn.",
    "torch.optim.",
    "torch.utils.data.",
    "skorch.dataset.",
)
# ... except torch's datapipes, datasets that open files and unpickle them
_REFUSED_PACKAGES = ("torch.utils.data.datapipes.",)
# The magic numbers of pickle (protocol >= 2) and of joblib's compressors.
_PICKLE_MAGIC = (
    b"\x80",
    b"\x78\x01",
    b"\x78\x5e",
    b"\x78\x9c",
    b"\x78\xda",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x04\x22M\x18",
)


class ModelFileError(ValueError):
    """A model file that is not a safe sktransfer model, or a broken one."""


class PickleFileError(ModelFileError):
    """A model file that is a pickle: loading it could run any code."""


def _dotted(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _bases(packages):
    """Return the base classes a class named in a model file must derive from."""
    if packages == _ESTIMATOR_PACKAGES:
        from sklearn.base import BaseEstimator

        return (BaseEstimator,)
    import torch

    data = torch.utils.data
    return (torch.nn.Module, torch.optim.Optimizer, data.Dataset, data.DataLoader)


def _resolve(name, packages):
    """Import class ``package.module.Name`` only from the allow-listed packages.

    Only classes are accepted, and only subclasses of :func:`_bases`: a
    function named in a file could be called with arguments of the file's
    choosing when the estimator is rebuilt.
    """
    module, _, attr = str(name).rpartition(".")
    allowed = f"{module}.".startswith(packages)
    refused = f"{module}.".startswith(_REFUSED_PACKAGES) or "<" in attr
    if not module or not allowed or refused:
        raise ModelFileError(f"refers to {name!r}, which is not allowed in a model")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        raise ModelFileError(f"refers to {name!r}, which does not exist") from None
    if not isinstance(obj, type) or _dotted(obj) != name:
        raise ModelFileError(f"refers to {name!r}, which is not a class")
    if not issubclass(obj, _bases(packages)):
        raise ModelFileError(f"refers to {name!r}, which is not allowed in a model")
    return obj


class _Encoder:
    """JSON values, with arrays moved to a side table and classes named."""

    def __init__(self):
        self.arrays = {}

    def __call__(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
            return value.item() if isinstance(value, np.generic) else value
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            key = f"a{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(value)
            return {"__array__": key}
        if isinstance(value, (type, types.FunctionType)):
            # Functions are refused by _resolve: they cannot be stored.
            try:
                _resolve(_dotted(value), _CLASS_PACKAGES)
            except ModelFileError:
                raise TypeError(
                    f"{where}={_dotted(value)} cannot be stored in a safe model "
                    "file: only torch modules, optimizers, datasets and data "
                    f"loaders from {', '.join(_CLASS_PACKAGES)} can"
                ) from None
            return {"__ref__": _dotted(value)}
        if type(value) in (list, tuple):
            items = [self(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"__tuple__": items}
        if type(value) is dict and all(isinstance(k, str) for k in value):
            return {
                "__dict__": {k: self(v, f"{where}[{k!r}]") for k, v in value.items()}
            }
        raise TypeError(f"{where}={value!r} cannot be stored in a safe model file")


def _decode(value, arrays):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__array__"}:
        try:
            return arrays[value["__array__"]].copy()
        except (KeyError, TypeError):
            raise ModelFileError("refers to an array it does not hold") from None
    if set(value) == {"__ref__"}:
        return _resolve(value["__ref__"], _CLASS_PACKAGES)
    if set(value) == {"__tuple__"}:
        return tuple(_decode(value["__tuple__"], arrays))
    if set(value) == {"__dict__"} and isinstance(value["__dict__"], dict):
        return {k: _decode(v, arrays) for k, v in value["__dict__"].items()}
    raise ModelFileError("holds a value of unknown kind")


def save_model(file, estimator, extra=None):
    """Write a fitted estimator and ``extra`` values to a binary file object.

    Raises TypeError when a parameter cannot be stored safely (for example
    a callback instance).
    """
    import torch
    from safetensors.numpy import save as save_arrays
    from safetensors.torch import save as save_tensors

    _resolve(_dotted(type(estimator)), _ESTIMATOR_PACKAGES)
    encode = _Encoder()
    params = {k: v for k, v in estimator.get_params(deep=False).items() if k[0] != "_"}
    attributes, tensors = {}, {}
    # what the estimator needs only to resume training, which a model
    # file does not offer
    transient = set(getattr(estimator, "_not_in_model_file", ()))
    for name, value in vars(estimator).items():
        if name in params or name in transient:
            continue
        if isinstance(value, torch.nn.Module):
            for key, tensor in value.state_dict().items():
                tensors[f"{name}.{key}"] = tensor.detach().cpu().clone().contiguous()
            attributes[name] = {"__module__": True}
            continue
        try:
            attributes[name] = encode(value, name)
        except TypeError:
            pass  # history, optimizer state, callbacks: not needed to predict
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "estimator": _dotted(type(estimator)),
        "params": {k: encode(v, k) for k, v in params.items()},
        "attributes": attributes,
        "extra": encode(extra or {}, "extra"),
    }
    from sktransfer import __version__

    manifest["sktransfer_version"] = __version__
    # Weights hardly compress: store them, and deflate only the JSON.
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(
            _member(_MANIFEST, zipfile.ZIP_DEFLATED), json.dumps(manifest, indent=1)
        )
        zf.writestr(_member(_ARRAYS), save_arrays(encode.arrays))
        zf.writestr(_member(_MODULES), save_tensors(tensors))


def _member(name, compression=zipfile.ZIP_STORED):
    """Return a zip entry with a fixed date: the same model, the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compression
    info.external_attr = 0o600 << 16  # what writestr gives a name: rw-------
    return info


def _starts_with(path, magic):
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith(magic)


def _looks_like_pickle(path):
    return _starts_with(path, _PICKLE_MAGIC)


def _read_members(path):
    try:
        with zipfile.ZipFile(path) as zf:
            members = {}
            for info in zf.infolist():
                if info.filename not in (_MANIFEST, _ARRAYS, _MODULES):
                    continue
                ratio = info.file_size / max(info.compress_size, 1)
                # save_model stores the weights uncompressed: a member that
                # inflates far beyond its size is a zip bomb.
                if info.file_size > _MAX_MEMBER or (
                    info.file_size > 1 << 20 and ratio > 100
                ):
                    raise ModelFileError(f"holds an oversized {info.filename}")
                members[info.filename] = zf.read(info)
    except zipfile.BadZipFile:
        if _starts_with(path, b"PK\x03\x04"):
            raise ModelFileError(
                "is a damaged or truncated zip file (copy or download it again)"
            ) from None
        members = {}
    except (EOFError, RuntimeError, NotImplementedError, ValueError, zlib.error) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"is a damaged zip file ({exc})") from None
    if set(members) != {_MANIFEST, _ARRAYS, _MODULES}:
        raise ModelFileError(
            "is not a model saved by sktransfer (a zip file with "
            f"{_MANIFEST}, {_ARRAYS} and {_MODULES})"
        )
    return members


def load_model(path, *, set_params=None, estimator_class=None):
    """Rebuild an estimator saved with :func:`save_model`.

    Returns ``(estimator, extra)``. ``set_params`` overrides constructor
    parameters (for example the device). With ``estimator_class``, a file
    holding an estimator of another class is refused before it is rebuilt
    (its parameters may not include those of ``set_params``). Raises
    :class:`ModelFileError` for anything but a complete, consistent
    sktransfer model file, and :class:`OSError` when the file cannot be read.
    """
    from safetensors.numpy import load as load_arrays
    from safetensors.torch import load as load_tensors

    if _looks_like_pickle(path):
        raise PickleFileError(
            "is a pickle (joblib) file, and loading a pickle runs whatever code "
            "it contains; it is refused. Train the model again to save it in "
            "the safe format, or pass --trust-pickle if you trust its source"
        )
    members = _read_members(path)
    try:
        manifest = json.loads(members[_MANIFEST])
        arrays = load_arrays(members[_ARRAYS])
        tensors = load_tensors(members[_MODULES])
    except Exception as exc:  # json and safetensors raise several kinds
        raise ModelFileError(f"is damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError("is not a model saved by sktransfer")
    if manifest.get("version") != VERSION:
        raise ModelFileError(
            f"has format version {manifest.get('version')!r}; this sktransfer "
            f"reads version {VERSION}"
        )
    try:
        cls = _resolve(manifest["estimator"], _ESTIMATOR_PACKAGES)
        params = {k: _decode(v, arrays) for k, v in manifest["params"].items()}
        # a file saved before a parameter existed gets the value it had then
        params = {**getattr(cls, "_absent_param_values", {}), **params}
        attributes = {
            k: v for k, v in manifest["attributes"].items() if v != {"__module__": True}
        }
        modules = [k for k in manifest["attributes"] if k not in attributes]
        attributes = {k: _decode(v, arrays) for k, v in attributes.items()}
        if not all(isinstance(k, str) and k.isidentifier() for k in attributes):
            raise TypeError
        extra = _decode(manifest["extra"], arrays)
    except (KeyError, TypeError, AttributeError, RecursionError):
        raise ModelFileError("has an incomplete description of the model") from None
    _check_attribute_names(cls, [*attributes, *modules], params)
    if estimator_class is not None and not issubclass(cls, estimator_class):
        raise ModelFileError(
            f"does not hold a trained {estimator_class.__name__} (found {cls.__name__})"
        )
    try:
        estimator = cls(**{**params, **(set_params or {})})
        vars(estimator).update(attributes)
        if hasattr(estimator, "initialize") and modules:
            estimator.initialize()
        for name in modules:
            prefix = f"{name}."
            state = {
                k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)
            }
            # strict: every weight and buffer in the shape the parameters
            # give (a retrieval memory takes the file's number of pairs)
            getattr(estimator, name).load_state_dict(state, strict=True)
    except (TypeError, ValueError, AttributeError, RuntimeError) as exc:
        message = error_gist(exc)
        from sktransfer import __version__

        saved = manifest.get("sktransfer_version")
        if isinstance(saved, str) and saved != __version__:
            # a parameter or layer of another version is the likely cause
            message += f"; saved by sktransfer {saved}, this is {__version__}"
        raise ModelFileError(
            f"cannot be rebuilt into {manifest['estimator']} ({message})"
        ) from None
    return estimator, extra


def _check_attribute_names(cls, names, params):
    """Refuse learned attributes that would replace a parameter or a method.

    The file sets them after the constructor: a parameter would be set
    twice, and a method or property of the class replaced by data.
    """
    for name in names:
        static = inspect.getattr_static(cls, name, None)
        if name in params or callable(static) or hasattr(static, "__get__"):
            raise ModelFileError(
                f"sets {name!r}, which is not a learned attribute of {cls.__name__}"
            )
