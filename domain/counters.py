"""Shared counters for rate limits and the velocity guard: in the database, or in Redis.

Two operations, both atomic across every instance that shares the store:

- ``take(checks, now)``: each check is a counter with a maximum and a window that starts at the
  counter's first hit. If any counter is at its maximum, nothing is counted and the refusing
  check comes back with the time its window ends; otherwise every counter counts one and the
  new counts come back. A check without a maximum is a tally counted along (the velocity
  guard's bucket of this hour).
- ``read(keys, now)``: the counts of tallies (the velocity guard's hourly buckets, whose keys
  name their hour), for as long as they are kept.

Windows run on ``domain.clock`` (an injected clock in tests), never on the store's own clock.
Redis is used when ``SMSAUTH_REDIS_URL`` is set, so every instance shares one count; otherwise the
``rate_counter`` table, which instances share when they share the database.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.transactions import in_transaction

from domain.models import RateCounter
from domain.sql import Params

#: Expired rows of the table are swept on every this many ``take`` calls of a process.
SWEEP_EVERY = 500


#: What a tally (a check without a maximum) may reach: the largest 32-bit count.
TALLY_CEILING = 2**31 - 1


@dataclass(frozen=True)
class Check:
    """A counter and its maximum per window; with no maximum it is a tally, counted with the
    checks but never refusing, and ``window`` is how long it is kept."""

    key: str
    maximum: int | None
    window: timedelta


@dataclass(frozen=True)
class Refusal:
    check: Check
    retry_at: datetime


@dataclass(frozen=True)
class Counted:
    """Every check counted one; their counts after it, by key."""

    counts: dict[str, int]


class Counters(Protocol):
    async def take(self, checks: Sequence[Check], now: datetime) -> Refusal | Counted: ...

    async def read(self, keys: Sequence[str], now: datetime) -> dict[str, int]: ...

    async def close(self) -> None: ...


class DatabaseCounters:
    """Counters in the ``rate_counter`` table; conditional UPDATEs make them race-free."""

    def __init__(self) -> None:
        self._calls = itertools.count(1)

    async def take(self, checks: Sequence[Check], now: datetime) -> Refusal | Counted:
        """Two statements whatever the number of checks: one upsert creates missing counters and
        restarts ended windows, then one conditional UPDATE counts every counter below its
        maximum and returns the new counts. A counter missing from what comes back was full:
        the ones counted are counted back down, so a refusal counts nothing.

        Inside the caller's transaction the statements join it (no nested transaction, whose
        savepoints cost statements of their own); otherwise they run in one of their own.
        Raw SQL because the ORM has neither an upsert with a condition nor UPDATE ... RETURNING;
        both forms are the same on SQLite (3.35 and newer) and PostgreSQL."""
        if not checks:
            return Counted({})
        try:
            current = RateCounter._meta.db
            if isinstance(current, TransactionalDBClient):
                return await self._take(current, checks, now)
            async with in_transaction() as connection:
                return await self._take(connection, checks, now)
        finally:
            if next(self._calls) % SWEEP_EVERY == 0:
                keys = [c.key for c in checks]
                await RateCounter.filter(expires_at__lt=now, key__not_in=keys).delete()

    async def _take(
        self, connection: BaseDBAsyncClient, checks: Sequence[Check], now: datetime
    ) -> Refusal | Counted:
        ordered = sorted({c.key: c for c in checks}.values(), key=lambda c: c.key)  # lock order
        dialect = connection.capabilities.dialect
        await connection.execute_query(*_upsert(ordered, now, dialect))
        rows = await connection.execute_query_dict(*_count(ordered, dialect))
        counted = {row["key"]: row["count"] for row in rows}
        if len(counted) == len(ordered):
            return Counted(counted)
        full = next(c for c in checks if c.key not in counted)  # the first given, if several
        p = Params(dialect)
        if counted:
            keys = ",".join(p(key) for key in counted)
            await connection.execute_query(
                f'UPDATE "rate_counter" SET "count"="count"-1 WHERE "key" IN ({keys})', p.values
            )
        ends = (
            await RateCounter.filter(key=full.key)
            .using_db(connection)
            .values_list("expires_at", flat=True)
        )
        return Refusal(full, ends[0] if ends else now)

    async def read(self, keys: Sequence[str], now: datetime) -> dict[str, int]:
        rows = await RateCounter.filter(key__in=list(keys), expires_at__gt=now).values_list(
            "key", "count"
        )
        return dict(rows)

    async def close(self) -> None:
        return None


def _upsert(checks: Sequence[Check], now: datetime, dialect: str) -> tuple[str, list]:
    """Create missing counters and restart those whose window ended, at this hit."""
    p = Params(dialect)
    rows = ",".join(f"({p(c.key)},0,{p(now + c.window)})" for c in checks)
    sql = (
        f'INSERT INTO "rate_counter" ("key","count","expires_at") VALUES {rows} '
        'ON CONFLICT ("key") DO UPDATE SET "count"=0,"expires_at"=excluded."expires_at" '
        f'WHERE "rate_counter"."expires_at"<={p(now)}'
    )
    return sql, p.values


def _count(checks: Sequence[Check], dialect: str) -> tuple[str, list]:
    """Count one on every counter below its maximum; the counted rows come back."""
    p = Params(dialect)
    keys = ",".join(p(c.key) for c in checks)
    # Integer literals (typed as such by PostgreSQL, unlike parameters inside CASE).
    maxima = " ".join(f"WHEN {p(c.key)} THEN {_ceiling(c)}" for c in checks)
    sql = (
        f'UPDATE "rate_counter" SET "count"="count"+1 WHERE "key" IN ({keys}) '
        f'AND "count"<CASE "key" {maxima} ELSE 0 END RETURNING "key","count"'
    )
    return sql, p.values


def _ceiling(check: Check) -> int:
    return TALLY_CEILING if check.maximum is None else int(check.maximum)


#: Refuse when any counter is full (nothing counted), else count one on each: atomic in Redis.
#: KEYS: counters; ARGV[1]: now in ms; then per key: maximum (-1: a tally), window in ms.
#: Counters are hashes {n, exp}; tallies are plain integers that ``read`` gets with MGET.
#: Answers {index, window end} of the refusing counter, or {0, 0, count of each key...}.
TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local maximum = tonumber(ARGV[2 * i])
  if maximum >= 0 then
    local v = redis.call('HMGET', key, 'n', 'exp')
    local n, exp = tonumber(v[1] or '0'), tonumber(v[2] or '0')
    if exp > now and n >= maximum then return {i, exp} end
  end
end
local counts = {0, 0}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i + 1])
  if tonumber(ARGV[2 * i]) < 0 then
    counts[i + 2] = redis.call('INCR', key)
    redis.call('PEXPIRE', key, window)
  else
    local exp = tonumber(redis.call('HGET', key, 'exp') or '0')
    if exp <= now then
      redis.call('HSET', key, 'n', 1, 'exp', now + window)
      counts[i + 2] = 1
    else
      counts[i + 2] = redis.call('HINCRBY', key, 'n', 1)
    end
    redis.call('PEXPIRE', key, window + 60000)
  end
end
return counts
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

    async def take(self, checks: Sequence[Check], now: datetime) -> Refusal | Counted:
        checks = list({c.key: c for c in checks}.values())
        args: list[int] = [_ms(now)]
        for check in checks:
            maximum = -1 if check.maximum is None else check.maximum
            args += [maximum, int(check.window.total_seconds() * 1000)]
        index, expires, *counts = await self._take(
            keys=[KEY_PREFIX + c.key for c in checks], args=args
        )
        if not index:
            return Counted({c.key: int(n) for c, n in zip(checks, counts, strict=True)})
        retry_at = datetime.fromtimestamp(int(expires) / 1000, now.tzinfo)
        return Refusal(checks[int(index) - 1], retry_at)

    async def read(self, keys: Sequence[str], now: datetime) -> dict[str, int]:
        if not keys:
            return {}
        values = await self._client.mget([KEY_PREFIX + k for k in keys])
        return {k: int(v) for k, v in zip(keys, values, strict=True) if v is not None}

    async def close(self) -> None:
        await self._client.aclose()


def create_counters(redis_url: str | None) -> Counters:
    return RedisCounters(redis_url) if redis_url else DatabaseCounters()
