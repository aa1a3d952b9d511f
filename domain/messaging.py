"""Messages: written to the outbox (persisted before any network I/O), sent now or by the
dispatcher, and listed."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError

from domain import clock, delivery
from domain.errors import GatewayRejected, GatewayUnavailable, ValidationFailed
from domain.gateways import get_gateway
from domain.models import DeliveryStatus, MessagePurpose, SmsGateway, SmsMessage
from domain.phone import Phone
from domain.runtime import Runtime
from domain.sms_text import compose, segment_count
from providers.base import Rejected, Unavailable
from providers.registry import get_provider

SANDBOX_GATEWAY_NAME = "Sandbox (built in)"
MAX_TEST_TEXT = 1000
DEFAULT_TEST_TEXT = "This is a test message from smsauth."


@dataclass(frozen=True)
class Outgoing:
    """What to send, before it becomes a row."""

    tenant_id: uuid.UUID
    gateway: SmsGateway
    to: str  # E.164
    body: str
    purpose: MessagePurpose
    identity_store_id: uuid.UUID | None = None
    expires_at: datetime | None = None  # a code's expiry: not delivered by then is EXPIRED
    #: False: only the request sends it (``send_now``); the dispatcher never claims it, so it
    #: never retries nor fails over to a store's backup gateway (sandbox stores).
    dispatched: bool = True


async def sandbox_gateway(tenant_id: uuid.UUID) -> SmsGateway:
    """The tenant's gateway for sandbox stores: a built-in ``test`` gateway (keeps the text, low
    daily quota), created when first needed and listed with the tenant's gateways."""
    found = await SmsGateway.get_or_none(tenant_id=tenant_id, name=SANDBOX_GATEWAY_NAME)
    if found is not None and found.type == "test":
        return found
    if found is not None:  # an admin's own gateway took the name: never send through it
        raise ValidationFailed(
            f"rename the gateway {SANDBOX_GATEWAY_NAME!r}: sandbox stores need the name",
            field="sandbox",
        )
    try:
        return await SmsGateway.create(
            tenant_id=tenant_id,
            name=SANDBOX_GATEWAY_NAME,
            type="test",
            description="Sends nothing: sandbox identity stores' messages are kept here "
            "(read them with smsMessages).",
        )
    except IntegrityError:  # a concurrent request created it
        return await SmsGateway.get(tenant_id=tenant_id, name=SANDBOX_GATEWAY_NAME)


async def send_test_message(
    tenant_id: uuid.UUID, gateway_id: uuid.UUID, phone: Phone, text: str | None, runtime: Runtime
) -> SmsMessage:
    """The seeds' "Test Connection": a real message through the gateway, reported as sent."""
    gateway = await get_gateway(tenant_id, gateway_id)
    body = (text or "").strip() or DEFAULT_TEST_TEXT
    if len(body) > MAX_TEST_TEXT:
        raise ValidationFailed(f"longer than {MAX_TEST_TEXT} characters", field="text")
    outgoing = Outgoing(tenant_id, gateway, phone.e164, body, MessagePurpose.TEST)
    return await send_now(await enqueue(outgoing, runtime), runtime)


async def enqueue(outgoing: Outgoing, runtime: Runtime) -> SmsMessage:
    """The outbox row (QUEUED, text encrypted); callers may run this in their own transaction."""
    gateway = outgoing.gateway
    text = compose(outgoing.body, gateway.signature)
    parts = segment_count(text)
    provider = get_provider(gateway.type)
    now = clock.now()
    return await SmsMessage.create(
        tenant_id=outgoing.tenant_id,
        gateway_id=gateway.id,
        identity_store_id=outgoing.identity_store_id,
        purpose=outgoing.purpose,
        to_number=outgoing.to,
        status=DeliveryStatus.QUEUED,
        encoding=parts.encoding,
        segments=parts.segments,
        text=text if provider is not None and provider.type.keeps_text else None,
        payload=runtime.secret_box.encrypt(text),
        next_attempt_at=now if outgoing.dispatched else None,
        expires_at=outgoing.expires_at,
        created_at=now,
        updated_at=now,
    )


async def record_test(outgoing: Outgoing) -> SmsMessage:
    """A test phone number's message: recorded (so ``smsMessages`` shows it) but sent through no
    gateway and kept without text or payload; DELIVERED at once, never the dispatcher's."""
    text = compose(outgoing.body, outgoing.gateway.signature)
    parts = segment_count(text)
    now = clock.now()
    return await SmsMessage.create(
        tenant_id=outgoing.tenant_id,
        gateway_id=None,
        identity_store_id=outgoing.identity_store_id,
        purpose=outgoing.purpose,
        to_number=outgoing.to,
        status=DeliveryStatus.DELIVERED,
        encoding=parts.encoding,
        segments=parts.segments,
        test=True,
        expires_at=outgoing.expires_at,
        created_at=now,
        updated_at=now,
    )


async def send_now(message: SmsMessage, runtime: Runtime) -> SmsMessage:
    """One attempt inside the request; a failure is final and raised with the recorded row."""
    claimed = await SmsMessage.filter(id=message.id, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.SENDING, lease_until=None, updated_at=clock.now()
    )
    if claimed:
        message.status = DeliveryStatus.SENDING
        await delivery.publish(runtime, message)
    result = await delivery.attempt(runtime, message, retry=False)
    await message.refresh_from_db()
    if isinstance(result, Rejected):
        raise GatewayRejected(result.reason, message)
    if isinstance(result, Unavailable):
        raise GatewayUnavailable(result.reason, message)
    return message


async def list_messages(
    tenant_id: uuid.UUID,
    *,
    first: int,
    after: int | None = None,
    gateway_id: uuid.UUID | None = None,
    status: DeliveryStatus | None = None,
) -> tuple[list[SmsMessage], bool]:
    """Newest first, keyset-paginated on the ID; the page and whether more follow."""
    query = SmsMessage.filter(tenant_id=tenant_id)
    if after is not None:
        query = query.filter(id__lt=after)
    if gateway_id is not None:
        query = query.filter(gateway_id=gateway_id)
    if status is not None:
        query = query.filter(status=status)
    rows = await query.order_by("-id").limit(first + 1)
    return rows[:first], len(rows) > first
