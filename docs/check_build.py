"""Check a built HTML documentation tree; exit non-zero on any problem.

Run after ``sphinx-build`` (``make docs`` does)::

    python docs/check_build.py docs/_build/html

It fails when

* a page loads a script, stylesheet or other resource from outside the
  build: a ``<script src>``, ``<link href>`` (stylesheets, preloads, icons),
  ``<img src>`` or ``<iframe src>`` starting with ``http://``, ``https://`` or
  ``//``, or a CSS file of the build importing a remote ``url(...)``. The
  documentation must read the same without internet (formulas included);
* a gallery example printed a warning (``...Warning:`` in its captured
  output): the examples are meant to run cleanly;
* the API page of a class leaves out one of its public methods that
  sktransfer defines, also in a private base class (``fit``, ``transform``,
  ``baseline``, ...).

Plain links (``<a href>``) to other sites are fine: they load nothing.
"""

import argparse
import html
import importlib
import inspect
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
# <link rel=...> values that only name a relation and load nothing.
_NON_LOADING_RELS = {
    "alternate",
    "author",
    "canonical",
    "help",
    "index",
    "license",
    "next",
    "prev",
    "search",
    "top",
    "up",
    "copyright",
    "genindex",
}
_CSS_REMOTE = re.compile(
    r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""",
    re.IGNORECASE,
)
_OUTPUT_BLOCK = re.compile(
    r'<div class="sphx-glr-script-out[^"]*">(.*?)</pre>', re.DOTALL
)
_WARNING = re.compile(r"\b\w*Warning: ")
_TAGS = re.compile(r"<[^>]+>")


class _ResourceFinder(HTMLParser):
    """Collect the URLs a page loads (not the ones it merely links to)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed"):
            url = attrs.get("src")
        elif tag == "link":
            rels = set((attrs.get("rel") or "").lower().split())
            if rels and rels <= _NON_LOADING_RELS:
                return
            url = attrs.get("href")
        else:
            return
        if url:
            self.loads.append((tag, url))


def remote_loads(page_html):
    """Return the ``(tag, url)`` pairs of a page that load from another host.

    Parameters
    ----------
    page_html : str
        The HTML text of a page.

    Returns
    -------
    loads : list of tuple of (str, str)
        One pair per remote script, stylesheet or other loaded resource.
    """
    finder = _ResourceFinder()
    finder.feed(page_html)
    return [(tag, url) for tag, url in finder.loads if _REMOTE.match(url)]


def remote_css_imports(css_text):
    """Return the remote URLs that a stylesheet imports or loads.

    Parameters
    ----------
    css_text : str
        The text of a CSS file.

    Returns
    -------
    urls : list of str
        The remote ``url(...)`` and ``@import`` targets.
    """
    return _CSS_REMOTE.findall(css_text)


def gallery_warnings(page_html):
    """Return the warning lines printed in a gallery page's output blocks.

    Parameters
    ----------
    page_html : str
        The HTML text of a sphinx-gallery example page.

    Returns
    -------
    lines : list of str
        Each captured output line that reports a ``...Warning``.
    """
    lines = []
    for block in _OUTPUT_BLOCK.findall(page_html):
        text = html.unescape(_TAGS.sub("", block))
        lines.extend(
            line.strip() for line in text.splitlines() if _WARNING.search(line)
        )
    return lines


def public_methods(cls):
    """Return the public methods of ``cls`` that sktransfer defines.

    Also those it takes from sktransfer's private base classes; the methods
    of scikit-learn, skorch or torch are theirs to document.

    Parameters
    ----------
    cls : type
        A class.

    Returns
    -------
    names : list of str
        The method names, sorted.
    """
    names = []
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or not callable(member):
            continue
        if (getattr(member, "__module__", None) or "").startswith("sktransfer"):
            names.append(name)
    return sorted(names)


def undocumented_methods(page_html, fullname, cls):
    """Return the public methods of ``cls`` without an entry on its API page.

    Parameters
    ----------
    page_html : str
        The HTML text of the class's API page.
    fullname : str
        The dotted name the page documents the class under.
    cls : type
        The class.

    Returns
    -------
    names : list of str
        The methods the page leaves out.
    """
    return [
        name
        for name in public_methods(cls)
        if f'id="{fullname}.{name}"' not in page_html
    ]


def _documented_class(page):
    """The ``(dotted name, class)`` an API page documents, or None."""
    if page.parent.name != "generated" or not page.stem.startswith("sktransfer."):
        return None
    module, _, name = page.stem.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return (page.stem, obj) if inspect.isclass(obj) else None


def check(build_dir):
    """Check a built documentation tree.

    Parameters
    ----------
    build_dir : str or path-like
        The HTML output directory of ``sphinx-build``.

    Returns
    -------
    problems : list of str
        One message per problem; empty when the build is clean.
    """
    build_dir = Path(build_dir)
    pages = sorted(build_dir.rglob("*.html"))
    if not pages:
        return [f"{build_dir}: no HTML page found; was the documentation built?"]
    problems = []
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        name = page.relative_to(build_dir)
        for tag, url in remote_loads(text):
            problems.append(f"{name}: <{tag}> loads {url} from outside the build")
        if "auto_examples" in page.parts:
            for line in gallery_warnings(text):
                problems.append(f"{name}: the example printed a warning: {line}")
        documented = _documented_class(page)
        if documented is not None:
            for method in undocumented_methods(text, *documented):
                problems.append(f"{name}: the method {method}() is not documented")
    for css in sorted(build_dir.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        for url in remote_css_imports(text):
            problems.append(f"{css.relative_to(build_dir)}: loads {url}")
    return problems


def main(argv=None):
    """Check the build directory given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir", nargs="?", default="docs/_build/html")
    args = parser.parse_args(argv)
    problems = check(args.build_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"docs check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"docs check: {args.build_dir} loads nothing from outside, no warnings, "
        "every public method documented"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
