"""Data sets: RRUFF file reader and loader, and synthetic multi-modal spectra."""

from sktransfer.datasets._load import load_rruff
from sktransfer.datasets._rruff import read_rruff
from sktransfer.datasets._synthetic import make_spectra

__all__ = ["load_rruff", "make_spectra", "read_rruff"]
