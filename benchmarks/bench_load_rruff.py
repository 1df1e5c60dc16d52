"""Load every RRUFF file of the shared subset and check it against its manifests.

Usage::

    python benchmarks/bench_load_rruff.py --data /path/to/rruff

``--data`` holds ``paired/`` (IR + Raman per RRUFF id, some DIF files and
measured XRD scans), ``paired/manifest.csv``, ``paired/xrd_xy/manifest.csv``
(the scans; optional), ``raman_raw_processed/`` and its manifest. Prints
counts, failures and times, side by side with a plain ``numpy.loadtxt``
reader as the reference.
"""

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np

from sktransfer.datasets import load_rruff, read_rruff


def _loadtxt_reference(paths):
    """Naive reader: numpy.loadtxt skipping '##' lines. Returns (ok, failed, s)."""
    ok, failed = {}, 0
    start = time.perf_counter()
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ok[path] = np.loadtxt(
                    path, delimiter=",", comments="##", encoding="utf-8", ndmin=2
                )
        except Exception:  # noqa: BLE001 - any failure counts for the reference
            failed += 1
    return ok, failed, time.perf_counter() - start


def _ours(paths):
    out, failed = {}, 0
    start = time.perf_counter()
    for path in paths:
        try:
            out[path] = read_rruff(path)
        except (OSError, ValueError):
            failed += 1
    return out, failed, time.perf_counter() - start


def _agree(ours, reference):
    """Largest |difference| between our x, y and the reference where it read."""
    worst = 0.0
    for path, table in reference.items():
        data = ours.get(path)
        if data is None or table.shape != (data.x.size, 2):
            return float("nan")
        worst = max(worst, np.abs(table - np.column_stack([data.x, data.y])).max())
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    args = parser.parse_args()
    root = args.data

    spectra = sorted((root / "paired" / "ir").glob("*.txt")) + sorted(
        (root / "paired" / "raman").glob("*.txt")
    )
    raw_proc = sorted((root / "raman_raw_processed").glob("*.txt"))
    difs = sorted((root / "paired" / "xrd_dif").glob("*.txt"))

    print("== read_rruff, file by file, vs numpy.loadtxt(comments='##') ==")
    print(
        f"{'set':<22}{'files':>7}{'ours ok':>9}{'ours s':>8}"
        f"{'ref ok':>8}{'ref s':>8}{'max |diff|':>12}"
    )
    for name, paths in [
        ("paired IR+Raman", spectra),
        ("raman_raw_processed", raw_proc),
        ("DIF", difs),
    ]:
        ours, failed, t_ours = _ours(paths)
        ref, ref_failed, t_ref = _loadtxt_reference(paths)
        diff = _agree(ours, ref) if name != "DIF" else float("nan")
        print(
            f"{name:<22}{len(paths):>7}{len(paths) - failed:>9}{t_ours:>8.2f}"
            f"{len(paths) - ref_failed:>8}{t_ref:>8.2f}{diff:>12.2g}"
        )

    print("\n== load_rruff onto common grids ==")
    start = time.perf_counter()
    paired = load_rruff(root / "paired")
    t_paired = time.perf_counter() - start
    start = time.perf_counter()
    unpaired = load_rruff(root / "raman_raw_processed", pair=False)
    t_unpaired = time.perf_counter() - start
    start = time.perf_counter()
    dif = load_rruff(root / "paired" / "xrd_dif", pair=False)
    t_dif = time.perf_counter() - start

    with open(root / "paired" / "manifest.csv", newline="") as f:
        manifest = {row["rruff_id"]: row for row in csv.DictReader(f)}
    same_files = sum(
        Path(files["ir"]).name == Path(manifest[rid]["ir_file"]).name
        and Path(files["raman"]).name == Path(manifest[rid]["raman_file"]).name
        for rid, files in zip(paired.rruff_ids, paired.files)
        if rid in manifest
    )
    n_dif_manifest = sum(bool(row["xrd_dif_file"]) for row in manifest.values())
    # has_xrd counts measured scans too: the DIF rows are the paired samples
    # whose id has a DIF file
    n_dif = len(set(paired.rruff_ids) & set(dif.rruff_ids))
    n_scans = sum(m.get("xrd_kind") == "XY" for m in paired.metadata)
    scans_manifest = root / "paired" / "xrd_xy" / "manifest.csv"
    n_scans_manifest = 0
    if scans_manifest.is_file():
        with open(scans_manifest, newline="") as f:
            n_scans_manifest = sum(
                row["rruff_id"] in manifest for row in csv.DictReader(f)
            )
    keys, counts = np.unique(unpaired.pair_key, return_counts=True)
    complete = sum(
        sorted(unpaired.kind[unpaired.pair_key == k]) == ["Processed", "RAW"]
        for k in keys[counts == 2]
    )
    print(f"{'what':<44}{'loaded':>8}{'expected':>10}{'skipped':>9}{'time s':>8}")
    rows = [
        (
            "paired samples (IR + Raman)",
            len(paired.rruff_ids),
            len(manifest),
            len(paired.skipped),
            t_paired,
        ),
        ("  same files as manifest", same_files, len(manifest), 0, float("nan")),
        ("  samples with XRD (DIF)", n_dif, n_dif_manifest, 0, float("nan")),
        (
            "  samples with a measured XRD scan",
            n_scans,
            n_scans_manifest,
            0,
            float("nan"),
        ),
        (
            "raman_raw_processed files",
            unpaired.data.shape[0],
            len(raw_proc),
            len(unpaired.skipped),
            t_unpaired,
        ),
        (
            "  complete RAW/Processed pairs by pair_key",
            complete,
            len(raw_proc) // 2,
            0,
            float("nan"),
        ),
        (
            "DIF files rendered on the 2-theta grid",
            dif.data.shape[0],
            len(difs),
            len(dif.skipped),
            t_dif,
        ),
    ]
    for what, got, expected, skipped, seconds in rows:
        print(f"{what:<44}{got:>8}{expected:>10}{skipped:>9}{seconds:>8.2f}")
    cov = {m: paired.coverage[m] for m in ("ir", "raman")}
    print("\nGrid coverage (default grids IR 400-4000, Raman 150-1250 cm-1):")
    for m, c in cov.items():
        print(
            f"  {m:<6} rows fully covered {int((c == 1).sum())}/{c.size}, "
            f"min covered fraction {c.min():.3f}"
        )
    failures = (
        len(paired.skipped)
        + len(unpaired.skipped)
        + len(dif.skipped)
        + (len(manifest) - len(paired.rruff_ids))
        + (len(raw_proc) - unpaired.data.shape[0])
        + (len(difs) - dif.data.shape[0])
    )
    print(f"\nTotal failures: {failures}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
