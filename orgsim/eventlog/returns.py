"""Files sent back, read from an event log: which step sent each one, and to which step it came back.

A file sent back by step S goes to the applicant and then to S's target T
(S itself, or an earlier step with ``rework_to``), and every step on a path
from T to S is done again. In a case's officers' rows a *return* is a visit
of a step T done before in the case that no earlier step handed forward: no
ancestor of T (a step T waits for, directly or through others) had a visit
ending between T's previous visit and this one. The visits after it, up to
the sender, are the file coming forward again, not returns.

The sender is named by the log's ``{S} back to applicant`` row when it has
one (orgsim's logs do: role ``applicant``), the one whose end is the latest
not after the return's enable; otherwise it is the visit of T or of a step
after T that ended last before the return's enable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Return", "find_returns", "step_ancestors", "BACK_TO_APPLICANT"]

BACK_TO_APPLICANT = re.compile(r"^(?P<step>.+) back to applicant$")


@dataclass(frozen=True)
class Return:
    """One file sent back: the case, the step that sent it, the step it came back to, and when."""

    case: str
    project_type: str
    sender: str
    target: str
    #: Working time: the sender's visit ended; the file reached the target's queue again.
    sent: float
    back: float


def step_ancestors(steps: Any, successors: Any) -> dict[str, set[str]]:
    """Per step id, the ids of the steps it waits for, directly or through others."""
    parents: dict[int, set[int]] = {i: set() for i in range(len(steps))}
    for i, succ in enumerate(successors):
        for j, _kind in succ:
            parents[j].add(i)
    out: dict[str, set[str]] = {}
    for i, st in enumerate(steps):
        seen: set[int] = set()
        todo = list(parents[i])
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(parents[k])
        out[st.id] = {steps[k].id for k in seen}
    return out


def find_returns(officers: Any, applicant: Any, ancestors: Mapping[str, Mapping[str, set[str]]]) -> list[Return]:
    """Every file sent back in the log.

    ``officers``: the officers' rows (columns case_key, project_type, step,
    t_enable, t_start, t_end); ``applicant``: the ``back to applicant`` rows
    (case_key, step: the sender, t_end), possibly empty; ``ancestors``: per
    project type, :func:`step_ancestors`.
    """
    returns: list[Return] = []
    by_case_applicant = {k: g for k, g in applicant.groupby("case_key", sort=False)} if len(applicant) else {}
    ordered = officers.sort_values(["case_key", "t_enable", "t_start"], kind="stable")
    for case, rows in ordered.groupby("case_key", sort=False):
        if rows["step"].is_unique:
            continue  # no step visited twice: nothing sent back
        fid = rows["project_type"].iat[0]
        before = ancestors[fid]
        steps = rows["step"].to_numpy()
        enable, end = rows["t_enable"].to_numpy(), rows["t_end"].to_numpy()
        sent_back = by_case_applicant.get(case)
        last_end: dict[str, float] = {}
        for v in range(len(steps)):
            s = steps[v]
            if s in last_end:
                previous = last_end[s]
                forward = any(steps[u] in before[s] and previous < end[u] <= enable[v] for u in range(v))
                if not forward:
                    sender, sent = _sender(s, enable[v], steps[:v], end[:v], before, sent_back)
                    if sender is not None:
                        returns.append(Return(str(case), str(fid), sender, str(s), sent, float(enable[v])))
            last_end[s] = max(end[v], last_end.get(s, -np.inf))
    return returns


def _sender(target: str, back: float, steps: np.ndarray, end: np.ndarray, before: Mapping[str, set[str]],
            sent_back: Any) -> tuple[str | None, float]:
    """The step that sent the file back to ``target`` (reaching its queue at ``back``), and its visit's end."""
    # Steps the file can come back from: the target and every step after it.
    eligible = [u for u in range(len(steps)) if (steps[u] == target or target in before[steps[u]])
                and end[u] <= back]
    if sent_back is not None:
        named = sent_back[sent_back["t_end"] <= back + 1e-9]
        if len(named):
            sender = str(named["step"].iat[int(np.argmax(named["t_end"].to_numpy()))])
            ends = [end[u] for u in eligible if steps[u] == sender]
            if ends:
                return sender, float(max(ends))
    if not eligible:
        return None, float("nan")
    u = max(eligible, key=lambda k: end[k])
    return str(steps[u]), float(end[u])
