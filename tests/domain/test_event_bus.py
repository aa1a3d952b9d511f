"""One conformance suite that every event-bus backend passes, on real Redis and PostgreSQL servers.

Servers: ``SMSAUTH_TEST_REDIS_URL`` (default the local Redis) and ``SMSAUTH_TEST_BUS_DATABASE_URL``
or ``SMSAUTH_TEST_DATABASE_URL`` (default the local ``test`` database); a backend whose server is
unreachable is skipped with the reason. Every channel is unique to its test, every wait bounded.
"""

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from domain.bus import (
    MAX_EVENT_BYTES,
    BusOptions,
    BusUnavailable,
    EventBus,
    EventTooLarge,
    Subscription,
    create_bus,
)
from domain.bus.memory import MemoryBus
from domain.bus.postgres import PostgresBus, asyncpg_dsn, channel_identifier
from domain.settings import Settings

REDIS_URL = os.environ.get("SMSAUTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = (
    os.environ.get("SMSAUTH_TEST_BUS_DATABASE_URL")
    or os.environ.get("SMSAUTH_TEST_DATABASE_URL")
    or "postgres://postgres@127.0.0.1:5432/test"
)
UNREACHABLE = {"redis": "redis://127.0.0.1:1/0", "postgres": "postgres://postgres@127.0.0.1:1/x"}
NETWORKED = ["redis", "postgres"]
OPTIONS = BusOptions(timeout=3.0, backoff_initial=0.05, backoff_max=0.5, health_interval=5.0)

_skip_reasons: dict[str, str | None] = {}

NewBus = Callable[..., Awaitable[EventBus]]


def settings_for(backend: str, url: str | None = None) -> Settings:
    if backend == "redis":
        return Settings(redis_url=url or REDIS_URL)
    if backend == "postgres":
        return Settings(database_url=url or POSTGRES_URL)
    return Settings(database_url="sqlite://:memory:")


async def _unreachable_reason(backend: str) -> str | None:
    try:
        if backend == "redis":
            try:
                from redis.asyncio import Redis
            except ImportError:
                return "the redis package is not installed (pip install -e '.[redis]')"
            async with Redis.from_url(REDIS_URL, socket_connect_timeout=2) as client:
                await client.ping()
        elif backend == "postgres":
            conn = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL), timeout=2)
            await conn.close()
    except Exception as exc:
        return f"{backend} server unreachable: {type(exc).__name__}: {exc}"
    return None


@pytest.fixture(params=["memory", *NETWORKED])
async def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name not in _skip_reasons:
        _skip_reasons[name] = await _unreachable_reason(name)
    if _skip_reasons[name]:
        pytest.skip(_skip_reasons[name])
    return name


@pytest.fixture
async def new_bus(backend: str) -> AsyncIterator[NewBus]:
    """Starts buses (each one stands for a process) and closes them after the test."""
    buses: list[EventBus] = []

    async def make(options: BusOptions = OPTIONS, url: str | None = None) -> EventBus:
        bus = create_bus(settings_for(backend, url), options)
        buses.append(bus)
        await bus.start()
        return bus

    yield make
    for bus in buses:
        await asyncio.wait_for(bus.close(), 10)


@pytest.fixture
async def bus(new_bus: NewBus) -> EventBus:
    return await new_bus()


def new_channel() -> str:
    return f"test:{uuid.uuid4().hex}"


@pytest.fixture
def channel() -> str:
    return new_channel()


async def next_event(events: Subscription, timeout: float = 5.0) -> dict[str, Any]:
    return await asyncio.wait_for(anext(events), timeout)


async def rest(events: Subscription, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Everything until the iterator ends; fails if it does not end in time."""

    async def collect() -> list[dict[str, Any]]:
        return [event async for event in events]

    return await asyncio.wait_for(collect(), timeout)


async def eventually(condition: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll a condition on the servers (never a fixed sleep) until it holds."""

    async def poll() -> None:
        while not await condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), within)


async def redis_command(*args: Any) -> Any:
    from redis.asyncio import Redis

    async with Redis.from_url(REDIS_URL, decode_responses=True) as client:
        return await client.execute_command(*args)


async def redis_subscribers(channel: str) -> int:
    from domain.bus.redis_bus import PREFIX

    name, count = await redis_command("PUBSUB", "NUMSUB", PREFIX + channel)
    assert name == PREFIX + channel
    return count


