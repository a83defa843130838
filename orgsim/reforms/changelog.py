"""The record of what a reform did: functions moved, staff moved or released, units made."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Change", "ACTIONS"]

ACTIONS = (
    "function_moved",
    "function_created",
    "function_awaiting_acceptance",
    "staff_moved",
    "staff_released",
    "staff_hired",
    "unit_created",
    "unit_removed",
    "unit_reparented",
    "unit_merged",
    "leadership_set",
    "signoff_changed",
    "path_changed",
    "rework_changed",
    "handoff_changed",
    "resolution_changed",
    "no_change",
)


@dataclass(frozen=True)
class Change:
    """One thing an operator did. ``staff`` counts people where people moved."""

    op: str
    action: str
    subject: str
    source: str | None = None
    target: str | None = None
    staff: int = 0
    category: str | None = None
    phase: str | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        text = f"[{self.op}] {self.action} {self.subject}"
        if self.source or self.target:
            text += f": {self.source or '-'} -> {self.target or '-'}"
        if self.staff:
            text += f" ({self.staff} {self.category or 'staff'})"
        if self.note:
            text += f"; {self.note}"
        return text
