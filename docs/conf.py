"""Sphinx configuration of the sktransfer documentation."""

import os
import sys
from datetime import date

sys.path.insert(0, os.path.abspath(".."))

import sktransfer  # noqa: E402

project = "sktransfer"
author = "The sktransfer developers"
copyright = f"{date.today().year}, {author}"
release = sktransfer.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
html_title = "sktransfer"
html_theme_options = {"navigation_with_keys": False}

_INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
    "torch": ("https://pytorch.org/docs/stable", None),
    "skorch": ("https://skorch.readthedocs.io/en/stable", None),
    "imblearn": ("https://imbalanced-learn.org/stable", None),
    "pybaselines": ("https://pybaselines.readthedocs.io/en/latest", None),
}


def _online(host="docs.python.org"):
    import socket

    try:
        socket.create_connection((host, 443), timeout=2).close()
    except OSError:
        return False
    return True


# Offline builds (CI, air-gapped machines) link to other projects as plain text
# instead of failing on unreachable inventories.
intersphinx_mapping = _INTERSPHINX if _online() else {}
intersphinx_timeout = 5


def _skip_member(app, what, name, obj, skip, options):
    # sklearn adds set_*_request methods to every estimator class; they are
    # documented by sklearn, not here.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    """Connect the member filter."""
    app.connect("autodoc-skip-member", _skip_member)

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sktransfer",),
    "reference_url": {"sktransfer": None},
    "download_all_examples": False,
    "remove_config_comments": True,
}
