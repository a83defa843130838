"""Named random streams for common random numbers.

Each replication gets a :class:`numpy.random.SeedSequence`; every random
source (arrivals of a project type, service times of a function for a project
type, ...) gets its own generator derived from it by *name*, not by creation
order. Adding a step or a function therefore never shifts another source's
numbers, so a reformed organisation meets the same applicants with the same
draws wherever a step is unchanged.

A source's generator is that of ``SeedSequence(entropy, spawn_key=spawn_key +
(stream_key(name),))`` on PCG64, bit for bit. It is made only when the source
is first drawn (many sources, such as second visits, rarely are), and the
seed states of all sources named until then are derived together, with
numpy arrays (:func:`derive_states`), instead of one ``SeedSequence`` each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["RandomStreams", "BlockStream", "RowStream", "replication_seeds", "stream_key", "derive_states"]

#: Most values drawn per refill: numpy's per-call cost is spread over 512 draws,
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


# --- numpy's SeedSequence, for many spawn keys at once -------------------------------------------
# The algorithm and constants of numpy.random.SeedSequence (numpy/random/bit_generator.pyx, after
# M. E. O'Neill's seed_seq), which numpy keeps fixed for stream compatibility. Each function works
# on Python ints and on uint32 arrays alike (one value per source); tests/sim/test_streams.py holds
# the result to numpy's own SeedSequence and PCG64, bit for bit.
_POOL_SIZE = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_MASK32 = 0xFFFFFFFF


def _hashmix(value: Any, hash_const: int) -> tuple[Any, int]:
    """SeedSequence's ``hashmix``: the mixed value and the next hash constant."""
    value = (value ^ hash_const) & _MASK32
    hash_const = (hash_const * _MULT_A) & _MASK32
    value = (value * hash_const) & _MASK32
    return value ^ (value >> 16), hash_const


def _mix(x: Any, y: Any) -> Any:
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> 16)


def _mix_in(pool: list[Any], hash_const: int, words: Sequence[Any]) -> int:
    """Mix entropy words beyond the pool's size into ``pool`` (in place); the next hash constant."""
    for word in words:
        for dst in range(_POOL_SIZE):
            mixed, hash_const = _hashmix(word, hash_const)
            pool[dst] = _mix(pool[dst], mixed)
    return hash_const


def _words(value: Any) -> list[int]:
    """An int, or a sequence of ints, as SeedSequence reads it: 32-bit words, lowest first."""
    if isinstance(value, (int, np.integer)):
        n = int(value)
        if n < 0:
            raise ValueError("expected non-negative integer")
        out = [n & _MASK32]
        while n > _MASK32:
            n >>= 32
            out.append(n & _MASK32)
        return out
    if isinstance(value, np.ndarray) and value.dtype == np.uint32:
        return [int(v) for v in value.reshape(-1)]
    if isinstance(value, (list, tuple, range, np.ndarray)):
        return [w for v in value for w in _words(v)]
    raise TypeError(f"cannot read {value!r} as seed entropy")


def _prefix(entropy: Any, spawn_key: Sequence[int]) -> tuple[list[int], int]:
    """The pool and hash constant after a seed sequence's entropy and spawn key, before a stream's key.

    A stream's spawn key is never empty, so the run entropy is padded to the pool size with zeros.
    """
    run = _words(entropy)
    run += [0] * (_POOL_SIZE - len(run))
    pool: list[int] = []
    hash_const = _INIT_A
    for word in run[:_POOL_SIZE]:
        mixed, hash_const = _hashmix(word, hash_const)
        pool.append(mixed)
    for src in range(_POOL_SIZE):
        for dst in range(_POOL_SIZE):
            if src != dst:
                mixed, hash_const = _hashmix(pool[src], hash_const)
                pool[dst] = _mix(pool[dst], mixed)
    hash_const = _mix_in(pool, hash_const, run[_POOL_SIZE:] + _words(tuple(spawn_key)))
    return pool, hash_const


def _generate(pool: list[Any]) -> list[Any]:
    """SeedSequence's ``generate_state`` of eight uint32 words from ``pool``."""
    hash_const = _INIT_B
    out = []
    for i in range(8):
        value = (pool[i % _POOL_SIZE] ^ hash_const) & _MASK32
        hash_const = (hash_const * _MULT_B) & _MASK32
        value = (value * hash_const) & _MASK32
        out.append(value ^ (value >> 16))
    return out


#: Below this many keys, Python ints are faster than numpy arrays (whose calls cost about 1 us each).
_FEW_KEYS = 16


