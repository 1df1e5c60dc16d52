"""The command line as a hostile or clumsy user meets it: safe model files,
no clashing or partial outputs, exact numbers, clear one-line errors."""

import json
import os
import resource
import signal
import zipfile

import joblib
import numpy as np
import pytest

from sktransfer.cli import main
from sktransfer.cli._model_file import load_model, save_model
from sktransfer.datasets import read_rruff, write_rruff
from tests.test_cli_verbs import (
    _fit_args,
    _paired_csv,
    _peaks,
    _read_csv,
    _write_csv,
)


def _fit(tmp_path, capsys, *extra):
    _paired_csv(tmp_path)
    model = tmp_path / "model.skmodel"
    assert main([*_fit_args(tmp_path, model, epochs=2), *extra]) == 0
    capsys.readouterr()
    return model


def _predict(tmp_path, model, *extra):
    out = tmp_path / "pred.csv"
    return main(
        [
            "transfer",
            "predict",
            str(tmp_path / "ir.csv"),
            "-m",
            str(model),
            "-o",
            str(out),
            *extra,
        ]
    )


def _one_line_error(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for part in parts:
        assert part in err, err
    return err


class _Exploit:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# ------------------------------------------------------------- model files
def test_model_file_holds_no_pickle_and_predicts_the_same(tmp_path, capsys):
    model = _fit(tmp_path, capsys)
    with zipfile.ZipFile(model) as zf:
        assert sorted(zf.namelist()) == [
            "arrays.safetensors",
            "modules.safetensors",
            "sktransfer-model.json",
        ]
        manifest = json.loads(zf.read("sktransfer-model.json"))
    assert manifest["estimator"].endswith("SpectroGenRegressor")
    assert manifest["params"]["max_epochs"] == 2
    regressor, extra = load_model(model)
    x_ir, x_ra, X, _, _ = _paired_csv(tmp_path / "..")
    np.testing.assert_array_equal(extra["source_axis"], x_ir)
    np.testing.assert_array_equal(extra["target_axis"], x_ra)
    assert _predict(tmp_path, model) == 0
    _, table = _read_csv(tmp_path / "pred.csv")
    np.testing.assert_array_equal(table[:, 1:].T, regressor.predict(X))


def test_ctrl_c_during_training_stops_without_a_model(tmp_path, capsys, monkeypatch):
    from sktransfer.cross_modal import SpectroGenRegressor

    def interrupted(self, X, y, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(SpectroGenRegressor, "fit_loop", interrupted)
    _paired_csv(tmp_path)
    model = tmp_path / "model.skmodel"
    assert main(_fit_args(tmp_path, model, epochs=2)) == 130
    assert capsys.readouterr().err.strip() == "sktransfer transfer: interrupted"
    assert not model.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ir.csv", "raman.csv"]


def test_ctrl_c_while_writing_leaves_no_staged_file(tmp_path, monkeypatch):
    from sktransfer.cli import _files

    calls = []
    stage = _files.stage_file

    def second_interrupts(path, write, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return stage(path, write, **kwargs)

    monkeypatch.setattr(_files, "stage_file", second_interrupts)
    outputs = _files.Outputs(False, directory=str(tmp_path / "out"))
    for name in ("a.txt", "b.txt", "c.txt"):
        outputs.add_text(str(tmp_path / "out" / name), "x", "a test")
    with pytest.raises(KeyboardInterrupt):
        outputs.write()
    assert os.listdir(tmp_path) == []  # nor the folder it made


def test_a_failure_while_publishing_removes_the_folders_it_made(tmp_path, monkeypatch):
    # the folders stayed when renaming the staged files into place failed:
    # they were removed before the staged files, so never empty
    from sktransfer.cli import _files

    calls = []
    from sktransfer.datasets import _write

    link = _write.link_new

    def second_fails(tmp, path):
        calls.append(path)
        if len(calls) == 2:
            raise PermissionError(13, "Permission denied", path)
        return link(tmp, path)

    monkeypatch.setattr(_write, "link_new", second_fails)
    outputs = _files.Outputs(False)
    for name in ("a.csv", "b.csv"):
        outputs.add_text(str(tmp_path / "new" / "deep" / name), "x", "a test")
    with pytest.raises(_files.CLIError, match="nothing was written"):
        outputs.write()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("links", [True, False])
def test_a_file_made_while_writing_is_not_replaced(tmp_path, monkeypatch, links):
    # without --overwrite the names were checked before the work and then
    # renamed over whatever another program had put there meanwhile
    from sktransfer.cli import CLIError, _files

    out = tmp_path / "out"
    if not links:  # a file system without hard links: checked before renaming

        def no_link(src, dst):
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(_files.os, "link", no_link)

    def write_b(f):  # another program makes c.txt meanwhile
        (out / "c.txt").write_text("theirs")
        f.write(b"b")

    outputs = _files.Outputs(False, directory=str(out))
    outputs.add_text(str(out / "a.txt"), "a", "a test")
    outputs.add(str(out / "b.txt"), write_b, "a test")
    outputs.add_text(str(out / "c.txt"), "c", "a test")
    with pytest.raises(CLIError, match="c.txt was made by another program"):
        outputs.write()
    assert os.listdir(out) == ["c.txt"]  # theirs, and nothing of this set
    assert (out / "c.txt").read_text() == "theirs"


def test_loaded_model_equals_the_trained_one(tmp_path):
    from sktransfer.cross_modal import SpectroGenRegressor

    rng = np.random.default_rng(0)
    X, Y = rng.random((20, 16)), rng.random((20, 12))
    reg = SpectroGenRegressor(
        max_epochs=2,
        random_state=0,
        target_axis=np.linspace(100.0, 200.0, 12),
        module__decoder="peaks",
    ).fit(X, Y)
    with open(tmp_path / "m.skmodel", "wb") as f:
        save_model(f, reg, {"note": ("a", 1)})
    # the training pairs kept for partial_fit stay out of the file
    assert reg._memory_pairs[0].shape == (20, 16)
    with zipfile.ZipFile(tmp_path / "m.skmodel") as zf:
        manifest = json.loads(zf.read("sktransfer-model.json"))
    assert "_memory_pairs" not in manifest["attributes"]
    assert "n_outputs_" in manifest["attributes"]
    loaded, extra = load_model(tmp_path / "m.skmodel")
    assert extra == {"note": ("a", 1)}
    assert loaded.get_params()["module__decoder"] == "peaks"
    np.testing.assert_array_equal(loaded.target_axis_, reg.target_axis_)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    np.testing.assert_array_equal(
        loaded.sample(X, 3, random_state=1), reg.sample(X, 3, random_state=1)
    )


def test_two_identical_fits_write_the_same_model_file(tmp_path, capsys, monkeypatch):
    import time
    import types

    files = []
    for clock in (1_000_000_000.0, 1_700_000_000.0):  # 2001 and 2023
        # the zip entries carry no date of writing
        fake = types.SimpleNamespace(time=lambda c=clock: c, localtime=time.localtime)
        monkeypatch.setattr(zipfile, "time", fake)
        (tmp_path / "model.skmodel").unlink(missing_ok=True)
        files.append(_fit(tmp_path, capsys).read_bytes())
    assert files[0] == files[1]
    with zipfile.ZipFile(tmp_path / "model.skmodel") as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_model_file_from_before_normalize_source_predicts_as_it_did(tmp_path):
    # files saved before the parameter existed read their sources unscaled
    from sktransfer.cross_modal import SpectroGenRegressor

    rng = np.random.default_rng(0)
    X, Y = 5.0 * rng.random((20, 16)), rng.random((20, 12))
    reg = SpectroGenRegressor(max_epochs=2, random_state=0, normalize_source=False)
    reg.fit(X, Y)
    with open(tmp_path / "m.skmodel", "wb") as f:
        save_model(f, reg)
    _rewrite_manifest(
        tmp_path / "m.skmodel", lambda m: m["params"].pop("normalize_source")
    )
    loaded, _ = load_model(tmp_path / "m.skmodel")
    assert loaded.normalize_source is False
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    # a file that has it keeps its value
    with open(tmp_path / "n.skmodel", "wb") as f:
        save_model(f, reg.set_params(normalize_source=True))
    assert load_model(tmp_path / "n.skmodel")[0].normalize_source is True


def test_malicious_pickle_is_refused_without_running_it(tmp_path, capsys):
    _paired_csv(tmp_path)
    marker = tmp_path / "pwned"
    joblib.dump({"model": _Exploit(marker)}, tmp_path / "evil.joblib")
    assert _predict(tmp_path, tmp_path / "evil.joblib") == 2
    _one_line_error(capsys, "is a pickle", "--trust-pickle")
    assert not marker.exists()
    assert not (tmp_path / "pred.csv").exists()


def test_trusted_pickle_of_an_old_model_still_predicts(tmp_path, capsys):
    model = _fit(tmp_path, capsys)
    regressor, extra = load_model(model)
    joblib.dump({"model": regressor, **extra}, tmp_path / "old.joblib")
    assert _predict(tmp_path, tmp_path / "old.joblib") == 2
    _one_line_error(capsys, "--trust-pickle")
    assert _predict(tmp_path, tmp_path / "old.joblib", "--trust-pickle") == 0
    _, table = _read_csv(tmp_path / "pred.csv")
    X = _paired_csv(tmp_path)[2]
    np.testing.assert_array_equal(table[:, 1:].T, regressor.predict(X))


@pytest.mark.parametrize(
    "bundle", [{"model": 5}, [1, 2], {"model": None, "source_axis": [1.0]}]
)
def test_trusted_pickle_that_is_no_model(tmp_path, capsys, bundle):
    _paired_csv(tmp_path)
    joblib.dump(bundle, tmp_path / "odd.joblib")
    assert _predict(tmp_path, tmp_path / "odd.joblib", "--trust-pickle") == 2
    _one_line_error(capsys, "odd.joblib")


def test_trusted_pickle_that_cannot_be_read(tmp_path, capsys):
    _paired_csv(tmp_path)
    broken = tmp_path / "broken.joblib"
    joblib.dump({"model": None}, broken)
    broken.write_bytes(broken.read_bytes()[:-3])  # cut short
    assert _predict(tmp_path, broken, "--trust-pickle") == 2
    _one_line_error(capsys, f"{broken} is not a model saved by sktransfer (")
    assert not (tmp_path / "pred.csv").exists()


def _rewrite_manifest(model, edit):
    with zipfile.ZipFile(model) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["sktransfer-model.json"])
    edit(manifest)
    members["sktransfer-model.json"] = json.dumps(manifest)
    with zipfile.ZipFile(model, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m.update(estimator="os.system"), "not allowed"),
        (
            lambda m: m["params"].update(module={"__ref__": "builtins.eval"}),
            "not allowed",
        ),
        (
            lambda m: m["params"].update(module={"__ref__": "torch.nn.functional.F"}),
            "does not exist",
        ),
        (  # a function would be called with the file's module__* arguments
            lambda m: m["params"].update(
                module={"__ref__": "sktransfer.datasets._write.write_rruff"}
            ),
            "which is not a class",
        ),
        (  # a class outside the allowed bases
            lambda m: m["params"].update(
                module={"__ref__": "sktransfer.cli._files.Outputs"}
            ),
            "not allowed",
        ),
        (
            lambda m: m.update(estimator="sktransfer.cli._files.Outputs"),
            "not allowed",
        ),
        (lambda m: m.update(version=99), "format version 99"),
        (lambda m: m["params"].update(module__n_hidden="x"), "cannot be rebuilt"),
        (  # a parameter of a newer version: the message names both versions
            lambda m: (
                m.update(sktransfer_version="9.0") or m["params"].update(new_option=1)
            ),
            "saved by sktransfer 9.0, this is ",
        ),
        (lambda m: m["extra"]["__dict__"].clear(), "not a model saved by"),
        (lambda m: m["extra"].clear(), "holds a value of unknown kind"),
    ],
)
def test_tampered_model_files_are_refused(tmp_path, capsys, edit, message):
    model = _fit(tmp_path, capsys)
    _rewrite_manifest(model, edit)
    assert _predict(tmp_path, model) == 2
    _one_line_error(capsys, message)


