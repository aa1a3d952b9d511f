"""One delivery attempt and what follows it: status moves, retries, failover, the circuit breaker.

Statuses only move forward (QUEUED -> SENDING -> SENT -> a final state; DELIVERED, UNDELIVERED,
FAILED and EXPIRED are final), each move is a conditional UPDATE and is published as an event.
Transient failures retry with exponential backoff and jitter; after the retries on a gateway are
spent, or while its circuit breaker is open, the message moves to the store's backup gateway.

The dispatcher loads the gateways (and their circuits) of a claimed batch once, as ``KnownGateway``
values that the batch's attempts share and keep up to date with what they count. A success resets
the circuit unless it was closed without failures at that load and the batch counted none since; a
failure another dispatcher counts meanwhile is reset by the success of a batch loaded after it.
Synchronous sends load nothing: their success always resets it.
"""

import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F, Q

from domain import clock, metrics
from domain.gateways import provider_config
from domain.models import (
    AttemptOutcome,
    DeliveryStatus,
    GatewayCircuit,
    IdentityStore,
    SmsAttempt,
    SmsGateway,
    SmsMessage,
)
from domain.phone import mask
from domain.runtime import Runtime
from domain.sql import Params, assignments
from providers.base import Accepted, OutboundMessage, Rejected, SendResult, Unavailable
from providers.registry import get_provider
from providers.transport import TransportError

log = logging.getLogger("smsauth.delivery")

S = DeliveryStatus
FINAL = {S.DELIVERED, S.UNDELIVERED, S.FAILED, S.EXPIRED}
#: The statuses a message may move to each status from.
PREDECESSORS = {
    S.SENDING: [S.QUEUED],
    S.SENT: [S.QUEUED, S.SENDING],
    S.DELIVERED: [S.QUEUED, S.SENDING, S.SENT],
    S.UNDELIVERED: [S.QUEUED, S.SENDING, S.SENT],
    S.FAILED: [S.QUEUED, S.SENDING, S.SENT],
    S.EXPIRED: [S.QUEUED, S.SENDING, S.SENT],
}
ATTEMPTS_PER_GATEWAY = 3
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 60.0
CIRCUIT_THRESHOLD = 5
CIRCUIT_OPEN_SECONDS = 30.0


@dataclass
class KnownGateway:
    """A gateway (None once deleted) and its circuit breaker as a dispatcher loaded them for a
    batch; the batch's attempts note the failures they count, so a later success resets them."""

    gateway: SmsGateway | None
    failures: int = 0
    open_until: datetime | None = None


async def load_gateways(
    gateway_ids: Iterable[uuid.UUID | None], connection: BaseDBAsyncClient | None = None
) -> dict[uuid.UUID, KnownGateway]:
    """The gateways with these IDs and their circuits, in one query; deleted ones are missing."""
    ids = {gateway_id for gateway_id in gateway_ids if gateway_id is not None}
    if not ids:
        return {}
    rows = await SmsGateway.filter(id__in=ids).select_related("circuit").using_db(connection)
    known = {}
    for gateway in rows:
        circuit = getattr(gateway, "circuit", None)
        known[gateway.id] = KnownGateway(
            gateway,
            failures=circuit.failures if circuit else 0,
            open_until=circuit.open_until if circuit else None,
        )
    return known


async def advance(
    runtime: Runtime,
    message: SmsMessage,
    status: DeliveryStatus,
    detail: str | None = None,
    **changes: Any,
) -> bool:
    """Move a message forward; False (and nothing changed) if it is already at or past there."""
    now = clock.now()
    db = SmsMessage._meta.db
    p = Params(db.capabilities.dialect)
    sets = assignments(SmsMessage, {"status": status, "updated_at": now, **changes}, p)
    where = f'"id"={p(message.id)}'  # placeholders in the order of the text
    before = ",".join(p(s) for s in PREDECESSORS[status])
    sql = f'UPDATE "sms_message" SET {sets} WHERE {where} AND "status" IN ({before})'
    updated, _ = await db.execute_query(sql, p.values)  # one raw UPDATE: the hottest write
    if not updated:
        return False
    message.status, message.updated_at = status, now
    for name, value in changes.items():
        setattr(message, name, value)
    await publish(runtime, message, detail)
    await metrics.message_reached(message.gateway_id, status)
    return True


