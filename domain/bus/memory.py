"""The in-process event bus: for one process (SQLite deployments, tests); nothing crosses processes.

Events still go through the JSON encoding, so they are checked like on the networked backends and
subscribers get a decoded, read-only event, never the publisher's dict.
"""

from typing import Any

from domain.bus.hub import BusOptions, Hub, encode_event


class MemoryBus(Hub):
    """Delivers each published event directly to this object's subscribers."""

    def __init__(self, options: BusOptions | None = None) -> None:
        super().__init__(options)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._subs)

    async def start(self) -> None:
        self._check_open()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        raw = encode_event(channel, event)
        self._check_open()
        self._deliver(channel, raw)
