"""GraphQL types of recorded SMS messages and their Relay connection."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from api.context import ctx
from api.ids import encode
from api.types.common import DeliveryStatus, PageInfo
from domain import models
from domain.models import Scope
from domain.phone import mask


@strawberry.type
class MessageGatewayRef:
    id: strawberry.ID


@strawberry.type(description="One SMS smsauth sent or tried to send, and its delivery status.")
class SmsMessage(relay.Node):
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
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, row: models.SmsMessage) -> "SmsMessage":
        return cls(
            pk=str(row.id), to=mask(row.to_number), status=DeliveryStatus(row.status),
            purpose=str(row.purpose), provider_message_id=row.provider_message_id,
            gateway=MessageGatewayRef(id=strawberry.ID(encode("SmsGateway", row.gateway_id)))
            if row.gateway_id else None,
            segments=row.segments, encoding=row.encoding, error_detail=row.error_detail,
            text=row.text, created_at=row.created_at, updated_at=row.updated_at,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        principal = ctx(info).require(Scope.ADMIN)
        ids = list(node_ids)
        numeric = [int(i) for i in ids if i.isdigit()]
        rows = {str(r.id): r for r in await models.SmsMessage.filter(
            tenant_id=principal.tenant_id, id__in=numeric)}
        return [cls.from_model(rows[i]) if i in rows else None for i in ids]


@strawberry.type
class SmsMessageEdge:
    node: SmsMessage
    cursor: str


@strawberry.type
class SmsMessageConnection:
    edges: list[SmsMessageEdge]
    page_info: PageInfo