async def publish(
    runtime: Runtime, message: SmsMessage, detail: str | None = None, replaces: int | None = None
) -> None:
    """Tell subscribers (on any instance) that a message changed; never fails the caller.

    With ``replaces`` the event tells the followers of that earlier message that ``message``
    carries its code now (a resend): it goes to them as ``message_id`` with ``moved_to``."""
    bus = getattr(runtime, "bus", None)
    if bus is None:
        return
    event = {
        "tenant_id": str(message.tenant_id),
        "message_id": message.id,
        "gateway_id": str(message.gateway_id) if message.gateway_id else None,
        "status": str(message.status),
        "at": message.updated_at.isoformat(),
        "detail": detail,
    }
    if replaces is not None:
        event.update(message_id=replaces, moved_to=message.id)
    try:
        await bus.publish(f"sms:{message.tenant_id}", event)
    except Exception:  # the database has the status; a lost event is not a lost message
        log.warning("could not publish a status event", extra={"message_id": message.id})


def backoff(attempt: int) -> timedelta:
    """Exponential with full jitter: up to 2, 4, 8 ... seconds, at most a minute."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


async def attempt(
    runtime: Runtime, message: SmsMessage, *, retry: bool, known: KnownGateway | None = None
) -> SendResult:
    """Hand a claimed message to its gateway once and record what follows.

    With ``retry`` a transient failure schedules another try (or the backup gateway); without it
    (synchronous sends) the message fails at once and the caller reports the answer. ``known`` is
    the message's gateway as the dispatcher loaded it with the batch; without it, it is read here.
    """
    now = clock.now()
    if message.expires_at is not None and now >= message.expires_at:
        await advance(
            runtime,
            message,
            S.EXPIRED,
            "the code expired before it could be sent",
            payload=None,
            lease_until=None,
        )
        return Rejected("the code expired before it could be sent")
    if known is None:
        gateway = await SmsGateway.get_or_none(id=message.gateway_id)
        open_until = await circuit_open_until(gateway.id, now) if gateway and retry else None
    else:
        gateway = known.gateway
        open_until = known.open_until if gateway and retry else None
        if open_until is not None and open_until <= now:
            open_until = None
    if open_until is not None:
        await _record_attempt(
            message, gateway.id, AttemptOutcome.SKIPPED, "circuit breaker open", now
        )
        backup = await _backup_for(message)
        if backup is not None:
            return await _fail_over(runtime, message, backup, "circuit breaker open")
        await SmsMessage.filter(id=message.id).update(next_attempt_at=open_until, lease_until=None)
        return Unavailable("the gateway's circuit breaker is open")
    result = await _send(runtime, message, gateway)
    await _record_attempt(
        message,
        gateway.id if gateway else None,
        _outcome(result),
        getattr(result, "reason", None) or getattr(result, "detail", None),
        now,
    )
    if gateway is not None:
        await _update_circuit(gateway.id, result, known)
    await _settle(runtime, message, result, retry=retry)
    return result


async def _send(runtime: Runtime, message: SmsMessage, gateway: SmsGateway | None) -> SendResult:
    if gateway is None:
        return Rejected("the gateway was deleted")
    if not gateway.enabled:
        return Unavailable("the gateway is disabled")
    provider = get_provider(gateway.type)
    if provider is None:
        return Unavailable(f"the gateway type {gateway.type!r} is not installed")
    text = runtime.secret_box.decrypt(message.payload) if message.payload else ""
    config = provider_config(gateway, runtime.secret_box)  # decrypts the secrets once
    quota = provider.daily_quota(config)
    if quota is not None and await _sent_today(gateway.id, clock.now()) > quota:
        return Rejected(f"the daily quota of {quota} messages is used up")
    outbound = OutboundMessage(
        to=message.to_number,
        text=text,
        reference=str(message.id),
        callback_url=runtime.callback_url(gateway.id),
    )
    started = time.perf_counter()
    try:
        result = await provider.send(outbound, config, runtime.transport)
    except TransportError as exc:
        result = Unavailable(exc.reason)
    except Exception:  # a provider bug must not leave the message in SENDING
        error_id = uuid.uuid4().hex[:12]
        log.exception("provider %s failed, error ID %s", gateway.type, error_id)
        result = Unavailable(f"the {gateway.type} gateway type failed (error ID {error_id})")
    metrics.send_finished(gateway.type, _outcome(result).value, started)
    if isinstance(result, Rejected | Unavailable):
        result = type(result)(redact(result.reason, message.to_number, text))
    return result


async def _settle(
    runtime: Runtime, message: SmsMessage, result: SendResult, *, retry: bool
) -> None:
    if isinstance(result, Accepted):
        status = S.DELIVERED if result.delivered else S.SENT
        await advance(
            runtime,
            message,
            status,
            result.detail,
            payload=None,
            lease_until=None,
            provider_message_id=(result.provider_message_id or "")[:200] or None,
            error_detail=None,
        )
        return
    tries = await SmsAttempt.filter(message_id=message.id, gateway_id=message.gateway_id).count()
    if isinstance(result, Unavailable) and retry:
        if tries < ATTEMPTS_PER_GATEWAY:
            await SmsMessage.filter(id=message.id).update(
                next_attempt_at=clock.now() + backoff(tries),
                lease_until=None,
                error_detail=result.reason[:1000],
                attempt_count=message.attempt_count + 1,
            )
            return
        backup = await _backup_for(message)
        if backup is not None:
            await _fail_over(runtime, message, backup, result.reason)
            return
    await advance(
        runtime,
        message,
        S.FAILED,
        result.reason,
        payload=None,
        lease_until=None,
        error_detail=result.reason[:1000],
    )


async def _backup_for(message: SmsMessage) -> SmsGateway | None:
    """The store's backup gateway, if the message is not on it already."""
    if message.identity_store_id is None:
        return None
    store = await IdentityStore.get_or_none(id=message.identity_store_id)
    if store is None or store.backup_sms_gateway_id in (None, message.gateway_id):
        return None
    if await SmsAttempt.filter(
        message_id=message.id, gateway_id=store.backup_sms_gateway_id
    ).exists():
        return None  # the backup had its turn
    return await SmsGateway.get_or_none(id=store.backup_sms_gateway_id)


