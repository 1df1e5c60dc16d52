"""The API reference lists every public object and classes link to the guide."""

import importlib
import inspect
import re
from pathlib import Path

import pytest

import sktransfer

DOCS = Path(__file__).resolve().parents[1] / "docs"
if not (DOCS / "api.rst").exists():  # an installed package without the docs
    pytest.skip(
        "the documentation sources are not in this tree", allow_module_level=True
    )

# Every public submodule (sktransfer.__all__ also lists __version__), and utils.
MODULES = [name for name in sktransfer.__all__ if not name.startswith("_")]
MODULES.append("utils")
# Public classes and functions whose docstrings do not link to their user
# guide section yet.
NO_GUIDE_LINK = {
    "utils.all_estimators",
    "datasets.anion_group",
    "datasets.formula_elements",
}


def _public():
    for module_name in MODULES:
        module = importlib.import_module(f"sktransfer.{module_name}")
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


def _documented_names():
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s+(\w+\.\w+)\s*$", text, flags=re.MULTILINE))
    current = None
    for line in text.splitlines():
        m = re.match(r"\.\. currentmodule:: sktransfer\.(\w+)", line)
        if m:
            current = m.group(1)
        m = re.match(r"\.\. (?:data|autodata|function|class):: (\w+)", line)
        if m and current:
            listed.add(f"{current}.{m.group(1)}")
    return listed


def test_every_public_object_is_in_the_api_reference():
    listed = _documented_names()
    missing = sorted(
        f"{module}.{name}"
        for module, name, _ in _public()
        if f"{module}.{name}" not in listed
    )
    assert not missing, f"not in docs/api.rst: {missing}"
    public = {f"{module}.{name}" for module, name, _ in _public()}
    stale = sorted(name for name in listed if name not in public)
    assert not stale, f"docs/api.rst lists names that are not public: {stale}"


@pytest.mark.parametrize(
    "module, name, obj",
    [
        pytest.param(m, n, o, id=f"{m}.{n}")
        for m, n, o in _public()
        if (inspect.isclass(o) or inspect.isfunction(o))
        and f"{m}.{n}" not in NO_GUIDE_LINK
    ],
)
def test_docstring_links_to_the_user_guide(module, name, obj):
    doc = inspect.getdoc(obj) or ""
    m = re.search(r"Read more in the :ref:`User Guide <([\w-]+)>`", doc)
    assert m, f"sktransfer.{module}.{name} has no 'Read more in the User Guide' link"
    label = m.group(1)
    guide = "\n".join(
        p.read_text(encoding="utf-8") for p in (DOCS / "user_guide").glob("*.rst")
    )
    assert f".. _{label}:" in guide, f"no user guide section is labelled {label!r}"
