"""Named streams: keys, and numbers that depend on the name only."""

from __future__ import annotations

import numpy as np

from orgsim.sim.streams import RandomStreams, stream_key


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
