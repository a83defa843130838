"""Exceptions raised by orgsim.

Every error a user can cause derives from :class:`OrgsimError`; the CLI turns
those into one line per problem and exit code 2, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "OrgsimError",
    "Problem",
    "ScenarioError",
    "OrgValidationError",
    "ReformError",
    "SimulationError",
    "SweepError",
    "EventLogError",
    "OutputError",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class OrgsimError(Exception):
    """Base class of every error caused by a user's input."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = list(problems or [])

    def lines(self) -> list[str]:
        """One human-readable line per problem (or the message alone)."""
        return [str(p) for p in self.problems] or [str(self)]


class ScenarioError(OrgsimError):
    """A scenario file cannot be read or does not follow the format."""


class OrgValidationError(OrgsimError):
    """An organisation breaks an invariant (ownership, hierarchy, headcount)."""


class ReformError(OrgsimError):
    """A reform operator's precondition does not hold."""


class SimulationError(OrgsimError):
    """A simulation cannot run with the given settings."""


class SweepError(OrgsimError):
    """A sweep cannot go on: its results directory belongs to a different sweep."""


class EventLogError(OrgsimError):
    """An event log cannot be read or calibrated from: a missing column, a bad date, an unknown step."""
class OutputError(OrgsimError):
    """An output cannot be written: a read-only folder, a path under a file, a full disk."""