async def test_subscriber_receives_own_process_events_in_order(bus: EventBus, channel: str):
    async with bus.subscribe(channel) as events:
        for n in range(20):
            await bus.publish(channel, {"n": n})
        assert [(await next_event(events))["n"] for _ in range(20)] == list(range(20))


async def test_subscribe_returns_once_the_listener_receives_the_channel(
    bus: EventBus, backend: str, channel: str
):
    assert channel not in bus.channels
    async with bus.subscribe(channel) as events:
        assert channel in bus.channels
        if backend == "redis":
            assert await redis_subscribers(channel) == 1
        await bus.publish(channel, {"first": True})
        assert await next_event(events) == {"first": True}


async def test_every_subscriber_gets_each_event(bus: EventBus, channel: str):
    async with bus.subscribe(channel) as one, bus.subscribe(channel) as two:
        await bus.publish(channel, {"status": "sent"})
        assert await next_event(one) == {"status": "sent"}
        assert await next_event(two) == {"status": "sent"}


async def test_channels_are_isolated(bus: EventBus):
    a, b = new_channel(), new_channel()
    async with bus.subscribe(a) as on_a, bus.subscribe(b) as on_b:
        await bus.publish(a, {"to": "a"})
        await bus.publish(b, {"to": "b"})
        await bus.publish(a, {"to": "a2"})
        assert await next_event(on_b) == {"to": "b"}
        assert [await next_event(on_a), await next_event(on_a)] == [{"to": "a"}, {"to": "a2"}]
        await bus.publish(b, {"to": "b-last"})
        assert await next_event(on_b) == {"to": "b-last"}


async def test_a_subscriber_that_left_gets_nothing_more_and_the_last_one_drops_the_channel(
    bus: EventBus, backend: str, channel: str
):
    async with bus.subscribe(channel) as staying:
        async with bus.subscribe(channel) as leaving:
            await bus.publish(channel, {"n": 1})
            assert await next_event(leaving) == {"n": 1}
        await bus.publish(channel, {"n": 2})
        assert [await next_event(staying), await next_event(staying)] == [{"n": 1}, {"n": 2}]
        assert await rest(leaving) == []
        assert channel in bus.channels
    assert channel not in bus.channels
    if backend == "redis":

        async def unsubscribed() -> bool:
            return await redis_subscribers(channel) == 0

        await eventually(unsubscribed)
    async with bus.subscribe(channel) as again:
        await bus.publish(channel, {"n": 3})
        assert await next_event(again) == {"n": 3}


async def test_churning_subscriptions_on_one_channel_stay_live(bus: EventBus, channel: str):
    for n in range(15):
        async with bus.subscribe(channel) as events:
            await bus.publish(channel, {"n": n})
            assert await next_event(events) == {"n": n}
    assert channel not in bus.channels


async def test_concurrent_subscribers_all_become_live(bus: EventBus, channel: str):
    async with contextlib.AsyncExitStack() as stack:
        enter = [stack.enter_async_context(bus.subscribe(channel)) for _ in range(10)]
        subscribers = await asyncio.wait_for(asyncio.gather(*enter), 10)
        await bus.publish(channel, {"status": "delivered"})
        for events in subscribers:
            assert await next_event(events) == {"status": "delivered"}
    assert channel not in bus.channels


async def test_a_slow_subscriber_loses_its_oldest_events_without_blocking_others(
    new_bus: NewBus, channel: str
):
    bus = await new_bus(replace(OPTIONS, queue_size=4))
    async with bus.subscribe(channel) as slow, bus.subscribe(channel) as fast:
        for n in range(10):
            await bus.publish(channel, {"n": n})
            assert await next_event(fast) == {"n": n}
        assert (slow.dropped, slow.gaps, fast.gaps) == (6, 6, 0)
        assert [(await next_event(slow))["n"] for _ in range(4)] == [6, 7, 8, 9]


