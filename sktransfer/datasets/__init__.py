"""Data sets: RRUFF file reader, writer, loader and downloader; synthetic spectra."""

from sktransfer.datasets._chemistry import anion_group, formula_elements
from sktransfer.datasets._fetch import fetch_rruff
from sktransfer.datasets._load import load_rruff
from sktransfer.datasets._rruff import read_rruff
from sktransfer.datasets._synthetic import make_spectra
from sktransfer.datasets._write import write_rruff

__all__ = [
    "anion_group",
    "fetch_rruff",
    "formula_elements",
    "load_rruff",
    "make_spectra",
    "read_rruff",
    "write_rruff",
]
