"""Messages (the outbox), their statuses and delivery attempts."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from domain.models.gateways import SmsGateway
from domain.models.stores import IdentityStore
from domain.models.tenants import Tenant


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    UNDELIVERED = "UNDELIVERED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


class MessagePurpose(StrEnum):
    TEST = "TEST"
    ENROLLMENT = "ENROLLMENT"
    AUTHENTICATION = "AUTHENTICATION"


class SmsMessage(Model):
    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="sms_messages", on_delete=fields.CASCADE
    )
    gateway: fields.ForeignKeyNullableRelation[SmsGateway] = fields.ForeignKeyField(
        "models.SmsGateway", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    identity_store: fields.ForeignKeyNullableRelation[IdentityStore] = fields.ForeignKeyField(
        "models.IdentityStore", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    purpose = fields.CharEnumField(MessagePurpose, max_length=16)
    to_number = fields.CharField(max_length=20)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.QUEUED)
    encoding = fields.CharField(max_length=8)
    segments = fields.SmallIntField()
    provider_message_id = fields.CharField(max_length=200, null=True)
    error_detail = fields.CharField(max_length=1000, null=True)
    # The text, kept only for gateway types that declare they keep it (the built-in test gateway).
    text = fields.TextField(null=True)
    # Outbox: the text to send, encrypted (it may hold a code), cleared once the provider took it.
    payload = fields.TextField(null=True)
    next_attempt_at = fields.DatetimeField(null=True, index=True)
    lease_until = fields.DatetimeField(null=True)
    attempt_count = fields.SmallIntField(default=0)
    # Written for a test phone number: nothing was sent, DELIVERED at once.
    test = fields.BooleanField(default=False, db_default=False)
    # Not delivered by then (the code's expiry): EXPIRED.
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(index=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "sms_message"


class AttemptOutcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNAVAILABLE = "UNAVAILABLE"
    SKIPPED = "SKIPPED"  # the gateway's circuit breaker was open


class SmsAttempt(Model):
    """One try to hand a message to a gateway, and what the gateway said."""

    id = fields.BigIntField(primary_key=True)
    message: fields.ForeignKeyRelation[SmsMessage] = fields.ForeignKeyField(
        "models.SmsMessage", related_name="attempts", on_delete=fields.CASCADE
    )
    gateway: fields.ForeignKeyNullableRelation[SmsGateway] = fields.ForeignKeyField(
        "models.SmsGateway", related_name="attempts", null=True, on_delete=fields.SET_NULL
    )
    outcome = fields.CharEnumField(AttemptOutcome, max_length=16)
    detail = fields.CharField(max_length=1000, null=True)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField()

    class Meta:
        table = "sms_attempt"
