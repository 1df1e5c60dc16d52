"""Every third-party module sktransfer imports is a declared dependency."""

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
if not PYPROJECT.exists():  # an installed package without its source tree
    pytest.skip("pyproject.toml is not in this tree", allow_module_level=True)

# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn", "imblearn": "imbalanced-learn"}
# Imported only by the options that need them, which say what to install
# when they are missing (the demo's figures; as_frame=True).
OPTIONAL = {"matplotlib", "pandas"}


def _imported():
    names = set()
    for path in (ROOT / "sktransfer").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"sktransfer"}


def _declared():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return {
        re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        for req in project["dependencies"]
    }


def test_every_import_is_a_core_dependency():
    imported = {DISTRIBUTION.get(name, name) for name in _imported() - OPTIONAL}
    assert imported - _declared() == set()


def test_every_core_dependency_is_imported():
    imported = {DISTRIBUTION.get(name, name) for name in _imported()}
    assert _declared() - imported == set()
