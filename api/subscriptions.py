"""Live delivery status: ``smsDeliveryStatus`` streams a tenant's message events.

The current status is read from the database first, then changes stream from the event bus, so a
subscriber that connects late still starts from the truth. A user session token may follow only
its own user's challenges.

Events travel on one bus channel per tenant, but inside the process a subscription is woken only
by the events it can want: one following a message (or a challenge's current message) by that
message's events, one following a gateway by that gateway's, and only a tenant-wide one by all
(``match`` in ``domain.bus``). The message row is read once per event per process and the value
yielded is shared by the subscribers of that event (it is read after the event arrived, so it is
the current row). A challenge's message changes on resend: the resend publishes an event to the
followers of the old message naming the new one (``moved_to``), and the bus moves a challenge's
subscriptions to it as it delivers that event, before any event of the new message.
"""

import asyncio
import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from api import gc_policy
from api.context import ctx
from api.ids import decode_int, decode_uuid
from api.types.common import DeliveryStatus
from api.types.messages import SmsMessage
from domain.errors import Forbidden, NotFound
from domain.metrics import subscription_open
from domain.models import Challenge
from domain.models import SmsMessage as MessageRow


@strawberry.type(description="A message's status changed (or, first, what it is now).")
class DeliveryStatusEvent:
    message: SmsMessage
    status: DeliveryStatus
    at: datetime
    detail: str | None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Status changes of the tenant's messages, narrowed to one message, one "
        "challenge (its current message) or one gateway; the current status comes first."
    )
    async def sms_delivery_status(
        self,
        info: Info,
        message_id: strawberry.ID | None = None,
        challenge_id: strawberry.ID | None = None,
        gateway_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[DeliveryStatusEvent, None]:
        context = ctx(info)
        principal = context.caller()
        tenant_id = principal.tenant_id
        wanted_message = (
            decode_int(message_id, "SmsMessage", "message", "messageId") if message_id else None
        )
        wanted_gateway = (
            str(decode_uuid(gateway_id, "SmsGateway", "SMS gateway", "gatewayId"))
            if gateway_id
            else None
        )
        challenge = None
        if challenge_id:
            pk = decode_uuid(challenge_id, "Challenge", "challenge", "challengeId")
            challenge = await Challenge.get_or_none(id=pk, tenant_id=tenant_id).select_related(
                "user"
            )
            if challenge is None:
                raise NotFound("challenge", field="challengeId")
            principal.require_user(challenge.identity_store_id, challenge.user.user_id)
        elif principal.user is not None:
            raise Forbidden("a user session token may follow its own challenges only")

        # The process wakes this subscription only for the events that match; the checks in the
        # loop remain for what a match cannot say (a message that is not the gateway's...).
        if wanted_message is not None:
            match: tuple[str, Any] | None = ("message_id", wanted_message)
        elif challenge is not None:
            match = ("message_id", challenge.sms_id)
        elif wanted_gateway is not None:
            match = ("gateway_id", wanted_gateway)
        else:
            match = None

        def wanted(event: Mapping[str, Any]) -> bool:
            """The cheap filters, before any database read."""
            if "moved_to" in event:  # a resend: news for the challenge's followers only
                return challenge is not None
            if wanted_message is not None and event["message_id"] != wanted_message:
                return False
            return wanted_gateway is None or event.get("gateway_id") == wanted_gateway

        follow = "moved_to" if challenge is not None else None
        subscribed = context.runtime.bus.subscribe(f"sms:{tenant_id}", match, follow)
        async with subscription_open(), subscribed as events:
            for row in await _current(tenant_id, wanted_message, challenge):
                yield _event(row, None)
            # Counted for the collector only now: what the first answer built is here to stay.
            with gc_policy.holding_subscription():
                async for event in events:
                    if not wanted(event):
                        continue
                    status_event = await _status_event(tenant_id, event)
                    if status_event is not None:
                        yield status_event


async def _current(tenant_id, message_pk: int | None, challenge) -> list[MessageRow]:
    if message_pk is not None:
        row = await MessageRow.get_or_none(id=message_pk, tenant_id=tenant_id)
        if row is None:
            raise NotFound("message", field="messageId")
        return [row]
    if challenge is not None and challenge.sms_id is not None:
        return [await MessageRow.get(id=challenge.sms_id)]
    return []


def _event(row: MessageRow, detail: str | None) -> DeliveryStatusEvent:
    return DeliveryStatusEvent(
        message=SmsMessage.from_model(row),
        status=DeliveryStatus(row.status),
        at=row.updated_at,
        detail=detail or row.error_detail,
    )


_reads: dict[int, tuple[Mapping[str, Any], "asyncio.Future[DeliveryStatusEvent | None]"]] = {}
"""The row reads under way, by bus event (``id``; the entry holds the event, so the id is not
reused meanwhile): the subscribers of one event share one read and one yielded value."""


async def _status_event(
    tenant_id: uuid.UUID, event: Mapping[str, Any]
) -> DeliveryStatusEvent | None:
    """What a subscription yields for a bus event (None: the message is gone), with the row read
    once for all the subscribers this process woke for that event; every one of them started
    waiting after the event arrived, so the row is at least as new as the event."""
    key = id(event)
    entry = _reads.get(key)
    if entry is None or entry[0] is not event:
        read = asyncio.ensure_future(_read_status(tenant_id, event))
        _reads[key] = (event, read)
        read.add_done_callback(lambda _: _reads.pop(key, None))
    else:
        read = entry[1]
    return await asyncio.shield(read)


async def _read_status(
    tenant_id: uuid.UUID, event: Mapping[str, Any]
) -> DeliveryStatusEvent | None:
    message = event.get("moved_to", event["message_id"])  # a resend: the new message
    row = await MessageRow.get_or_none(id=message, tenant_id=tenant_id)
    if row is None:
        return None
    return DeliveryStatusEvent(
        message=SmsMessage.from_model(row),
        status=DeliveryStatus(event["status"]),
        at=datetime.fromisoformat(event["at"]),
        detail=event.get("detail"),
    )
