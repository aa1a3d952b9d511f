"""Sending SMS through a gateway: persist first, call the provider, record what it said."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from domain import clock
from domain.errors import GatewayRejected, GatewayUnavailable, ValidationFailed
from domain.gateways import get_gateway, provider_config
from domain.models import DeliveryStatus, MessagePurpose, SmsGateway, SmsMessage
from domain.phone import Phone, mask
from domain.runtime import Runtime
from domain.sms_text import compose, segment_count
from providers.base import Accepted, OutboundMessage, Rejected, Unavailable
from providers.registry import get_provider
from providers.transport import TransportError

log = logging.getLogger("smsauth.messaging")

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


async def send_test_message(
    tenant_id: uuid.UUID, gateway_id: uuid.UUID, phone: Phone, text: str | None, runtime: Runtime
) -> SmsMessage:
    """The seeds' "Test Connection": a real message through the gateway, reported as sent."""
    gateway = await get_gateway(tenant_id, gateway_id)
    body = (text or "").strip() or DEFAULT_TEST_TEXT
    if len(body) > MAX_TEST_TEXT:
        raise ValidationFailed(f"longer than {MAX_TEST_TEXT} characters", field="text")
    return await send(Outgoing(tenant_id, gateway, phone.e164, body, MessagePurpose.TEST), runtime)


async def send(outgoing: Outgoing, runtime: Runtime) -> SmsMessage:
    """Send now; a failure raises ``GatewayRejected``/``GatewayUnavailable`` with the row."""
    gateway = outgoing.gateway
    if not gateway.enabled:
        raise GatewayUnavailable("the gateway is disabled")
    provider = get_provider(gateway.type)
    if provider is None:
        raise GatewayUnavailable(f"the gateway type {gateway.type!r} is not installed")
    config = provider_config(gateway, runtime.secret_box)
    text = compose(outgoing.body, gateway.signature)
    parts = segment_count(text)
    now = clock.now()
    sms = await SmsMessage.create(
        tenant_id=outgoing.tenant_id,
        gateway_id=gateway.id,
        identity_store_id=outgoing.identity_store_id,
        purpose=outgoing.purpose,
        to_number=outgoing.to,
        status=DeliveryStatus.SENDING,
        encoding=parts.encoding,
        segments=parts.segments,
        text=text if provider.type.keeps_text else None,
        created_at=now,
        updated_at=now,
    )
    quota = provider.daily_quota(config)
    if quota is not None and await _sent_today(gateway.id, now) > quota:
        result = Rejected(f"the daily quota of {quota} messages is used up")
    else:
        try:
            message = OutboundMessage(
                to=outgoing.to,
                text=text,
                reference=str(sms.id),
                callback_url=runtime.callback_url(gateway.id),
            )
            result = await provider.send(message, config, runtime.transport)
        except TransportError as exc:
            result = Unavailable(exc.reason)
        except Exception:  # a provider bug must not leave the message in SENDING
            error_id = uuid.uuid4().hex[:12]
            log.exception("provider %s failed, error ID %s", gateway.type, error_id)
            result = Unavailable(f"the {gateway.type} gateway type failed (error ID {error_id})")
    if isinstance(result, Rejected | Unavailable):
        result = type(result)(redact(result.reason, outgoing.to, text))
    await _record(sms, result)
    log.info(
        "sms sent",
        extra={
            "tenant_id": str(outgoing.tenant_id),
            "gateway_id": str(gateway.id),
            "message_id": sms.id,
            "status": sms.status.value,
            "to": mask(sms.to_number),
        },
    )
    if isinstance(result, Rejected):
        raise GatewayRejected(result.reason, sms)
    if isinstance(result, Unavailable):
        raise GatewayUnavailable(result.reason, sms)
    return sms


async def _record(sms: SmsMessage, result: Accepted | Rejected | Unavailable) -> None:
    if isinstance(result, Accepted):
        sms.status = DeliveryStatus.DELIVERED if result.delivered else DeliveryStatus.SENT
        sms.provider_message_id = (result.provider_message_id or "")[:200] or None
    else:
        sms.status = DeliveryStatus.FAILED
        sms.error_detail = result.reason[:1000]
    sms.updated_at = clock.now()
    await sms.save(update_fields=["status", "provider_message_id", "error_detail", "updated_at"])


def redact(reason: str, phone: str, text: str) -> str:
    """A provider's reason without the number or the text, should the gateway echo them back."""
    for secret in (text, phone, phone.lstrip("+")):
        if secret:
            reason = reason.replace(secret, "[redacted]")
    return reason


async def _sent_today(gateway_id: uuid.UUID, now) -> int:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return await SmsMessage.filter(
        gateway_id=gateway_id, created_at__gte=midnight, created_at__lt=midnight + timedelta(days=1)
    ).count()


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
