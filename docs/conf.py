"""Sphinx configuration of the sktransfer documentation."""

import importlib.util
import os
import re
import shutil
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.abspath(".."))
# The gallery's torch models are tiny: one thread runs them about as fast on
# an idle machine and many times faster on a busy one, where competing
# threads spin. Set before torch is first imported (by the gallery).
os.environ.setdefault("OMP_NUM_THREADS", "1")

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
    "sphinx_design",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/**/*.ipynb",
    "auto_examples/**/*.py",
    "**/*.md5",
    # Timing tables of sphinx-gallery load jQuery from a CDN; not written.
    "sg_execution_times.rst",
    "auto_examples/**/sg_execution_times.rst",
]
# The "On this page" list shows method names, not Class.method(...).
toc_object_entries_show_parents = "hide"
html_theme = "pydata_sphinx_theme"
html_title = f"sktransfer {release}"
html_static_path = ["_static"]
html_css_files = ["sktransfer.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "navbar_align": "left",
    "header_links_before_dropdown": 5,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
# Pages without sub-pages need no section navigation on the left.
html_sidebars = {
    page: []
    for page in (
        "index",
        "install",
        "quickstart",
        "which_method",
        "citing",
        "changelog",
        "license",
    )
}

# MathJax ships with the documentation (sphinx-mathjax-offline holds a copy
# of MathJax 3), so formulas render without internet. The SVG output embeds
# its glyphs and loads no web fonts.
mathjax_path = "mathjax/tex-svg.js"
_MATHJAX_PARTS = ("tex-svg.js", "input", "a11y", "ui", "sre", "adaptors")


def _mathjax_source():
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "The documentation needs the 'sphinx-mathjax-offline' package for "
            "its bundled MathJax: pip install -e '.[docs]'."
        )
    return Path(spec.origin).parent / "static" / "mathjax"


def _copy_mathjax(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    source = _mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in _MATHJAX_PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


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
    # Methods a class takes over from skorch or sklearn unchanged (e.g. a
    # classifier-only method switched off on a regressor) are theirs to
    # document; an API page shows what sktransfer defines.
    module = getattr(obj, "__module__", None) or ""
    if what == "class" and callable(obj) and not module.startswith("sktransfer"):
        return True
    return skip


_CLASS_REPR = re.compile(r"<class '(?:[\w]+\.)*(\w+)'>")
_OBJECT_REPR = re.compile(r"<(?:[\w]+\.)*(\w+) object at 0x[0-9a-f]+>")


def _readable_signature(app, what, name, obj, options, signature, return_annotation):
    # Defaults that are classes or instances print as "<class 'pkg.mod.Name'>"
    # or "<pkg.mod.Name object at 0x...>"; show their name instead.
    if signature:
        signature = _CLASS_REPR.sub(r"\1", signature)
        signature = _OBJECT_REPR.sub(r"\1()", signature)
    return signature, return_annotation


def setup(app):
    """Connect the member filter, the signature cleaner and the MathJax copy."""
    _mathjax_source()
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-signature", _readable_signature)
    app.connect("build-finished", _copy_mathjax)


sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("sktransfer",),
    "reference_url": {"sktransfer": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "write_computation_times": False,
}
