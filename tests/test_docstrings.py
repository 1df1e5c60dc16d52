"""numpydoc validation of the public API's docstrings."""

import importlib
import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

MODULES = [
    "sktransfer.baseline",
    "sktransfer.cross_modal",
    "sktransfer.datasets",
    "sktransfer.metrics",
    "sktransfer.over_sampling",
    "sktransfer.peaks",
    "sktransfer.pipeline",
    "sktransfer.preprocessing",
]
# Summary present and well formed, parameters documented in order, returns
# documented, no unknown sections, an Examples section on public objects.
CHECKS = {"GL06", "GL07", "GL08", "SS01", "SS03", "PR01", "PR02", "PR03", "RT01"}
CHECKS |= {"EX01"}


def _public_objects():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # e.g. scorer instances, documented in the guide
            yield f"{module_name}.{name}"
            if inspect.isclass(obj):
                for meth, member in vars(obj).items():
                    if meth.startswith("_") or not callable(member):
                        continue
                    if meth.startswith("set_") and meth.endswith("_request"):
                        continue
                    yield f"{module_name}.{name}.{meth}"


@pytest.mark.parametrize("name", sorted(set(_public_objects())))
def test_docstring(name):
    result = numpydoc_validate.validate(name)
    errors = [
        (code, msg)
        for code, msg in result["errors"]
        if code in CHECKS and not (code == "EX01" and name.count(".") > 2)
    ]
    assert not errors, f"{name}: {errors}"
