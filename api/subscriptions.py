"""Live delivery status: ``smsDeliveryStatus`` streams a tenant's message events.

The current status is read from the database first, then changes stream from the event bus, so a
subscriber that connects late still starts from the truth. A user session token may follow only
its own user's challenges.
"""

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

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
            decode_uuid(gateway_id, "SmsGateway", "SMS gateway", "gatewayId")
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

        def wanted(message_pk: int, gateway: str | None) -> bool:
            """The cheap filters, before any database read."""
            if wanted_message is not None and message_pk != wanted_message:
                return False
            return wanted_gateway is None or gateway == str(wanted_gateway)

        async def relevant(message_pk: int) -> bool:
            if challenge is None:
                return True
            return await Challenge.filter(id=challenge.id, sms_id=message_pk).exists()

        async with subscription_open(), context.runtime.bus.subscribe(f"sms:{tenant_id}") as events:
            for row in await _current(tenant_id, wanted_message, challenge):
                yield _event(row, None)
            async for event in events:
                if not wanted(event["message_id"], event.get("gateway_id")):
                    continue
                if not await relevant(event["message_id"]):
                    continue
                row = await MessageRow.get_or_none(id=event["message_id"], tenant_id=tenant_id)
                if row is not None:
                    yield DeliveryStatusEvent(
                        message=SmsMessage.from_model(row),
                        status=DeliveryStatus(event["status"]),
                        at=datetime.fromisoformat(event["at"]),
                        detail=event.get("detail"),
                    )


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
