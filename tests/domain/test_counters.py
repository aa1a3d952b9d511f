"""Rate-limit counters: one behaviour suite that the database and the Redis backends both pass.

Redis is the local server (``SMSAUTH_TEST_REDIS_URL``); when it is unreachable its cases are
skipped with the reason. Keys are unique to each test; time is the injected clock.
"""

import asyncio
import os
import uuid
from datetime import timedelta

import pytest

from domain.counters import Check, DatabaseCounters, RedisCounters

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
    for _ in range(3):
        assert await counters.take([check], frozen_clock.now()) is None
        frozen_clock.advance(minutes=10)
    refusal = await counters.take([check], frozen_clock.now())
    assert refusal is not None and refusal.check == check
    assert refusal.retry_at == first + HOUR  # the window started at the first hit
    frozen_clock.advance(minutes=29)
    assert await counters.take([check], frozen_clock.now()) is not None
    frozen_clock.advance(minutes=1)  # the window has ended: a new one starts
    assert await counters.take([check], frozen_clock.now()) is None
    assert (await counters.take([check], frozen_clock.now())) is None


async def test_a_refusal_counts_nothing_on_the_other_limits(counters, key, frozen_clock):
    wide, narrow = Check(key("ip"), 3, HOUR), Check(key("user"), 1, HOUR)
    now = frozen_clock.now()
    assert await counters.take([wide, narrow], now) is None
    for _ in range(5):
        refusal = await counters.take([wide, narrow], now)
        assert refusal is not None and refusal.check == narrow
    # The refused requests did not use up the wide limit: two of its three are still free.
    assert await counters.take([wide], now) is None
    assert await counters.take([wide], now) is None
    assert (await counters.take([wide], now)).check == wide


async def test_concurrent_requests_never_exceed_the_maximum(counters, key, frozen_clock):
    check = Check(key("burst"), 10, HOUR)
    now = frozen_clock.now()
    refusals = await asyncio.wait_for(
        asyncio.gather(*(counters.take([check], now) for _ in range(40))), 60
    )
    assert sum(r is None for r in refusals) == 10


async def test_tallies_add_up_and_are_read_back(counters, key, frozen_clock):
    now = frozen_clock.now()
    for _ in range(3):
        await counters.add(key("a"), now, HOUR)
    await counters.add(key("b"), now, HOUR)
    assert await counters.read([key("a"), key("b"), key("c")], now) == {key("a"): 3, key("b"): 1}
