"""The documentation build check (docs/check_build.py) on small built trees."""

import importlib.util
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "check_build.py"
if not _SCRIPT.exists():  # an installed package without the docs sources
    pytest.skip("docs/check_build.py is not in this tree", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("check_build", _SCRIPT)
check_build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_build)

CLEAN_PAGE = """<!DOCTYPE html><html><head>
<link rel="stylesheet" href="_static/styles/theme.css?digest=1">
<link rel="preload" as="script" href="_static/scripts/bootstrap.js">
<link rel="canonical" href="https://sktransfer.readthedocs.io/index.html">
<link rel="next" title="Install" href="install.html">
<script src="_static/mathjax/tex-svg.js"></script>
<script>var inline = "https://example.org/not-a-load.js";</script>
</head><body>
<a href="https://scikit-learn.org">scikit-learn</a>
<img src="_images/figure.png">
</body></html>"""

GALLERY_OUTPUT = """<div class="sphx-glr-script-out highlight-none notranslate">
<div class="highlight"><pre><span></span>{text}
</pre></div></div>"""


def test_local_resources_and_plain_links_pass():
    assert check_build.remote_loads(CLEAN_PAGE) == []


@pytest.mark.parametrize(
    "tag",
    [
        '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js">'
        "</script>",
        '<script src="//cdn.example.org/x.js"></script>',
        '<link rel="stylesheet" href="http://fonts.example.org/css">',
        '<link rel="preload" as="font" href="https://fonts.example.org/a.woff2">',
        '<link rel="icon" href="HTTPS://example.org/favicon.ico">',
        '<img src="https://example.org/logo.png">',
    ],
)
def test_remote_loads_are_found(tag):
    page = CLEAN_PAGE.replace("</head>", tag + "</head>")
    loads = check_build.remote_loads(page)
    assert len(loads) == 1
    assert loads[0][1].lower().lstrip().startswith(("http", "//"))


def test_remote_css_imports():
    css = (
        "@import 'local.css';\n"
        "@import url('https://fonts.example.org/css2');\n"
        "a { background: url(../images/a.png); }\n"
        "b { src: url(//cdn.example.org/font.woff2) }\n"
    )
    assert check_build.remote_css_imports(css) == [
        "https://fonts.example.org/css2",
        "//cdn.example.org/font.woff2",
    ]


def test_gallery_warnings_are_found():
    quiet = GALLERY_OUTPUT.format(text="mean r: 0.91\nkNN r: 0.88")
    assert check_build.gallery_warnings(quiet) == []
    noisy = GALLERY_OUTPUT.format(
        text="/x/_logistic.py:470: ConvergenceWarning: lbfgs failed to converge"
        "\n  n_iter_i = _check_optimize_result(\nscore 0.9"
    )
    found = check_build.gallery_warnings(noisy)
    assert len(found) == 1 and "ConvergenceWarning" in found[0]
    # a warning mentioned in the prose of a page is not output
    assert check_build.gallery_warnings("<p>UserWarning: in prose</p>") == []


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_check_reports_each_problem_with_its_file(tmp_path, capsys):
    _write(tmp_path / "index.html", CLEAN_PAGE)
    _write(tmp_path / "_static" / "theme.css", "a { color: red }")
    _write(
        tmp_path / "auto_examples" / "area" / "plot_x.html",
        GALLERY_OUTPUT.format(text="UserWarning: something"),
    )
    assert check_build.main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "plot_x.html: the example printed a warning: UserWarning" in err

    _write(
        tmp_path / "auto_examples" / "area" / "plot_x.html",
        GALLERY_OUTPUT.format(text="all good"),
    )
    _write(
        tmp_path / "api.html",
        CLEAN_PAGE.replace(
            "</head>", '<script src="https://cdn.example.org/m.js"></script></head>'
        ),
    )
    problems = check_build.check(tmp_path)
    assert problems == [
        "api.html: <script> loads https://cdn.example.org/m.js from outside the build"
    ]
    (tmp_path / "api.html").unlink()
    assert check_build.main([str(tmp_path)]) == 0


def test_empty_build_directory_fails(tmp_path):
    assert check_build.check(tmp_path) != []


def test_api_pages_must_document_the_methods_of_private_bases(tmp_path):
    # fit, transform and baseline, defined in sktransfer's private base
    # classes, were missing from the API pages of ten estimators
    from sktransfer.baseline import AirPLS

    name = "sktransfer.baseline.AirPLS"
    assert check_build.public_methods(AirPLS) == [
        "baseline",
        "fit",
        "fit_transform",
        "transform",
    ]
    page = "".join(
        f'<dt id="{name}.{m}">' for m in ("baseline", "fit", "fit_transform")
    )
    _write(tmp_path / "generated" / f"{name}.html", page)
    assert check_build.check(tmp_path) == [
        f"generated/{name}.html: the method transform() is not documented"
    ]
    _write(
        tmp_path / "generated" / f"{name}.html", page + f'<dt id="{name}.transform">'
    )
    assert check_build.check(tmp_path) == []
