"""Database lifecycle: Tortoise configuration from one URL, migrations applied on start."""

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

log = logging.getLogger("smsauth.db")

MODELS = ["domain.models"]
#: An arbitrary constant: PostgreSQL advisory lock held while one instance migrates.
MIGRATION_LOCK_ID = 0x5E5A07


#: SQLite pragmas smsauth sets unless the URL names them (``sqlite://path?synchronous=FULL``):
#: WAL with synchronous=NORMAL commits without an fsync each time. A commit survives a crash of
#: smsauth; only a power loss or OS crash can lose the last commits, never the file's
#: consistency.
SQLITE_PRAGMAS = {"journal_mode": "WAL", "synchronous": "NORMAL"}


def with_sqlite_pragmas(database_url: str) -> str:
    """``database_url`` with smsauth's SQLite pragmas added where the URL does not set them."""
    if not database_url.startswith("sqlite://"):
        return database_url
    parts = urlsplit(database_url)
    given = dict(parse_qsl(parts.query))
    query = urlencode({**SQLITE_PRAGMAS, **given})
    return urlunsplit(parts._replace(query=query))


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": with_sqlite_pragmas(database_url)},
        "apps": {
            "models": {
                "models": MODELS,
                "migrations": "domain.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


#: For the ``tortoise`` CLI (``tortoise -c domain.db.TORTOISE_ORM makemigrations``).
TORTOISE_ORM = tortoise_config("sqlite://./smsauth.db")


async def open_database(database_url: str) -> None:
    """Connect and bring the schema up to date (idempotent, safe for concurrent starts)."""
    config = tortoise_config(database_url)
    await Tortoise.init(config=config, _enable_global_fallback=True)
    await migrate(config)


async def migrate(config: dict[str, Any]) -> None:
    """Apply pending migrations while holding a lock, so concurrent starts migrate once."""
    connection = get_connection("default")
    executor = MigrationExecutor(connection, config["apps"])
    if connection.capabilities.dialect == "postgres":
        # The lock lives on one session: hold that pooled connection for the whole migration
        # (a connection handed back to asyncpg's pool is reset, which releases the lock).
        async with connection.acquire_connection() as held:
            await held.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
            try:
                await executor.migrate()
            finally:
                await held.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
        return
    with _file_lock(config["connections"]["default"]):
        await executor.migrate()


@contextlib.contextmanager
def _file_lock(database_url: str) -> Iterator[None]:
    """Several workers starting on one new SQLite file: one creates the schema, then the rest."""
    path = database_url.split("://", 1)[1].split("?", 1)[0]
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks this worker's start-up only
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def close_database() -> None:
    await Tortoise.close_connections()
