"""Queueing formulas: Erlang C, M/M/c, Little's law, Allen-Cunneen.

Used by the analytic estimate (``orgsim estimate``), by the tests that check
the simulator against theory, and in notebooks. Times and rates share one
unit (working days here).
"""

from __future__ import annotations

import math

__all__ = [
    "erlang_c",
    "erlang_c_wait",
    "mmc_sojourn",
    "allen_cunneen_wait",
    "little_l",
    "servers_needed",
]


def erlang_c(lam: float, mu: float, c: int) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang's C formula).

    Computed through the Erlang B recursion, which stays stable for large ``c``.
    Returns 1.0 when the queue is unstable (``lam >= c * mu``).
    """
    if c < 1 or mu <= 0:
        raise ValueError("need c >= 1 servers and mu > 0")
    a = lam / mu
    rho = a / c
    if rho >= 1:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1 - rho * (1 - b))


def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue, ``C(c, a) / (c mu - lam)``; inf if unstable."""
    if lam >= c * mu:
        return math.inf
    return erlang_c(lam, mu, c) / (c * mu - lam)


def mmc_sojourn(lam: float, mu: float, c: int) -> float:
    """Mean time in an M/M/c system: wait plus service."""
    return erlang_c_wait(lam, mu, c) + 1.0 / mu


def allen_cunneen_wait(lam: float, mean_service: float, c: int, scv_service: float, scv_arrival: float = 1.0) -> float:
    """Approximate mean wait of a G/G/c queue: Erlang C wait times ``(ca² + cs²) / 2``.

    Exact for M/M/c (both squared coefficients of variation 1). Work that
    takes no time (``mean_service`` 0) never waits.
    """
    if mean_service == 0:
        return 0.0
    return erlang_c_wait(lam, 1.0 / mean_service, c) * (scv_arrival + scv_service) / 2


def little_l(lam: float, w: float) -> float:
    """Little's law: mean number in a system, ``L = lambda W``."""
    return lam * w


def servers_needed(offered_busy_servers: float, target_utilisation: float) -> int:
    """Fewest servers keeping utilisation at or below the target (at least one)."""
    if not 0 < target_utilisation <= 1:
        raise ValueError("target utilisation must be in (0, 1]")
    return max(1, math.ceil(offered_busy_servers / target_utilisation - 1e-9))
