"""Named streams: keys, and numbers that depend on the name only."""

from __future__ import annotations

import typing
from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter

from orgsim.distributions import Distribution
from orgsim.sim.run_io import _exponential, _in_working_days, _uniform
from orgsim.sim.streams import BLOCK, RandomStreams, derive_states, replication_seeds, stream_key


def test_stream_keys_use_64_bits_and_do_not_collide() -> None:
    # A 32-bit key (CRC32, as before) gives even odds of a collision among ~77,000
    # names; these 200,000 must all differ, and many keys need more than 32 bits.
    keys = {stream_key("service", f"type{k}", f"function{k % 997}") for k in range(200_000)}
    assert len(keys) == 200_000
    assert all(0 <= key < 2**64 for key in keys)
    assert sum(key >= 2**32 for key in keys) > 199_000


def test_a_stream_depends_on_its_name_and_seed_only() -> None:
    seed = np.random.SeedSequence(5)
    one, two = RandomStreams(seed), RandomStreams(seed)
    two.generator("other", "name")  # creating another stream first shifts nothing
    a = one.generator("service", "p", "f").random(5)
    assert np.array_equal(a, two.generator("service", "p", "f").random(5))
    assert not np.array_equal(a, one.generator("service", "p", "g").random(5))
    assert not np.array_equal(a, RandomStreams(np.random.SeedSequence(6)).generator("service", "p", "f").random(5))


# --- seed states derived many at once, generators made at the first draw ----------------------------

def _numpy_generator(seed_seq: np.random.SeedSequence, *name: str) -> np.random.Generator:
    """A stream's generator the way numpy derives it: one SeedSequence per name (the definition)."""
    child = np.random.SeedSequence(seed_seq.entropy, spawn_key=tuple(seed_seq.spawn_key) + (stream_key(*name),))
    return np.random.Generator(np.random.PCG64(child))


@pytest.mark.parametrize("entropy", [0, 7, 2020, 2**32, 2**40 + 3, 2**128 - 1, 12345678901234567890123456789,
                                     [1, 2, 3, 4, 5, 6], (9,)])
@pytest.mark.parametrize("spawn_key", [(), (0,), (19,), (2**33,), (1, 2), (2**64 - 1, 5)])
def test_derived_states_are_numpy_s_seed_sequence_bit_for_bit(entropy, spawn_key) -> None:
    keys_rng = np.random.default_rng(abs(hash((str(entropy), spawn_key))) % 2**32)
    random_keys = [int(k) for k in keys_rng.integers(0, 2**64, 400, dtype=np.uint64)]
    edge_keys = [0, 1, 2**32 - 1, 2**32, 2**64 - 1] + [int(k) for k in keys_rng.integers(0, 2**32, 20)]
    seed_seq = np.random.SeedSequence(entropy, spawn_key=spawn_key)
    for keys in (random_keys + edge_keys, edge_keys[:3], random_keys[:1]):  # arrays, and Python ints (few keys)
        got = derive_states(seed_seq, keys)
        want = [np.random.SeedSequence(entropy, spawn_key=spawn_key + (k,)).generate_state(4, np.uint64)
                for k in keys]
        assert got.dtype == np.uint64 and got.shape == (len(keys), 4)
        assert np.array_equal(got, np.array(want))


def test_generators_equal_numpy_s_own_state_and_draws_for_thousands_of_names() -> None:
    names = [("service", f"type{k}", f"function{k % 37}") for k in range(3000)]
    for seed_seq in replication_seeds(2020, 3):
        streams = RandomStreams(seed_seq)
        fills = [streams.stream(_uniform, *name) for name in names]  # all named first: one batch
        for name, stream in zip(names, fills, strict=True):
            want = _numpy_generator(seed_seq, *name)
            drawn = [stream.take() for _ in range(40)]  # across the first blocks
            assert drawn == want.random(40).tolist()
        a = streams.generator("workforce", "fill")  # and a single name, made at once
        b = _numpy_generator(seed_seq, "workforce", "fill")
        assert a.bit_generator.state == b.bit_generator.state
        assert np.array_equal(a.random(5), b.random(5))


def test_lazy_streams_give_the_numbers_of_eager_generators_in_any_order() -> None:
    seed_seq = replication_seeds(11, 2)[1]
    names = [("rework", "p", f"f{k}") for k in range(60)]
    row_names = [("service", "q", f"f{k}") for k in range(30)]
    streams = RandomStreams(seed_seq)
    rows = streams.rows([(_exponential(2.0), name) for name in row_names])
    blocks, drawn = {}, {}
    for k, name in enumerate(names):
        blocks[name] = streams.stream(_uniform, *name)
        drawn[name] = [blocks[name].take()] if k % 7 == 0 else []  # draws between namings: more batches
    taken = np.array([rows.take() for _ in range(100)])
    want_rows = np.column_stack([_numpy_generator(seed_seq, *name).exponential(2.0, 100) for name in row_names])
    assert np.array_equal(taken, want_rows)
    for name in names:
        drawn[name] += [blocks[name].take() for _ in range(70 - len(drawn[name]))]
        assert drawn[name] == _numpy_generator(seed_seq, *name).random(70).tolist()


