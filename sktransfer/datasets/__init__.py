"""Data sets: RRUFF file reader, loader and downloader, and synthetic spectra."""

from sktransfer.datasets._chemistry import anion_group, formula_elements
from sktransfer.datasets._fetch import fetch_rruff
from sktransfer.datasets._load import load_rruff
from sktransfer.datasets._rruff import read_rruff
from sktransfer.datasets._synthetic import make_spectra

__all__ = [
    "anion_group",
    "fetch_rruff",
    "formula_elements",
    "load_rruff",
    "make_spectra",
    "read_rruff",
]
