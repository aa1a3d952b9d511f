"""Tortoise ORM models: every row belongs to one tenant, directly or through its identity store."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Scope(StrEnum):
    ADMIN = "ADMIN"
    SERVICE = "SERVICE"


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


class Tenant(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenant"


class ApiKey(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200, null=True)
    scope = fields.CharEnumField(Scope, max_length=16)
    secret_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class SmsGateway(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="sms_gateways", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    type = fields.CharField(max_length=64)
    url = fields.CharField(max_length=2000, null=True)
    account_id = fields.CharField(max_length=500, null=True)
    username = fields.CharField(max_length=500, null=True)
    sender_id = fields.CharField(max_length=100, null=True)
    signature = fields.CharField(max_length=200, null=True)
    description = fields.TextField(null=True)
    enabled = fields.BooleanField(default=True)
    is_default = fields.BooleanField(default=False)
    check_ssl = fields.BooleanField(default=True)
    timeout_seconds = fields.FloatField(default=10.0)
    parameters = fields.JSONField(default=dict)
    extension_parameters = fields.JSONField(default=dict)
    proxy = fields.JSONField(null=True)
    # Fernet token of {"password", "proxy_password", "parameters": {...}}; never leaves domain/.
    secrets = fields.TextField(null=True)
    # Which secrets are set ("password", "proxy.password", "parameters.NAME"); no key needed.
    secret_names = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sms_gateway"
        unique_together = (("tenant", "name"),)


class IdentityStore(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="identity_stores", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    sms_gateway: fields.ForeignKeyNullableRelation[SmsGateway] = fields.ForeignKeyField(
        "models.SmsGateway", related_name="identity_stores", null=True, on_delete=fields.RESTRICT
    )
    backup_sms_gateway: fields.ForeignKeyNullableRelation[SmsGateway] = fields.ForeignKeyField(
        "models.SmsGateway", related_name="backup_for_stores", null=True, on_delete=fields.RESTRICT
    )
    sms_enabled = fields.BooleanField(default=False)
    text_message = fields.CharField(max_length=1000, default="Your verification code is [Code]")
    code_length = fields.SmallIntField(default=6)
    code_ttl_seconds = fields.IntField(default=300)
    max_attempts = fields.SmallIntField(default=3)
    resend_cooldown_seconds = fields.IntField(default=30)
    default_region = fields.CharField(max_length=2, null=True)
    # Send inside the request instead of through the outbox (the answer carries the outcome).
    synchronous_sending = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "identity_store"
        unique_together = (("tenant", "name"),)


class SecurityRole(Model):
    id = fields.UUIDField(primary_key=True)
    identity_store: fields.ForeignKeyRelation[IdentityStore] = fields.ForeignKeyField(
        "models.IdentityStore", related_name="roles", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    sms_enabled = fields.BooleanField(default=False)
    sms_enforced = fields.BooleanField(default=False)

    class Meta:
        table = "security_role"
        unique_together = (("identity_store", "name"),)


class StoreUser(Model):
    id = fields.UUIDField(primary_key=True)
    identity_store: fields.ForeignKeyRelation[IdentityStore] = fields.ForeignKeyField(
        "models.IdentityStore", related_name="users", on_delete=fields.CASCADE
    )
    user_id = fields.CharField(max_length=255)
    phone_number = fields.CharField(max_length=20, null=True)
    phone_verified_at = fields.DatetimeField(null=True)
    locale = fields.CharField(max_length=35, null=True)
    roles: fields.ManyToManyRelation[SecurityRole] = fields.ManyToManyField(
        "models.SecurityRole", related_name="users", through="store_user_role"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "store_user"
        unique_together = (("identity_store", "user_id"),)


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


class GatewayCircuit(Model):
    """A gateway's circuit breaker, shared by every worker: open after repeated failures."""

    gateway: fields.OneToOneRelation[SmsGateway] = fields.OneToOneField(
        "models.SmsGateway", related_name="circuit", on_delete=fields.CASCADE, primary_key=True
    )
    failures = fields.IntField(default=0)
    open_until = fields.DatetimeField(null=True)

    class Meta:
        table = "gateway_circuit"


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
    secret = fields.TextField()  # Fernet token of the HOTP secret
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
    created_at = fields.DatetimeField()

    class Meta:
        table = "audit_event"
