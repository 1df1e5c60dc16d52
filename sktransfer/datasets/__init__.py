"""Data sets: RRUFF file reader, writer, loader and downloader; synthetic spectra."""

from sktransfer.datasets._fetch import fetch_rruff
from sktransfer.datasets._load import load_rruff
from sktransfer.datasets._rruff import read_rruff
from sktransfer.datasets._synthetic import make_spectra
from sktransfer.datasets._write import write_rruff

__all__ = ["fetch_rruff", "load_rruff", "make_spectra", "read_rruff", "write_rruff"]
