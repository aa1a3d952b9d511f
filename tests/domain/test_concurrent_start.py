"""Several workers starting at once on a new embedded setup agree on one schema and one key."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

START = """
import asyncio, os, sys
from domain.db import open_database, close_database
from domain.secret_box import load_secret_box
from domain.settings import Settings

async def main():
    settings = Settings(
        database_url=sys.argv[1],
        key_file=sys.argv[2],
        secret_key=os.environ.get("SMSAUTH_SECRET_KEY") or None,
    )
    box = load_secret_box(settings)
    await open_database(settings.database_url)
    await close_database()
    print(box.encrypt("probe"))

asyncio.run(main())
"""


def test_parallel_first_starts_migrate_once_and_share_the_key(tmp_path):
    db, key = f"sqlite://{tmp_path / 'new.db'}", str(tmp_path / "smsauth.key")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", START, db, key],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [worker.communicate(timeout=60) for worker in workers]
    assert [w.returncode for w in workers] == [0] * 4, [err for _, err in results]
    from domain.secret_box import SecretBox

    box = SecretBox([Path(key).read_text().strip()])
    assert all(box.decrypt(out.strip()) == "probe" for out, _ in results)
    assert not list(tmp_path.glob(".*.tmp"))


def test_parallel_first_starts_on_a_new_postgresql_database_migrate_once(tmp_path):
    """Two API instances and a worker starting together on an empty shared database."""
    import asyncio
    import os
    import uuid

    import asyncpg
    import pytest

    from domain.secret_box import generate_key

    base = os.environ.get("SMSAUTH_TEST_DATABASE_URL")
    if not base or not base.startswith("postgres"):
        pytest.skip("needs SMSAUTH_TEST_DATABASE_URL (PostgreSQL)")
    name = f"smsauth_start_{uuid.uuid4().hex[:10]}"
    admin = base.replace("postgres://", "postgresql://", 1)

    async def admin_execute(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin_execute(f'CREATE DATABASE "{name}"'))
    try:
        url = base.rsplit("/", 1)[0] + f"/{name}"
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", START, url, str(tmp_path / "unused.key")],
                cwd=ROOT,
                env={**os.environ, "SMSAUTH_SECRET_KEY": generate_key()},
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(4)
        ]
        results = [worker.communicate(timeout=60) for worker in workers]
        assert [w.returncode for w in workers] == [0] * 4, [err[-2000:] for _, err in results]
    finally:
        asyncio.run(admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
