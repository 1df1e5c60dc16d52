"""The ``sktransfer demo`` application: the whole chain on one data set.

A private package, not library API. Each stage is a plain function that
takes what it needs and returns a result record (a dataclass); the results
table, the figures and ``report.md`` are rendered from those records.
:func:`run_demo` runs the stages in order; the command line only parses the
arguments and prints.
"""

from sktransfer._demo._records import Row, Skipped
from sktransfer._demo._report import format_table, write_outputs
from sktransfer._demo._run import DemoRun, DemoSettings, run_demo

__all__ = [
    "DemoRun",
    "DemoSettings",
    "Row",
    "Skipped",
    "format_table",
    "run_demo",
    "write_outputs",
]
