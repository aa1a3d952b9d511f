"""Database lifecycle: Tortoise configuration from one URL, migrations applied on start."""

import logging
from typing import Any

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor

log = logging.getLogger("smsauth.db")

MODELS = ["domain.models"]
#: An arbitrary constant: PostgreSQL advisory lock held while one instance migrates.
MIGRATION_LOCK_ID = 0x5E5A07


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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
    connection = get_connection("default")
    executor = MigrationExecutor(connection, config["apps"])
    is_postgres = connection.capabilities.dialect == "postgres"
    if is_postgres:
        await connection.execute_query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_ID])
    try:
        await executor.migrate()
    finally:
        if is_postgres:
            await connection.execute_query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_ID])


async def close_database() -> None:
    await Tortoise.close_connections()
