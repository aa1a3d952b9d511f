"""Shared counters for rate limits and the velocity guard: in the database, or in Redis.

Two operations, both atomic across every instance that shares the store:

- ``take(checks, now)``: each check is a counter with a maximum and a window that starts at the
  counter's first hit. If any counter is at its maximum, nothing is counted and the refusing
  check comes back with the time its window ends; otherwise every counter counts one.
- ``add(key, now, keep)`` / ``read(keys, now)``: plain tallies kept for ``keep`` (the velocity
  guard's hourly buckets, whose keys name their hour).

Windows run on ``domain.clock`` (an injected clock in tests), never on the store's own clock.
Redis is used when ``SMSAUTH_REDIS_URL`` is set, so every instance shares one count; otherwise the
``rate_counter`` table, which instances share when they share the database.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tortoise.expressions import Case, F, RawSQL, When
from tortoise.transactions import in_transaction

from domain.models import RateCounter

#: Expired rows of the table are swept on every this many ``take`` calls of a process.
SWEEP_EVERY = 500


@dataclass(frozen=True)
class Check:
    key: str
    maximum: int
    window: timedelta


@dataclass(frozen=True)
class Refusal:
    check: Check
    retry_at: datetime


class Counters(Protocol):
    async def take(self, checks: Sequence[Check], now: datetime) -> Refusal | None: ...

    async def add(self, key: str, now: datetime, keep: timedelta) -> None: ...

    async def read(self, keys: Sequence[str], now: datetime) -> dict[str, int]: ...

    async def close(self) -> None: ...


class _Refused(Exception):
    """Raised inside the transaction to roll it back."""


def _by_window(checks: Sequence[Check]) -> dict[timedelta, list[str]]:
    grouped: dict[timedelta, list[str]] = {}
    for check in checks:
        grouped.setdefault(check.window, []).append(check.key)
    return grouped


class DatabaseCounters:
    """Counters in the ``rate_counter`` table; conditional UPDATEs make them race-free."""

    def __init__(self) -> None:
        self._calls = itertools.count(1)

    async def take(self, checks: Sequence[Check], now: datetime) -> Refusal | None:
        """Three statements whatever the number of checks (plus one per extra window length):
        create missing counters, restart ended windows, then one conditional UPDATE that counts
        every counter below its maximum; fewer rows counted than checks means a refusal, and
        the transaction is rolled back so nothing is counted."""
        if not checks:
            return None
        keys = sorted(c.key for c in checks)  # one lock order: no deadlocks
        # Integer literals (typed as such by PostgreSQL, unlike parameters inside CASE).
        below_maximum = Case(
            *(When(key=c.key, then=RawSQL(str(int(c.maximum)))) for c in checks),
            default=RawSQL("0"),
        )
        try:
            async with in_transaction():
                await RateCounter.bulk_create(
                    [RateCounter(key=key, count=0, expires_at=now) for key in keys],
                    ignore_conflicts=True,
                )
                for window, keys_of_window in _by_window(checks).items():
                    # a window that ended starts again at this hit
                    await RateCounter.filter(key__in=keys_of_window, expires_at__lte=now).update(
                        count=0, expires_at=now + window
                    )
                counted = (
                    await RateCounter.filter(key__in=keys)
                    .annotate(maximum=below_maximum)
                    .filter(count__lt=F("maximum"))
                    .update(count=F("count") + 1)
                )
                if counted < len(keys):
                    raise _Refused()  # roll back the counters that were counted
        except _Refused:
            return await self._refusal(checks, now)
        finally:
            if next(self._calls) % SWEEP_EVERY == 0:
                await RateCounter.filter(expires_at__lt=now, key__not_in=keys).delete()
        return None

    async def _refusal(self, checks: Sequence[Check], now: datetime) -> Refusal:
        """The full counter (the first given, if several), as the rolled-back state shows it."""
        rows = {row.key: row for row in await RateCounter.filter(key__in=[c.key for c in checks])}
        full = [c for c in checks if c.key in rows and rows[c.key].count >= c.maximum]
        check = full[0] if full else checks[0]  # emptied meanwhile: still refused this time
        return Refusal(check, rows[check.key].expires_at if check.key in rows else now)

    async def add(self, key: str, now: datetime, keep: timedelta) -> None:
        async with in_transaction():
            await RateCounter.bulk_create(
                [RateCounter(key=key, count=0, expires_at=now + keep)], ignore_conflicts=True
            )
            await RateCounter.filter(key=key).update(count=F("count") + 1)

    async def read(self, keys: Sequence[str], now: datetime) -> dict[str, int]:
        rows = await RateCounter.filter(key__in=list(keys), expires_at__gt=now).values_list(
            "key", "count"
        )
        return dict(rows)

    async def close(self) -> None:
        return None


#: Refuse when any counter is full (nothing counted), else count one on each: atomic in Redis.
#: KEYS: counters; ARGV[1]: now in ms; then per key: maximum, window in ms.
TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'n', 'exp')
  local n, exp = tonumber(v[1] or '0'), tonumber(v[2] or '0')
  if exp > now and n >= tonumber(ARGV[2 * i]) then return {i, exp} end
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i + 1])
  local exp = tonumber(redis.call('HGET', key, 'exp') or '0')
  if exp <= now then
    redis.call('HSET', key, 'n', 1, 'exp', now + window)
  else
    redis.call('HINCRBY', key, 'n', 1)
  end
  redis.call('PEXPIRE', key, window + 60000)
end
return {0, 0}
"""

KEY_PREFIX = "smsauth:counter:"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisCounters:
    """Counters in Redis hashes ``{n, exp}``; one Lua script checks and counts atomically."""

    def __init__(self, url: str) -> None:
        from redis import asyncio as redis  # optional dependency: imported only when used

        self._client: Any = redis.from_url(url)
        self._take = self._client.register_script(TAKE_SCRIPT)

    async def take(self, checks: Sequence[Check], now: datetime) -> Refusal | None:
        args: list[int] = [_ms(now)]
        for check in checks:
            args += [check.maximum, int(check.window.total_seconds() * 1000)]
        index, expires = await self._take(keys=[KEY_PREFIX + c.key for c in checks], args=args)
        if not index:
            return None
        retry_at = datetime.fromtimestamp(int(expires) / 1000, now.tzinfo)
        return Refusal(checks[int(index) - 1], retry_at)

    async def add(self, key: str, now: datetime, keep: timedelta) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(KEY_PREFIX + key)
            pipe.pexpire(KEY_PREFIX + key, int(keep.total_seconds() * 1000))
            await pipe.execute()

    async def read(self, keys: Sequence[str], now: datetime) -> dict[str, int]:
        if not keys:
            return {}
        values = await self._client.mget([KEY_PREFIX + k for k in keys])
        return {k: int(v) for k, v in zip(keys, values, strict=True) if v is not None}

    async def close(self) -> None:
        await self._client.aclose()


def create_counters(redis_url: str | None) -> Counters:
    return RedisCounters(redis_url) if redis_url else DatabaseCounters()
