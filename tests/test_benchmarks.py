"""Smoke tests of the scripts in ``benchmarks/``.

Each script runs on a tiny synthetic data folder laid out as the data it was
written for (RRUFF text files of ``rruff/paired`` and
``rruff/raman_raw_processed``, the two MATLAB files of ``tablets``), with its
quickest options, so that a change of the package's API cannot break a
benchmark silently. A test checks that the script runs through and prints
every row of its tables with finite numbers; values only where they are
known (file counts, agreement with a reference computation).
"""

import csv
import hashlib
import importlib.util
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from sktransfer.datasets import make_spectra, write_rruff
from tests.datasets._files import QUARTZ_DIF, peak, write_dif

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# On so few samples some points of the benchmarks' grid searches cannot be
# fitted or scored (more components or neighbours than samples), as designed.
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning"),
    pytest.mark.filterwarnings("ignore:One or more of the test scores:UserWarning"),
    pytest.mark.filterwarnings("ignore:Scoring failed:UserWarning"),
    pytest.mark.filterwarnings("ignore:The least populated class:UserWarning"),
    pytest.mark.filterwarnings("ignore:y residual is constant:UserWarning"),
    pytest.mark.filterwarnings("ignore::scipy.optimize.OptimizeWarning"),
]

# The paired samples: (chemical class, species, ideal chemistry, samples),
# four species of each class; classes and species of unequal sizes, as in
# RRUFF. The species of three or four samples make the over-sampling
# benchmark's species task.
ANIONS = {"silicate": "SiO_3_", "sulfate": "SO_4_", "carbonate": "CO_3_"}
SIZES = {"silicate": (4, 3, 3, 2), "sulfate": (3, 2, 2, 1), "carbonate": (3, 1, 1, 1)}
SAMPLES = [
    (group, f"{group.title()}{cation}", f"{cation}{anion}", n)
    for group, anion in ANIONS.items()
    for cation, n in zip(("Mg", "Ca", "Sr", "Ba"), SIZES[group])
]


def _header(species, chemistry, rruff_id, **more):
    """The header fields of a RRUFF file, in the order RRUFF writes them."""
    return {
        "NAMES": species,
        "RRUFFID": rruff_id,
        "IDEAL CHEMISTRY": chemistry,
        "LOCALITY": "Synthetic test locality \u00f8 \u00e9",
        "OWNER": "RRUFF",
        "SOURCE": "sktransfer test suite",
        "DESCRIPTION": "Synthetic spectrum, not a measurement",
        "STATUS": "The identification of this mineral is made up",
        "URL": f"rruff.info/{rruff_id}",
        **more,
    }


def write_paired(root):
    """``rruff/paired``: IR and Raman per RRUFF id, some XRD; the manifests.

    Returns the rows of ``paired/manifest.csv``.
    """
    paired = root / "rruff" / "paired"
    for sub in ("ir", "raman", "xrd_dif", "xrd_xy"):
        (paired / sub).mkdir(parents=True)
    samples = [(g, s, c) for g, s, c, n in SAMPLES for _ in range(n)]
    classes = list(dict.fromkeys(g for g, _, _ in samples))
    counts = [sum(g == c for g, _, _ in samples) for c in classes]
    data = make_spectra(
        len(samples),
        n_classes=len(classes),
        weights=counts,
        baseline=False,
        random_state=0,
    )
    rows_of = {c: list(np.flatnonzero(data.y == k)) for k, c in enumerate(classes)}
    manifest, xy_manifest = [], []
    for i, (group, species, chemistry) in enumerate(samples):
        row = rows_of[group].pop()
        rid = f"R99{i:04d}"
        meta = _header(species, chemistry, rid)
        ir = f"ir/{species}__{rid}-1__Infrared__Infrared_Data_Processed__{i}.txt"
        raman = (
            f"raman/{species}__{rid}__Raman__532__0__unoriented__"
            f"Raman_Data_Processed__{1000 + i}.txt"
        )
        write_rruff(paired / ir, data.ir_axis, data.ir[row], meta)
        write_rruff(paired / raman, data.raman_axis, data.raman[row], meta)
        dif = ""
        if i % 9 == 0:  # a computed DIF peak list (XPOW) for a few samples
            dif = f"xrd_dif/{rid}_CIF.txt"
            write_dif(paired / dif, QUARTZ_DIF, species=species, rruff_id=rid)
        if i % 2 == 0:  # a measured scan, two columns without a header
            name = f"{species}__{rid}-1__Powder__Xray_Data_XY_RAW.txt"
            scan = 100.0 + 1000.0 * np.clip(data.xrd[row], 0.0, None)
            np.savetxt(
                paired / "xrd_xy" / name,
                np.column_stack([data.xrd_axis, scan]),
                fmt="%.5f %.8f",
            )
            xy_manifest.append(
                {
                    "rruff_id": rid,
                    "rruff_sample": f"{rid}-1",
                    "species": species,
                    "formula": chemistry,
                    "file": name,
                    "source_path": f"synthetic/{name}",
                    "source_blob": hashlib.sha1(name.encode()).hexdigest(),
                }
            )
        manifest.append(
            {
                "rruff_id": rid,
                "species": species,
                "ir_file": ir,
                "raman_file": raman,
                "raman_laser_nm": "532",
                "ir_region": "mid-IR",
                "xrd_dif_file": dif,
                "xrd_source": "synthetic" if dif else "",
                "ir_source_blob": hashlib.sha1(ir.encode()).hexdigest(),
                "raman_source_blob": hashlib.sha1(raman.encode()).hexdigest(),
                "n_ir_processed_in_source": "1",
                "n_raman_in_source": "1",
            }
        )
    _write_csv(paired / "manifest.csv", manifest)
    _write_csv(paired / "xrd_xy" / "manifest.csv", xy_manifest)
    return manifest


# raman_raw_processed: (species, chemistry, RRUFF ids, orientations per id)
RAW_PROCESSED = [
    ("Albite", "NaAlSi_3_O_8_", 2, 6),
    ("Actinolite", "Ca_2_(Mg_4.5-2.5_Fe^2+^_0.5-2.5_)Si_8_O_22_(OH)_2_", 2, 6),
    ("Aegirine", "NaFe^3+^Si_2_O_6_", 1, 2),
]