#: One of each kind of distribution (the test fails when a kind has none), and the cases where numpy
#: samples differently (gamma below and above shape 1; resampling with weights uses uniforms,
#: without weights bounded integers, from 32-bit halves of 64-bit words).
_SPECS = [
    {"dist": "exponential", "mean": 2.0}, {"dist": "uniform", "low": 1.0, "high": 3.0},
    {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0}, {"dist": "lognormal", "mean": 2.0, "cv": 0.7},
    {"dist": "gamma", "mean": 2.0, "cv": 0.5}, {"dist": "gamma", "mean": 2.0, "cv": 2.0},
    {"dist": "deterministic", "value": 2.0}, {"dist": "empirical", "values": [1.0, 2.0, 3.5], "weights": [1, 2, 3]},
    {"dist": "empirical", "values": [1.0, 2.0, 3.5]},
    {"dist": "empirical", "values": [float(v) for v in range(99_999)]},
]


def test_every_kind_of_distribution_is_checked_in_blocks() -> None:
    union, _ = typing.get_args(Distribution)
    kinds = {typing.get_args(cls.model_fields["dist"].annotation)[0] for cls in typing.get_args(union)}
    assert kinds == {spec["dist"] for spec in _SPECS}


@pytest.mark.parametrize("spec", _SPECS, ids=lambda s: f"{s['dist']}-{len(s)}")
def test_block_sizes_do_not_change_a_stream_s_numbers(spec) -> None:
    dist = TypeAdapter(Distribution).validate_python({**spec, "unit": "hours"})
    sampler = _in_working_days(dist, 8.0)
    parts = [33, 31, 32, 1, 500]  # odd sizes too (a spare half word between calls)
    for seed in range(5):
        g = np.random.default_rng(seed)
        in_parts = np.concatenate([sampler(g, k) for k in parts])
        assert np.array_equal(in_parts, sampler(np.random.default_rng(seed), sum(parts)))
    n = 3 * BLOCK + 5
    for seed_seq in replication_seeds(4, 3):
        streams = RandomStreams(seed_seq)
        stream = streams.stream(sampler, "s", "x", first_block=32)
        row = streams.rows([(sampler, ("r", "x")), (_uniform, ("r", "u"))], first_block=32)
        blocks = [row.block() for _ in range(6)]
        assert [b.shape for b in blocks] == [(32 * 2**k, 2) for k in range(5)] + [(BLOCK, 2)]
        rows = np.concatenate(blocks)
        assert [stream.take() for _ in range(n)] == sampler(_numpy_generator(seed_seq, "s", "x"), n).tolist()
        assert np.array_equal(rows[:, 0], sampler(_numpy_generator(seed_seq, "r", "x"), len(rows)))
        assert np.array_equal(rows[:, 1], _numpy_generator(seed_seq, "r", "u").random(len(rows)))


def test_a_run_template_is_picklable_and_gives_the_same_run() -> None:
    import pickle

    from orgsim.reforms import reform_scenario
    from orgsim.scenario import load_scenario
    from orgsim.sim.fifo_engine import run_fifo
    from orgsim.sim.plan import compile_plan
    from orgsim.sim.run_io import bind_streams, run_template

    scenario = load_scenario(Path(__file__).parents[2] / "scenarios" / "tutorial.yaml")
    plan = compile_plan(reform_scenario(scenario).before, scenario)
    template = run_template(plan, 200.0, 20.0, False, {})
    copy = pickle.loads(pickle.dumps(template))
    seed_seq = replication_seeds(3, 1)[0]
    a = run_fifo(bind_streams(template, RandomStreams(seed_seq)))
    b = run_fifo(bind_streams(copy, RandomStreams(seed_seq)))
    assert a.arrived > 50 and np.array_equal(a.t_end, b.t_end) and np.array_equal(a.flow_index, b.flow_index)


def test_seed_sequences_this_module_does_not_read_still_give_numpy_s_streams() -> None:
    # numpy reads strings of digits as entropy too; derive_states then takes numpy's own path.
    seed_seq = np.random.SeedSequence(["0x1f", "12"], spawn_key=(3,))
    streams = RandomStreams(seed_seq)
    names = [("service", "p", f"f{k}") for k in range(40)]
    blocks = [streams.stream(_uniform, *name) for name in names]
    for name, block in zip(names, blocks, strict=True):
        assert [block.take() for _ in range(3)] == _numpy_generator(seed_seq, *name).random(3).tolist()


def test_keys_computed_once_are_the_names_keys() -> None:
    seed_seq = replication_seeds(5, 2)[0]
    names = [("rework", "q", f"f{k}") for k in range(30)]
    a = RandomStreams(seed_seq).rows([(_uniform, n) for n in names], keys=[stream_key(*n) for n in names])
    b = RandomStreams(seed_seq).rows([(_uniform, n) for n in names])
    assert np.array_equal(a.block(), b.block())
    one = RandomStreams(seed_seq).stream(_uniform, "x", "y", key=stream_key("x", "y"))
    assert [one.take() for _ in range(5)] == _numpy_generator(seed_seq, "x", "y").random(5).tolist()
