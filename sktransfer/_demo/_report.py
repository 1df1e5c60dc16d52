"""Rendering of a demo run: the results table and the Markdown report."""

import os

import numpy as np

from sktransfer._demo._figures import write_figures
from sktransfer.datasets._write import atomic_write

HEADER = ("stage", "quantity", "value", "reference", "note")


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
    cells = [
        [_cell(v) for v in row]
        for row in [
            HEADER,
            *((r.stage, r.quantity, r.value, r.reference, r.note) for r in rows),
        ]
    ]
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


def report_text(*, title, settings, rows, figures, notes):
    """Return the Markdown report of a demo run.

    Parameters
    ----------
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

    Returns
    -------
    text : str
        The report.
    """
    parts = [f"# {title}", ""]
    if settings:
        parts += [*(f"- {s}" for s in settings), ""]
    parts += ["## Results", "", format_table(rows, markdown=True), ""]
    if figures:
        parts += ["## Figures", ""]
        for caption, name in figures:
            parts += [f"### {caption}", "", f"![{caption}]({name})", ""]
    if notes:
        parts += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(parts)


def write_outputs(run, directory):
    """Write the figures and ``report.md`` of a demo run into ``directory``.

    Each file is written to a temporary name in ``directory`` and then
    renamed, so a file is whole or absent.

    Parameters
    ----------
    run : DemoRun
        The finished run.
    directory : str
        Existing output folder.

    Returns
    -------
    figures : list of (str, str)
        ``(caption, file name)`` of each figure written.
    notes : list of str
        Why figures are missing, if they are.
    """
    from sktransfer import __version__

    figures, notes = write_figures(run.results, directory)
    times = ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items())
    text = report_text(
        title=f"sktransfer {__version__} demo",
        settings=[
            f"data: {run.source}",
            f"random state {run.settings.random_state}, device "
            f"{run.settings.device}" + (", quick run" if run.settings.quick else ""),
            f"total {run.total:.1f} s ({times})",
        ],
        rows=run.rows(),
        figures=figures,
        notes=notes,
    )
    path = os.path.join(directory, "report.md")
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))
    return figures, notes
