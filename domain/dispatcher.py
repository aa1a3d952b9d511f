"""The sender loop: claims due outbox rows under a lease and hands each to ``delivery.attempt``.

Several dispatchers (API instances or ``smsauth worker`` processes) may share one PostgreSQL
database: rows are picked with ``FOR UPDATE SKIP LOCKED`` and claimed with a conditional UPDATE
on the lease, so a message is never sent by two of them at once. A dispatcher that dies mid-send
leaves a lease that runs out; the message is then claimed again.

One UPDATE claims all picked rows that share a lease length (gateways with the same timeout
share one), in the transaction that picked them. Every picked row is won: on PostgreSQL the rows
stay locked until the claim commits; on SQLite the transaction is serializable (one connection
per process, held by the transaction; a write from another process after the pick makes the
claim fail with "database is locked" rather than see stale rows). Should an UPDATE still win
fewer rows than it was given, the whole claim is rolled back (``ClaimLost``) and nothing is sent
that round.

The gateways of the batch and their circuit breakers are read once, in the claim, and handed to
``delivery.attempt``. Overdue messages are swept at most once a second (by ``domain.clock``), and
again at once while a sweep finds a full batch; claims leave expired messages to the sweep.
"""

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain import clock, delivery
from domain.models import DeliveryStatus, SmsMessage
from domain.runtime import Runtime

log = logging.getLogger("smsauth.dispatcher")

S = DeliveryStatus
#: The least time between two sweeps for overdue messages (unless the last one was cut short).
SWEEP_INTERVAL = timedelta(seconds=1)
#: The lease of a message whose gateway was deleted: the default gateway timeout.
DEFAULT_TIMEOUT_SECONDS = 10.0


class ClaimLost(RuntimeError):
    """A claim UPDATE won fewer rows than were picked and locked for it (see the docstring)."""


class Dispatcher:
    def __init__(self, runtime: Runtime, *, batch: int = 32, idle_seconds: float = 1.0) -> None:
        self.runtime, self.batch, self.idle_seconds = runtime, batch, idle_seconds
        self.lease_margin = runtime.settings.lease_margin_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._swept_at: datetime | None = None  # None: sweep in the next round

    def wake(self) -> None:
        """New work is queued: look now rather than at the next idle poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Expire overdue messages (see the module docstring for how often), then claim and send
        one batch; returns how many were sent."""
        now = clock.now()
        swept = self._swept_at
        if swept is None or not swept <= now < swept + SWEEP_INTERVAL:
            expired = await self.expire_overdue()
            self._swept_at = None if expired >= self.batch else now
        claimed, known = await self.claim()
        if claimed:
            await asyncio.gather(*(self._attempt(message, known) for message in claimed))
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

    async def claim(self) -> tuple[list[SmsMessage], dict[uuid.UUID, delivery.KnownGateway]]:
        """Pick and lease up to a batch of due messages; returns them and their gateways."""
        now = clock.now()
        due = (
            Q(status__in=[S.QUEUED, S.SENDING], next_attempt_at__lte=now)
            & (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        )
        async with in_transaction() as connection:
            claimed = (
                await SmsMessage.filter(due)
                .select_for_update(skip_locked=True)
                .order_by("next_attempt_at", "id")
                .limit(self.batch)
                .using_db(connection)
            )
            if not claimed:
                return [], {}
            known = await delivery.load_gateways({r.gateway_id for r in claimed}, connection)
            by_lease: dict[float, list[int]] = defaultdict(list)
            for row in claimed:
                gateway = known.get(row.gateway_id)
                timeout = gateway.gateway.timeout_seconds if gateway else DEFAULT_TIMEOUT_SECONDS
                by_lease[timeout + self.lease_margin].append(row.id)
            for lease, ids in by_lease.items():
                won = (
                    await SmsMessage.filter(Q(id__in=ids) & due)
                    .using_db(connection)
                    .update(
                        status=S.SENDING, lease_until=now + timedelta(seconds=lease), updated_at=now
                    )
                )
                if won != len(ids):
                    raise ClaimLost(f"claimed {won} of {len(ids)} locked messages")
        for row in claimed:
            if row.status == S.QUEUED:
                row.status, row.updated_at = S.SENDING, now
                await delivery.publish(self.runtime, row)
            row.status = S.SENDING
        return claimed, known

    async def expire_overdue(self) -> int:
        """Codes past their expiry that never reached the phone: EXPIRED (up to a batch of them;
        returns how many were found)."""
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
        return len(overdue)

    async def _attempt(
        self, message: SmsMessage, known: dict[uuid.UUID, delivery.KnownGateway]
    ) -> None:
        gateway = known.get(message.gateway_id) or delivery.KnownGateway(None)
        try:
            await delivery.attempt(self.runtime, message, retry=True, known=gateway)
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