def test_model_files_that_transfer_fit_did_not_write_are_refused(tmp_path, capsys):
    import types

    from sktransfer.baseline import AirPLS
    from sktransfer.cross_modal import SpectroGenRegressor

    regressor, extra = load_model(_fit(tmp_path, capsys))
    source, target = extra["source_axis"], extra["target_axis"]
    not_trained = "does not hold a trained SpectroGenRegressor (found "
    axes = ": the model's axes do not match its network"
    for name, estimator, values, message in [
        ("untrained", SpectroGenRegressor(), extra, " " + not_trained),
        # another sktransfer estimator, whose parameters have no device
        ("other", AirPLS(lam=1e4), extra, f" {not_trained}AirPLS)"),
        ("short", regressor, {**extra, "source_axis": source[1:]}, axes),
        ("long", regressor, {**extra, "target_axis": np.arange(101.0)}, axes),
        ("table", regressor, {**extra, "target_axis": target.reshape(-1, 1)}, axes),
        ("words", regressor, {**extra, "source_axis": ["a"] * source.size}, axes),
        (
            "no_modality",
            regressor,
            {k: v for k, v in extra.items() if k != "target_modality"},
            " is not a model saved by `sktransfer transfer fit`",
        ),
    ]:
        path = tmp_path / f"{name}.skmodel"
        with open(path, "wb") as f:
            save_model(f, estimator, values)
        assert _predict(tmp_path, path) == 2
        _one_line_error(capsys, f"{path}{message}")
        assert not (tmp_path / "pred.csv").exists()
    # a trusted pickle of something with a network that is no regressor
    path = tmp_path / "other.joblib"
    joblib.dump({"model": types.SimpleNamespace(module_=None), **extra}, path)
    assert _predict(tmp_path, path, "--trust-pickle") == 2
    _one_line_error(capsys, f"{path} {not_trained}SimpleNamespace)")
    # the file they were made from predicts
    assert _predict(tmp_path, tmp_path / "model.skmodel") == 0