def write_raw_processed(root):
    """``rruff/raman_raw_processed``: RAW and Processed file of each spectrum.

    Newer RRUFF names (orientation, rotation, hash) and header keys
    (``FILETYPE``, ``RAMAN WAVELENGTH``...); RAW is Processed on a sloping
    background, in counts. Returns the number of files.
    """
    folder = root / "rruff" / "raman_raw_processed"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    x = 140.0 + 1.3 * np.arange(900)
    t = (x - x[0]) / (x[-1] - x[0])
    manifest = []
    for s, (species, chemistry, n_ids, n_orient) in enumerate(RAW_PROCESSED):
        centres = rng.uniform(250.0, 1150.0, 5)
        for j in range(n_ids):
            rid = f"R98{s}{j:03d}"
            sample = f"{rid}-{j + 1}"
            for k in range(n_orient):
                angle, rotation = f"{45 * (k // 2)}-000", ("", "ccw")[k % 2]
                heights = rng.uniform(0.2, 1.0, centres.size)
                processed = 5000.0 * sum(
                    h * peak(x, c + rng.normal(0.0, 2.0), 6.0)
                    for h, c in zip(heights, centres)
                )
                background = 4000.0 + 3000.0 * t + rng.uniform(1e3, 4e3) * t**2
                raw = processed + background + rng.normal(0.0, 20.0, x.size)
                for kind, y in (("Processed", processed), ("RAW", raw)):
                    digest = hashlib.sha1(f"{sample}{k}{kind}".encode()).hexdigest()
                    name = (
                        f"{species}__{sample}__Raman__514__{angle}__{rotation}__"
                        f"Raman_Data_{kind}__{digest[:28]}.txt"
                    )
                    meta = _header(
                        species,
                        chemistry,
                        rid,
                        **{
                            "MEASURED CHEMISTRY": chemistry,
                            "PIN_ID": f"S9{s}{j:03d}",
                            "ORIENTATION": f"Laser at {angle} degrees {rotation}",
                            "DIFFRACTION SAMPLE DESCRIPTION": "Powder",
                            "CELL PARAMETERS": "a: 8.1 b: 12.8 c: 7.2",
                            "FILETYPE": f"Raman {kind}",
                            "RAMAN WAVELENGTH": "514",
                        },
                    )
                    write_rruff(folder / name, x, y, meta)
                    manifest.append(
                        {
                            "file": name,
                            "species": species,
                            "rruff_sample": sample,
                            "rruff_id": rid,
                            "laser_nm": "514",
                            "orientation_deg": f"{45 * (k // 2)}.000",
                            "rotation": rotation,
                            "kind": kind,
                            "source_blob": digest,
                        }
                    )
    _write_csv(root / "rruff" / "raman_raw_processed_manifest.csv", manifest)
    return len(manifest)


def write_tablets(root, n_batches=4, per_batch=15, raman_per_batch=4):
    """``tablets``: NIR and Raman of tablets of four types, as MATLAB files.

    ``Matrix`` holds the active substance (% w/w), the type (1-4), for the NIR
    the production scale, then the spectrum (Raman from 3600 down to 200
    cm-1); ``ObjLabels`` are ``"BB_TT"`` (batch_tablet), ``VarLabels`` name
    the columns. Each batch is one type; the Raman file holds the first
    ``raman_per_batch`` tablets of every batch.
    """
    folder = root / "tablets"
    folder.mkdir()
    rng = np.random.default_rng(2)
    nir_x = np.linspace(7398.0, 10507.0, 100)
    raman_x = np.linspace(3600.0, 200.0, 301)
    labels, rows_nir, rows_raman, raman_labels = [], [], [], []
    for b in range(4 * n_batches):
        kind = b % 4 + 1
        level = rng.uniform(0.8, 1.2)
        for t in range(per_batch):
            active = 4.0 + 1.5 * kind + rng.normal(0.0, 0.2)
            label = f"{b + 1:02d}_{t + 1:02d}"
            nir = (
                1.0
                + peak(nir_x, 8300.0, 400.0) * level
                + 0.05 * active * peak(nir_x, 9800.0, 300.0)
                + rng.normal(0.0, 0.01, nir_x.size)
            )
            labels.append(label)
            rows_nir.append([active, kind, b % 3, *nir])
            if t < raman_per_batch:
                raman = (
                    peak(raman_x, 1600.0, 30.0)
                    + 0.05 * active * peak(raman_x, 2230.0, 15.0)
                    + rng.normal(0.0, 0.005, raman_x.size)
                )
                raman_labels.append(label)
                rows_raman.append([active, kind, *raman])
    for name, rows, lab, heads, x in (
        ("NIRdata_tablets.mat", rows_nir, labels, 3, nir_x),
        ("Ramandata_tablets.mat", rows_raman, raman_labels, 2, raman_x),
    ):
        columns = ["active (%w/w)", "Type", "Scale"][:heads] + [f"{v:.3f}" for v in x]
        savemat(
            folder / name,
            {
                "Matrix": np.array(rows, dtype=float),
                "ObjLabels": np.array([s.ljust(16) for s in lab]),
                "VarLabels": np.array([s.ljust(16) for s in columns]),
            },
        )
    return folder


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A tiny copy of the benchmark data folder's layout: ``rruff``, ``tablets``."""
    root = tmp_path_factory.mktemp("data")
    write_paired(root)
    write_raw_processed(root)
    write_tablets(root)
    return root


def run_main(name, args, monkeypatch, capsys, replace=None):
    """Run ``benchmarks/<name>.py``'s ``main()``; returns (result, stdout).

    ``replace`` maps names of the script's module to stand-ins.
    """
    path = BENCHMARKS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for attribute, value in (replace or {}).items():
        setattr(module, attribute, value)
    monkeypatch.setattr(sys, "argv", [str(path), *map(str, args)])
    result = module.main()
    return result, capsys.readouterr().out


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|\bnan\b|\binf\b)", re.I)


