"""Shared fixtures: a real database (SQLite file, or PostgreSQL when SMSAUTH_TEST_DATABASE_URL is
set), the real ASGI app served in-process, tenants with API keys, and an injectable clock."""

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from tortoise.contrib.test import truncate_all_models

from api.app import create_app
from domain import clock
from domain.db import close_database, open_database
from domain.secret_box import generate_key
from domain.settings import Settings
from domain.tenants import create_tenant

SECRET_KEY = generate_key()


def _postgres_test_url(base: str) -> tuple[str, str]:
    """A throwaway database on the server of ``base``: (its URL, its name)."""
    parts = urlsplit(base)
    name = f"smsauth_test_{uuid.uuid4().hex[:10]}"
    return urlunsplit(parts._replace(path=f"/{name}")), name


async def _admin_execute(base: str, sql: str) -> None:
    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """One migrated database for the session; tests start from empty tables (see ``db``)."""
    base = os.environ.get("SMSAUTH_TEST_DATABASE_URL")
    if base:
        url, name = _postgres_test_url(base)
        await _admin_execute(base, f'CREATE DATABASE "{name}"')
    else:
        url, name = f"sqlite://{tmp_path_factory.mktemp('db') / 'smsauth.db'}", ""
    await open_database(url)
    try:
        yield url
    finally:
        await close_database()
        if base:
            await _admin_execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    await truncate_all_models()
    yield database_url


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgres")


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    fake = clock.FrozenClock()
    previous = clock.set_clock(fake)
    yield fake
    clock.set_clock(previous)


@pytest.fixture
def settings(db: str, tmp_path: Any) -> Settings:
    # No background sender: tests drain the outbox themselves (app.state.dispatcher.drain()).
    return Settings(
        database_url=db,
        secret_key=SECRET_KEY,
        key_file=str(tmp_path / "unused.key"),
        dispatcher=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings, manage_database=False)
    async with LifespanManager(application):
        yield application


@contextlib.asynccontextmanager
async def client_for(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with some settings changed, started and served in-process."""
    application = create_app(replace(settings, **changes), manage_database=False)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://smsauth.test") as client:
            yield client


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://smsauth.test") as client:
        yield client


class GraphQLClient:
    """Posts GraphQL documents with one bearer token and keeps every response body it saw."""

    def __init__(
        self, http: httpx.AsyncClient, token: str | None, headers: dict[str, str] | None = None
    ) -> None:
        self.http, self.token, self.headers = http, token, headers or {}
        self.seen: list[str] = []

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(self.headers)
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        self.seen.append(response.text)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a query that must not fail."""
        body = await self.execute(query, **variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        """The single mutation result of a document; fails the test on a UserError."""
        data = await self.data(query, **variables)
        (result,) = data.values()
        assert "code" not in result, result
        return result


@pytest.fixture
async def tenant(db: str) -> tuple[Any, str]:
    row, _, key = await create_tenant("Acme")
    return row, key


@pytest.fixture
async def admin(http: httpx.AsyncClient, tenant: tuple[Any, str]) -> GraphQLClient:
    return GraphQLClient(http, tenant[1])


@pytest.fixture
async def other_admin(http: httpx.AsyncClient, db: str) -> GraphQLClient:
    _, _, key = await create_tenant("Globex")
    return GraphQLClient(http, key)


@pytest.fixture
def anonymous(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http, None)


class StalledHandler:
    """A gateway handler that holds its reply until released (bounded), for timeout tests.

    The fixture releases it and waits until it has answered, so no request outlives its test.
    """

    def __init__(self, reply: str = "OK", hold_seconds: float = 10.0) -> None:
        self.reply, self.hold_seconds = reply, hold_seconds
        self.arrived, self.release, self.finished = (threading.Event() for _ in range(3))

    def __call__(self, request: Any) -> Any:
        from werkzeug import Response

        self.arrived.set()
        self.release.wait(self.hold_seconds)
        self.finished.set()
        return Response(self.reply)


@pytest.fixture
async def stalled_handler() -> AsyncIterator[StalledHandler]:
    handler = StalledHandler()
    yield handler
    handler.release.set()
    await asyncio.to_thread(handler.finished.wait, 10)