class _StateDeriver:
    """PCG64 seed states of streams of one seed sequence (its entropy and spawn key mixed in once)."""

    def __init__(self, seed_seq: np.random.SeedSequence) -> None:
        self._seed_seq = seed_seq
        try:
            self._pool: list[int] | None
            self._pool, self._hash_const = _prefix(seed_seq.entropy, seed_seq.spawn_key)
        except TypeError:  # entropy this module does not read (say, numpy's hex strings): numpy's own path
            self._pool = None

    def states(self, keys: Sequence[int]) -> np.ndarray:
        out = np.empty((len(keys), 4), dtype=np.uint64)
        if self._pool is None:
            entropy, spawn_key = self._seed_seq.entropy, tuple(self._seed_seq.spawn_key)
            for row, key in enumerate(keys):
                out[row] = np.random.SeedSequence(entropy, spawn_key=spawn_key + (key,)).generate_state(4, np.uint64)
            return out
        if len(keys) < _FEW_KEYS:
            for row, key in enumerate(keys):
                pool = list(self._pool)
                _mix_in(pool, self._hash_const, _words(key))
                words = _generate(pool)
                out[row] = [words[2 * j] | (words[2 * j + 1] << 32) for j in range(4)]
            return out
        keys_u64 = np.array(keys, dtype=np.uint64)
        # A key below 2**32 is one word, others two (SeedSequence drops leading zero words).
        for wide in (False, True):
            rows = np.flatnonzero((keys_u64 > _MASK32) == wide)
            if not len(rows):
                continue
            low = (keys_u64[rows] & np.uint64(_MASK32)).astype(np.uint32)
            key_words = [low, (keys_u64[rows] >> np.uint64(32)).astype(np.uint32)] if wide else [low]
            pools = [np.full(len(rows), v, dtype=np.uint32) for v in self._pool]
            _mix_in(pools, self._hash_const, key_words)
            words = [w.astype(np.uint64) for w in _generate(pools)]
            for j in range(4):  # four little-endian uint64 words
                out[rows, j] = words[2 * j] | (words[2 * j + 1] << np.uint64(32))
        return out


def derive_states(seed_seq: np.random.SeedSequence, keys: Sequence[int]) -> np.ndarray:
    """``SeedSequence(entropy, spawn_key=spawn_key + (key,)).generate_state(4, np.uint64)`` for each key.

    One row of four uint64 words per key (what PCG64 seeds itself with), computed for all keys
    at once.
    """
    return _StateDeriver(seed_seq).states(keys)


class _DerivedSeed(ISeedSequence):
    """A seed sequence whose PCG64 state words were derived already (by :func:`derive_states`)."""

    __slots__ = ("_state",)

    def __init__(self, state: np.ndarray) -> None:
        self._state = state

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("a derived seed holds PCG64's four uint64 words only")
        return self._state.copy()


class BlockStream:
    """Draws from one source, sampled in blocks with numpy, handed out one at a time.

    Blocks of ``first_block`` values first, then twice as many each time, up to BLOCK (as
    :class:`RowStream`'s rows: the numbers do not depend on the block sizes).
    """

    __slots__ = ("_fill", "_values", "_next", "_size")

    def __init__(self, fill: Callable[[int], np.ndarray], first_block: int = BLOCK) -> None:
        self._fill = fill
        self._values: list[float] = []
        self._next = 0
        self._size = min(first_block, BLOCK)

    def take(self) -> float:
        if self._next == len(self._values):
            n = self._size
            self._size = min(2 * n, BLOCK)
            self._values = self._fill(n).tolist()
            self._next = 0
        value = self._values[self._next]
        self._next += 1
        return value


class RowStream:
    """Several sources drawn side by side: each row holds the next value of every source.

    An application takes one row for all its first-visit draws instead of
    one value from each of some thirty streams; each column is still its own
    named source, so the numbers are the same as from separate streams.

    Rows come in blocks of ``first_block`` rows first, then twice as many each time, up to
    BLOCK: a source expected to be drawn a few times only (a timeline's project type in a phase
    of weeks) is not sampled 512 times. The numbers do not depend on the block sizes: numpy's
    samplers draw value after value from the bit generator (whose state keeps even a spare half
    word between calls), so n values then m values are the n + m values of one call
    (tests/sim/test_streams.py checks every distribution).
    """

    __slots__ = ("_columns", "_rows", "_next", "_size")

    def __init__(self, columns: _Columns, first_block: int = BLOCK) -> None:
        self._columns = columns
        self._rows: list[list[float]] = []
        self._next = 0
        self._size = min(first_block, BLOCK)

    @property
    def width(self) -> int:
        return self._columns.width

    def block(self) -> np.ndarray:
        """The next block of rows as an array (for a caller that takes rows by the block)."""
        n = self._size
        self._size = min(2 * n, BLOCK)
        return self._columns.block(n)

    def take(self) -> list[float]:
        if self._next == len(self._rows):
            self._rows = self.block().tolist()
            self._next = 0
        row = self._rows[self._next]
        self._next += 1
        return row


