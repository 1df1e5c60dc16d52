"""Scan a directory of RRUFF files and describe each one (modality, ids, kind)."""

import os
from pathlib import Path

import numpy as np

from sktransfer.datasets._rruff import _ID_RE, read_rruff

MODALITIES = ("ir", "raman", "xrd")

_NAME_TOKENS = {"raman": "raman", "infrared": "ir", "powder": "xrd"}


def _modality(meta, parts, fmt):
    filetype = meta.get("FILETYPE", "").lower()
    if "raman" in filetype:
        return "raman"
    if "infrared" in filetype or filetype.startswith("ir"):
        return "ir"
    if any(t in filetype for t in ("powder", "dif", "xrd", "diffraction")):
        return "xrd"
    if fmt == "dif":
        return "xrd"
    for part in parts:
        if part.lower() in _NAME_TOKENS:
            return _NAME_TOKENS[part.lower()]
    return None


def _kind(meta, name, modality, fmt):
    if modality == "xrd":
        return "DIF" if fmt == "dif" else "XY"
    filetype = meta.get("FILETYPE", "").lower()
    if "raw" in filetype.split():
        return "RAW"
    if "processed" in filetype:
        return "Processed"
    if "Data_RAW" in name:
        return "RAW"
    if "Data_Processed" in name:
        return "Processed"
    return None


def written_by_sktransfer(meta):
    """Why a file that sktransfer wrote is no measurement; None for others.

    ``sktransfer transfer predict`` writes ``FILETYPE=predicted <modality>
    (sktransfer)``, ``sktransfer baseline --keep-baseline`` ``FILETYPE=baseline
    of ... (sktransfer)``, ``sktransfer augment`` marks the spectra it
    generates ``GENERATED=true`` (and says so in ``DESCRIPTION``).
    """
    filetype = meta.get("FILETYPE", "").lower()
    if filetype.startswith("predicted") and "(sktransfer)" in filetype:
        return "written by sktransfer as a prediction, not a measurement"
    if filetype.startswith("baseline") and "(sktransfer)" in filetype:
        return "written by sktransfer as a baseline, not a measurement"
    description = meta.get("DESCRIPTION", "").lower()
    generated = description.startswith("generated") and "(sktransfer)" in description
    if generated or meta.get("GENERATED", "").lower() == "true":
        return "written by sktransfer as a generated spectrum, not a measurement"
    return None


class NotMeasured(Exception):
    """A file that sktransfer wrote: a prediction, generated spectrum or baseline."""


def read_record(path):
    """Read and describe one RRUFF file to load: ``(description, data)``.

    Raises :class:`NotMeasured` for files that sktransfer wrote (see
    :func:`written_by_sktransfer`), ``OSError`` or ``ValueError`` for files
    that cannot be read or whose modality or RRUFF id is unknown.
    """
    data = read_rruff(path)
    reason = written_by_sktransfer(data.metadata)
    if reason is not None:
        raise NotMeasured(reason)
    if data.format == "spectrum":
        _check_one_way(data.x)
    desc = describe(data, path)
    if desc["modality"] is None:
        raise ValueError("modality not recognised")
    if desc["rruff_id"] is None:
        given = data.metadata.get("RRUFFID", "").strip()
        if given:
            raise ValueError(
                f"RRUFFID {given!r} is not a RRUFF id (R or X and six digits, "
                "such as R040031), nor is one in the file name"
            )
        raise ValueError("no RRUFF id in header or file name")
    return desc, data


def _check_one_way(x):
    """Refuse an axis that turns back (repeated points are allowed).

    Overlapping segments, or two spectra joined without a header between
    them, would be interpolated into a sawtooth.
    """
    step = np.sign(np.diff(x))
    moving = np.flatnonzero(step)
    if moving.size == 0:
        return
    turns = moving[step[moving] != step[moving[0]]]
    if turns.size:
        i = int(turns[0])
        raise ValueError(
            f"the axis turns back at point {i + 2} (x={x[i + 1]:g} after "
            f"{x[i]:g}): a spectrum's axis runs one way. Two spectra joined?"
        )


