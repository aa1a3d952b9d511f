"""Settings from SMSAUTH_* variables, and migrations that are safe to apply again."""

from pathlib import Path

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite import SqliteClient

from domain import migrations
from domain.db import migrate, tortoise_config
from domain.settings import DEFAULT_DATABASE_URL, Settings


def test_defaults_are_the_embedded_setup():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite://./smsauth.db"
    assert settings.is_sqlite and settings.redis_url is None and settings.graphiql


def test_environment_overrides():
    settings = Settings.from_env(
        {
            "SMSAUTH_DATABASE_URL": "postgres://u:p@db:5432/smsauth",
            "SMSAUTH_SECRET_KEY": "k",
            "SMSAUTH_REDIS_URL": "redis://r:6379/0",
            "SMSAUTH_PUBLIC_URL": "https://sms.example.com/",
            "SMSAUTH_DEBUG": "yes",
            "SMSAUTH_GRAPHIQL": "false",
        }
    )
    assert not settings.is_sqlite and settings.secret_key == "k"
    assert settings.redis_url == "redis://r:6379/0"
    assert settings.public_url == "https://sms.example.com"
    assert settings.debug and not settings.graphiql


async def test_migrating_an_up_to_date_database_changes_nothing(db):
    from domain.models import Tenant

    await Tenant.create(name="Kept")
    await migrate(tortoise_config(db))  # a second instance starting on the same database
    assert await Tenant.filter(name="Kept").count() == 1
    connection = Tortoise.get_connection("default")
    rows = await connection.execute_query_dict("SELECT * FROM tortoise_migrations")
    on_disk = sorted(p.stem for p in Path(migrations.__file__).parent.glob("0*.py"))
    assert sorted(r["name"] for r in rows) == on_disk and len(on_disk) >= 3


async def _pragmas(url: str) -> tuple[str, int]:
    """(journal_mode, synchronous) of a SQLite connection opened the way smsauth configures it
    (a client of its own: the session's global connections stay as they are)."""
    config = expand_db_url(tortoise_config(url)["connections"]["default"])
    client = SqliteClient(connection_name="probe", **config["credentials"])
    await client.create_connection(with_db=True)
    try:
        _, (journal,) = await client.execute_query("PRAGMA journal_mode")
        _, (synchronous,) = await client.execute_query("PRAGMA synchronous")
        return journal[0], synchronous[0]
    finally:
        await client.close()


async def test_sqlite_commits_without_an_fsync_each_unless_the_url_asks(tmp_path):
    assert await _pragmas(f"sqlite://{tmp_path}/a.db") == ("wal", 1)  # NORMAL
    assert await _pragmas(f"sqlite://{tmp_path}/b.db?synchronous=FULL") == ("wal", 2)