class _Batch:
    """Sources named one after another until one of them is drawn: their states are derived together then.

    Nothing here refers back to the streams: a replication's streams are freed when it ends,
    without waiting for the cyclic garbage collector.
    """

    __slots__ = ("_deriver", "keys", "states")

    def __init__(self, deriver: _StateDeriver) -> None:
        self._deriver = deriver
        self.keys: list[int] = []
        self.states: np.ndarray | None = None

    def state(self, index: int) -> np.ndarray:
        if self.states is None:
            self.states = self._deriver.states(self.keys)
        return self.states[index]


def _generator_of(state: np.ndarray) -> np.random.Generator:
    # PCG64 takes any ISeedSequence (numpy's BitGenerator does); its stubs name SeedSequence only.
    return np.random.Generator(np.random.PCG64(_DerivedSeed(state)))  # type: ignore[arg-type]


class _Columns:
    """A row stream's sources, named together (entries ``first`` on of ``batch``); their generators are
    made together at the first block."""

    __slots__ = ("_fills", "_batch", "_first", "_rngs")

    def __init__(self, fills: list[Callable[[np.random.Generator, int], np.ndarray]], batch: _Batch,
                 first: int) -> None:
        self._fills = fills
        self._batch = batch
        self._first = first
        self._rngs: list[np.random.Generator] | None = None

    @property
    def width(self) -> int:
        return len(self._fills)

    def block(self, n: int) -> np.ndarray:
        if self._rngs is None:
            self._rngs = [_generator_of(self._batch.state(self._first + c)) for c in range(len(self._fills))]
        out = np.empty((n, len(self._fills)))
        for c, (fill, rng) in enumerate(zip(self._fills, self._rngs, strict=True)):
            out[:, c] = fill(rng, n)
        return out


class _Source:
    """A named source, ``source(n)`` its next ``n`` values; its generator is made when it is first drawn."""

    __slots__ = ("_fill", "_batch", "_index", "_rng")

    def __init__(self, fill: Callable[[np.random.Generator, int], np.ndarray] | None, batch: _Batch,
                 index: int) -> None:
        self._fill = fill
        self._batch = batch
        self._index = index
        self._rng: np.random.Generator | None = None

    def generator(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = _generator_of(self._batch.state(self._index))
        return self._rng

    def __call__(self, n: int) -> np.ndarray:
        assert self._fill is not None
        return self._fill(self.generator(), n)


class RandomStreams:
    """Generators keyed by name, all derived from one replication's seed sequence."""

    def __init__(self, seed_seq: np.random.SeedSequence) -> None:
        self._seed_seq = seed_seq
        self._streams: dict[tuple[str, ...], BlockStream] = {}
        self._in_rows: set[tuple[str, ...]] = set()
        self._deriver: _StateDeriver | None = None
        self._batch: _Batch | None = None  # the sources named since the last first draw

    def generator(self, *name: str) -> np.random.Generator:
        """A fresh generator for ``name``; the same name always gives the same numbers."""
        return self._source(None, name).generator()

    def _open_batch(self) -> _Batch:
        """The batch new names join: the current one, unless one of its sources was drawn already."""
        batch = self._batch
        if batch is None or batch.states is not None:
            if self._deriver is None:
                self._deriver = _StateDeriver(self._seed_seq)
            batch = self._batch = _Batch(self._deriver)
        return batch

    def _source(self, fill: Callable[[np.random.Generator, int], np.ndarray] | None,
                name: tuple[str, ...], key: int | None = None) -> _Source:
        batch = self._open_batch()
        batch.keys.append(stream_key(*name) if key is None else key)
        return _Source(fill, batch, len(batch.keys) - 1)

    def stream(self, fill: Callable[[np.random.Generator, int], np.ndarray], *name: str,
               first_block: int = BLOCK, key: int | None = None) -> BlockStream:
        """The block stream called ``name``, created on first use with ``fill`` (and ``first_block``).

        ``key``, when given, is ``stream_key(*name)`` computed once by the caller.
        """
        if name in self._in_rows:
            raise ValueError(f"stream {name!r} is drawn by a row stream")
        found = self._streams.get(name)
        if found is None:
            found = BlockStream(self._source(fill, name, key), first_block)
            self._streams[name] = found
        return found

    def rows(
        self, sources: Sequence[tuple[Callable[[np.random.Generator, int], np.ndarray], tuple[str, ...]]],
        first_block: int = BLOCK, keys: Sequence[int] | None = None,
    ) -> RowStream:
        """One :class:`RowStream` over ``(fill, name)`` sources; each name is used once, here.

        ``keys``, when given, are the names' ``stream_key`` computed once by the caller.
        """
        for _, name in sources:
            if name in self._streams or name in self._in_rows:
                raise ValueError(f"stream {name!r} is already in use")
            self._in_rows.add(name)
        batch = self._open_batch()
        first = len(batch.keys)
        if keys is None:
            batch.keys.extend(stream_key(*name) for _, name in sources)
        else:
            batch.keys.extend(keys)
        return RowStream(_Columns([fill for fill, _ in sources], batch, first), first_block)
