"""Result records of the demo: table rows and the base of stage results."""

from dataclasses import dataclass


def versus(value, reference, name, higher_is_better=True):
    """Say if ``value`` beats, ties with (within 0.005) or loses to ``reference``."""
    if not higher_is_better:
        value, reference = -value, -reference
    if value > reference + 0.005:
        return f"beats {name}"
    if value < reference - 0.005:
        return f"loses to {name}"
    return f"ties with {name}"


@dataclass(frozen=True)
class Row:
    """One line of the results table: a value beside its reference."""

    stage: str
    quantity: str
    value: object
    reference: object = ""
    note: str = ""


@dataclass
class StageResult:
    """Base of the stage records; ``rows()`` renders one for the table."""

    def rows(self):
        """Return the table rows of this result."""
        raise NotImplementedError


@dataclass
class Skipped(StageResult):
    """A stage that did not run on this data, and why."""

    stage: str
    reason: str

    def rows(self):
        """Return the one row that says why the stage was skipped."""
        return [Row(self.stage, "skipped", "-", "-", self.reason)]
