"""Identity stores, their security roles and users."""

from tortoise import fields
from tortoise.models import Model

from domain.models.gateways import SmsGateway
from domain.models.tenants import Tenant
from domain.sms_text import DEFAULT_TEXT_MESSAGE


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
    text_message = fields.CharField(max_length=1000, default=DEFAULT_TEXT_MESSAGE)
    # Variants of the text per language: {BCP 47 tag: text with [Code]} (domain.localized_texts).
    text_messages = fields.JSONField(default=dict, db_default="{}")
    code_length = fields.SmallIntField(default=6)
    code_ttl_seconds = fields.IntField(default=300)
    max_attempts = fields.SmallIntField(default=3)
    resend_cooldown_seconds = fields.IntField(default=30)
    default_region = fields.CharField(max_length=2, null=True)
    # Send inside the request instead of through the outbox (the answer carries the outcome).
    synchronous_sending = fields.BooleanField(default=False)
    # Calling codes (44, 1, ...) codes may be sent to; empty allows every country.
    allowed_calling_codes = fields.JSONField(default=list, db_default="[]")
    # Overrides of the default rate limits: [{"action", "scope", "windowSeconds", "max"}, ...].
    rate_limits = fields.JSONField(default=list, db_default="[]")
    # Hold a country when a tenant's sends there this hour exceed this many times the hourly
    # average of the last day (0 turns the guard off) and at least velocity_minimum.
    velocity_factor = fields.SmallIntField(default=10, db_default=10)
    velocity_minimum = fields.IntField(default=100, db_default=100)
    # Test phone numbers (TestPhoneNumber) answer their fixed code, send nothing and skip every
    # limit only while this is on; off by default, so a production store never has a bypass
    # an admin did not switch on. ``test_number_count`` lets a start skip the lookup when 0.
    test_numbers_enabled = fields.BooleanField(default=False, db_default=False)
    test_number_count = fields.IntField(default=0, db_default=0)
    # Every message goes to the tenant's built-in test gateway (``messaging.sandbox_gateway``),
    # in the request, whatever gateway is linked: for building apps against a real server.
    sandbox = fields.BooleanField(default=False, db_default=False)
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


class TestPhoneNumber(Model):
    """A number of a store whose flows send nothing and take a fixed code (for CI, app review).

    The code is kept as a SHA-256 hash (``domain.identity_stores.code_hash``): it is only ever
    compared, never read back, and a hash needs no re-encryption when the at-rest key rotates."""

    __test__ = False  # not a pytest test class

    id = fields.UUIDField(primary_key=True)
    identity_store: fields.ForeignKeyRelation[IdentityStore] = fields.ForeignKeyField(
        "models.IdentityStore", related_name="test_numbers", on_delete=fields.CASCADE
    )
    phone_number = fields.CharField(max_length=20)  # E.164
    code_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "test_phone_number"
        unique_together = (("identity_store", "phone_number"),)