def test_files_that_are_no_model(tmp_path, capsys):
    import torch

    _paired_csv(tmp_path)
    torch.save({"w": torch.zeros(3)}, tmp_path / "weights.pt")  # also a zip
    (tmp_path / "text.skmodel").write_text("not a model")
    (tmp_path / "half.skmodel").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    for name in ("weights.pt", "text.skmodel"):
        assert _predict(tmp_path, tmp_path / name) == 2
        _one_line_error(capsys, name, "not a model saved by sktransfer")
    assert _predict(tmp_path, tmp_path / "half.skmodel") == 2
    _one_line_error(capsys, "half.skmodel", "is a damaged or truncated zip file")
    assert _predict(tmp_path, tmp_path / "missing.skmodel") == 2
    _one_line_error(capsys, "no such model file")


def test_a_model_file_cut_short_is_named_as_such(tmp_path, capsys):
    # a half-copied model was "not a model saved by sktransfer"
    raw = _fit(tmp_path, capsys).read_bytes()
    for share in (0.3, 0.6, 0.95):
        cut = tmp_path / f"cut{share}.skmodel"
        cut.write_bytes(raw[: int(len(raw) * share)])
        assert _predict(tmp_path, cut) == 2
        _one_line_error(capsys, cut.name, "is a damaged or truncated zip file")


def test_damaged_compressed_manifest_is_a_one_line_error(tmp_path, capsys):
    import struct

    model = _fit(tmp_path, capsys)
    with zipfile.ZipFile(model) as zf:
        info = zf.getinfo("sktransfer-model.json")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    data = bytearray(model.read_bytes())
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 :][:4])
    start = info.header_offset + 30 + name_len + extra_len
    data[start : start + 7] = b"\xff" * 7  # a deflate block of reserved type
    bad = tmp_path / "bad.skmodel"
    bad.write_bytes(bytes(data))
    assert _predict(tmp_path, bad) == 2
    _one_line_error(capsys, "bad.skmodel", "is a damaged zip file")


def test_unstorable_parameter_is_a_clear_error(tmp_path):
    from skorch.callbacks import EpochTimer

    from sktransfer.cross_modal import SpectroGenRegressor

    rng = np.random.default_rng(0)
    reg = SpectroGenRegressor(max_epochs=1, callbacks=[EpochTimer()])
    reg.fit(rng.random((8, 6)), rng.random((8, 4)))
    with open(tmp_path / "m.skmodel", "wb") as f:
        with pytest.raises(TypeError, match="callbacks.*cannot be stored"):
            save_model(f, reg)


# ------------------------------------------------- validation of arguments
@pytest.mark.parametrize(
    "args, message",
    [
        (["transfer", "fit", "--max-epochs", "0"], "'0' is not a positive integer"),
        (["transfer", "fit", "--max-epochs", "-3"], "is not a positive integer"),
        (["transfer", "fit", "--beta", "-1"], "is not a finite number >= 0"),
        (["transfer", "fit", "--beta", "nan"], "is not a finite number >= 0"),
        (["transfer", "fit", "--random-state", "-1"], "is not an integer >= 0"),
        (["augment", "x.csv", "--max-iter", "0"], "is not a positive integer"),
        (["baseline", "x.csv", "--lam", "0"], "is not a positive number"),
        (["baseline", "x.csv", "--lam", "inf"], "is not a positive number"),
    ],
)
def test_meaningless_numbers_are_rejected_by_the_parser(capsys, args, message):
    base = {"transfer": ["--source", "a.csv", "--target", "b.csv"]}
    with pytest.raises(SystemExit) as exc:
        main([*args, *base.get(args[0], []), "-o", "out"])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_param_that_the_method_cannot_use(tmp_path, capsys):
    x = np.linspace(0.0, 100.0, 50)
    _write_csv(tmp_path / "in.csv", x, np.ones((2, 50)), ["a", "b"])
    out = tmp_path / "out.csv"
    for param in ("weights=abc", "lam=abc", "=3", "lam"):
        status = main(
            ["baseline", str(tmp_path / "in.csv"), "-o", str(out)]
            + [
                "--param",
                param,
            ]
        )
        assert status == 2
        _one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    "options",
    [["--param", "max_halfwindow=20"], ["--lam", "1e5"]],
    ids=["misspelt", "whittaker-only"],
)
def test_setting_snip_would_ignore_is_refused(tmp_path, capsys, options):
    # snip's **kwargs take only padding options: a setting there was
    # ignored, though the output header said it was used
    x = np.linspace(0.0, 100.0, 50)
    _write_csv(tmp_path / "in.csv", x, np.ones((2, 50)) + x, ["a", "b"])
    out = tmp_path / "out.csv"
    run = ["baseline", str(tmp_path / "in.csv"), "-o", str(out), "--method", "snip"]
    assert main([*run, *options]) == 2
    _one_line_error(capsys, "which 'snip' does not accept", "max_half_window")
    assert not out.exists()


