"""Result records of the demo: table rows and the base of stage results."""

from dataclasses import dataclass


def side(value, reference):
    """Return 1 above ``reference`` by more than 0.005, -1 below it, 0 within."""
    return int(value > reference + 0.005) - int(value < reference - 0.005)


def versus(value, reference, name, higher_is_better=True):
    """Say if ``value`` beats, ties with (within 0.005) or loses to ``reference``."""
    sign = 1 if higher_is_better else -1
    verdict = {1: "beats", 0: "ties with", -1: "loses to"}
    return f"{verdict[sign * side(value, reference)]} {name}"


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
