"""Data of the demo: built-in synthetic spectra or a folder of RRUFF files."""

from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import Bunch

from sktransfer._demo._records import Row, StageResult

#: Class proportions and difficulty of the synthetic data: a rare class of
#: 8 %, noisy spectra and large within-class mode shifts (cm-1), so that a
#: regularised classifier makes mistakes that augmentation can fix (or not).
WEIGHTS = (0.55, 0.25, 0.12, 0.08)
NOISE = 0.1
SHIFT = 15.0
#: Smallest number of paired RRUFF samples the demo trains on.
MIN_PAIRED = 6
#: Smallest number of Raman spectra of a species to enter the classification.
MIN_PER_SPECIES = 5


@dataclass
class RRUFFData:
    """Paired IR/Raman samples and species-labelled Raman spectra of a folder."""

    directory: str
    paired: Bunch
    labelled: Bunch | None = None
    labelled_note: str = ""


@dataclass
class DemoData(StageResult):
    """Spectra of the demo, their split, and the truth when it is known.

    ``truth`` is the :func:`~sktransfer.datasets.make_spectra` bunch of
    synthetic data (clean spectra, baselines, peaks), ``None`` for RRUFF
    files, which come in ``rruff``.
    """

    ir: np.ndarray
    raman: np.ndarray
    ir_axis: np.ndarray
    raman_axis: np.ndarray
    y: np.ndarray | None
    train: np.ndarray
    test: np.ndarray
    truth: Bunch | None = None
    rruff: RRUFFData | None = None
    table: list = field(default_factory=list)

    def rows(self):
        """Return the rows describing the data."""
        return list(self.table)


def _split(y, random_state, stratify=True):
    from sklearn.model_selection import train_test_split

    return train_test_split(
        np.arange(len(y)),
        test_size=0.3,
        stratify=y if stratify else None,
        random_state=random_state,
    )


def synthetic_data(n_samples, random_state):
    """Paired, imbalanced synthetic IR/Raman spectra with known truth.

    Parameters
    ----------
    n_samples : int
        Number of materials.
    random_state : int
        Seed of the data and of the split.

    Returns
    -------
    data : DemoData
        The spectra, a stratified 70/30 split and the truth.
    """
    from sktransfer.datasets import make_spectra

    truth = make_spectra(
        n_samples, weights=WEIGHTS, noise=NOISE, shift=SHIFT, random_state=random_state
    )
    train, test = _split(truth.y, random_state)
    counts = "/".join(str(c) for c in np.bincount(truth.y))
    sizes = f"{truth.ir.shape[1]} / {truth.raman.shape[1]} / {truth.xrd.shape[1]}"
    table = [
        Row("data", "materials per class", counts, "", "make_spectra, imbalanced"),
        Row("data", "IR / Raman / XRD points", sizes, "", "with baseline and noise"),
        Row(
            "data",
            "train / held-out materials",
            f"{len(train)} / {len(test)}",
            "",
            "stratified split",
        ),
    ]
    return DemoData(
        ir=truth.ir,
        raman=truth.raman,
        ir_axis=truth.ir_axis,
        raman_axis=truth.raman_axis,
        y=truth.y,
        train=train,
        test=test,
        truth=truth,
        table=table,
    )


def read_rruff_folder(directory):
    """Read the paired and the species-labelled spectra of a RRUFF folder.

    Parameters
    ----------
    directory : str
        Folder of RRUFF text files.

    Returns
    -------
    rruff : RRUFFData
        Paired samples, and labelled Raman spectra when at least two species
        have enough of them (else ``labelled_note`` says why not).

    Raises
    ------
    ValueError
        If the folder has fewer than ``MIN_PAIRED`` paired samples, or
        their species are all one, or none can be read.
    """
    from sktransfer.datasets import load_rruff

    options = {"outside": "zero", "normalize": "max", "on_error": "skip"}
    try:
        paired = load_rruff(directory, pair=True, **options)
    except ValueError as exc:
        raise ValueError(f"{directory}: {str(exc).splitlines()[0]}") from None
    if len(paired.rruff_ids) < MIN_PAIRED:
        raise ValueError(
            f"{directory}: {len(paired.rruff_ids)} RRUFF samples with both IR and "
            f"Raman files; the demo needs at least {MIN_PAIRED}"
        )
    species = sorted(set(np.asarray(paired.species_groups).astype(str)))
    if len(species) < 2:
        # the transfer is tested on species it did not train on
        raise ValueError(
            f"{directory}: the {len(paired.rruff_ids)} samples with both IR and "
            f"Raman files are all of one species ({species[0]}); the demo "
            "splits them by species and needs at least 2"
        )
    rruff = RRUFFData(directory, paired)
    try:
        spectra = load_rruff(
            directory, pair=False, modality="raman", kind="Processed", **options
        )
        names, y, counts = np.unique(
            spectra.species.astype(str), return_inverse=True, return_counts=True
        )
    except ValueError as exc:
        rruff.labelled_note = f"no labelled Raman spectra: {str(exc).splitlines()[0]}"
        return rruff
    groups = np.asarray(spectra.rruff_ids).astype(str)
    n_ids = np.array([len(set(groups[y == k])) for k in range(len(names))])
    keep = (counts >= MIN_PER_SPECIES) & (n_ids >= 2)
    if keep.sum() < 2:
        rruff.labelled_note = (
            f"fewer than 2 species with {MIN_PER_SPECIES}+ Raman spectra "
            "from 2+ RRUFF samples"
        )
        return rruff
    mask = keep[y]
    rruff.labelled = Bunch(
        X=spectra.raman[mask],
        y=np.searchsorted(np.flatnonzero(keep), y[mask]),
        groups=groups[mask],
        axis=spectra.raman_axis,
        names=names[keep],
        note=f"species with {MIN_PER_SPECIES}+ Raman spectra, 2+ samples",
    )
    return rruff


def rruff_data(rruff, random_state):
    """Demo data from a read RRUFF folder: paired spectra split by species.

    Parameters
    ----------
    rruff : RRUFFData
        What :func:`read_rruff_folder` returned.
    random_state : int
        Seed of the split.

    Returns
    -------
    data : DemoData
        The paired spectra (no truth) and a 70/30 split by species: no
        species on both sides, so the held-out minerals are new to the model.
    """
    from sklearn.model_selection import GroupShuffleSplit

    paired, labelled = rruff.paired, rruff.labelled
    species = np.asarray(paired.species_groups).astype(str)
    split = GroupShuffleSplit(1, test_size=0.3, random_state=random_state)
    train, test = next(split.split(paired.ir, groups=species))
    table = [
        Row(
            "data",
            "RRUFF samples with IR + Raman",
            len(paired.ir),
            "",
            rruff.directory,
        ),
        Row(
            "data",
            "IR / Raman points",
            f"{paired.ir.shape[1]} / {paired.raman.shape[1]}",
            "",
            "load_rruff grids, max = 1",
        ),
        Row(
            "data",
            "train / held-out samples",
            f"{len(train)} / {len(test)}",
            "",
            "split by species",
        ),
    ]
    if labelled is not None:
        counts = "/".join(str(c) for c in np.bincount(labelled.y))
        table.append(
            Row("data", "Raman spectra per species", counts, "", labelled.note)
        )
    return DemoData(
        ir=paired.ir,
        raman=paired.raman,
        ir_axis=paired.ir_axis,
        raman_axis=paired.raman_axis,
        y=None,
        train=train,
        test=test,
        rruff=rruff,
        table=table,
    )