def test_binary_labels_file(tmp_path, capsys):
    x = np.linspace(0.0, 100.0, 50)
    _write_csv(tmp_path / "in.csv", x, np.ones((2, 50)), ["a", "b"])
    (tmp_path / "labels.csv").write_bytes(b"\xff\xfe\x00\x01binary\x00")
    args = ["augment", str(tmp_path / "in.csv"), "--labels"]
    args += [str(tmp_path / "labels.csv"), "-o", str(tmp_path / "aug.csv")]
    assert main(args) == 2
    _one_line_error(capsys, "labels.csv is not a text CSV file")


# ------------------------------------------------------ inputs and outputs
def _rruff(path, x, y, name="Quartz", rruff_id="R040031"):
    write_rruff(path, x, y, {"NAMES": name, "RRUFFID": rruff_id}, overwrite=True)
    return path


def test_same_file_names_in_two_folders_are_refused_up_front(tmp_path, capsys):
    x = np.linspace(150.0, 1250.0, 200)
    for folder in ("dirA", "dirB"):
        (tmp_path / folder).mkdir()
        _rruff(tmp_path / folder / "x.txt", x, _peaks(x, [400]) + 1.0)
        _rruff(tmp_path / folder / f"only_{folder}.txt", x, _peaks(x, [600]) + 1.0)
    out = tmp_path / "out"
    args = ["baseline", str(tmp_path / "dirA"), str(tmp_path / "dirB"), "-o", str(out)]
    for extra in ([], ["--overwrite"]):
        assert main(args + extra) == 2
        _one_line_error(capsys, "x.txt from", "dirA", "dirB", "nothing was written")
        assert not out.exists()


def test_baselines_never_replace_the_measured_spectra(tmp_path, capsys):
    # --keep-baseline --overwrite wrote the baselines over their inputs (a
    # CSV file or a RRUFF folder) and exited 0: the measurements were gone
    x = np.linspace(150.0, 1250.0, 200)
    folder = tmp_path / "raman"
    folder.mkdir()
    for i in range(2):
        _rruff(folder / f"s{i}.txt", x, _peaks(x, [400 + 100 * i]) + 1.0 + 1e-3 * x)
    table = tmp_path / "raman.csv"
    table.write_text("x,a,b\n" + "".join(f"{v},{1 + v / 1e3},2.0\n" for v in x))
    for source in (table, folder):
        before = {p: p.read_bytes() for p in [table, *folder.iterdir()]}
        run = ["baseline", str(source), "-o", str(source), "--method", "snip"]
        assert main([*run, "--keep-baseline", "--overwrite"]) == 2
        _one_line_error(capsys, "is an input; writing the baselines over it")
        assert all(p.read_bytes() == data for p, data in before.items())
        assert main([*run, "--overwrite"]) == 0  # a correction in place
    assert "corrected with snip" in read_rruff(folder / "s0.txt").metadata["BASELINE"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_or_device_is_never_replaced_by_an_output(tmp_path, capsys):
    # --overwrite and write_rruff(overwrite=True) renamed the written file
    # onto a named pipe (as root, onto /dev/null): it became a regular file
    import stat

    x = np.linspace(150.0, 1250.0, 200)
    table = tmp_path / "raman.csv"
    table.write_text("x,a\n" + "".join(f"{v},{1 + v / 1e3}\n" for v in x))
    pipe = tmp_path / "out.csv"
    os.mkfifo(pipe)
    for extra in ([], ["--overwrite"]):
        assert main(["baseline", str(table), "-o", str(pipe), *extra]) == 2
        _one_line_error(capsys, "out.csv is a pipe, not a regular file")
    with pytest.raises(ValueError, match="is a pipe, not a regular file"):
        write_rruff(pipe, x, x, overwrite=True)
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "raman.csv"]


def test_augment_names_never_clash(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 64)
    labels = ["Albite"] * 6 + ["Quartz a"] * 2 + ["Quartz/a"] * 2
    for i, label in enumerate(labels):
        centre = 400 if label == "Albite" else 900
        _rruff(src / f"s{i}.txt", x, _peaks(x, [centre]), label, f"R0600{i:02d}")
    # An input already named like a generated spectrum keeps its copy.
    _rruff(src / "generated_Quartz_a_1.txt", x, _peaks(x, [300]), "Albite", "R060099")
    out = tmp_path / "out"
    assert main(["augment", str(src), "-o", str(out), "--max-iter", "3"]) == 0
    printed = capsys.readouterr().out
    assert "generated 10 spectra" in printed
    files = sorted(os.listdir(out))
    assert len(files) == 11 + 10
    assert (out / "generated_Quartz_a_1.txt").read_bytes() == (
        src / "generated_Quartz_a_1.txt"
    ).read_bytes()
    names = [read_rruff(out / f).metadata["NAMES"] for f in files]
    assert names.count("Quartz a") == names.count("Quartz/a") == 7
    assert names.count("Albite") == 7


