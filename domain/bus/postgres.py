"""The PostgreSQL LISTEN/NOTIFY event bus, for several smsauth processes sharing one database.

The bus keeps its own long-lived asyncpg connection, apart from Tortoise's pool: it LISTENs to
the channels that have local subscribers and also sends the NOTIFYs (``pg_notify``), so a publish
fails fast with ``BusUnavailable`` while that connection is down. PostgreSQL channel names are
identifiers, so each channel maps to ``smsauth_`` + 40 hex digits of its SHA-256; the payload is
the JSON-quoted channel, a newline, then the event JSON (always under the 8000-byte NOTIFY limit,
see ``MAX_EVENT_BYTES``). A session receives its own notifications, so local subscribers get them.

NOTIFY never replays: a subscriber reads current state from the database first, then streams
changes, and re-reads whenever ``Subscription.gaps`` grows. A lost connection (noticed at once,
or by a ``SELECT 1`` every ``health_interval``) is replaced with capped exponential backoff and
every channel is LISTENed again.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from domain.bus.hub import (
    BusOptions,
    BusUnavailable,
    EventTooLarge,
    Hub,
    cancel_and_wait,
    encode_event,
)

log = logging.getLogger(__name__)

NOTIFY_LIMIT = 8000
IDENTIFIER_PREFIX = "smsauth_"
ASYNCPG_QUERY_KEYS = frozenset(
    {"sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslpassword", "passfile"}
    | {"ssl_min_protocol_version", "ssl_max_protocol_version", "target_session_attrs"}
    | {"krbsrvname", "gsslib", "service", "host", "port", "user", "password", "database"}
)
PG_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def asyncpg_dsn(database_url: str) -> str:
    """asyncpg's DSN for a Tortoise database URL: Tortoise-only options (pool sizes...) dropped."""
    parts = urlsplit(database_url)
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "ssl":  # Tortoise's spelling
            key, value = "sslmode", {"true": "require", "false": "disable"}.get(value, value)
        if key in ASYNCPG_QUERY_KEYS:
            query.append((key, value))
    return urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))


def channel_identifier(channel: str) -> str:
    """The PostgreSQL channel for one of ours: a fixed-length, lower-case identifier."""
    return IDENTIFIER_PREFIX + hashlib.sha256(channel.encode()).hexdigest()[:40]


class PostgresBus(Hub):
    """An event bus over LISTEN/NOTIFY; ``backend_pid`` is the listener session's server PID."""

    def __init__(self, database_url: str, options: BusOptions | None = None) -> None:
        super().__init__(options)
        self.dsn = asyncpg_dsn(database_url)
        self.backend_pid: int | None = None
        self._conn: asyncpg.Connection | None = None
        self._listening: set[str] = set()
        self._pending: dict[str, asyncio.Future] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def channels(self) -> frozenset[str]:
        """The channels the current listener session has LISTENed to."""
        return frozenset(self._listening)

    async def start(self) -> None:
        self._check_open()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="smsauth-postgres-bus")

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        payload = f"{json.dumps(channel)}\n{encode_event(channel, event)}"
        if len(payload.encode()) >= NOTIFY_LIMIT:
            raise EventTooLarge(f"NOTIFY payloads must stay under {NOTIFY_LIMIT} bytes")
        self._check_open()
        if self._task is None:
            raise BusUnavailable("the event bus is not started")
        deadline = asyncio.get_running_loop().time() + self.options.timeout
        await self._wait_ready(deadline)
        try:
            async with asyncio.timeout_at(deadline), self._lock:
                if self._conn is None:
                    raise BusUnavailable("the PostgreSQL listener connection was lost")
                await self._conn.execute(
                    "SELECT pg_notify($1, $2)", channel_identifier(channel), payload
                )
        except PG_ERRORS as exc:
            raise BusUnavailable(
                f"cannot publish to PostgreSQL: {type(exc).__name__}: {exc}"
            ) from exc

    async def _run(self) -> None:
        attempt = 0
        while True:
            connected = False
            try:
                lost = await self._connect()
                connected, attempt = True, 0
                await self._watch(lost)
            except Exception as exc:  # any failure means: reconnect
                report = log.warning if connected or attempt == 0 else log.debug
                report("event bus listener lost PostgreSQL: %s: %s", type(exc).__name__, exc)
            finally:
                await self._disconnect(lost=connected)
            await asyncio.sleep(self.options.backoff(attempt))
            attempt += 1

    async def _connect(self) -> asyncio.Event:
        self._conn = conn = await asyncpg.connect(self.dsn, timeout=self.options.timeout)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        async with asyncio.timeout(self.options.timeout), self._lock:
            for channel in list(self._subs):
                await conn.add_listener(channel_identifier(channel), self._on_notify)
                self._listening.add(channel)
            self.backend_pid = conn.get_server_pid()
            self._ready.set()
        return lost

    async def _watch(self, lost: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.options.health_interval)
            if lost.is_set() or self._conn is None:
                raise ConnectionError("PostgreSQL closed the listener connection")
            async with self._lock:
                await self._conn.execute("SELECT 1", timeout=self.options.timeout)

    def _on_notify(self, _conn: Any, _pid: int, identifier: str, payload: str) -> None:
        head, _, raw = payload.partition("\n")
        try:
            channel = json.loads(head)
        except ValueError:
            channel = None
        if not isinstance(channel, str) or channel_identifier(channel) != identifier:
            log.warning("ignoring a foreign notification", extra={"pg_channel": identifier})
            return
        self._deliver(channel, raw)

    async def _disconnect(self, *, lost: bool) -> None:
        self._ready.clear()
        self.backend_pid = None
        self._listening.clear()
        if lost and not self._closed:
            self._interrupted()
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._closed:  # shutting down: say goodbye (close() aborts if that fails)
            with contextlib.suppress(Exception):
                await conn.close(timeout=self.options.timeout)
        else:  # a lost or silent link: waiting for a goodbye would only delay the reconnect
            conn.terminate()

    async def _listen(self, channel: str) -> None:
        """LISTEN once per channel: later subscribers return at once or share the LISTEN under
        way, so a burst of subscribers does not queue on the lock (and time out) one by one."""
        if channel in self._listening and self._ready.is_set():
            return
        pending = self._pending.get(channel)
        if pending is None:
            pending = asyncio.ensure_future(self._listen_once(channel))
            self._pending[channel] = pending
            pending.add_done_callback(lambda _: self._pending.pop(channel, None))
        await asyncio.shield(pending)

    async def _listen_once(self, channel: str) -> None:
        deadline = asyncio.get_running_loop().time() + self.options.timeout
        while True:
            await self._wait_ready(deadline)
            try:
                async with asyncio.timeout_at(deadline), self._lock:
                    if channel in self._listening:
                        return
                    if self._conn is not None and self._ready.is_set():
                        await self._conn.add_listener(channel_identifier(channel), self._on_notify)
                        self._listening.add(channel)
                        return
            except PG_ERRORS as exc:
                raise BusUnavailable(
                    f"cannot LISTEN on PostgreSQL: {type(exc).__name__}: {exc}"
                ) from exc

    async def _unlisten(self, channel: str) -> None:
        async with asyncio.timeout(self.options.timeout), self._lock:
            if channel in self._listening and self._conn is not None:
                self._listening.discard(channel)
                await self._conn.remove_listener(channel_identifier(channel), self._on_notify)

    async def _stop(self) -> None:
        await cancel_and_wait(self._task, self.options.timeout)
        self._task = None
