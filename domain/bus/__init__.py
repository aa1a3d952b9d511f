"""The cross-instance event bus: small JSON events (IDs and statuses) fanned out to subscribers.

``create_bus(settings)`` picks the backend: Redis pub/sub when ``redis_url`` is set, PostgreSQL
LISTEN/NOTIFY when the database is PostgreSQL, else the in-process bus. Backends are imported
lazily, so the ``redis`` package stays an optional dependency.

No backend replays events: a subscriber first reads current state from the database, then
streams changes, and re-reads whenever ``Subscription.gaps`` grows (overflow or reconnect).

Example:
    bus = create_bus(settings)
    await bus.start()
    async with bus.subscribe(f"sms:{tenant_id}", match=("message_id", 42)) as events:
        status = await current_status(42)  # the database first
        async for event in events:  # read-only mappings, only message 42's
            ...
    await bus.close()
"""

import logging
from typing import Any, Protocol

from domain.bus.hub import (
    MAX_EVENT_BYTES,
    BusOptions,
    BusUnavailable,
    EventTooLarge,
    Match,
    Subscription,
)
from domain.settings import Settings

__all__ = [
    "MAX_EVENT_BYTES",
    "BusOptions",
    "BusUnavailable",
    "EventBus",
    "EventTooLarge",
    "Match",
    "Subscription",
    "create_bus",
]

log = logging.getLogger(__name__)

POSTGRES_SCHEMES = ("postgres", "asyncpg", "psycopg")


class EventBus(Protocol):
    """What every backend offers; events are delivered to the publishing process's subscribers too.

    ``publish`` raises ``BusUnavailable`` when the server is unreachable (never hangs),
    ``EventTooLarge`` above ``MAX_EVENT_BYTES``, ``ValueError`` for a channel name outside
    ``[A-Za-z0-9_.:/@#=+-]{1,200}`` and ``TypeError`` for an event that is not a JSON object.
    ``subscribe`` returns an async context manager whose entry returns only once the listener
    receives the channel (or raises ``BusUnavailable``); it yields an async iterator of events
    (read-only mappings, shared by the process's subscribers) that ends when the context is left
    or the bus is closed. With ``match=(field, value)`` it yields only the events whose ``field``
    has ``value``: the process still receives the whole channel, but an event wakes only the
    subscribers that want it (``Subscription.rematch`` changes the value). With ``follow`` as
    well, an event carrying that field moves the subscription to its value as it is delivered.
    """

    @property
    def channels(self) -> frozenset[str]:
        """The channels this process's listener currently receives."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...

    def subscribe(
        self, channel: str, match: Match | None = None, follow: str | None = None
    ) -> Subscription: ...


def create_bus(settings: Settings, options: BusOptions | None = None) -> EventBus:
    """The bus the settings call for; nothing connects before ``start()``."""
    if settings.redis_url:
        try:
            from domain.bus.redis_bus import RedisBus
        except ImportError as exc:
            raise RuntimeError(
                "SMSAUTH_REDIS_URL is set but the redis package is missing: "
                "pip install 'smsauth[redis]'"
            ) from exc
        return RedisBus(settings.redis_url, options)
    if settings.database_url.startswith(POSTGRES_SCHEMES):
        from domain.bus.postgres import PostgresBus

        return PostgresBus(settings.database_url, options)
    from domain.bus.memory import MemoryBus

    log.info("using the in-process event bus: events do not reach other smsauth processes")
    return MemoryBus(options)