async def test_close_ends_open_subscriptions_promptly(bus: EventBus, channel: str):
    async with bus.subscribe(channel) as events:
        await bus.publish(channel, {"n": 1})
        assert await next_event(events) == {"n": 1}
        reader = asyncio.create_task(anext(events, "ended"))
        await asyncio.sleep(0)  # one loop turn: the reader is now waiting for an event
        assert not reader.done()
        await asyncio.wait_for(bus.close(), 5)
        assert await asyncio.wait_for(reader, 2) == "ended"
        assert await rest(events) == []
    with pytest.raises(BusUnavailable):
        await bus.publish(channel, {"n": 2})
    with pytest.raises(BusUnavailable):
        async with bus.subscribe(channel):
            pass
    await asyncio.wait_for(bus.close(), 5)


async def test_events_at_the_size_limit_pass_and_larger_ones_are_rejected(bus: EventBus):
    longest_channel = new_channel().ljust(200, "x")
    padding = MAX_EVENT_BYTES - len(json.dumps({"pad": ""}, separators=(",", ":")))
    biggest = {"pad": "x" * padding}
    async with bus.subscribe(longest_channel) as events:
        await bus.publish(longest_channel, biggest)
        assert await next_event(events) == biggest
        with pytest.raises(EventTooLarge):
            await bus.publish(longest_channel, {"pad": "x" * (padding + 1)})
        with pytest.raises(EventTooLarge):  # bytes, not characters
            await bus.publish(longest_channel, {"pad": "é" * (padding // 2 + 1)})
        with pytest.raises(TypeError):
            await bus.publish(longest_channel, ["not", "an", "object"])  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await bus.publish(longest_channel, {"when": object()})
        with pytest.raises(ValueError):
            await bus.publish(longest_channel + "x", {})
        with pytest.raises(ValueError):
            bus.subscribe("spaces are not allowed")
        await bus.publish(longest_channel, {"after": True})
        assert await next_event(events) == {"after": True}


@pytest.mark.parametrize("backend", NETWORKED, indirect=True)
async def test_events_reach_other_instances(new_bus: NewBus, channel: str):
    a, b = await new_bus(), await new_bus()
    async with b.subscribe(channel) as on_b, a.subscribe(channel) as on_a:
        await a.publish(channel, {"from": "a"})
        assert await next_event(on_b) == {"from": "a"}
        assert await next_event(on_a) == {"from": "a"}
        await b.publish(channel, {"from": "b"})
        assert await next_event(on_a) == {"from": "b"}
        assert await next_event(on_b) == {"from": "b"}


async def test_in_process_buses_share_nothing(channel: str):
    a, b = MemoryBus(), MemoryBus()
    async with b.subscribe(channel) as on_b:
        await a.publish(channel, {"from": "a"})
        await b.publish(channel, {"from": "b"})
        assert await next_event(on_b) == {"from": "b"}
    await a.close()
    await b.close()


async def _kill_listener(bus: Any, backend: str) -> object:
    """Close the listener's connection from the server side; return that connection's ID."""
    if backend == "redis":
        name = bus.connection_name
        clients = await redis_command("CLIENT", "LIST", "TYPE", "pubsub")
        ids = [
            line.split()[0].split("=")[1]
            for line in clients.splitlines()
            if f"name={name} " in line
        ]
        assert len(ids) == 1, clients
        await redis_command("CLIENT", "KILL", "ID", ids[0])
        return name
    pid = bus.backend_pid
    admin = await asyncpg.connect(asyncpg_dsn(POSTGRES_URL), timeout=5)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    return pid


async def _publish_until_received(bus: EventBus, channel: str, events: Subscription) -> Any:
    async def attempt() -> Any:
        for n in range(1, 1000):
            with contextlib.suppress(BusUnavailable):
                await bus.publish(channel, {"attempt": n})
            with contextlib.suppress(TimeoutError):
                return await next_event(events, timeout=0.5)

    return await asyncio.wait_for(attempt(), 10)


@pytest.mark.parametrize("backend", NETWORKED, indirect=True)
async def test_the_listener_reconnects_and_resubscribes_after_losing_its_connection(
    new_bus: NewBus, backend: str, channel: str
):
    bus: Any = await new_bus()
    identity = "connection_name" if backend == "redis" else "backend_pid"
    async with bus.subscribe(channel) as events:
        old = await _kill_listener(bus, backend)

        async def replaced() -> bool:
            return getattr(bus, identity) not in (None, old) and channel in bus.channels

        await eventually(replaced)
        assert "attempt" in await _publish_until_received(bus, channel, events)
        assert events.interruptions >= 1
    assert channel not in bus.channels


class SilentLinkProxy:
    """A TCP relay to a server whose open connections can go silent: a half-open link."""

    def __init__(self, url: str) -> None:
        self.target = urlsplit(url)
        self._links: list[tuple[asyncio.StreamWriter, ...]] = []
        self._silenced: set[int] = set()

    async def __aenter__(self) -> "SilentLinkProxy":
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for writer in [w for link in self._links for w in link]:
            writer.close()

    def url(self) -> str:
        port = self._server.sockets[0].getsockname()[1]
        netloc = self.target.netloc.replace(f":{self.target.port}", f":{port}")
        return urlunsplit(self.target._replace(netloc=netloc))

    def silence(self) -> None:
        """From now on, drop every byte on the links open now; new links still relay."""
        self._silenced.update(id(link) for link in self._links)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.target.hostname, self.target.port)
        link = (writer, up_writer)
        self._links.append(link)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    if id(link) not in self._silenced:
                        sink.write(data)
                        await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.mark.parametrize("backend", NETWORKED, indirect=True)
async def test_a_silent_listener_connection_is_noticed_and_replaced(
    new_bus: NewBus, backend: str, channel: str
):
    url = REDIS_URL if backend == "redis" else POSTGRES_URL
    identity = "connection_name" if backend == "redis" else "backend_pid"
    async with SilentLinkProxy(url) as proxy:
        options = replace(OPTIONS, timeout=1.0, health_interval=0.2)
        bus: Any = await new_bus(options, url=proxy.url())
        async with bus.subscribe(channel) as events:
            await bus.publish(channel, {"n": "before"})
            assert await next_event(events) == {"n": "before"}
            old = getattr(bus, identity)
            proxy.silence()

            async def replaced() -> bool:
                return getattr(bus, identity) not in (None, old) and channel in bus.channels

            await eventually(replaced)
            assert "attempt" in await _publish_until_received(bus, channel, events)
            assert events.interruptions >= 1
        await asyncio.wait_for(bus.close(), 5)


@pytest.mark.parametrize("backend", NETWORKED, indirect=True)
async def test_an_unreachable_server_raises_bus_unavailable_instead_of_hanging(
    new_bus: NewBus, backend: str, channel: str
):
    bus = await new_bus(replace(OPTIONS, timeout=0.5), url=UNREACHABLE[backend])
    with pytest.raises(BusUnavailable):
        await asyncio.wait_for(bus.publish(channel, {"n": 1}), 5)
    with pytest.raises(BusUnavailable):
        async with asyncio.timeout(5), bus.subscribe(channel):
            pass
    await asyncio.wait_for(bus.close(), 5)


def test_create_bus_picks_the_backend_from_settings_without_connecting():
    postgres = "postgres://smsauth:secret@db.invalid:5432/app?minsize=1&maxsize=5&ssl=true"
    assert isinstance(create_bus(Settings(database_url="sqlite://./smsauth.db")), MemoryBus)
    bus = create_bus(Settings(database_url=postgres))
    assert isinstance(bus, PostgresBus)
    assert bus.dsn == "postgresql://smsauth:secret@db.invalid:5432/app?sslmode=require"
    pytest.importorskip("redis", reason="the redis extra is not installed")
    from domain.bus.redis_bus import RedisBus

    redis_settings = Settings(database_url=postgres, redis_url="redis://cache.invalid:6379/0")
    assert isinstance(create_bus(redis_settings), RedisBus)


def test_postgres_channel_identifiers_are_short_safe_and_distinct():
    names = {channel_identifier(f"tenant:{n}:sms:{uuid.uuid4()}") for n in range(100)}
    assert len(names) == 100
    assert all(len(name) <= 63 and name.isidentifier() and name.islower() for name in names)


async def test_a_burst_of_subscribers_on_one_channel_all_become_live(bus: EventBus, channel: str):
    """Thousands of clients following one tenant at once (a fan-out burst) must all get in."""
    async with contextlib.AsyncExitStack() as stack:
        enter = [stack.enter_async_context(bus.subscribe(channel)) for _ in range(2000)]
        subscribers = await asyncio.wait_for(asyncio.gather(*enter), 30)
        await bus.publish(channel, {"burst": True})
        for events in subscribers[:: len(subscribers) // 20]:
            assert await next_event(events) == {"burst": True}