def numbers(line):
    """The numbers of a printed line, as floats."""
    return [float(v) for v in NUMBER.findall(line)]


def line_of(out, start):
    """The one printed line that starts with ``start`` (after white space)."""
    found = [line for line in out.splitlines() if line.strip().startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


def assert_finite(line):
    values = numbers(line)
    assert values and all(math.isfinite(v) for v in values), line


def assert_rows(out, names):
    """Each row named in ``names`` is printed once, with finite numbers."""
    for name in names:
        assert_finite(line_of(out, name).strip()[len(name) :])


def test_bench_load_rruff(data_dir, monkeypatch, capsys):
    result, out = run_main(
        "bench_load_rruff", ["--data", data_dir / "rruff"], monkeypatch, capsys
    )
    assert result == 0
    n_samples = sum(n for *_, n in SAMPLES)
    n_raw_processed = 2 * sum(ids * n for _, _, ids, n in RAW_PROCESSED)
    # files, read by us, our time, read by loadtxt, its time, max |difference|
    for name, n in (
        ("paired IR+Raman", 2 * n_samples),
        ("raman_raw_processed  ", n_raw_processed),
    ):
        row = numbers(line_of(out, name)[len(name) :])
        assert row[0] == row[1] == row[3] == n and row[5] == 0.0, row
    assert numbers(line_of(out, "DIF  "))[:2] == [3, 3]
    # loaded, expected, skipped: every count as the manifests say
    for what in (
        "paired samples (IR + Raman)",
        "same files as manifest",
        "samples with XRD (DIF)",
        "samples with a measured XRD scan",
        "raman_raw_processed files",
        "complete RAW/Processed pairs by pair_key",
        "DIF files rendered on the 2-theta grid",
    ):
        loaded, expected, skipped = numbers(line_of(out, what)[len(what) + 2 :])[:3]
        assert loaded == expected > 0 and skipped == 0, what
    assert f"ir     rows fully covered {n_samples}/{n_samples}" in out
    assert f"raman  rows fully covered {n_samples}/{n_samples}" in out
    assert "Total failures: 0" in out


def test_bench_outputs(monkeypatch, capsys):
    _, out = run_main("bench_outputs", [], monkeypatch, capsys)
    assert_rows(out, ["save (s)", "load (s)", "size (kB)"])
    assert_rows(out, ["write_rruff (s)", "CLI batch (s)"])
    assert "identical predictions after loading: True" in out
    assert "axis read back exactly: True" in out


def test_bench_preprocessing_metrics(data_dir, monkeypatch, capsys):
    args = ["--data", data_dir / "rruff", "--n-rows", 64, "--repeats", 1]
    _, out = run_main("bench_preprocessing_metrics", args, monkeypatch, capsys)
    assert "1. Speed on 64 x 1024 RRUFF Raman spectra" in out
    for operation in (
        "Resampler linear 1024->2048",
        "Resampler cubic 1024->2048",
        "MinMaxNormalizer",
        "StandardNormalVariate",
        "AreaNormalizer(norm='l2')",
        "spectral_correlation",
        "spectral_rmse",
    ):
        line = line_of(out, operation)
        assert_finite(line[30:])
        # the reference computes the same: the last column is the difference
        assert numbers(line)[-1] < 1e-9, line
    groups = [
        "Albite: random halves",
        "Albite: halves by RRUFF id",
        "Actinolite: halves by RRUFF id",
        "Albite vs Actinolite",
        "Albite half vs mean + noise",
        "Albite half vs collapsed (30 %)",
    ]
    for name in groups:
        assert_finite(line_of(out, name)[34:].rsplit("  ", 1)[0])
    # the two minerals have peaks at other places: told apart
    scores = numbers(line_of(out, "Albite vs Actinolite")[34:])
    assert min(scores[2:5]) > 0.9


def test_bench_baseline(data_dir, monkeypatch, capsys):
    args = ["--data", data_dir / "rruff", "--n-spectra", 16, "--n-points", 256]
    _, out = run_main("bench_baseline", [*args, "--repeats", 1], monkeypatch, capsys)
    assert "## Speed: 16 synthetic spectra x 256 points" in out
    for method in ("airpls", "arpls", "asls", "modpoly", "snip"):
        cells = line_of(out, f"| {method} |").split("|")[2:-1]
        assert len(cells) == 12
        assert_finite(" ".join(cells))
    n_pairs = sum(ids * n for _, _, ids, n in RAW_PROCESSED)
    assert f"## Quality: {n_pairs} RRUFF Raman RAW/Processed pairs" in out
    for lam in ("1e+03", "1e+04", "1e+05", "1e+06", "1e+07", "1e+08"):
        assert_rows(out, [f"lam=   {lam}  mean CV r ="])
    for label in (
        "no correction",
        "straight-line detrend",
        "AirPLS (default lam=1e6)",
        "AirPLS (GridSearchCV lam=",
        "ArPLS (default lam=1e5)",
        "AsLS (default lam=1e6, p=0.01)",
        "ModPoly (default poly_order=2)",
        "SNIP (max_half_window=40)",
    ):
        r, rmse = (float(v) for v in line_of(out, f"| {label}").split("|")[-3:-1])
        assert -1.0 <= r <= 1.0 and math.isfinite(rmse), label


@pytest.fixture
def peaks_dir(tmp_path):
    """``rruff/paired/raman`` of four Raman spectra with three clear peaks.

    Few peaks keep the benchmark's curve_fit and lmfit references quick.
    """
    folder = tmp_path / "rruff" / "paired" / "raman"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    x = np.linspace(135.0, 1302.0, 2400)
    for i, (species, chemistry, _, _) in enumerate(RAW_PROCESSED + RAW_PROCESSED[:1]):
        rid = f"R97{i:04d}"
        y = sum(
            h * peak(x, c + 10.0 * i, w)
            for c, h, w in ((400.0, 1.0, 6.0), (700.0, 0.6, 8.0), (1000.0, 0.4, 5.0))
        )
        y = 100.0 * (y + rng.normal(0.0, 0.003, x.size))
        name = f"{species}__{rid}__Raman__532__0__unoriented__Raman_Data_Processed__{i}"
        write_rruff(folder / f"{name}.txt", x, y, _header(species, chemistry, rid))
    return tmp_path / "rruff"


PEAKS_QUICK = ["--quick", "--threads", 1, "--n-curve-fit", 1, "--n-lmfit", 1]


def test_bench_peaks_real_spectra(peaks_dir, monkeypatch, capsys):
    args = ["--data", peaks_dir, *PEAKS_QUICK, "--n-table", 4]
    _, out = run_main(
        "bench_peaks", [*args, "--part", "table", "hetero"], monkeypatch, capsys
    )
    assert "## Peak table: 4 real RRUFF Raman spectra" in out
    for method in (
        "sktransfer, one PeakProfileFitter call per spectrum",
        "sktransfer, fit_peak_table in one call",
        "curve_fit loop (same box, trf)",
        "curve_fit loop (unbounded, lm)",
        "lmfit loop",
    ):
        assert_rows(out, [f"| {method} |"])
    assert len(re.findall(r"^fit_peak_table vs curve_fit loop .* bar", out, re.M)) == 2
    assert "not converged: 0 of 4" in out
    assert "## Heterogeneous: 100 real-shaped spectra (4 RRUFF spectra" in out
    assert_rows(out, ["| fit_peak_table, one call |", "| curve_fit loop (scaled) |"])
    assert_finite(line_of(out, "speed-up:"))


def test_bench_peaks_synthetic(tmp_path, monkeypatch, capsys):
    args = ["--data", tmp_path, *PEAKS_QUICK, "--n-lmfit-speed", 1]
    _, out = run_main(
        "bench_peaks", [*args, "--part", "families", "shared"], monkeypatch, capsys
    )
    assert "## Peak-shape families: 30 spectra" in out
    assert_rows(out, ["| gaussian |", "| lorentzian |", "| voigt |"])
    assert_finite(line_of(out, "slowest / fastest (CPU time):"))
    assert "## Shared peaks: 100 x 1024 x 6 Voigt peaks" in out
    assert_rows(out, ["| PeakProfileFitter |", "| lmfit loop (scaled) |"])
    assert_finite(line_of(out, "speed-up:"))


def test_bench_peaks_legacy(peaks_dir, monkeypatch, capsys):
    # lmfit takes minutes a spectrum with the 20 and 40 peaks of these tables:
    # a perfect fit stands in for it (the tests above run the real lmfit loop)
    args = ["--data", peaks_dir, *PEAKS_QUICK, "--n-rruff", 2, "--n-lmfit-speed", 1]
    _, out = run_main(
        "bench_peaks",
        [*args, "--part", "legacy"],
        monkeypatch,
        capsys,
        replace={"lmfit_voigt": lambda x, y, *args: y},
    )
    assert "## Synthetic: 100 (noiseless) / 100 (noisy) spectra" in out
    for noise in ("0", "0.01"):
        assert_finite(line_of(out, f"| {noise} |"))
    assert_rows(out, ["| sktransfer (cpu) |", "| lmfit loop (scaled) |"])
    assert "## RRUFF processed Raman (paired/raman): 2 spectra (0 skipped" in out
    for n_peaks in (10, 20, 40):
        assert_finite(line_of(out, f"| {n_peaks} |"))
    for baseline in ("none", "constant", "linear"):
        assert_finite(line_of(out, f"| {baseline} |"))


def test_bench_augmentation(data_dir, monkeypatch, capsys):
    args = ["--data", data_dir, "--folds", 3, "--wgan", "max_iter=2", "--threads", 1]
    _, out = run_main("bench_augmentation", [*args, "--no-timing"], monkeypatch, capsys)
    # the species task names the species: its folds cannot be grouped, and
    # its heading says so
    assert "classes of 3-4; 3 folds stratified by spectrum, not grouped ==" in out
    assert "classes of 6-12; 3 folds grouped by species (12 groups) ==" in out
    assert "classes of 60-60; 3 folds grouped by production batch (16 groups) ==" in out
    for task in ("raman-anion", "ir-species", "tablets-nir"):
        table = out.split(f"== {task}: ", 1)[1].split("\nrealism ", 1)[0]
        for sampler in ("none", "random", "smote", "wgan-gp"):
            # balanced accuracy and F1 of three classifiers, the fit time
            assert len(numbers(line_of(table, f"{sampler} "))) == 7, (task, sampler)
            assert_finite(line_of(table, f"{sampler} "))
    # the tablets keep enough held-out spectra for the realism rows
    tablets = out.split("== tablets-nir: ", 1)[1].split("\nrealism ", 1)[1]
    realism, within = tablets.split("realism against held-out spectra of the seen")
    for sampler in ("random", "smote", "wgan-gp"):
        assert_finite(line_of(realism, f"{sampler} "))
    assert_finite(line_of(within, "measured "))
    for sampler in ("random", "smote", "wgan-gp"):
        assert_finite(line_of(within, f"{sampler} "))
    assert_finite(line_of(out, "WGAN-GP >= SMOTE (balanced accuracy) in"))
    assert_finite(line_of(out, "per (cell, fold): WGAN-GP >= SMOTE in"))


def test_bench_material_type(data_dir, monkeypatch, capsys):
    args = ["--data", data_dir / "rruff" / "paired", "--quick", "--threads", 1]
    _, out = run_main(
        "bench_material_type", [*args, "--repeats", 2], monkeypatch, capsys
    )
    n_samples = sum(n for *_, n in SAMPLES)
    assert f"{n_samples} minerals, {len(SAMPLES)} species; classes: carbonate" in out
    for row in (
        "(a) measured IR",
        "(b) measured Raman",
        "(c) Raman generated by SpectroGen",
        "(d) Raman generated by kNN",
        "(e) IR + SpectroGen Raman",
        "(f) IR + kNN Raman",
        "(g) IR, SpectroGen Raman: late fusion",
        "(h) IR, kNN Raman: late fusion",
    ):
        line = line_of(out, f"{row:38s} ")
        assert "over 2 shuffles" in line
        assert_finite(line[len(row) :])
    assert_finite(line_of(out, "late fusion, weight of the generated Raman"))
    assert_finite(line_of(out, "generated Raman, SpectroGen vs kNN:"))
    assert_finite(line_of(out, "over 2 shuffles: generated Raman"))
    for row in ("(e) IR + SpectroGen Raman", "(g) IR, SpectroGen Raman: late fusion"):
        assert_finite(line_of(out, f"{row} minus IR alone, per shuffle:")[len(row) :])


MODELS = [
    "SpectroGen (defaults)",
    "SpectroGen + pairwise, averaged",
    "mean spectrum",
    "Ridge (tuned, nested)",
    "PLS (tuned, nested)",
    "kNN (tuned, nested)",
    "Extra trees (tuned, nested)",
    "pairwise similarity (fixed)",
    "oracle: best training spectrum",
    "oracle: mean of 5 best",
    "oracle: best of SpectroGen's 10",
    "oracle: best of 10 by source r",
]


def section(out, title):
    """The lines printed under the ``== title ...`` heading."""
    return out.split(f"\n== {title}", 1)[1].split("\n== ", 1)[0]


def assert_models(table, models, n_numbers):
    """Every model's row, with ``n_numbers`` finite numbers."""
    for name in models:
        values = numbers(line_of(table, f"{name:32s} ")[32:])
        assert len(values) == n_numbers and all(map(math.isfinite, values)), name


def cross_modal(data_dir, args, monkeypatch, capsys):
    data = data_dir / "rruff" / "paired"
    args = ["--data", data, "--quick", "--threads", 1, *args]
    _, out = run_main("bench_cross_modal", args, monkeypatch, capsys)
    n_samples = sum(n for *_, n in SAMPLES)
    assert out.startswith(f"RRUFF pairs: {n_samples} samples, {len(SAMPLES)} species")
    return out


def test_bench_cross_modal_ir_raman(data_dir, monkeypatch, capsys):
    args = ["--folds", 3, "--seeds", 7, "--skip", "xrd,tablets,speed"]
    out = cross_modal(data_dir, args, monkeypatch, capsys)
    grouped = section(out, "IR -> Raman, GroupKFold(3) by species")
    models = [*MODELS[:1], "SpectroGen (3 tuned in folds)", *MODELS[1:]]
    assert_models(grouped, models, 6)
    for row in ("defaults", "3 tuned in folds"):
        line = line_of(grouped, f"SpectroGen {row} r ")
        assert "vs best baseline" in line and "bar +0.05:" in line
        assert_finite(line[len(f"SpectroGen {row}") :])
    # the margin over every baseline, for both rows
    for name in MODELS[2:8]:
        lines = [v for v in grouped.splitlines() if v.startswith(f"  vs {name} ")]
        assert len(lines) == 2, name
        for line in lines:
            assert_finite(line[len(f"  vs {name}") :])
    line = line_of(grouped, "SpectroGen defaults over random_state 0-6: r")
    assert len(numbers(line.split(": r", 1)[1])) == 7
    assert_finite(line_of(grouped, "min "))
    assert_finite(line_of(grouped, "mean of the predictions of random_state 1-5:"))
    shuffled = section(out, "IR -> Raman, shuffled KFold(3) (species leak)")
    assert_models(shuffled, MODELS, 6)
    assert "margin" in line_of(shuffled, "SpectroGen defaults r ")
    assert "XRD" not in out and "tablets" not in out and "Speed" not in out


def test_bench_cross_modal_xrd(data_dir, monkeypatch, capsys):
    args = ["--folds", 3, "--seeds", 1, "--no-tuned", "--skip", "random,tablets,speed"]
    out = cross_modal(data_dir, args, monkeypatch, capsys)
    assert_models(section(out, "IR -> Raman, GroupKFold(3) by species"), MODELS, 6)
    n_scans = len(list((data_dir / "rruff" / "paired" / "xrd_xy").glob("*.txt")))
    for source in ("IR", "RAMAN"):
        table = section(out, f"{source} -> measured XRD, GroupKFold(5) by species")
        assert f"({n_scans} samples) ==" in table.splitlines()[0]
        assert_models(table, MODELS, 6)
        assert_finite(line_of(table, "SpectroGen defaults r "))
    assert "shuffled" not in out and "tablets" not in out and "Speed" not in out


def test_bench_cross_modal_tablets_speed(data_dir, monkeypatch, capsys):
    args = ["--folds", 3, "--seeds", 1, "--no-tuned", "--skip", "random,xrd"]
    out = cross_modal(data_dir, args, monkeypatch, capsys)
    tablets = section(out, "NIR -> Raman, tablets, GroupKFold(4) by batch")
    assert tablets.startswith(" (64 tablets, 16 batch groups; NIR 100 points")
    assert_finite(line_of(tablets, "measured (reference) "))
    assert_models(tablets, MODELS, 3)
    assert_finite(line_of(tablets, "SpectroGen defaults, random_state 1-4:"))
    assert_finite(line_of(tablets, "PLS on the NIR itself (no Raman): RMSEP"))
    speed = section(out, "Speed")
    assert_finite(line_of(speed, "fit with defaults (3 epochs):"))
    assert_finite(line_of(speed, "prediction:"))


def _copy_pairs(src, dst, species):
    """Copy the IR and Raman files of ``species`` from ``src`` to ``dst``."""
    for sub in ("ir", "raman"):
        (dst / sub).mkdir(parents=True)
        for path in (src / sub).glob("*.txt"):
            if path.name.split("__")[0] in species:
                shutil.copy(path, dst / sub / path.name)


@pytest.mark.parametrize("keep_seen", [False, True])
def test_bench_cross_modal_test_data(
    data_dir, tmp_path, keep_seen, monkeypatch, capsys
):
    """Trained on one folder, tested on another: the held-out species only,
    scored on the test pairs (the mean-spectrum row against its own
    computation)."""
    from sktransfer.datasets import load_rruff
    from sktransfer.metrics import spectral_correlation

    paired = data_dir / "rruff" / "paired"
    names = [s for _, s, _, _ in SAMPLES]
    unseen = {s for s in names if s.endswith("Ba")}
    seen = names[0]  # also in the training folder
    train, test = tmp_path / "train", tmp_path / "test"
    _copy_pairs(paired, train, set(names) - unseen)
    _copy_pairs(paired, test, unseen | {seen})
    n_seen = sum(n for _, s, _, n in SAMPLES if s == seen)
    n_unseen = sum(n for _, s, _, n in SAMPLES if s in unseen)
    args = ["--data", train, "--test-data", test, "--quick", "--threads", 1]
    args += ["--seeds", 1, "--no-tuned", "--skip", "random,xrd,tablets,speed"]
    if keep_seen:
        args.append("--keep-seen")
    _, out = run_main("bench_cross_modal", args, monkeypatch, capsys)
    n_test = n_unseen + n_seen * keep_seen
    n_species = len(unseen) + keep_seen
    assert (
        f"{n_unseen + n_seen} read, {n_seen} of a species the training pairs hold "
        f"({'kept' if keep_seen else 'left out'}); {n_test} tested, "
        f"{n_species} species"
    ) in out
    table = section(out, "IR -> Raman, trained on all")
    assert f"({n_test} samples) ==" in table.splitlines()[0]
    assert "GroupKFold" not in out
    assert_models(table, MODELS, 6)
    assert_finite(line_of(table, "SpectroGen defaults r "))
    # the mean training spectrum, scored on the kept test pairs only
    d_train = load_rruff(train, outside="zero", normalize="max")
    d_test = load_rruff(test, outside="zero", normalize="max")
    keep = [keep_seen or s in unseen for s in d_test.species]
    Y = d_test.raman[keep]
    r = spectral_correlation(
        Y, np.tile(d_train.raman.mean(0), (len(Y), 1)), multioutput="raw_values"
    )
    assert numbers(line_of(table, f"{'mean spectrum':32s} ")[32:])[0] == pytest.approx(
        r.mean(), abs=6e-4
    )


def test_bench_cross_modal_test_data_all_seen(data_dir, monkeypatch, capsys):
    paired = data_dir / "rruff" / "paired"
    args = ["--data", paired, "--test-data", paired, "--quick", "--threads", 1]
    with pytest.raises(SystemExit, match="no test pair left"):
        run_main("bench_cross_modal", args, monkeypatch, capsys)


def _write_task_csv(path, X, y, groups=None):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        head = ["label", *(["group"] if groups is not None else [])]
        writer.writerow([*head, *(f"p{i}" for i in range(X.shape[1]))])
        for i, row in enumerate(X):
            first = [y[i], *([groups[i]] if groups is not None else [])]
            writer.writerow([*first, *map(repr, row.tolist())])


def task_table(out, task, y, n_points):
    """The augmentation benchmark's table of ``task``, its heading checked
    against the labels ``y``, and every sampler's row of 7 finite numbers
    (balanced accuracy and F1 of three classifiers, the fit time)."""
    counts = np.unique(y, return_counts=True)[1]
    assert (
        f"== {task}: {len(y)} spectra x {n_points} points, {len(counts)} "
        f"classes of {counts.min()}-{counts.max()}; "
    ) in out
    table = out.split(f"== {task}: ", 1)[1].split("\nrealism", 1)[0]
    for sampler in ("none", "random", "smote", "wgan-gp"):
        assert len(numbers(line_of(table, f"{sampler} "))) == 7, (task, sampler)
        assert_finite(line_of(table, f"{sampler} "))
    return table


@pytest.mark.parametrize("grouped", [True, False])
def test_bench_augmentation_csv(tmp_path, grouped, monkeypatch, capsys):
    """A task of one's own from a CSV file: the table, and the no-resampling
    3-NN row against the same folds computed here."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier

    path = tmp_path / "serum.csv"
    X, y, groups = _noisy_task_csv(path, grouped)
    args = ["--csv", path, "--folds", 3, "--wgan", "max_iter=2", "--threads", 1]
    _, out = run_main("bench_augmentation", [*args, "--no-timing"], monkeypatch, capsys)
    table = task_table(out, "serum", y, X.shape[1])
    # the heading says how the folds were made
    if grouped:
        assert f"; 3 folds grouped by group ({len(np.unique(groups))} groups) ==" in out
    else:
        assert "; 3 folds stratified by spectrum, not grouped ==" in out
    if grouped:
        cv = StratifiedGroupKFold(3, shuffle=True, random_state=0)
    else:
        cv = StratifiedKFold(3, shuffle=True, random_state=0)
    bacc = [
        balanced_accuracy_score(
            y[te], KNeighborsClassifier(3).fit(X[tr], y[tr]).predict(X[te])
        )
        for tr, te in cv.split(X, y, groups)
    ]
    assert numbers(line_of(table, "none "))[4] == pytest.approx(np.mean(bacc), abs=6e-4)
    assert_finite(line_of(out, "WGAN-GP >= SMOTE (balanced accuracy) in"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("group,p0,p1\na,1,2\n", "no 'label' column"),
        ("label,p0,p1\na,1,2\nb,1\n", "line 3: 2 fields, the header has 3"),
        ("label,p0,p1\na,1,2\nb,1,x\n", "line 3: not a number"),
        ("label,p0,p1\na,1,2\nb,1,nan\n", "NaN or infinite"),
        ("label,p0,p1\na,1,2\na,1,3\n", "at least two classes"),
        ("label,p0,p0\na,1,2\nb,1,3\n", "appears twice"),
        ("label,p0\n", "at least one spectrum"),
    ],
)
def test_bench_augmentation_csv_bad_input(tmp_path, text, message, monkeypatch, capsys):
    path = tmp_path / "task.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit, match=message):
        run_main("bench_augmentation", ["--csv", path], monkeypatch, capsys)


def test_bench_augmentation_csv_byte_order_mark(tmp_path, monkeypatch, capsys):
    """A CSV saved by a spreadsheet program starts with a byte-order mark."""
    data = make_spectra(30, n_classes=2, weights=[20, 10], random_state=0)
    path = tmp_path / "sheet.csv"
    _write_task_csv(path, data.raman[:, ::20], data.y)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    args = ["--csv", path, "--folds", 3, "--wgan", "max_iter=1", "--threads", 1]
    _, out = run_main("bench_augmentation", [*args, "--no-timing"], monkeypatch, capsys)
    assert (
        "== sheet: 30 spectra x 30 points, 2 classes of 10-20; 3 folds "
        "stratified by spectrum, not grouped ==" in out
    )


def test_bench_augmentation_needs_data_or_csv(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        run_main("bench_augmentation", [], monkeypatch, capsys)
    assert "give --data, --csv or both" in capsys.readouterr().err


def test_bench_augmentation_all_cells_tied(tmp_path, monkeypatch, capsys):
    """A task every classifier gets right: said, not a NaN summary."""
    data = make_spectra(
        36, n_classes=2, weights=[27, 9], baseline=False, random_state=1
    )
    path = tmp_path / "easy.csv"
    _write_task_csv(path, data.raman[:, ::10], data.y)
    args = ["--csv", path, "--folds", 3, "--wgan", "max_iter=2", "--threads", 1]
    _, out = run_main("bench_augmentation", [*args, "--no-timing"], monkeypatch, capsys)
    assert "every cell (3) tied at 1.000, nothing to compare" in out
    assert "nan" not in out.lower()


def test_bench_augmentation_tablets_raman(data_dir, monkeypatch, capsys):
    """The Raman tablets task: types 1 and 2 cut to every third tablet."""
    args = ["--data", data_dir, "--tasks", "tablets-raman", "--folds", 3]
    args += ["--wgan", "max_iter=2", "--threads", 1, "--no-timing"]
    _, out = run_main("bench_augmentation", args, monkeypatch, capsys)
    # 4 batches of 4 Raman tablets per type: 16, 16, and 6, 6 after the cut;
    # every third of the 301 points
    assert (
        "== tablets-raman: 44 spectra x 101 points, 4 classes of 6-16; 3 folds "
        "grouped by production batch (16 groups) ==" in out
    )
    table = out.split("== tablets-raman: ", 1)[1].split("\nrealism", 1)[0]
    for sampler in ("none", "random", "smote", "wgan-gp"):
        assert len(numbers(line_of(table, f"{sampler} "))) == 7, sampler
        assert_finite(line_of(table, f"{sampler} "))
    assert "realism   none measured (no over-sampled class has 5" in out
    assert "raman-anion" not in out and "tablets-nir" not in out


def test_bench_augmentation_ir_anion(data_dir, monkeypatch, capsys):
    """The anion groups from the IR spectra, grouped by species: the task's
    spectra, labels and groups, and its table."""
    from sktransfer.datasets import anion_group, load_rruff

    args = ["--data", data_dir, "--tasks", "ir-anion", "--folds", 3]
    args += ["--wgan", "max_iter=2", "--threads", 1, "--no-timing"]
    _, out = run_main("bench_augmentation", args, monkeypatch, capsys)
    d = load_rruff(data_dir / "rruff" / "paired", outside="zero", normalize="max")
    y = np.array([anion_group(m["ideal_chemistry"]) for m in d.metadata])
    assert sorted(set(y)) == sorted(ANIONS)
    spec = importlib.util.spec_from_file_location(
        "_bench_augmentation_tasks", BENCHMARKS / "bench_augmentation.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    X, labels, groups, mode = module.load_tasks(data_dir, ["ir-anion"])["ir-anion"]
    np.testing.assert_array_equal(X, d.ir)
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_array_equal(groups, d.species)
    assert mode == "group"
    task_table(out, "ir-anion", y, d.ir.shape[1])
    assert "raman-anion" not in out


def test_bench_augmentation_unknown_task(data_dir, monkeypatch, capsys):
    args = ["--data", data_dir, "--tasks", "raman-anion,ir-speces", "--no-timing"]
    with pytest.raises(SystemExit, match="unknown task.*ir-speces.*known: raman-anion"):
        run_main("bench_augmentation", args, monkeypatch, capsys)


def _noisy_task_csv(path, grouped=True):
    """A 3-class CSV task, noisy enough that no classifier is perfect."""
    data = make_spectra(
        48, n_classes=3, weights=[30, 9, 9], baseline=False, random_state=1
    )
    rng = np.random.default_rng(0)
    X = data.raman[:, ::10] + rng.normal(0, 0.5, (len(data.y), 60))
    y = np.array(["common", "rare a", "rare b"])[data.y]
    # six subjects, each with spectra of every class
    groups = np.array([f"s{i % 6}" for i in range(len(y))]) if grouped else None
    _write_task_csv(path, X, y, groups)
    return X, y, groups


def _tuned(args, tune, X, y, monkeypatch, capsys):
    """Run with ``--tune tune``: the output, the task's table and, per
    classifier, the value picked in each fold."""
    args = [*args, "--tune", tune]
    _, out = run_main("bench_augmentation", args, monkeypatch, capsys)
    table = task_table(out, "serum", y, X.shape[1])
    line = line_of(table, f"picks     {tune.split('=')[0]} of the tuned row")
    picks = {
        c: line.split(f"{c} ", 1)[1].split(";")[0].split()
        for c in ("logreg", "svc", "knn3")
    }
    return out, table, picks


def test_bench_augmentation_tune(tmp_path, monkeypatch, capsys):
    """--tune: a value chosen in the training folds gives the same row as
    the sampler fitted with that value; the picks and the summary."""
    path = tmp_path / "serum.csv"
    X, y, _ = _noisy_task_csv(path)
    args = ["--csv", path, "--folds", 3, "--wgan", "max_iter=2", "--threads", 1]
    args += ["--no-timing"]
    # one value twice: the tuned row is the defaults' row
    out, table, picks = _tuned(
        args, "shared_variation=1.0,1.0", X, y, monkeypatch, capsys
    )
    tuned = numbers(line_of(table, "tuned "))
    assert len(tuned) == 7
    assert tuned[:6] == numbers(line_of(table, "wgan-gp "))[:6]
    assert picks == {c: ["1.0"] * 3 for c in ("logreg", "svc", "knn3")}
    assert_finite(line_of(out, "WGAN-GP, shared_variation tuned >= SMOTE"))
    # two values: each fold's pick is one of them
    _, _, picks = _tuned(args, "shared_variation=0,1", X, y, monkeypatch, capsys)
    for chosen in picks.values():
        assert len(chosen) == 3 and set(chosen) <= {"0", "1"}, picks


def test_bench_augmentation_tune_sampler(tmp_path, monkeypatch, capsys):
    """--tune sampler=...: the sampler chosen in the training folds; a
    classifier given one sampler in every fold scores that sampler's row."""
    path = tmp_path / "serum.csv"
    X, y, _ = _noisy_task_csv(path)
    args = ["--csv", path, "--folds", 3, "--wgan", "max_iter=2", "--threads", 1]
    args += ["--no-timing"]
    out, table, picks = _tuned(args, "sampler=smote,smote", X, y, monkeypatch, capsys)
    tuned = numbers(line_of(table, "tuned "))
    assert tuned[:6] == numbers(line_of(table, "smote "))[:6]
    assert picks == {c: ["smote"] * 3 for c in ("logreg", "svc", "knn3")}
    assert_finite(line_of(out, "sampler tuned >= SMOTE"))
    # two samplers: a classifier picking one in every fold scores its row
    _, table, picks = _tuned(args, "sampler=none,wgan-gp", X, y, monkeypatch, capsys)
    tuned = numbers(line_of(table, "tuned "))
    compared = 0
    for i, chosen in enumerate(picks.values()):
        assert len(chosen) == 3 and set(chosen) <= {"none", "wgan-gp"}, picks
        if len(set(chosen)) == 1:
            row = numbers(line_of(table, f"{chosen[0]} "))
            assert tuned[2 * i : 2 * i + 2] == row[2 * i : 2 * i + 2]
            compared += 1
    assert compared, picks  # on this task SVC and 3-NN pick WGAN-GP in every fold
    with pytest.raises(SystemExit):
        run_main(
            "bench_augmentation",
            [*args, "--tune", "sampler=smote,gan,adasyn"],
            monkeypatch,
            capsys,
        )
    err = capsys.readouterr().err
    assert "unknown sampler(s) adasyn, gan; known: none, random, smote, wgan-gp" in err


def test_bench_augmentation_tune_ungrouped_and_bad(tmp_path, monkeypatch, capsys):
    path = tmp_path / "serum.csv"
    _noisy_task_csv(path, grouped=False)
    args = ["--csv", path, "--folds", 3, "--wgan", "max_iter=1", "--threads", 1]
    args += ["--no-timing", "--tune", "shared_variation=0,1"]
    _, out = run_main("bench_augmentation", args, monkeypatch, capsys)
    assert "tuned     not run: the task has no groups for the inner folds" in out
    assert "WGAN-GP, shared_variation tuned: no cell to compare" in out
    for bad in ("shared_variation=1", "=0,1", "shared_variation"):
        with pytest.raises(SystemExit):
            run_main("bench_augmentation", [*args[:-1], bad], monkeypatch, capsys)
        assert "--tune takes name=v1,v2" in capsys.readouterr().err


DEVICE_ROWS = [
    "PeakProfileFitter, 100 x 1024, 20 Voigt peaks",
    "SpectroGenRegressor default fit, 296 x 1024 -> 1024",
    "WGANGPOverSampler default fit, 300 x 1024, 4 classes",
    "SpectroGenRegressor predict, 2000 spectra (spectra/s)",
]


def test_bench_devices_on_the_cpu(monkeypatch, capsys):
    args = ["--device", "cpu", "--quick", "--repeats", 1, "--threads", 1]
    _, out = run_main("bench_devices", args, monkeypatch, capsys)
    assert_rows(out, DEVICE_ROWS)
    assert numbers(line_of(out, "peaks, median R2 on cpu"))[-1] > 0.999
    assert numbers(line_of(out, "regressor fitted on cpu"))[-1] > 0.8
    assert "CPU / " not in out  # one device: no ratio column


@pytest.mark.gpu
def test_bench_devices_on_a_gpu(monkeypatch, capsys):
    args = ["--device", "cuda", "--quick", "--repeats", 1, "--threads", 1]
    _, out = run_main("bench_devices", args, monkeypatch, capsys)
    assert_rows(out, DEVICE_ROWS)
    # the peak fit is deterministic: the two devices agree to float32 rounding
    assert numbers(line_of(out, "peaks, largest parameter difference"))[-1] < 1e-3
    r_cpu = numbers(line_of(out, "regressor fitted on cpu"))[-1]
    r_gpu = numbers(line_of(out, "regressor fitted on cuda:"))[-1]
    assert r_gpu > 0.8 and abs(r_gpu - r_cpu) < 0.05
    moved = line_of(out, "regressor fitted on cuda, predicting on the CPU")
    assert numbers(moved)[-1] < 1e-4


def test_bench_cross_modal_joins_species_of_near_identical_spectra(capsys):
    # species whose spectra are near-copies (solid-solution series) were
    # separate groups: one could be predicted from the other
    path = BENCHMARKS / "bench_cross_modal.py"
    spec = importlib.util.spec_from_file_location("_bench_join", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    base = rng.random((4, 50))
    # a and b share an IR spectrum, c and d a Raman spectrum; e stands alone
    X = np.vstack([base[0], base[0] + 1e-3 * rng.random(50), base[1], base[2], base[3]])
    Y = np.vstack([base[1], base[2], base[3], base[3] * 2 + 1, base[0]])
    species = np.array(["a", "b", "c", "d", "e"])
    groups = module.join_similar(X, Y, species, 0.99)
    assert groups[0] == groups[1] and groups[2] == groups[3]
    assert len({groups[0], groups[2], groups[4]}) == 3
    assert "5 species -> 3 groups; 2 of several species (sizes 2, 2)" in (
        capsys.readouterr().out
    )
    # the same species stays one group whatever links its samples
    assert len(set(module.join_similar(X, Y, np.array(list("aaccc")), 0.99))) == 2
