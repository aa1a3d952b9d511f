"""/readyz: ready only when the database answers, Redis (when configured) answers and no migration
is pending; a failed check is named, quickly, without the text of the error."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
from tortoise.connection import get_connection
from tortoise.migrations.recorder import MigrationRecorder

from api.app import create_app
from domain.readiness import TIMEOUT_SECONDS
from domain.settings import Settings


@contextlib.asynccontextmanager
async def client_of(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no lifespan: /readyz must answer whatever else is down."""
    application = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://smsauth.test") as client:
        yield client


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word."""
    held: list[Any] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_ready_when_the_database_answers_and_is_migrated(http):
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured", "migrations": "ok"},
    }


async def test_an_unreachable_redis_is_named_without_its_url(settings):
    url = "redis://:hunter2-secret@127.0.0.1:1/0"
    async with client_of(replace(settings, redis_url=url)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"] == {"database": "ok", "redis": "unreachable", "migrations": "ok"}
    assert "hunter2" not in response.text and "127.0.0.1" not in response.text


async def test_a_redis_that_never_answers_times_out_in_bounded_time(settings):
    async with silent_server() as port:
        async with client_of(replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")) as client:
            started = time.monotonic()
            response = await client.get("/readyz")
            took = time.monotonic() - started
    assert response.status_code == 503 and response.json()["checks"]["redis"] == "timeout"
    assert took < TIMEOUT_SECONDS * 2


async def test_a_database_missing_a_migration_is_not_ready(http):
    """As after restoring a backup taken before the last migration: the schema's record says the
    latest migration is not applied (restored afterwards, the database is the session's)."""
    recorder = MigrationRecorder(get_connection("default"))
    latest = (await recorder.applied_migrations())[-1]
    await recorder.record_unapplied(latest.app_label, latest.name)
    try:
        response = await http.get("/readyz")
    finally:
        await recorder.record_applied(latest.app_label, latest.name)
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "redis": "not configured",
        "migrations": "pending",
    }
    assert (await http.get("/readyz")).status_code == 200


async def test_liveness_does_not_depend_on_redis(settings):
    async with client_of(replace(settings, redis_url="redis://127.0.0.1:1/0")) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