async def _fail_over(
    runtime: Runtime, message: SmsMessage, backup: SmsGateway, reason: str
) -> SendResult:
    log.info(
        "failing over to the backup gateway",
        extra={"message_id": message.id, "gateway_id": str(backup.id)},
    )
    await SmsMessage.filter(id=message.id).update(
        gateway_id=backup.id,
        next_attempt_at=clock.now(),
        lease_until=None,
        error_detail=f"failed over: {reason}"[:1000],
    )
    message.gateway_id = backup.id
    await publish(runtime, message, f"failed over to the backup gateway: {reason}")
    return Unavailable(reason)


async def circuit_open_until(gateway_id: uuid.UUID, now: datetime) -> datetime | None:
    """When the gateway's open circuit lets a try through again; None while it is closed."""
    circuit = await GatewayCircuit.get_or_none(gateway_id=gateway_id)
    if circuit and circuit.open_until and circuit.open_until > now:
        return circuit.open_until
    return None


async def _update_circuit(
    gateway_id: uuid.UUID, result: SendResult, known: KnownGateway | None = None
) -> None:
    """Count consecutive failures atomically (workers race here); open at the threshold.

    A success skips the reset when ``known`` has the circuit closed with no failures (as loaded
    with the batch, and kept up to date by the batch's own attempts).
    """
    if not isinstance(result, Unavailable):
        if known is not None and known.failures == 0 and known.open_until is None:
            return
        await GatewayCircuit.filter(gateway_id=gateway_id).update(failures=0, open_until=None)
        if known is not None:
            known.failures, known.open_until = 0, None
        return
    if known is not None:
        known.failures += 1  # before any await: a success of the batch after this one resets
    await GatewayCircuit.get_or_create(gateway_id=gateway_id)
    await GatewayCircuit.filter(gateway_id=gateway_id).update(failures=F("failures") + 1)
    now = clock.now()
    open_until = now + timedelta(seconds=CIRCUIT_OPEN_SECONDS)
    opened = await GatewayCircuit.filter(
        Q(gateway_id=gateway_id, failures__gte=CIRCUIT_THRESHOLD)
        & (Q(open_until__isnull=True) | Q(open_until__lte=now))
    ).update(open_until=open_until)
    if opened and known is not None:
        known.open_until = open_until  # the batch's attempts yet to start skip the gateway


async def _record_attempt(
    message: SmsMessage,
    gateway_id: uuid.UUID | None,
    outcome: AttemptOutcome,
    detail: str | None,
    started: datetime,
) -> None:
    await SmsAttempt.create(
        message_id=message.id,
        gateway_id=gateway_id,
        outcome=outcome,
        detail=(detail or "")[:1000] or None,
        started_at=started,
        finished_at=clock.now(),
    )
    log.info(
        "sms attempt",
        extra={
            "message_id": message.id,
            "gateway_id": str(gateway_id),
            "outcome": outcome.value,
            "to": mask(message.to_number),
        },
    )


def _outcome(result: SendResult) -> AttemptOutcome:
    if isinstance(result, Accepted):
        return AttemptOutcome.ACCEPTED
    return AttemptOutcome.REJECTED if isinstance(result, Rejected) else AttemptOutcome.UNAVAILABLE


async def _sent_today(gateway_id: uuid.UUID, now: datetime) -> int:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return await SmsMessage.filter(
        gateway_id=gateway_id, created_at__gte=midnight, created_at__lt=midnight + timedelta(days=1)
    ).count()


def redact(reason: str, phone: str, text: str) -> str:
    """A provider's reason without the number or the text, should the gateway echo them back."""
    for secret in (text, phone, phone.lstrip("+")):
        if secret:
            reason = reason.replace(secret, "[redacted]")
    return reason
