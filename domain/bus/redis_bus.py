"""The Redis pub/sub event bus (``redis.asyncio``), for several smsauth processes sharing Redis.

One listener connection per process SUBSCRIBEs to the channels that have local subscribers;
publishing uses a separate pooled connection, and Redis delivers a process's own messages back
to it. Pub/sub is at-most-once and never replays: a subscriber reads current state from the
database first, then streams changes, and re-reads whenever ``Subscription.gaps`` grows.

When the listener's connection fails (or stays silent through a PING), it reconnects with capped
exponential backoff and re-subscribes every channel; each open subscription's ``interruptions``
grows by one. The module is not named ``redis`` so it never shadows the library.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from domain.bus.hub import BusOptions, BusUnavailable, Hub, cancel_and_wait, encode_event

log = logging.getLogger(__name__)

PREFIX = "smsauth:"
"""Our Redis channels are ``smsauth:<channel>``, apart from other users of a shared Redis."""


class RedisBus(Hub):
    """An event bus over Redis pub/sub; ``connection_name`` is the listener's CLIENT SETNAME."""

    def __init__(self, url: str, options: BusOptions | None = None) -> None:
        super().__init__(options)
        self.url = url
        self.name_prefix = f"smsauth-bus-{uuid.uuid4().hex[:12]}"
        self.connection_name: str | None = None
        self._connections = 0
        self._publisher: Redis | None = None
        self._listener: Redis | None = None
        self._pubsub: PubSub | None = None
        self._acks: dict[str, asyncio.Future[bool]] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def channels(self) -> frozenset[str]:
        """The channels Redis has confirmed for the current listener connection."""
        return frozenset(ch for ch, ack in self._acks.items() if ack.done() and ack.result())

    def _client(self, **extra: Any) -> Redis:
        timeout = self.options.timeout
        return Redis.from_url(
            self.url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            **extra,
        )

    async def start(self) -> None:
        self._check_open()
        if self._task is None:
            self._publisher = self._client(retry=Retry(NoBackoff(), 1))
            self._task = asyncio.create_task(self._run(), name="smsauth-redis-bus")

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        raw = encode_event(channel, event)
        self._check_open()
        if self._publisher is None:
            raise BusUnavailable("the event bus is not started")
        try:
            await self._publisher.publish(PREFIX + channel, raw)
        except (RedisError, OSError) as exc:
            raise BusUnavailable(f"cannot publish to Redis: {type(exc).__name__}: {exc}") from exc

    async def _run(self) -> None:
        attempt = 0
        while True:
            connected = False
            try:
                pubsub = await self._connect()
                connected, attempt = True, 0
                await self._read(pubsub)
            except Exception as exc:  # any failure means: reconnect
                report = log.warning if connected or attempt == 0 else log.debug
                report("event bus listener lost Redis: %s: %s", type(exc).__name__, exc)
            finally:
                await self._disconnect(lost=connected)
            await asyncio.sleep(self.options.backoff(attempt))
            attempt += 1

    async def _connect(self) -> PubSub:
        self._connections += 1
        name = f"{self.name_prefix}-{self._connections}"
        self._listener = self._client(client_name=name, retry=Retry(NoBackoff(), 0))
        self._pubsub = pubsub = self._listener.pubsub()
        async with self._lock:
            await pubsub.connect()
            loop = asyncio.get_running_loop()
            self._acks = {channel: loop.create_future() for channel in self._subs}
            if self._acks:
                await pubsub.subscribe(*(PREFIX + channel for channel in self._acks))
            self.connection_name = name
            self._ready.set()
        return pubsub

    async def _read(self, pubsub: PubSub) -> None:
        ping_pending = False
        while True:
            message = await pubsub.get_message(timeout=self.options.health_interval)
            if message is None:
                if ping_pending:
                    raise ConnectionError("Redis did not answer PING")
                async with self._lock:
                    await pubsub.ping()
                ping_pending = True
                continue
            ping_pending = False
            channel = str(message["channel"]).removeprefix(PREFIX)
            if message["type"] == "message":
                self._deliver(channel, message["data"])
            elif message["type"] == "subscribe":
                ack = self._acks.get(channel)
                if ack is not None and not ack.done():
                    ack.set_result(True)

    async def _disconnect(self, *, lost: bool) -> None:
        self._ready.clear()
        self.connection_name = None
        acks, self._acks = self._acks, {}
        for ack in acks.values():
            if not ack.done():
                ack.set_result(False)
        if lost and not self._closed:
            self._interrupted()
        for closing in (self._pubsub, self._listener):
            if closing is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(closing.aclose(), self.options.timeout)
        self._pubsub = self._listener = None

    async def _listen(self, channel: str) -> None:
        """SUBSCRIBE once per channel: later subscribers await the confirmation under way (or
        return at once) without taking the lock, so a burst of subscribers does not queue on it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.timeout
        while True:
            ack = self._acks.get(channel) if self._ready.is_set() else None
            if ack is None:
                await self._wait_ready(deadline)
                async with self._lock:
                    ack = self._acks.get(channel)
                    if ack is None and self._ready.is_set() and self._pubsub is not None:
                        ack = self._acks[channel] = loop.create_future()
                        await self._send(self._pubsub, "subscribe", channel)
                if ack is None:
                    continue
            if ack.done() and ack.result():
                return
            try:
                if await asyncio.wait_for(asyncio.shield(ack), deadline - loop.time()):
                    return
            except TimeoutError:
                raise BusUnavailable("Redis did not confirm the subscription") from None
            # False: the connection was lost meanwhile; subscribe again on the next one
            if self._acks.get(channel) is ack:
                del self._acks[channel]
            self._check_open()

    async def _unlisten(self, channel: str) -> None:
        async with self._lock:
            ack = self._acks.pop(channel, None)
            if ack is not None and not ack.done():
                ack.set_result(False)
            if self._pubsub is not None and self._ready.is_set():
                await self._send(self._pubsub, "unsubscribe", channel)

    async def _send(self, pubsub: PubSub, command: str, channel: str) -> None:
        """(UN)SUBSCRIBE; on failure, drop the connection so the listener starts over.

        redis-py may quietly reconnect a failed pub/sub connection; closing it makes the listener
        notice, count the interruption and re-subscribe everything itself.
        """
        try:
            await getattr(pubsub, command)(PREFIX + channel)
        except (RedisError, OSError):
            log.warning("event bus could not %s, reconnecting", command, exc_info=True)
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _stop(self) -> None:
        await cancel_and_wait(self._task, self.options.timeout)
        self._task = None
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._publisher.aclose(), self.options.timeout)
            self._publisher = None
