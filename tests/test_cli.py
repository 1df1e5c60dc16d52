import contextlib
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from sktransfer.cli import _demo, main
from sktransfer.cli._demo_figures import write_figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES = ("transfer.png", "generated.png", "pca.png")


def _parse(text):
    """Rows of the printed results table as {quantity: [value, reference, note]}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("stage "))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[(cells[0], cells[1])] = cells[2:]
    return rows


def _run(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    output = tmp_path_factory.mktemp("demo") / "out"
    status, text = _run(
        ["demo", "--quick", "--random-state", "1", "--output", str(output)]
    )
    return status, text, output


def test_demo_runs_and_prints_table(quick_demo):
    status, text, _ = quick_demo
    assert status == 0
    assert "80 synthetic materials, random state 1, device cpu, quick run" in text
    assert "FAILED" not in text
    header = next(line for line in text.splitlines() if line.startswith("stage "))
    assert header.split() == ["stage", "quantity", "value", "reference", "note"]
    for name, _ in _demo.STAGES:
        assert re.search(rf"^{name} ", text, flags=re.MULTILINE)
        assert re.search(rf"^\[\d/7\] {name} done in \d+\.\d s", text, re.MULTILINE)
    assert "SpectroGen VAE: epoch 4/4, loss" in text
    assert re.search(r"Total \d+\.\d s \(data", text)


def test_every_result_has_a_reference(quick_demo):
    rows = _parse(quick_demo[1])
    scored = {k: v for k, v in rows.items() if k[0] not in ("data",)}
    assert len(scored) >= 20
    for (stage, quantity), (value, *rest) in scored.items():
        if quantity == "macro-F1, no augmentation":
            continue
        assert rest and rest[0] not in ("", "-"), (stage, quantity)
        float(value), float(rest[0])
    notes = " ".join(v[2] for k, v in rows.items() if k[0] == "transfer")
    assert "(ref: 5-NN)" in notes
    notes = " ".join(v[-1] for k, v in rows.items() if k[0] == "augmentation")
    assert "ref: SMOTE" in notes and "ref: no augmentation" in notes


def test_demo_numbers_are_sensible(quick_demo):
    rows = _parse(quick_demo[1])
    assert rows["data", "materials per class"][0] == "44/20/10/6"
    assert rows["data", "train / held-out materials"][0] == "56 / 24"
    rmse, rmse_ref = map(
        float, rows["baseline", "Raman baseline RMSE vs true baseline"][:2]
    )
    assert rmse < rmse_ref
    error, step = map(float, rows["peaks", "centre error, cm-1 (median)"][:2])
    assert error < 5 * step
    r2, ceiling = map(float, rows["peaks", "reconstruction R2 (median)"][:2])
    assert 0 < r2 <= ceiling + 0.05
    for key, (value, ref, *_) in rows.items():
        if key[0] == "augmentation" and key[1].startswith("balanced acc."):
            assert float(ref) <= 1 and float(value) > 0.25
        if key[0] == "transfer" and key[1].endswith(", r"):
            assert -1 <= float(value) <= 1


def test_figures_and_report_are_written(quick_demo):
    matplotlib_image = pytest.importorskip("matplotlib.image")
    _, _, output = quick_demo
    for name in FIGURES:
        path = output / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE
        image = matplotlib_image.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 200
    report = (output / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# sktransfer ")
    assert "| stage | quantity | value | reference | note |" in report
    for name in FIGURES:
        assert f"]({name})" in report
    assert "| transfer | held-out Raman vs measured, r |" in report


def test_demo_stages_are_reproducible():
    from sklearn.utils import Bunch

    stages = [
        ("data", _demo.stage_data),
        ("metrics", _demo.stage_metrics),
        ("baseline", _demo.stage_baseline),
    ]
    runs = [
        _demo.run_stages(Bunch(n_samples=60, random_state=3), stages) for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert all(isinstance(row, _demo.Row) for row in runs[0])


@pytest.fixture
def fast_stages(monkeypatch):
    ok = [_demo.Row("first", "a number", 1.5, 2, "note")]
    monkeypatch.setattr(_demo, "STAGES", [("first", lambda ctx: ok)])


def test_failing_stage_is_reported(monkeypatch, capsys, tmp_path):
    def boom(ctx):
        raise RuntimeError("broken stage")

    ok = [_demo.Row("first", "a number", 1.5, 2, "note")]
    monkeypatch.setattr(_demo, "STAGES", [("first", lambda ctx: ok), ("boom", boom)])
    assert main(["demo", "--output", str(tmp_path / "out")]) == 1
    text = capsys.readouterr().out
    assert "RuntimeError: broken stage" in text
    assert "Failed stages: boom." in text
    assert re.search(r"^first\s+a number\s+1\.500\s+2\s+note$", text, re.MULTILINE)
    assert "no transfer figure" in text
    assert (tmp_path / "out" / "report.md").exists()


def test_torch_threads_are_restored(monkeypatch, tmp_path):
    import torch

    seen = []
    monkeypatch.setattr(
        _demo,
        "STAGES",
        [("first", lambda ctx: seen.append(torch.get_num_threads()) or [])],
    )
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
    ]
    for args, message in cases:
        output = [] if "--output" in args else ["--output", str(tmp_path / "o")]
        assert main(["demo", *args, *output]) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("sktransfer demo: error: ") and err.count("\n") == 1
        assert message in err, (args, err)
    assert not (tmp_path / "o").exists() or not os.listdir(tmp_path / "o")
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--n-samples", "many"])
    assert exc.value.code == 2


def test_figures_skipped_without_matplotlib(monkeypatch, tmp_path):
    from sklearn.utils import Bunch

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    figures, notes = write_figures(Bunch(transfer_fig=None), str(tmp_path))
    assert figures == [] and "matplotlib is not installed" in notes[0]
    assert os.listdir(tmp_path) == []


def _write_rruff(path, x, y, species, rruff_id):
    rows = "".join(f"{a:.4f}, {b:.6e}\r\n" for a, b in zip(x, y))
    head = f"##NAMES={species}\r\n##RRUFFID={rruff_id}\r\n"
    path.write_text(head + rows + "##END=\r\n", encoding="utf-8", newline="")


def _rruff_dir(root, species, n_each, seed=0):
    """Paired IR/Raman RRUFF files: ``n_each`` samples of each species."""
    rng = np.random.default_rng(seed)
    x_ir, x_ra = np.linspace(380.0, 4010.0, 700), np.linspace(100.0, 1300.0, 500)
    root.mkdir()
    k = 0
    for s, name in enumerate(species):
        for _ in range(n_each):
            rid = f"R05{k:04d}"
            centers = np.array([300.0, 700.0]) + 150 * s + rng.normal(0, 5, 2)
            ir = sum(np.exp(-0.5 * ((x_ir - 2 * c) / 30) ** 2) for c in centers)
            ra = sum(np.exp(-0.5 * ((x_ra - c) / 8) ** 2) for c in centers)
            ra = ra + rng.normal(0, 0.01, ra.shape)
            _write_rruff(
                root / f"{name}__{rid}-1__Infrared__Infrared_Data_Processed__1.txt",
                x_ir,
                ir,
                name,
                rid,
            )
            _write_rruff(
                root / f"{name}__{rid}__Raman__532__0__unoriented__Raman_Data_"
                "Processed__2.txt",
                x_ra,
                ra,
                name,
                rid,
            )
            k += 1
    return root


def test_demo_on_rruff_directory(tmp_path):
    data = _rruff_dir(tmp_path / "rruff", ["Albite", "Quartz"], n_each=6)
    output = tmp_path / "out"
    status, text = _run(
        ["demo", "--quick", "--data", str(data), "--output", str(output)]
    )
    assert status == 0, text
    rows = _parse(text)
    assert rows["data", "RRUFF samples with IR + Raman"][0] == "12"
    assert rows["data", "Raman spectra per species"][0] == "6/6"
    for stage in ("preprocessing", "metrics", "baseline"):
        assert rows[stage, "skipped"][0] == "-"
    assert rows["peaks", "peaks fitted"][1].startswith("Albite, 6 spectra")
    assert float(rows["transfer", "held-out Raman vs measured, r"][1]) > 0.5
    assert float(rows["augmentation", "balanced acc., WGAN-GP"][0]) >= 0.5
    assert sorted(os.listdir(output)) == sorted([*FIGURES, "report.md"])


def test_rruff_without_usable_labels(tmp_path):
    data = _rruff_dir(tmp_path / "rruff", [f"Min{i}" for i in range(6)], n_each=1)
    rruff = _demo._load_rruff(str(data))
    assert len(rruff.paired.rruff_ids) == 6
    assert rruff.labelled is None and "fewer than 2 species" in rruff.labelled_note
    from sklearn.utils import Bunch

    rows = _demo.stage_augmentation(Bunch(rruff=rruff, random_state=0))
    assert rows[0].quantity == "skipped" and "fewer than 2 species" in rows[0].note


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
