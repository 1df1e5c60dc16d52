"""The defaults the docstrings state are the defaults of the signatures."""

import ast
import importlib
import inspect
import re

import pytest

docscrape = pytest.importorskip("numpydoc.docscrape")

from tests.test_docstrings import MODULES  # noqa: E402


def _documented_callables():
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield f"{module_name}.{name}", obj.__init__, obj.__doc__
                for meth, member in vars(obj).items():
                    if not meth.startswith("_") and inspect.isfunction(member):
                        yield f"{module_name}.{name}.{meth}", member, member.__doc__
            elif inspect.isfunction(obj):
                yield f"{module_name}.{name}", obj, obj.__doc__


def _stated_defaults():
    for qualname, func, doc in _documented_callables():
        if not doc:
            continue
        signature = inspect.signature(func)
        for param in docscrape.NumpyDocString(inspect.cleandoc(doc))["Parameters"]:
            stated = re.search(r"default\s*=\s*(.+)$", param.type)
            if stated is None:
                continue
            names = [n.strip() for n in param.name.split(",")]
            text = stated.group(1).strip()
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                value = text  # a name, such as a class
            # "a, b : int, default=1, 2" states one default per name;
            # "a, b : float, default=None" one for all
            several = isinstance(value, tuple) and len(value) == len(names) > 1
            values = value if several else (value,) * len(names)
            for name, one in zip(names, values, strict=True):
                yield qualname, name, one, signature.parameters[name].default


CASES = list(_stated_defaults())


def test_defaults_are_found():
    assert len(CASES) > 100


@pytest.mark.parametrize(
    "qualname, name, stated, actual", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_stated_default_is_the_signature_default(qualname, name, stated, actual):
    assert actual is not inspect.Parameter.empty, f"{qualname}({name}) has no default"
    if isinstance(stated, str) and not isinstance(actual, str):
        # a name: the object's own or its dotted path
        assert stated.split(".")[-1] == getattr(actual, "__name__", None)
    elif isinstance(actual, tuple):
        assert tuple(stated) == actual
    else:
        # 1e6 may be stated for 1e6 or 1_000_000.0; True is not 1
        assert stated == actual
        assert isinstance(actual, float) or type(stated) is type(actual)
