"""The fan-out every bus backend shares: event encoding, subscriptions and their bounded queues.

A backend runs one listener per process and hands each message to ``Hub._deliver``, which decodes
it once and puts that one read-only event (a ``MappingProxyType``) on the queue of each local
subscriber that wants it: every channel-wide subscriber, and the subscribers whose ``match``
(a field and a value, e.g. ``("message_id", 42)``) the event has. Matching is a dictionary
look-up, so an event wakes only its own subscribers however many others a channel has; it is
local to the process (the backends still receive the whole channel). ``Subscription.rematch``
moves a subscriber to another value. A subscriber with ``follow`` (a field name) is moved by
the events themselves: one it receives that has that field moves it to that field's value as
it is delivered, before any later event (a challenge's new message after a resend).

Queues are bounded; when a subscriber falls behind, its *oldest* queued event is dropped (the
newest status is the one that matters, and callers re-read current state from the database
anyway) and ``Subscription.dropped`` counts it, so one slow subscriber never blocks the listener
or the others.
"""

import asyncio
import json
import logging
import random
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 7500
"""Largest JSON-encoded event, in UTF-8 bytes; with the channel it fits PostgreSQL NOTIFY."""

CHANNEL_PATTERN = re.compile(r"[A-Za-z0-9_.:/@#=+-]{1,200}")
"""Channel names: short printable ASCII, e.g. ``tenant:<uuid>:sms:<uuid>``."""

_END = object()

Match = tuple[str, Hashable]
"""A subscriber's filter: events whose ``field`` has ``value`` (as decoded from JSON)."""


class BusUnavailable(Exception):
    """The event bus cannot reach its server (or is closed); the caller may retry later."""


class EventTooLarge(ValueError):
    """An event whose JSON encoding exceeds ``MAX_EVENT_BYTES``: send IDs and statuses only."""


@dataclass(frozen=True)
class BusOptions:
    """Tuning shared by every backend; the defaults suit production."""

    queue_size: int = 256
    timeout: float = 5.0
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    health_interval: float = 15.0

    def backoff(self, attempt: int) -> float:
        """The pause before reconnect ``attempt`` (from 0): exponential, capped, jittered."""
        delay = min(self.backoff_max, self.backoff_initial * 2 ** min(attempt, 30))
        return delay * random.uniform(0.5, 1.0)


def check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not CHANNEL_PATTERN.fullmatch(channel):
        raise ValueError(f"invalid event channel name: {channel!r}")
    return channel


def encode_event(channel: str, event: dict[str, Any]) -> str:
    """The compact JSON text of ``event``, after checking the channel, the type and the size."""
    check_channel(channel)
    if not isinstance(event, dict):
        raise TypeError(f"an event is a dict, not {type(event).__name__}")
    raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    size = len(raw.encode())
    if size > MAX_EVENT_BYTES:
        raise EventTooLarge(f"event is {size} bytes, the limit is {MAX_EVENT_BYTES}")
    return raw


class Subscription:
    """One subscriber: an async context manager that yields itself, an async iterator of events.

    Iteration ends when the subscription is left or the bus is closed. Events are read-only
    mappings shared with the process's other subscribers. ``match`` (``None``: every event of the
    channel) selects the events by one field. ``dropped`` counts events lost to overflow,
    ``interruptions`` listener reconnects while subscribed; whenever ``gaps`` grows, events may
    have been missed and the caller should re-read state from the database.
    """

    def __init__(
        self,
        hub: "Hub",
        channel: str,
        queue_size: int,
        match: Match | None = None,
        follow: str | None = None,
    ) -> None:
        self.channel = check_channel(channel)
        if match is not None:
            field, value = match
            if not isinstance(field, str):
                raise TypeError("a match is (field name, value)")
            hash(value)  # unhashable values fail here, not in the listener
        elif follow is not None:
            raise ValueError("only a subscription with a match can follow")
        self.match = match
        self.follow = follow
        self.dropped = 0
        self.interruptions = 0
        self._hub = hub
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=max(1, queue_size))
        self._state = "new"

    @property
    def gaps(self) -> int:
        return self.dropped + self.interruptions

    @property
    def pending(self) -> int:
        """Events queued and not read yet."""
        return self._queue.qsize() - (self._state == "ended")

    def rematch(self, value: Hashable, then: Mapping[str, Any] | None = None) -> None:
        """Receive from now on the events whose match field has ``value`` instead (only for a
        subscription with a match); ``then`` is queued, e.g. the event that showed the move."""
        if self.match is None:
            raise RuntimeError("only a subscription with a match can be rematched")
        hash(value)
        self._hub._rematch(self, value)
        if then is not None:
            self._put(then)

    async def __aenter__(self) -> "Subscription":
        if self._state != "new":
            raise RuntimeError("a subscription can be entered only once")
        self._state = "active"
        try:
            await self._hub._attach(self)
        except BaseException:
            self._end()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType
    ) -> None:
        self._end()
        await self._hub._detach(self)

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> Mapping[str, Any]:
        if self._state == "new":
            raise RuntimeError("enter the subscription first: `async with bus.subscribe(...)`")
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # later calls stop too
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    def _put(self, event: Mapping[str, Any]) -> None:
        if self._state != "active":
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1:
                log.warning(
                    "event subscriber fell behind, dropping oldest events",
                    extra={"channel": self.channel},
                )
        self._queue.put_nowait(event)

    def _end(self) -> None:
        if self._state == "ended":
            return
        self._state = "ended"
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)


