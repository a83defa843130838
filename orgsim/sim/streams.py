"""Named random streams for common random numbers.

Each replication gets a :class:`numpy.random.SeedSequence`; every random
source (arrivals of a project type, service times of a function for a project
type, ...) gets its own generator derived from it by *name*, not by creation
order. Adding a step or a function therefore never shifts another source's
numbers, so a reformed organisation meets the same applicants with the same
draws wherever a step is unchanged.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

__all__ = ["RandomStreams", "BlockStream", "replication_seeds"]

#: Values drawn per refill: numpy's per-call cost is spread over 512 draws,
#: and a stream holds at most 512 Python floats (16 KB), which matters with
#: thousands of streams (project types x functions x purposes).
BLOCK = 512


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences for ``replications`` runs from one seed."""
    return np.random.SeedSequence(seed).spawn(replications)


class BlockStream:
    """Draws from one source, sampled in blocks with numpy, handed out one at a time."""

    __slots__ = ("_fill", "_values", "_next")

    def __init__(self, fill: Callable[[int], np.ndarray]) -> None:
        self._fill = fill
        self._values: list[float] = []
        self._next = 0

    def take(self) -> float:
        if self._next == len(self._values):
            self._values = self._fill(BLOCK).tolist()
            self._next = 0
        value = self._values[self._next]
        self._next += 1
        return value


class RandomStreams:
    """Generators keyed by name, all derived from one replication's seed sequence."""

    def __init__(self, seed_seq: np.random.SeedSequence) -> None:
        self._seed_seq = seed_seq
        self._streams: dict[tuple[str, ...], BlockStream] = {}

    def generator(self, *name: str) -> np.random.Generator:
        """A fresh generator for ``name``; the same name always gives the same numbers."""
        key = tuple(zlib.crc32("\x1f".join(name).encode("utf-8")).to_bytes(4, "little"))
        child = np.random.SeedSequence(
            self._seed_seq.entropy,
            spawn_key=tuple(self._seed_seq.spawn_key) + (int.from_bytes(bytes(key), "little"),),
        )
        return np.random.Generator(np.random.PCG64(child))

    def stream(self, fill: Callable[[np.random.Generator, int], np.ndarray], *name: str) -> BlockStream:
        """The block stream called ``name``, created on first use with ``fill``."""
        found = self._streams.get(name)
        if found is None:
            rng = self.generator(*name)
            found = BlockStream(lambda n: fill(rng, n))
            self._streams[name] = found
        return found
