"""User flows: challenges, user sessions, signing keys and the audit trail."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from domain.models.messages import MessagePurpose, SmsMessage
from domain.models.stores import IdentityStore, StoreUser
from domain.models.tenants import Tenant


class ChallengeStatus(StrEnum):
    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    LOCKED = "LOCKED"
    SUPERSEDED = "SUPERSEDED"  # a newer challenge was started for the user


class Challenge(Model):
    """One code sent to one number: the HOTP secret and counter give its code."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="challenges", on_delete=fields.CASCADE
    )
    identity_store: fields.ForeignKeyRelation[IdentityStore] = fields.ForeignKeyField(
        "models.IdentityStore", related_name="challenges", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[StoreUser] = fields.ForeignKeyField(
        "models.StoreUser", related_name="challenges", on_delete=fields.CASCADE
    )
    purpose = fields.CharEnumField(MessagePurpose, max_length=16)
    phone_number = fields.CharField(max_length=20)
    secret = fields.TextField()  # Fernet token of the HOTP secret (a test number's code hash)
    # Started for a test phone number: the code is the number's fixed code, nothing is sent.
    test = fields.BooleanField(default=False, db_default=False)
    counter = fields.IntField(default=0)
    code_length = fields.SmallIntField()
    status = fields.CharEnumField(ChallengeStatus, max_length=16, default=ChallengeStatus.PENDING)
    attempts_left = fields.SmallIntField()
    expires_at = fields.DatetimeField()
    resend_available_at = fields.DatetimeField()
    sms: fields.ForeignKeyNullableRelation[SmsMessage] = fields.ForeignKeyField(
        "models.SmsMessage", related_name="challenges", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(index=True)
    verified_at = fields.DatetimeField(null=True)

    class Meta:
        table = "challenge"
        indexes = (("user_id", "created_at"),)


class UserSession(Model):
    """A short-lived token for one user of one store, e.g. a mobile app enrolling directly."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="user_sessions", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[StoreUser] = fields.ForeignKeyField(
        "models.StoreUser", related_name="sessions", on_delete=fields.CASCADE
    )
    secret_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user_session"


class SigningKey(Model):
    """A tenant key for signing assertions, its private half encrypted at rest."""

    kid = fields.CharField(max_length=64, primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="signing_keys", on_delete=fields.CASCADE
    )
    private_jwk = fields.TextField()  # Fernet token
    public_jwk = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "signing_key"


class AuditEvent(Model):
    """Who did what to which user of which store, and the outcome (never a code or number)."""

    id = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="audit_events", on_delete=fields.CASCADE
    )
    identity_store: fields.ForeignKeyNullableRelation[IdentityStore] = fields.ForeignKeyField(
        "models.IdentityStore", related_name="audit_events", null=True, on_delete=fields.SET_NULL
    )
    user_id = fields.CharField(max_length=255, null=True, index=True)
    action = fields.CharField(max_length=64)
    outcome = fields.CharField(max_length=64)
    actor = fields.CharField(max_length=100)
    masked_phone_number = fields.CharField(max_length=20, null=True)
    detail = fields.CharField(max_length=500, null=True)
    test = fields.BooleanField(default=False, db_default=False)  # a step for a test number
    created_at = fields.DatetimeField()

    class Meta:
        table = "audit_event"
