import contextlib
import io
import re
import subprocess
import sys

import pytest

import sktransfer._demo
from sktransfer._demo import Row
from sktransfer.cli import main


def _run(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


def _fake_run(settings, progress=None):
    """A finished demo run with one record, made without running the stages."""
    from sktransfer._demo import DemoRun
    from sktransfer._demo._records import StageResult

    class One(StageResult):
        def rows(self):
            return [Row("first", "a number", 1.5, 2, "note")]

    if progress is not None:
        progress("[1/1] first done")
    run = DemoRun(settings, results={"first": One()}, timings={"first": 0.1})
    return run


@pytest.fixture
def fast_stages(monkeypatch):
    runs = []

    def fake(settings, progress=None):
        runs.append(_fake_run(settings, progress))
        return runs[-1]

    monkeypatch.setattr(sktransfer._demo, "run_demo", fake)
    return runs


def test_demo_prints_the_table_and_writes_the_report(fast_stages, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    status, text = _run(
        ["demo", "--quick", "--random-state", "1", "--output", str(out)]
    )
    assert status == 0
    settings = fast_stages[0].settings
    assert (settings.quick, settings.random_state, settings.device) == (True, 1, "cpu")
    assert settings.sizes[0] == 80 and settings.rruff is None
    assert "80 synthetic materials, random state 1, device cpu, quick run" in text
    assert "[1/1] first done" in text
    assert re.search(r"^first\s+a number\s+1\.500\s+2\s+note$", text, re.MULTILINE)
    assert re.search(r"Total \d+\.\d s \(first 0\.1 s\)", text)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| first | a number | 1.500 | 2 | note |" in report
    assert "Note: no transfer figure: the transfer stage did not run." in text


def test_demo_on_rruff_files_runs_with_the_given_settings(fast_stages, tmp_path):
    from tests.test_demo import rruff_dir

    folder = rruff_dir(tmp_path / "rruff", ["Albite", "Quartz"], n_each=3)
    argv = ["demo", "--data", str(folder), "--quick", "--random-state", "3"]
    status, text = _run([*argv, "--output", str(tmp_path / "out")])
    assert status == 0
    settings = fast_stages[0].settings
    assert (settings.quick, settings.random_state, settings.device) == (True, 3, "cpu")
    assert len(settings.rruff.paired.rruff_ids) == 6
    assert f"RRUFF files in {folder}, random state 3, device cpu, quick run" in text
    # the files are read before the stages: the total counts their time
    match = re.search(
        r"Total (\d+\.\d) s \(reading files (\d+\.\d) s, first 0\.1", text
    )
    assert match and float(match[1]) >= float(match[2])
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "(reading files " in report


def test_torch_threads_are_restored(monkeypatch, tmp_path):
    import torch

    seen = []

    def fake(settings, progress=None):
        seen.append(torch.get_num_threads())
        return _fake_run(settings)

    monkeypatch.setattr(sktransfer._demo, "run_demo", fake)
    before = torch.get_num_threads()
    assert main(["demo", "--threads", "1", "--output", str(tmp_path / "o")]) == 0
    assert seen == [1] and torch.get_num_threads() == before


def test_existing_output_is_not_overwritten(fast_stages, capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("mine")
    assert main(["demo", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists; pass --overwrite" in err
    assert (out / "report.md").read_text() == "mine"
    assert main(["demo", "--output", str(out), "--overwrite"]) == 0
    assert "| first | a number | 1.500 | 2 | note |" in (out / "report.md").read_text()


def test_bad_arguments_are_one_line_errors(fast_stages, capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cases = [
        (["--n-samples", "10"], "--n-samples must be at least 50, got 10."),
        (["--threads", "0"], "--threads must be at least 1, got 0."),
        (["--device", "cuda:99"], "cuda"),
        (["--device", "tpu"], "tpu"),
        (["--output", str(blocker / "out")], "cannot create"),
        (["--data", str(tmp_path / "missing")], "no such directory"),
        (["--data", str(blocker)], "file: not a directory"),
        (["--data", str(tmp_path)], str(tmp_path)),
        # --n-samples was ignored with --data (and checked against 50)
        (["--data", str(tmp_path), "--n-samples", "60"], "leave one of them out"),
    ]
    for args, message in cases:
        output = [] if "--output" in args else ["--output", str(tmp_path / "o")]
        assert main(["demo", *args, *output]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("sktransfer demo: error: ") and err.count("\n") == 1
        assert message in err, (args, err)
    # a folder the failed run made (before reading --data) goes with it
    assert not (tmp_path / "o").exists()
    (tmp_path / "o").mkdir()  # one that was there stays
    assert main(["demo", "--data", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert (tmp_path / "o").is_dir()
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
    help_text = capsys.readouterr().out
    for option in ("--n-samples", "--quick", "--data", "--output", "--device"):
        assert option in help_text
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


def test_negative_random_state_is_a_usage_error(capsys, tmp_path):
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--quick", "--random-state", "-1", "--output", str(out)])
    assert exc.value.code == 2
    assert "--random-state: '-1' is not an integer >= 0" in capsys.readouterr().err
    assert not out.exists()
