"""Readiness: may this process take traffic? The database answers, Redis (when configured)
answers, and no migration is pending.

Each check is bounded by ``TIMEOUT_SECONDS``. A failed check is named with a fixed word
("unreachable", "pending", "timeout"), never the exception's text, which may hold a URL with its
password.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

from domain.db import tortoise_config
from domain.settings import Settings

log = logging.getLogger("smsauth.readiness")

TIMEOUT_SECONDS = 2.0
OK = "ok"


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(value in (OK, "not configured") for value in self.checks.values())


async def _bounded(name: str, check: Callable[[], Awaitable[str]]) -> str:
    try:
        return await asyncio.wait_for(check(), TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("readiness check timed out", extra={"check": name})
        return "timeout"
    except Exception as error:  # the text may hold a URL with a password: log the type only
        log.warning("readiness check failed", extra={"check": name, "error": type(error).__name__})
        return "unreachable"


async def _database() -> str:
    await get_connection("default").execute_query("SELECT 1")
    return OK


def _migrations(settings: Settings) -> Callable[[], Awaitable[str]]:
    async def check() -> str:
        apps = tortoise_config(settings.database_url)["apps"]
        plan = await MigrationExecutor(get_connection("default"), apps).plan()
        return "pending" if plan else OK

    return check


def _redis(url: str) -> Callable[[], Awaitable[str]]:
    async def check() -> str:
        from redis.asyncio import Redis  # the optional "redis" extra, only when configured

        client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return OK

    return check


async def check(settings: Settings) -> Readiness:
    """Run every check (at most about two timeouts in all); the migration plan is read only when
    the database answers."""
    redis = _redis(settings.redis_url) if settings.redis_url else None
    database, redis_state = await asyncio.gather(
        _bounded("database", _database),
        _bounded("redis", redis) if redis else _not_configured(),
    )
    result = Readiness({"database": database, "redis": redis_state})
    if database == OK:
        result.checks["migrations"] = await _bounded("migrations", _migrations(settings))
    else:
        result.checks["migrations"] = "unknown"
    return result


async def _not_configured() -> str:
    return "not configured"
