"""Named random streams for common random numbers.

Each replication gets a :class:`numpy.random.SeedSequence`; every random
source (arrivals of a project type, service times of a function for a project
type, ...) gets its own generator derived from it by *name*, not by creation
order. Adding a step or a function therefore never shifts another source's
numbers, so a reformed organisation meets the same applicants with the same
draws wherever a step is unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial

import numpy as np

__all__ = ["RandomStreams", "BlockStream", "RowStream", "replication_seeds", "stream_key"]

#: Values drawn per refill: numpy's per-call cost is spread over 512 draws,
#: and a stream holds at most 512 Python floats (16 KB), which matters with
#: thousands of streams (project types x functions x purposes).
BLOCK = 512


def stream_key(*name: str) -> int:
    """The 64-bit key that names a stream in its replication's seed sequence.

    An 8-byte BLAKE2b digest of the name's parts: two names share numbers
    only by a 64-bit collision (even odds among some 5 billion names; with a
    32-bit key such as a CRC32, among some 77,000).
    """
    digest = hashlib.blake2b("\x1f".join(name).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


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


class RowStream:
    """Several sources drawn side by side: each row holds the next value of every source.

    An application takes one row for all its first-visit draws instead of
    one value from each of some thirty streams; each column is still its own
    named source, so the numbers are the same as from separate streams.
    """

    __slots__ = ("_fills", "_rows", "_next")

    def __init__(self, fills: list[Callable[[int], np.ndarray]]) -> None:
        self._fills = fills
        self._rows: list[list[float]] = []
        self._next = 0

    @property
    def width(self) -> int:
        return len(self._fills)

    def block(self) -> np.ndarray:
        """The next ``BLOCK`` rows as an array (for a caller that takes rows by the block)."""
        return np.column_stack([fill(BLOCK) for fill in self._fills]) if self._fills else np.empty((BLOCK, 0))

    def take(self) -> list[float]:
        if self._next == len(self._rows):
            self._rows = self.block().tolist()
            self._next = 0
        row = self._rows[self._next]
        self._next += 1
        return row


class RandomStreams:
    """Generators keyed by name, all derived from one replication's seed sequence."""

    def __init__(self, seed_seq: np.random.SeedSequence) -> None:
        self._seed_seq = seed_seq
        self._streams: dict[tuple[str, ...], BlockStream] = {}
        self._in_rows: set[tuple[str, ...]] = set()

    def generator(self, *name: str) -> np.random.Generator:
        """A fresh generator for ``name``; the same name always gives the same numbers."""
        child = np.random.SeedSequence(
            self._seed_seq.entropy, spawn_key=tuple(self._seed_seq.spawn_key) + (stream_key(*name),))
        return np.random.Generator(np.random.PCG64(child))

    def stream(self, fill: Callable[[np.random.Generator, int], np.ndarray], *name: str) -> BlockStream:
        """The block stream called ``name``, created on first use with ``fill``."""
        if name in self._in_rows:
            raise ValueError(f"stream {name!r} is drawn by a row stream")
        found = self._streams.get(name)
        if found is None:
            rng = self.generator(*name)
            found = BlockStream(lambda n: fill(rng, n))
            self._streams[name] = found
        return found

    def rows(
        self, sources: list[tuple[Callable[[np.random.Generator, int], np.ndarray], tuple[str, ...]]]
    ) -> RowStream:
        """One :class:`RowStream` over ``(fill, name)`` sources; each name is used once, here."""
        fills: list[Callable[[int], np.ndarray]] = []
        for fill, name in sources:
            if name in self._streams or name in self._in_rows:
                raise ValueError(f"stream {name!r} is already in use")
            self._in_rows.add(name)
            rng = self.generator(*name)
            fills.append(partial(fill, rng))
        return RowStream(fills)
