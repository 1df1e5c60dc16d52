"""Results table of ``sktransfer demo``: rows, plain-text and Markdown output."""

import os
from typing import NamedTuple

import numpy as np

HEADER = ("stage", "quantity", "value", "reference", "note")


class Row(NamedTuple):
    """One line of the results table."""

    stage: str
    quantity: str
    value: object
    reference: object = ""
    note: str = ""


def _cell(value):
    if isinstance(value, float | np.floating):
        return f"{value:.3f}"
    return str(value)


def format_table(rows, markdown=False):
    """Format rows as an aligned plain-text table, or as Markdown.

    Parameters
    ----------
    rows : list of Row
        The rows.
    markdown : bool, default=False
        Return a GitHub-flavoured Markdown table instead.

    Returns
    -------
    table : str
        The table, with a header line.
    """
    cells = [[_cell(v) for v in row] for row in [HEADER, *rows]]
    if markdown:
        lines = [
            "| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in cells
        ]
        return "\n".join([lines[0], "|---|---|--:|--:|---|", *lines[1:]])
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    right = {2, 3}

    def line(c):
        parts = [
            c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i])
            for i in range(len(c))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


def write_report(path, *, title, settings, rows, figures, notes):
    """Write the Markdown report of a demo run.

    Parameters
    ----------
    path : str
        File to write (``report.md`` in the output folder).
    title : str
        First heading.
    settings : list of str
        One line each: data, seed, device, timings.
    rows : list of Row
        The results table.
    figures : list of (str, str)
        ``(caption, file name)`` of each figure, relative to the report.
    notes : list of str
        Further remarks (e.g. figures skipped).
    """
    parts = [f"# {title}", "", *(f"- {s}" for s in settings), ""]
    parts += ["## Results", "", format_table(rows, markdown=True), ""]
    if figures:
        parts += ["## Figures", ""]
        for caption, name in figures:
            parts += [f"### {caption}", "", f"![{caption}]({name})", ""]
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return os.path.basename(path)
