"""The sender loop: claims due outbox rows under a lease and hands each to ``delivery.attempt``.

Several dispatchers (API instances or ``smsauth worker`` processes) may share one PostgreSQL
database: rows are picked with ``FOR UPDATE SKIP LOCKED`` and claimed with a conditional UPDATE
on the lease, so a message is never sent by two of them at once. A dispatcher that dies mid-send
leaves a lease that runs out; the message is then claimed again.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain import clock, delivery
from domain.models import DeliveryStatus, SmsGateway, SmsMessage
from domain.runtime import Runtime

log = logging.getLogger("smsauth.dispatcher")

S = DeliveryStatus


class Dispatcher:
    def __init__(self, runtime: Runtime, *, batch: int = 32, idle_seconds: float = 1.0) -> None:
        self.runtime, self.batch, self.idle_seconds = runtime, batch, idle_seconds
        self.lease_margin = runtime.settings.lease_margin_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    def wake(self) -> None:
        """New work is queued: look now rather than at the next idle poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Expire overdue messages, then claim and send one batch; returns how many were sent."""
        await self.expire_overdue()
        claimed = await self.claim()
        if claimed:
            await asyncio.gather(*(self._attempt(message) for message in claimed))
        return len(claimed)

    async def drain(self, max_rounds: int = 50) -> int:
        """Send everything due now (tests use it to step the outbox deterministically)."""
        total = 0
        for _ in range(max_rounds):
            sent = await self.run_once()
            if not sent:
                break
            total += sent
        return total

    async def claim(self) -> list[SmsMessage]:
        now = clock.now()
        due = Q(status__in=[S.QUEUED, S.SENDING], next_attempt_at__lte=now) & (
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        )
        claimed = []
        async with in_transaction() as connection:
            rows = (
                await SmsMessage.filter(due)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "id")
                .limit(self.batch)
                .using_db(connection)
            )
            timeouts = dict(
                await SmsGateway.filter(id__in={r.gateway_id for r in rows if r.gateway_id})
                .using_db(connection)
                .values_list("id", "timeout_seconds")
            )
            for row in rows:
                lease = timeouts.get(row.gateway_id, 10.0) + self.lease_margin
                won = (
                    await SmsMessage.filter(Q(id=row.id) & due)
                    .using_db(connection)
                    .update(
                        status=S.SENDING, lease_until=now + timedelta(seconds=lease), updated_at=now
                    )
                )
                if won:
                    claimed.append(row)
        for row in claimed:
            if row.status == S.QUEUED:
                row.status, row.updated_at = S.SENDING, now
                await delivery.publish(self.runtime, row)
            row.status = S.SENDING
        return claimed

    async def expire_overdue(self) -> None:
        """Codes past their expiry that never reached the phone: EXPIRED."""
        overdue = await SmsMessage.filter(
            status__in=[S.QUEUED, S.SENDING, S.SENT], expires_at__lte=clock.now()
        ).limit(self.batch)
        for message in overdue:
            await delivery.advance(
                self.runtime,
                message,
                S.EXPIRED,
                "not delivered before the code expired",
                payload=None,
                lease_until=None,
            )

    async def _attempt(self, message: SmsMessage) -> None:
        try:
            await delivery.attempt(self.runtime, message, retry=True)
        except Exception:  # one message's bug must not stop the loop; its lease runs out
            log.exception("delivery attempt failed", extra={"message_id": message.id})

    async def run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("dispatcher round failed")
                sent = 0
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_seconds)
                self._wake.clear()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="smsauth-dispatcher")

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Claim nothing new and let sends in flight finish (a cancelled send would leave the
        gateway's answer unknown and the message sent again after its lease); cancel only what is
        still running after ``grace_seconds``."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._stopping = False
