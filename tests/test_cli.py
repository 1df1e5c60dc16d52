import contextlib
import io
import re
import subprocess
import sys

import pytest

from sktransfer.cli import _demo, main


def _parse(text):
    """Rows of the printed results table as {quantity: (value, reference)}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("stage "))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[1]] = cells[2:]
    return rows


@pytest.fixture(scope="module")
def demo_output():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(["demo", "--n-samples", "80", "--random-state", "1"])
    return status, out.getvalue()


def test_demo_runs_and_prints_table(demo_output):
    status, text = demo_output
    assert status == 0
    assert "80 synthetic materials, random state 1" in text
    assert "FAILED" not in text
    header = next(line for line in text.splitlines() if line.startswith("stage "))
    assert header.split() == ["stage", "quantity", "value", "reference", "note"]
    for stage in ("data", "preprocessing", "metrics", "classifier"):
        assert re.search(rf"^{stage} ", text, flags=re.MULTILINE)
    assert re.search(r"Total \d+\.\d s \(data", text)


def test_demo_numbers_are_sensible(demo_output):
    rows = _parse(demo_output[1])
    assert rows["materials per class"][0] == "32/24/16/8"
    cubic, linear = map(float, rows["IR 900 -> 300 -> 900 pts, r"][:2])
    assert 0.99 < cubic <= 1.0 and cubic > linear
    r_obs, r_true = map(float, rows["Raman observed vs clean, r"][:2])
    assert r_obs < r_true and r_true > 0.99
    same = float(rows["two_sample_accuracy: real vs held-out real"][0])
    naive = float(rows["two_sample_accuracy: real vs mean + noise"][0])
    assert 0.25 <= same <= 0.75 and naive > 0.85
    for name, (value, chance, *_) in rows.items():
        if name.endswith("balanced acc."):
            assert float(value) > float(chance) + 0.3
            assert float(chance) == pytest.approx(0.25)


def test_demo_stages_are_reproducible():
    from sklearn.utils import Bunch

    stages = [("data", _demo.stage_data), ("metrics", _demo.stage_metrics)]
    runs = [
        _demo.run_stages(Bunch(n_samples=60, random_state=3), stages) for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert all(isinstance(row, _demo.Row) for row in runs[0])


def test_failing_stage_is_reported(monkeypatch, capsys):
    def boom(ctx):
        raise RuntimeError("broken stage")

    ok = [_demo.Row("first", "a number", 1.5, 2, "note")]
    monkeypatch.setattr(_demo, "STAGES", [("first", lambda ctx: ok), ("boom", boom)])
    assert main(["demo"]) == 1
    text = capsys.readouterr().out
    assert "RuntimeError: broken stage" in text
    assert "Failed stages: boom." in text
    assert re.search(r"^first\s+a number\s+1\.500\s+2\s+note$", text, re.MULTILINE)


def test_bad_arguments_are_one_line_errors(capsys):
    assert main(["demo", "--n-samples", "10"]) == 2
    err = capsys.readouterr().err
    assert err == "sktransfer demo: error: --n-samples must be at least 50, got 10.\n"
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--n-samples", "many"])
    assert exc.value.code == 2


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "--n-samples" in capsys.readouterr().out
    assert main([]) == 0
    assert "usage: sktransfer" in capsys.readouterr().out


def test_python_dash_m():
    result = subprocess.run(
        [sys.executable, "-m", "sktransfer", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "demo" in result.stdout
