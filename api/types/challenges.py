"""GraphQL types of the user flows: challenges, enrollments, assertions, sessions, audit events."""

from datetime import datetime

import strawberry

from api.ids import encode
from api.types.common import PageInfo
from api.types.messages import SmsMessage
from domain import models
from domain.phone import mask


@strawberry.type(description="A code sent by SMS, waiting to be verified.")
class Challenge:
    id: strawberry.ID
    masked_phone_number: str
    expires_at: datetime
    resend_available_at: datetime
    attempts_left: int
    sms_id: strawberry.Private[int | None]

    @strawberry.field(description="The message that carried the code, and its delivery status.")
    async def sms(self) -> SmsMessage | None:
        if self.sms_id is None:
            return None
        row = await models.SmsMessage.get_or_none(id=self.sms_id)
        return SmsMessage.from_model(row) if row else None

    @classmethod
    def from_model(cls, row: models.Challenge) -> "Challenge":
        return cls(
            id=strawberry.ID(encode("Challenge", row.id)),
            masked_phone_number=mask(row.phone_number),
            expires_at=row.expires_at,
            resend_available_at=row.resend_available_at,
            attempts_left=row.attempts_left,
            sms_id=row.sms_id,
        )


@strawberry.type(description="A verified phone number.")
class Enrollment:
    masked_phone_number: str
    verified_at: datetime


@strawberry.type(description="A successful SMS authentication.")
class Authentication:
    assertion: str = strawberry.field(
        description="A signed JWT (ES256); verify it with the keys at /.well-known/jwks.json."
    )
    expires_at: datetime


@strawberry.type(description="A token that runs one user's flows only. Shown once.")
class UserSession:
    id: strawberry.ID = strawberry.field(description="What revokeUserSession takes.")
    token: str
    expires_at: datetime


@strawberry.type(description="One step of a user flow: who, for which user, and the outcome.")
class AuditEvent:
    id: strawberry.ID
    action: str
    outcome: str
    actor: str
    user_id: str | None
    identity_store_id: strawberry.ID | None
    masked_phone_number: str | None
    detail: str | None
    test: bool = strawberry.field(description="A step for a test phone number.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.AuditEvent) -> "AuditEvent":
        store = row.identity_store_id
        return cls(
            id=strawberry.ID(encode("AuditEvent", row.id)),
            action=row.action,
            outcome=row.outcome,
            actor=row.actor,
            user_id=row.user_id,
            identity_store_id=strawberry.ID(encode("IdentityStore", store)) if store else None,
            masked_phone_number=row.masked_phone_number,
            detail=row.detail,
            test=row.test,
            created_at=row.created_at,
        )


@strawberry.type
class AuditEventEdge:
    node: AuditEvent
    cursor: str


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo
