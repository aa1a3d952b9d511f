"""GraphQL types of recorded SMS messages and their Relay connection."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from api.ids import encode, int_keys
from api.types.common import DeliveryStatus, PageInfo
from api.types.node import TenantNode
from domain import models
from domain.phone import mask


@strawberry.type
class MessageGatewayRef:
    id: strawberry.ID


@strawberry.type(description="One try to hand a message to a gateway.")
class SmsAttempt:
    gateway: MessageGatewayRef | None
    outcome: str = strawberry.field(description="ACCEPTED, REJECTED, UNAVAILABLE or SKIPPED.")
    detail: str | None
    started_at: datetime
    finished_at: datetime


@strawberry.type(description="One SMS smsauth sent or tried to send, and its delivery status.")
class SmsMessage(TenantNode):
    model = models.SmsMessage

    @classmethod
    def parse_ids(cls, ids: list[str]) -> list[Any]:
        return int_keys(ids)

    pk: relay.NodeID[str]
    to: str = strawberry.field(description="The recipient, masked: +44******2712.")
    status: DeliveryStatus
    purpose: str
    gateway: MessageGatewayRef | None
    provider_message_id: str | None
    segments: int
    encoding: str
    error_detail: str | None
    text: str | None = strawberry.field(
        description="The text as sent; kept only by the built-in test gateway."
    )
    test: bool = strawberry.field(
        description="Written for a test phone number: nothing was sent (DELIVERED at once)."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Every try, oldest first: gateway, outcome, provider reason.")
    async def attempts(self) -> list[SmsAttempt]:
        rows = await models.SmsAttempt.filter(message_id=int(self.pk)).order_by("id")
        return [
            SmsAttempt(
                gateway=MessageGatewayRef(id=strawberry.ID(encode("SmsGateway", r.gateway_id)))
                if r.gateway_id
                else None,
                outcome=str(r.outcome),
                detail=r.detail,
                started_at=r.started_at,
                finished_at=r.finished_at,
            )
            for r in rows
        ]

    @classmethod
    def from_model(cls, row: models.SmsMessage) -> "SmsMessage":
        return cls(
            pk=str(row.id),
            to=mask(row.to_number),
            status=DeliveryStatus(row.status),
            purpose=str(row.purpose),
            provider_message_id=row.provider_message_id,
            gateway=MessageGatewayRef(id=strawberry.ID(encode("SmsGateway", row.gateway_id)))
            if row.gateway_id
            else None,
            segments=row.segments,
            encoding=row.encoding,
            error_detail=row.error_detail,
            text=row.text,
            test=row.test,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class SmsMessageEdge:
    node: SmsMessage
    cursor: str


@strawberry.type
class SmsMessageConnection:
    edges: list[SmsMessageEdge]
    page_info: PageInfo
