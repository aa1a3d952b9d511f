"""Rate-limit counters: one behaviour suite that the database and the Redis backends both pass.

Redis is the local server (``SMSAUTH_TEST_REDIS_URL``); when it is unreachable its cases are
skipped with the reason. Keys are unique to each test; time is the injected clock.
"""

import asyncio
import os
import uuid
from datetime import timedelta

import pytest

from domain.counters import Check, Counted, DatabaseCounters, RedisCounters, Refusal

REDIS_URL = os.environ.get("SMSAUTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HOUR = timedelta(hours=1)


async def _redis_unreachable() -> str | None:
    try:
        from redis.asyncio import Redis
    except ImportError:
        return "the redis package is not installed"
    try:
        async with Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
            await client.ping()
    except Exception as exc:  # any failure to reach it is a reason to skip
        return f"Redis unreachable at {REDIS_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(params=["database", "redis"])
async def counters(request, db):
    if request.param == "redis":
        reason = await _redis_unreachable()
        if reason:
            pytest.skip(reason)
        store = RedisCounters(REDIS_URL)
    else:
        store = DatabaseCounters()
    yield store
    await store.close()


@pytest.fixture
def key():
    prefix = uuid.uuid4().hex
    return lambda name: f"test:{prefix}:{name}"


async def test_counts_up_to_the_maximum_then_refuses_until_the_window_ends(
    counters, key, frozen_clock
):
    first = frozen_clock.now()
    check = Check(key("phone"), 3, HOUR)
    for count in (1, 2, 3):
        assert await counters.take([check], frozen_clock.now()) == Counted({check.key: count})
        frozen_clock.advance(minutes=10)
    refusal = await counters.take([check], frozen_clock.now())
    assert isinstance(refusal, Refusal) and refusal.check == check
    assert refusal.retry_at == first + HOUR  # the window started at the first hit
    frozen_clock.advance(minutes=29)
    assert isinstance(await counters.take([check], frozen_clock.now()), Refusal)
    frozen_clock.advance(minutes=1)  # the window has ended: a new one starts
    assert await counters.take([check], frozen_clock.now()) == Counted({check.key: 1})
    assert await counters.take([check], frozen_clock.now()) == Counted({check.key: 2})


async def test_a_refusal_counts_nothing_on_the_other_limits(counters, key, frozen_clock):
    wide, narrow = Check(key("ip"), 3, HOUR), Check(key("user"), 1, HOUR)
    now = frozen_clock.now()
    assert isinstance(await counters.take([wide, narrow], now), Counted)
    for _ in range(5):
        refusal = await counters.take([wide, narrow], now)
        assert isinstance(refusal, Refusal) and refusal.check == narrow
    # The refused requests did not use up the wide limit: two of its three are still free.
    assert await counters.take([wide], now) == Counted({wide.key: 2})
    assert await counters.take([wide], now) == Counted({wide.key: 3})
    assert (await counters.take([wide], now)).check == wide


async def test_concurrent_requests_never_exceed_the_maximum(counters, key, frozen_clock):
    check = Check(key("burst"), 10, HOUR)
    now = frozen_clock.now()
    refusals = await asyncio.wait_for(
        asyncio.gather(*(counters.take([check], now) for _ in range(40))), 60
    )
    assert sum(isinstance(r, Counted) for r in refusals) == 10
    counts = sorted(r.counts[check.key] for r in refusals if isinstance(r, Counted))
    assert counts == list(range(1, 11))  # each winner saw its own place in the window


async def test_a_tally_counts_along_never_refuses_and_reads_back(counters, key, frozen_clock):
    now = frozen_clock.now()
    limit, tally = Check(key("user"), 2, HOUR), Check(key("bucket"), None, HOUR)
    assert await counters.take([limit, tally], now) == Counted({limit.key: 1, tally.key: 1})
    assert await counters.take([limit, tally], now) == Counted({limit.key: 2, tally.key: 2})
    refusal = await counters.take([limit, tally], now)
    assert isinstance(refusal, Refusal) and refusal.check == limit
    assert await counters.read([tally.key], now) == {tally.key: 2}  # the refusal counted none
    for count in range(3, 6):  # alone, a tally has no maximum
        assert await counters.take([tally], now) == Counted({tally.key: count})
    other = key("other")
    assert await counters.read([tally.key, other], now) == {tally.key: 5}