def describe(data, path):
    """Flat description of one read RRUFF file (used for pairing and tables)."""
    meta = data.metadata
    name = Path(path).stem
    parts = name.split("__")
    modality = _modality(meta, parts, data.format)
    header_id = _ID_RE.search(meta.get("RRUFFID", ""))
    name_id = _ID_RE.search(name)
    if header_id is not None:
        rruff_id = header_id.group(1)
        same = name_id is not None and name_id.group(1) == rruff_id
        sample_id = name_id.group(0) if same else header_id.group(0)
    elif name_id is not None:
        rruff_id, sample_id = name_id.group(1), name_id.group(0)
    else:
        rruff_id = sample_id = None
    laser = meta.get("RAMAN WAVELENGTH")
    orientation = None
    # RRUFF names: species__ID__Raman__laser__orientation__rotation__Data__...
    if modality == "raman" and len(parts) >= 6 and parts[2].lower() == "raman":
        laser = laser or parts[3]
        orientation = " ".join(p for p in (parts[4].replace("-", "."), parts[5]) if p)
    try:
        laser = float(laser) if laser not in (None, "") else None
    except ValueError:
        laser = None
    kind = _kind(meta, name, modality, data.format)
    data_at = next(
        (
            i
            for i, p in enumerate(parts)
            if p.startswith(("Raman_Data", "Infrared_Data"))
        ),
        None,
    )
    if data_at is not None:
        pair_key = "__".join(parts[:data_at])
    else:
        pair_key = "__".join(
            str(v) for v in (sample_id, modality, laser, orientation) if v is not None
        )
    return {
        "rruff_id": rruff_id,
        "sample_id": sample_id,
        "species": meta.get("NAMES") or parts[0],
        "modality": modality,
        "kind": kind,
        "laser_nm": laser,
        "orientation": orientation,
        "pair_key": pair_key,
        "file": os.fspath(path),
    }


def text_files(root):
    """Every regular ``*.txt`` file under ``root``, the suffix in any case.

    Hidden files and folders (names starting with ``.``) are left out: they
    hold no spectra but macOS resource forks (``._Quartz.txt``, binary),
    Jupyter checkpoints (copies) and version-control data. Symbolic links to
    files are followed, links to folders are not (no loops). A folder that
    cannot be listed (no permission) is a ``PermissionError`` or other
    ``OSError`` naming it, not a folder left out without a word.
    """

    def unreadable(exc):
        raise type(exc)(
            exc.errno, f"cannot list the folder: {exc.strerror}", exc.filename
        ) from exc

    found = []
    for folder, dirs, names in os.walk(root, onerror=unreadable):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [
            os.path.join(folder, n)
            for n in sorted(names)
            if not n.startswith(".") and n.lower().endswith(".txt")
        ]
    # Only regular files: a pipe named *.txt would block the read.
    return [f for f in found if os.path.isfile(f)]


def scan(directory):
    """Read every ``*.txt`` file under ``directory`` (one folder or a list).

    Hidden files and folders are left out (see :func:`text_files`).

    Returns ``(records, failures, left_out)``: records are ``(description,
    data)`` pairs, failures ``(path, reason)`` pairs for files that could not
    be used, left_out ``(path, reason)`` pairs for files that sktransfer
    wrote as predictions or generated spectra (no measurements).
    """
    if isinstance(directory, (str, os.PathLike)):
        directory = [directory]
    paths = []
    for root in map(Path, directory):
        if root.is_file():
            raise OSError(
                f"{os.fspath(root)!r} is a file, not a directory; read one file "
                "with read_rruff."
            )
        if not root.is_dir():
            raise OSError(f"RRUFF directory {os.fspath(root)!r} does not exist.")
        paths += [Path(p) for p in text_files(root)]
    # overlapping directories (a folder and its subfolder, one folder named
    # twice) must not read a file twice: one path per real file
    seen, unique = set(), []
    for path in sorted(paths):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(path)
    paths = unique
    if not paths:
        where = ", ".join(repr(os.fspath(d)) for d in directory)
        raise ValueError(f"No RRUFF files (*.txt) found under {where}.")
    records, failures, left_out = [], [], []
    for path in paths:
        try:
            records.append(read_record(path))
        except NotMeasured as exc:
            left_out.append((os.fspath(path), str(exc)))
        except (OSError, ValueError) as exc:
            failures.append((os.fspath(path), str(exc)))
    return records, failures, left_out
