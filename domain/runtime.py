"""What a running process shares: settings, the secret box and the outbound transport."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.counters import Counters, create_counters
from domain.secret_box import SecretBox, load_secret_box
from domain.settings import Settings
from providers.destinations import DestinationPolicy
from providers.transport import HttpTransport


@dataclass
class Runtime:
    settings: Settings
    secret_box: SecretBox
    transport: HttpTransport = field(default_factory=HttpTransport)
    bus: Any = None  # domain.bus.EventBus, once started
    # Rate-limit and velocity counters: Redis when configured, else the database.
    counters: Counters = field(default_factory=lambda: create_counters(None))
    # Called after a message is queued (the in-process dispatcher's wake-up).
    on_queued: Callable[[], None] | None = None

    def queued(self) -> None:
        if self.on_queued is not None:
            self.on_queued()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Runtime":
        return cls(
            settings=settings,
            secret_box=load_secret_box(settings),
            counters=create_counters(settings.redis_url),
            transport=HttpTransport(DestinationPolicy(settings.allow_private_networks)),
        )

    def callback_url(self, gateway_id: object) -> str | None:
        """Where a gateway's delivery receipts go, when the server knows its public URL."""
        base = self.settings.public_url
        if not base:
            return None
        token = self.secret_box.macs("receipts", str(gateway_id))[0]
        return f"{base}/webhooks/sms/{gateway_id}?token={token}"

    async def close(self) -> None:
        await self.transport.close()
        await self.counters.close()
