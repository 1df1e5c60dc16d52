"""Private helper: work on large matrices a bounded slice of rows at a time."""


def row_slices(n_rows, row_size, chunk_size):
    """Yield consecutive slices of ``range(n_rows)``, in order, covering it.

    Each slice holds ``max(1, chunk_size // row_size)`` rows (the last one
    what is left), so that the temporaries of a slice of rows of
    ``row_size`` values each stay near ``chunk_size`` values whatever the
    number of rows.

    Parameters
    ----------
    n_rows : int
        Number of rows.
    row_size : int
        Values per row (or per row and per anything else the work makes).
    chunk_size : int
        Values per slice of rows.

    Yields
    ------
    rows : slice
        ``slice(start, stop)`` with ``stop <= n_rows``.
    """
    step = max(1, chunk_size // max(row_size, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))
