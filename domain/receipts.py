"""Delivery receipts: authenticate a webhook call, let the provider parse it, move statuses on.

Every callback URL smsauth hands a provider carries a per-gateway token; a call without a valid
token is refused before any provider code runs. Providers with their own signatures (Twilio,
MessageBird) check those as well. Receipts are idempotent: statuses only move forward.
"""

import hmac
import logging
import uuid

from tortoise.expressions import Q

from domain import delivery
from domain.errors import NotFound
from domain.gateways import provider_config
from domain.models import DeliveryStatus, SmsGateway, SmsMessage
from domain.runtime import Runtime
from providers.base import InboundRequest, Receipt, ReceiptMalformed, ReceiptRejected
from providers.registry import get_provider

log = logging.getLogger("smsauth.receipts")
MAX_MESSAGE_ID = 2**63 - 1  # SmsMessage.id is a BIGINT


async def handle(runtime: Runtime, gateway_id: uuid.UUID, request: InboundRequest) -> int:
    """Apply a provider's receipts; returns how many messages moved. Raises ``ReceiptRejected``
    (403), ``ReceiptMalformed`` (400) or ``NotFound`` (404)."""
    gateway = await SmsGateway.get_or_none(id=gateway_id)
    if gateway is None:
        raise NotFound("SMS gateway")
    given = request.query.get("token") or ""
    if not any(
        hmac.compare_digest(given, t) for t in runtime.secret_box.macs("receipts", str(gateway.id))
    ):
        raise ReceiptRejected("missing or wrong webhook token")
    provider = get_provider(gateway.type)
    if provider is None:
        raise ReceiptMalformed(f"the gateway type {gateway.type!r} is not installed")
    receipts = provider.parse_receipts(request, provider_config(gateway, runtime.secret_box))
    return await apply(runtime, gateway, receipts)


async def apply(runtime: Runtime, gateway: SmsGateway, receipts: list[Receipt]) -> int:
    """Move each receipt's message forward (webhooks and SMPP sessions alike); returns how many
    moved. Unknown messages are skipped; duplicates and late receipts change nothing."""
    moved = 0
    for receipt in receipts:
        message = await _message_for(gateway, receipt)
        if message is None:
            log.info("receipt for an unknown message", extra={"gateway_id": str(gateway.id)})
            continue
        status = DeliveryStatus(receipt.status)
        changes = {"payload": None, "lease_until": None} if status != DeliveryStatus.SENT else {}
        if status in (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED) and receipt.detail:
            changes["error_detail"] = receipt.detail[:1000]
        moved += await delivery.advance(runtime, message, status, receipt.detail, **changes)
    return moved


async def _message_for(gateway: SmsGateway, receipt: Receipt) -> SmsMessage | None:
    """The gateway's message a receipt is about, by the provider's ID or by our reference.

    Only the gateway's own messages: its token (and signature) authenticate receipts for it, and
    another gateway's provider may use the same message IDs.
    """
    match = Q()
    part = receipt.provider_message_id
    if part:  # a long SMS keeps its parts' IDs as "id1,id2": a receipt names one part
        match |= (
            Q(provider_message_id=part)
            | Q(provider_message_id__startswith=f"{part},")
            | Q(provider_message_id__endswith=f",{part}")
            | Q(provider_message_id__contains=f",{part},")
        )
    if _message_id(receipt.reference) is not None:
        match |= Q(id=_message_id(receipt.reference))
    if not match.children:
        return None
    return await SmsMessage.filter(
        match, tenant_id=gateway.tenant_id, gateway_id=gateway.id
    ).first()


def _message_id(reference: str | None) -> int | None:
    """Our reference as a message ID: ASCII digits within the BIGINT range, else None."""
    if not reference or not (reference.isascii() and reference.isdigit()):
        return None
    value = int(reference)
    return value if value <= MAX_MESSAGE_ID else None