class Hub:
    """Local subscriber bookkeeping; backends implement ``_listen``, ``_unlisten`` and ``_stop``."""

    def __init__(self, options: BusOptions | None = None) -> None:
        self.options = options or BusOptions()
        self._subs: dict[str, set[Subscription]] = {}  # every local subscriber, by channel
        self._wide: dict[str, set[Subscription]] = {}  # those without a match
        self._matched: dict[str, dict[str, dict[Hashable, set[Subscription]]]] = {}
        self._closed = False
        self._ready = asyncio.Event()  # networked backends: the listener is connected

    def subscribe(
        self, channel: str, match: Match | None = None, follow: str | None = None
    ) -> Subscription:
        return Subscription(self, channel, self.options.queue_size, match, follow)

    async def close(self) -> None:
        """Stop the listener and end every open subscription; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._ready.set()  # wakes anyone waiting for a connection; they see the bus is closed
        try:
            await self._stop()
        finally:
            subs = [sub for group in self._subs.values() for sub in group]
            self._subs.clear()
            self._wide.clear()
            self._matched.clear()
            for sub in subs:
                sub._end()

    async def _attach(self, sub: Subscription) -> None:
        if self._closed:
            raise BusUnavailable("the event bus is closed")
        self._subs.setdefault(sub.channel, set()).add(sub)
        self._index(sub)
        try:
            await self._listen(sub.channel)
        except BaseException:
            await self._detach(sub)
            raise

    async def _detach(self, sub: Subscription) -> None:
        group = self._subs.get(sub.channel)
        if group is None or sub not in group:
            return
        group.discard(sub)
        self._unindex(sub)
        if group or self._closed:
            return
        del self._subs[sub.channel]
        try:
            await self._unlisten(sub.channel)
        except Exception:  # leaving must not fail; a broken connection is the listener's job
            log.warning(
                "could not unsubscribe from event channel",
                exc_info=True,
                extra={"channel": sub.channel},
            )

    def _index(self, sub: Subscription) -> None:
        if sub.match is None:
            self._wide.setdefault(sub.channel, set()).add(sub)
            return
        field, value = sub.match
        by_field = self._matched.setdefault(sub.channel, {})
        by_field.setdefault(field, {}).setdefault(value, set()).add(sub)

    def _unindex(self, sub: Subscription) -> None:
        if sub.match is None:
            wide = self._wide.get(sub.channel)
            if wide is not None:
                wide.discard(sub)
                if not wide:
                    del self._wide[sub.channel]
            return
        field, value = sub.match
        by_field = self._matched.get(sub.channel, {})
        by_value = by_field.get(field, {})
        group = by_value.get(value)
        if group is None:
            return
        group.discard(sub)
        if not group:
            del by_value[value]
            if not by_value:
                del by_field[field]
                if not by_field:
                    del self._matched[sub.channel]

    def _rematch(self, sub: Subscription, value: Hashable) -> None:
        assert sub.match is not None
        attached = sub in self._subs.get(sub.channel, ())
        if attached:
            self._unindex(sub)
        sub.match = (sub.match[0], value)
        if attached:
            self._index(sub)

    def _deliver(self, channel: str, raw: str) -> None:
        """Decode one received event (JSON text) once and hand it, read-only, to the local
        subscribers that want it: the channel-wide ones and those whose match it has."""
        wide = self._wide.get(channel)
        matched = self._matched.get(channel)
        if not wide and not matched:
            return
        try:
            decoded = json.loads(raw)
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            log.warning("ignoring a malformed event", extra={"channel": channel})
            return
        event = MappingProxyType(decoded)
        if wide:
            for sub in wide:
                sub._put(event)
        if matched:
            for field, by_value in matched.items():
                try:
                    group = by_value.get(decoded.get(field))
                except TypeError:  # an unhashable value (a list...) matches nobody
                    continue
                if group:
                    for sub in list(group):  # following may move it out of the group
                        sub._put(event)
                        if sub.follow is not None and sub.follow in decoded:
                            self._follow(sub, decoded[sub.follow])

    def _follow(self, sub: Subscription, value: Any) -> None:
        try:
            hash(value)
        except TypeError:
            log.warning("ignoring an unhashable value to follow", extra={"channel": sub.channel})
            return
        self._rematch(sub, value)

    def _interrupted(self) -> None:
        """The listener lost its connection: events published meanwhile are gone."""
        for group in self._subs.values():
            for sub in group:
                sub.interruptions += 1

    def _check_open(self) -> None:
        if self._closed:
            raise BusUnavailable("the event bus is closed")

    async def _wait_ready(self, deadline: float) -> None:
        """Wait until the listener is connected, at most until ``deadline`` (loop time)."""
        if not self._ready.is_set():
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                await asyncio.wait_for(self._ready.wait(), max(0.0, remaining))
            except TimeoutError:
                raise BusUnavailable("the event bus server is unreachable") from None
        self._check_open()

    async def _listen(self, channel: str) -> None:
        """Return once the listener receives ``channel`` (raise ``BusUnavailable`` if it can't)."""

    async def _unlisten(self, channel: str) -> None:
        """The last local subscriber of ``channel`` left."""

    async def _stop(self) -> None:
        """Stop the listener and release connections; must not hang."""


async def cancel_and_wait(task: asyncio.Task[Any] | None, timeout: float) -> None:
    """Cancel a listener task and give it ``timeout`` seconds to clean up."""
    if task is None or task.done():
        return
    task.cancel()
    await asyncio.wait({task}, timeout=timeout)