def _limited(limit, function):
    """Run ``function`` in a child process whose files may not exceed ``limit``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        os._exit(function())
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_failed_write_removes_the_folders_it_made(tmp_path):
    # "nothing was written", yet the output folders it had made stayed
    x = np.linspace(200.0, 1200.0, 2000)
    _write_csv(tmp_path / "in.csv", x, np.vstack([_peaks(x, [500])] * 3), "abc")
    (tmp_path / "kept").mkdir()
    for out in ("new/a/b/out.csv", "kept/c/out.csv"):
        run = ["baseline", str(tmp_path / "in.csv"), "-o", str(tmp_path / out)]
        assert _limited(30_000, lambda run=run: main([*run, "--method", "snip"])) == 2
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "kept"]
    assert os.listdir(tmp_path / "kept") == []


def test_failed_writes_leave_no_partial_output(tmp_path):
    x = np.linspace(200.0, 1200.0, 2000)
    _write_csv(tmp_path / "in.csv", x, np.vstack([_peaks(x, [500])] * 3), "abc")
    out = tmp_path / "out.csv"
    run = ["baseline", str(tmp_path / "in.csv"), "-o", str(out), "--method", "snip"]
    assert _limited(30_000, lambda: main(run)) == 2
    assert sorted(os.listdir(tmp_path)) == ["in.csv"]
    # An existing output survives a failed --overwrite whole.
    out.write_text("keep me")
    assert _limited(30_000, lambda: main([*run, "--overwrite"])) == 2
    assert out.read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["in.csv", "out.csv"]
    # RRUFF output: the files are written all together or none.
    src = tmp_path / "rruff"
    src.mkdir()
    for i in range(4):
        xi = x if i < 3 else np.linspace(200.0, 1200.0, 4000)  # the one too big
        _rruff(src / f"s{i}.txt", xi, _peaks(xi, [300 + 100 * i]) + 1.0)
    dest = tmp_path / "corrected"
    run = ["baseline", str(src), "-o", str(dest), "--method", "snip"]
    assert _limited(75_000, lambda: main(run)) == 2
    assert not dest.exists() or os.listdir(dest) == []


def test_baseline_on_its_own_output_keeps_the_axis_exact(tmp_path, capsys):
    src = tmp_path / "raw"
    src.mkdir()
    x = 2000.0 + 0.002 * np.arange(400)
    _rruff(src / "fine.txt", x, _peaks(x, [2000.4], 0.05) + 1.0 + 1e-3 * x)
    first, second = tmp_path / "once", tmp_path / "twice"
    assert main(["baseline", str(src), "-o", str(first), "--method", "snip"]) == 0
    assert main(["baseline", str(first), "-o", str(second), "--method", "snip"]) == 0
    once, twice = read_rruff(first / "fine.txt"), read_rruff(second / "fine.txt")
    np.testing.assert_array_equal(once.x, x)
    np.testing.assert_array_equal(twice.x, x)
    # The CSV writer is exact too.
    _write_csv(tmp_path / "in.csv", x, np.vstack([once.y]), ["s"])
    run = ["baseline", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")]
    assert main(run) == 0
    capsys.readouterr()
    _, table = _read_csv(tmp_path / "o.csv")
    np.testing.assert_array_equal(table[:, 0], x)


def test_non_monotonic_axis_names_the_file(tmp_path, capsys):
    path = tmp_path / "Odd__R000001__Raman.txt"
    path.write_text("##NAMES=Odd\n100, 1\n102, 2\n101, 3\n103, 4\n")
    assert main(["baseline", str(path), "-o", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, "Odd__R000001__Raman.txt", "strictly monotonic")


def test_pipes_in_inputs_do_not_hang(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 100)
    _rruff(src / "good.txt", x, _peaks(x, [500]) + 1.0)
    os.mkfifo(src / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.csv")
    signal.signal(signal.SIGALRM, _hung)
    signal.alarm(60)  # fail rather than hang
    try:
        assert main(["baseline", str(src), "-o", str(tmp_path / "out")]) == 0
        assert os.listdir(tmp_path / "out") == ["good.txt"]
        capsys.readouterr()
        for pipe in (src / "pipe.txt", tmp_path / "pipe.csv"):
            assert main(["baseline", str(pipe), "-o", str(tmp_path / "o2")]) == 2
            _one_line_error(capsys, "is not a regular file")
    finally:
        signal.alarm(0)


def test_predict_from_spectra_outside_the_model_range(tmp_path, capsys):
    model = _fit(tmp_path, capsys)
    far = tmp_path / "far"
    far.mkdir()
    x = np.linspace(5000.0, 6000.0, 100)  # the model's IR grid ends at 4000
    _rruff(far / "far.txt", x, _peaks(x, [5500]))
    out = tmp_path / "far_out"
    args = ["transfer", "predict", str(far), "-m", str(model), "-o", str(out)]
    assert main(args) == 2
    _one_line_error(capsys, "do not overlap the model's source range", "far.txt")
    assert not out.exists()
    # Partial overlap is filled with 0 and said so.
    x = np.linspace(2000.0, 6000.0, 100)
    _rruff(far / "far.txt", x, _peaks(x, [3000]))
    assert main(args) == 0
    assert "1 spectra do not cover all of" in capsys.readouterr().out


def test_fit_from_rruff_spectra_outside_the_grid(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    x_raman = np.linspace(150.0, 1250.0, 200)
    x_nir = np.linspace(7400.0, 10500.0, 200)  # NIR: the IR grid ends at 4000
    for i in range(3):
        rid = f"R04003{i}"
        _rruff(src / f"Q__{rid}__Infrared.txt", x_nir, _peaks(x_nir, [9000]), "Q", rid)
        _rruff(src / f"Q__{rid}__Raman.txt", x_raman, _peaks(x_raman, [500]), "Q", rid)
    out = tmp_path / "m.skmodel"
    args = ["transfer", "fit", "--source", str(src), "--target", str(src)]
    assert main([*args, "-o", str(out), "--max-epochs", "1"]) == 2
    # the side is named: source and target may be of one modality
    _one_line_error(
        capsys, "3 --source ir spectra do not overlap the ir grid", "Infrared.txt"
    )
    assert not out.exists()
    # Partial overlap is filled with 0 and said so, as predict does.
    x_ir = np.linspace(2000.0, 6000.0, 200)
    for path in src.glob("*Infrared.txt"):
        _rruff(path, x_ir, _peaks(x_ir, [3000]), "Q", path.name.split("__")[1])
    assert main([*args, "-o", str(out), "--max-epochs", "1"]) == 0
    assert (
        "3 --source ir spectra do not cover all of the ir grid"
        in capsys.readouterr().out
    )


def _hung(signum, frame):
    raise TimeoutError("reading the pipe blocked")


def test_output_that_is_a_directory(tmp_path, capsys):
    x = np.linspace(0.0, 100.0, 50)
    _write_csv(tmp_path / "in.csv", x, np.ones((2, 50)) + x, ["a", "b"])
    (tmp_path / "out.csv").mkdir()
    run = ["baseline", str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")]
    assert main([*run, "--overwrite"]) == 2
    _one_line_error(capsys, "out.csv is a directory")


def test_model_name_of_a_folder_to_be_is_refused_before_training(tmp_path, capsys):
    _paired_csv(tmp_path)
    folder = os.path.join(str(tmp_path / "models"), "")
    assert main(_fit_args(tmp_path, folder, epochs=2)) == 2
    captured = capsys.readouterr()
    assert "training" not in captured.out
    assert f"models{os.sep} names a directory; give a file name" in captured.err
    assert not (tmp_path / "models").exists()


def test_failed_model_write_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    import sktransfer.cli._model_file as model_file

    _paired_csv(tmp_path)
    model = tmp_path / "model.skmodel"

    def disk_full(f, estimator, extra=None):
        f.write(b"PK\x03\x04 half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model_file, "save_model", disk_full)
    assert main(_fit_args(tmp_path, model)) == 2
    _one_line_error(capsys, "No space left on device", "nothing was written")
    assert sorted(os.listdir(tmp_path)) == ["ir.csv", "raman.csv"]
    model.write_bytes(b"an older model")
    assert main([*_fit_args(tmp_path, model), "--overwrite"]) == 2
    assert model.read_bytes() == b"an older model"


def test_training_the_estimator_refuses_is_a_one_line_error(
    tmp_path, capsys, monkeypatch
):
    from sktransfer.cross_modal import SpectroGenRegressor

    _paired_csv(tmp_path)

    def refuse(self, X, y):
        raise ValueError("the estimator refuses these pairs.\nSecond line.")

    monkeypatch.setattr(SpectroGenRegressor, "_fit_to_the_end", refuse)
    model = tmp_path / "model.skmodel"
    assert main(_fit_args(tmp_path, model)) == 2
    captured = capsys.readouterr()
    assert "training on 12 pairs" in captured.out
    assert captured.err == (
        "sktransfer transfer: error: the estimator refuses these pairs.\n"
    )
    assert not model.exists()


def test_non_finite_predictions_are_not_saved(tmp_path, capsys, monkeypatch):
    from sktransfer.cross_modal import SpectroGenRegressor

    _paired_csv(tmp_path)
    model = tmp_path / "model.skmodel"
    monkeypatch.setattr(
        SpectroGenRegressor, "predict", lambda self, X: np.full((len(X), 100), np.nan)
    )
    assert main(_fit_args(tmp_path, model)) == 2
    _one_line_error(capsys, "NaN or infinity", "Scale the input spectra")
    assert not model.exists()


def test_model_file_that_is_a_zip_bomb(tmp_path, capsys):
    _paired_csv(tmp_path)
    bomb = tmp_path / "bomb.skmodel"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sktransfer-model.json", "{}")
        zf.writestr("arrays.safetensors", b"\x00" * (8 << 20))
        zf.writestr("modules.safetensors", b"\x00" * 8)
    assert _predict(tmp_path, bomb) == 2
    _one_line_error(capsys, "holds an oversized arrays.safetensors")


@pytest.mark.parametrize("depth", [500, 100_000])
def test_deeply_nested_model_file(tmp_path, capsys, depth):
    from safetensors.numpy import save

    _paired_csv(tmp_path)
    nested = tmp_path / "nested.skmodel"
    deep = "[" * depth + "]" * depth
    manifest = (
        '{"format": "sktransfer-model", "version": 1, "estimator": '
        '"sktransfer.cross_modal._regressor.SpectroGenRegressor", '
        f'"params": {{"beta": {deep}}}, "attributes": {{}}, "extra": {{}}}}'
    )
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("sktransfer-model.json", manifest)
        zf.writestr("arrays.safetensors", save({}))
        zf.writestr("modules.safetensors", save({}))
    assert _predict(tmp_path, nested) == 2
    _one_line_error(capsys, "nested.skmodel")


def test_upper_case_and_hidden_files_in_input_folders(tmp_path, capsys):
    # Instruments on Windows write SAMPLE.TXT; macOS leaves ._name resource
    # forks (binary) beside each file on FAT/exFAT drives and network shares;
    # Jupyter keeps copies in .ipynb_checkpoints.
    src = tmp_path / "in"
    (src / ".ipynb_checkpoints").mkdir(parents=True)
    x = np.linspace(150.0, 1250.0, 100)
    _rruff(src / "a.txt", x, _peaks(x, [400]) + 1.0)
    _rruff(src / "B.TXT", x, _peaks(x, [700]) + 1.0)
    (src / "._a.txt").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    _rruff(src / ".ipynb_checkpoints" / "a-checkpoint.txt", x, x)
    out = tmp_path / "out"
    assert main(["baseline", str(src), "-o", str(out)]) == 0
    assert "corrected 2 spectra" in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ["B.TXT", "a.txt"]


def test_unreadable_file_of_a_rruff_folder_is_named(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(400.0, 4000.0, 300)
    for i in range(3):
        rid = f"R04003{i}"
        _rruff(
            src / f"Q__{rid}__Infrared.txt", x, _peaks(x, [1000 + 100 * i]), "Q", rid
        )
        _rruff(src / f"Q__{rid}__Raman.txt", x, _peaks(x, [500 + 100 * i]), "Q", rid)
    (src / "README.txt").write_text("Spectra from the lab, May 2024\n")
    args = ["transfer", "fit", "--source", str(src), "--target", str(src)]
    assert main([*args, "-o", str(tmp_path / "m.skmodel")]) == 2
    err = _one_line_error(capsys, "README.txt", "non-numeric data row")
    assert "on_error" not in err  # an option of the Python function only
    # A missing modality is told in the verb's options, not load_rruff's.
    (src / "README.txt").unlink()
    for path in src.glob("*Infrared.txt"):
        path.unlink()
    assert main([*args, "-o", str(tmp_path / "m.skmodel")]) == 2
    err = _one_line_error(capsys, "--source-modality ir: no ir spectra in")
    assert "(found: raman)" in err and "require=" not in err


def test_read_only_output_folder_is_refused_before_training(
    tmp_path, capsys, monkeypatch
):
    _paired_csv(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access

    def read_only(path, mode, **kwargs):  # as chmod 555 is for a user, not root
        if os.path.abspath(path) == str(locked) and mode & os.W_OK:
            return False
        return access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", read_only)
    for model in (locked / "model.skmodel", locked / "new" / "model.skmodel"):
        assert main(_fit_args(tmp_path, model, epochs=2)) == 2
        captured = capsys.readouterr()
        assert "training" not in captured.out
        assert "cannot write to" in captured.err and str(locked) in captured.err
    assert os.listdir(locked) == []


def test_longest_file_names_can_be_written(tmp_path, capsys):
    # 250 characters: a legal name, whose temporary name must stay legal too.
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 100)
    name = "Quartz__R040031__Raman__" + "x" * 222 + ".txt"
    assert len(name) == 250
    _rruff(src / name, x, _peaks(x, [400]) + 1.0)
    out = tmp_path / "out"
    assert main(["baseline", str(src), "-o", str(out)]) == 0
    assert os.listdir(out) == [name]


def test_latin1_csv_from_a_spreadsheet(tmp_path, capsys):
    x = np.linspace(200.0, 1200.0, 50)
    Y = np.vstack([_peaks(x, [500]) + 1.0, _peaks(x, [800]) + 1.0])
    table = np.column_stack([x, *Y]).tolist()
    rows = "".join(",".join(map(repr, row)) + "\r\n" for row in table)
    head = "Raman shift (cm-1),S1 25\u00b0C \u00b5m,S2 \u00c5\r\n"
    (tmp_path / "in.csv").write_bytes((head + rows).encode("latin-1"))
    out = tmp_path / "out.csv"
    assert main(["baseline", str(tmp_path / "in.csv"), "-o", str(out)]) == 0
    header, table = _read_csv(out)
    assert header == ["Raman shift (cm-1)", "S1 25\u00b0C \u00b5m", "S2 \u00c5"]
    np.testing.assert_array_equal(table[:, 0], x)


@pytest.fixture
def sigint_handler():
    """Set the process's SIGINT handler for one test, then put it back.

    A process started in the background by a shell ignores SIGINT, so a
    test that needs Python's own handler must install it.
    """
    previous = signal.getsignal(signal.SIGINT)
    yield lambda handler: signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGINT, previous)


def _three_outputs_interrupted(tmp_path, monkeypatch):
    """Outputs of three files whose second rename gets a real Ctrl-C."""
    from sktransfer.cli import _files

    calls = []

    def second_interrupts(publish):
        def publishing(src, dst):
            calls.append(dst)
            if len(calls) == 2:
                signal.raise_signal(signal.SIGINT)  # a real Ctrl-C, mid-way
            publish(src, dst)

        return publishing

    # a new file is published by a hard link, or renamed where there are none
    monkeypatch.setattr(_files.os, "replace", second_interrupts(os.replace))
    monkeypatch.setattr(_files.os, "link", second_interrupts(os.link))
    outputs = _files.Outputs(False, directory=str(tmp_path / "out"))
    for name in ("a.txt", "b.txt", "c.txt"):
        outputs.add_text(str(tmp_path / "out" / name), name, "a test")
    return outputs


def test_ctrl_c_while_renaming_waits_for_the_whole_set(
    tmp_path, monkeypatch, sigint_handler
):
    sigint_handler(signal.default_int_handler)
    outputs = _three_outputs_interrupted(tmp_path, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        outputs.write()
    # No staged file left behind, and not two files of three.
    assert sorted(os.listdir(tmp_path / "out")) == ["a.txt", "b.txt", "c.txt"]
    assert (tmp_path / "out" / "c.txt").read_text() == "c.txt"


def test_ignored_ctrl_c_stays_ignored_while_renaming(
    tmp_path, monkeypatch, sigint_handler
):
    # a process that ignores SIGINT (started in the background) writes its
    # outputs and goes on, as it would without the deferral
    sigint_handler(signal.SIG_IGN)
    outputs = _three_outputs_interrupted(tmp_path, monkeypatch)
    outputs.write()
    assert sorted(os.listdir(tmp_path / "out")) == ["a.txt", "b.txt", "c.txt"]
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_ctrl_c_under_the_default_action_stops_after_renaming(
    tmp_path, monkeypatch, sigint_handler
):
    # SIG_DFL would end the process at once, mid-way: the set is renamed
    # whole, then the Ctrl-C is raised
    sigint_handler(signal.SIG_DFL)
    outputs = _three_outputs_interrupted(tmp_path, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        outputs.write()
    assert sorted(os.listdir(tmp_path / "out")) == ["a.txt", "b.txt", "c.txt"]
    assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL


def test_output_over_an_input_of_another_kind_is_refused(tmp_path, capsys):
    # --overwrite replaces an earlier output; a slip of the tab key must not
    # turn the training data into a model, or the model into predictions.
    model = _fit(tmp_path, capsys)
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    fit = _fit_args(tmp_path, tmp_path / "raman.csv", epochs=1)
    assert main([*fit, "--overwrite"]) == 2
    _one_line_error(capsys, "raman.csv is the --target input; writing the model")
    predict = ["transfer", "predict", str(tmp_path / "ir.csv"), "-m", str(model)]
    assert main([*predict, "-o", str(model), "--overwrite"]) == 2
    _one_line_error(capsys, "model.skmodel is the -m model file; writing the predicted")
    assert main([*predict, "-o", str(tmp_path / "ir.csv"), "--overwrite"]) == 2
    _one_line_error(capsys, "ir.csv is an input; writing the predicted spectra")
    (tmp_path / "labels.csv").write_text("".join(f"m{i},a\n" for i in range(12)))
    augment = ["augment", str(tmp_path / "ir.csv"), "--labels"]
    augment += [str(tmp_path / "labels.csv"), "-o", str(tmp_path / "labels.csv")]
    assert main([*augment, "--overwrite"]) == 2
    _one_line_error(capsys, "labels.csv is the --labels file; writing the spectra")
    assert all(p.read_bytes() == data for p, data in before.items())
    # An in-place correction writes the same kind of file: allowed.
    raman = str(tmp_path / "raman.csv")
    assert main(["baseline", raman, "-o", raman, "--overwrite"]) == 0


def test_csv_files_as_spreadsheets_save_them(tmp_path, capsys):
    from sktransfer.cli._files import read_csv_spectra

    # German and French spreadsheets separate by ';' and write decimal
    # commas; "Unicode text" of Excel is UTF-16, tab-separated.
    x = np.linspace(400.0, 410.0, 21)
    Y = np.random.default_rng(0).uniform(0.0, 1.0, (2, 21))
    table = [[repr(v) for v in row] for row in np.column_stack([x, *Y]).tolist()]
    files = {
        "comma.csv": (";", lambda c: c.replace(".", ","), "utf-8"),
        "point.csv": (";", str, "utf-8"),
        "unicode.csv": ("\t", str, "utf-16"),
    }
    for name, (sep, cell, encoding) in files.items():
        lines = [sep.join(["Wellenzahl (cm-1)", "Probe 1", "Probe 2"])]
        lines += [sep.join(map(cell, row)) for row in table]
        (tmp_path / name).write_bytes("\r\n".join(lines).encode(encoding))
        spectra = read_csv_spectra(str(tmp_path / name))
        assert spectra.names == ["Probe 1", "Probe 2"], name
        np.testing.assert_array_equal(spectra.axes[0], x)
        np.testing.assert_array_equal(spectra.matrix(), Y)
    for content, message in [
        ("x;a\n400,5;1.5\n401,5;0,5\n", "'1.5' has a decimal point, but this ';'"),
        ("x\ta\n400,5\t0,5\n401,5\t0,7\n", "in ';'-separated files only"),
        ("x|a\n400|0.5\n401|0.7\n", "separated by ',', ';' or tab"),
    ]:
        (tmp_path / "bad.csv").write_text(content)
        run = ["baseline", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "o.csv")]
        assert main(run) == 2
        _one_line_error(capsys, "bad.csv", message)


def test_csv_spectra_are_read_without_a_copy_of_every_cell(tmp_path):
    # scale: the table was kept as a list of every cell (a Python string
    # each) and iterated through io.StringIO (4 bytes a character): reading
    # a 73 MiB file of 4,000 spectra peaked at 733 MiB, now 148 MiB
    from sktransfer.cli._files import read_csv_spectra
    from tests.conftest import traced_peak

    x = np.linspace(400.0, 1800.0, 400)
    Y = np.random.default_rng(0).uniform(0.0, 1.0, (150, 400))
    path = tmp_path / "many.csv"
    _write_csv(path, x, Y, [f"s{i}" for i in range(150)])
    size = path.stat().st_size  # 1.1 MB
    spectra, peak = traced_peak(read_csv_spectra, str(path))
    np.testing.assert_array_equal(spectra.matrix(), Y)
    np.testing.assert_array_equal(spectra.axes[0], x)
    # the bytes, their text and the numbers (twice): about 2.3 times the
    # file; the cells and the StringIO were 10 times
    assert peak < 3 * size


def test_compressed_input_is_named_as_such(tmp_path, capsys):
    import gzip

    x = np.linspace(150.0, 1250.0, 100)
    text = _rruff(tmp_path / "a.txt", x, _peaks(x, [400]) + 1.0).read_bytes()
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(text))
    run = ["baseline", str(tmp_path / "a.txt.gz"), "-o", str(tmp_path / "out")]
    assert main(run) == 2
    _one_line_error(capsys, "a.txt.gz is gzip-compressed: unpack it first")


def test_file_name_that_is_not_utf8(tmp_path, capsys):
    # Latin-1 bytes in a name, as an old Windows zip leaves them: the name
    # goes into the header of the prediction, which is UTF-8.
    model = _fit(tmp_path, capsys)
    src = tmp_path / "in"
    src.mkdir()
    rows = "".join(f"{a:.1f}, {a / 4e3:.6f}\n" for a in np.linspace(400, 4000, 120))
    name = b"Quartz_\xe9chantillon__R040031__Infrared.txt"
    try:
        with open(os.path.join(os.fsencode(src), name), "wb") as f:
            f.write(rows.encode())
    except OSError:  # pragma: no cover - a file system that refuses the name
        pytest.skip("this file system refuses names that are not UTF-8")
    out = tmp_path / "out"
    assert (
        main(["transfer", "predict", str(src), "-m", str(model), "-o", str(out)]) == 0
    )
    (written,) = os.listdir(out)
    source = read_rruff(out / written).metadata["SOURCE FILE"]
    assert source == "Quartz_\ufffdchantillon__R040031__Infrared.txt"


def _baseline_folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    x = np.linspace(150.0, 1250.0, 100)
    for i, name in enumerate(["a", "b", "c", "d"]):
        _rruff(
            src / f"{name}.txt",
            x,
            _peaks(x, [400 + 100 * i]) + 1.0,
            rruff_id=f"R04003{i}",
        )
    out = tmp_path / "out"
    assert main(["baseline", str(src), "-o", str(out)]) == 0
    return src, out


def _contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _overwrite_keeps_the_old_set(tmp_path, capsys, patch, *message):
    """A baseline run, then one with --overwrite that ``patch`` makes fail."""
    src, out = _baseline_folder(tmp_path)
    before = _contents(out)
    capsys.readouterr()
    patch()
    args = ["baseline", str(src), "-o", str(out), "--overwrite", "--method", "snip"]
    assert main(args) == 2
    _one_line_error(capsys, *message)
    assert _contents(out) == before  # the old files, and no backup left


def test_overwrite_that_fails_halfway_puts_the_old_set_back(
    tmp_path, capsys, monkeypatch
):
    # --overwrite left the files replaced before the failure: a mixed set
    import sktransfer.cli._files as files

    real_replace = os.replace

    def refuse_c(a, b):
        if os.path.basename(b) == "c.txt" and not a.endswith(".sktransfer-old"):
            raise PermissionError(1, "Operation not permitted")
        return real_replace(a, b)

    _overwrite_keeps_the_old_set(
        tmp_path,
        capsys,
        lambda: monkeypatch.setattr(files.os, "replace", refuse_c),
        "c.txt",
        "Operation not permitted",
        "nothing was written",
    )


def test_overwrite_refuses_before_writing_when_a_file_cannot_be_kept_aside(
    tmp_path, capsys, monkeypatch
):
    import sktransfer.cli._files as files

    real_link = os.link

    def link_but_b(a, b):
        if os.path.basename(a) == "b.txt":
            raise PermissionError(1, "Operation not permitted")
        return real_link(a, b)

    def copy_fails(a, b):
        raise PermissionError(1, "Operation not permitted")

    def patch():
        monkeypatch.setattr(files.os, "link", link_but_b)
        monkeypatch.setattr(files.shutil, "copy2", copy_fails)

    _overwrite_keeps_the_old_set(
        tmp_path, capsys, patch, "cannot replace", "b.txt", "nothing was written"
    )
