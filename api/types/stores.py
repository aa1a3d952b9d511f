"""GraphQL types of identity stores, their SMS settings, security roles and users."""

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from api.ids import encode
from api.types.common import RateLimitAction, RateLimitScope, SmsRequirement
from api.types.node import TenantNode
from domain import models
from domain.identity_stores import list_test_numbers
from domain.phone import mask
from domain.rate_limits import effective_limits


@strawberry.type
class GatewayRef:
    id: strawberry.ID
    name: str


@strawberry.type(description="At most `maximum` requests per `windowSeconds` (from the first).")
class RateLimit:
    action: RateLimitAction
    scope: RateLimitScope
    window_seconds: int
    maximum: int
    is_default: bool = strawberry.field(description="Not overridden by the store.")


@strawberry.type(description="The SMS text for one language (a BCP 47 tag).")
class LocalizedText:
    locale: str
    text: str


@strawberry.type(description="How SMS codes are sent and checked for one identity store.")
class SmsAuthentication:
    enabled: bool
    text_message: str = strawberry.field(
        description="The default text, sent when no variant or built-in text fits the language."
    )
    text_messages: list[LocalizedText] = strawberry.field(
        description="The store's own texts per language, by tag."
    )
    code_length: int
    code_ttl_seconds: int
    max_attempts: int
    resend_cooldown_seconds: int
    default_region: str | None
    synchronous_sending: bool
    allowed_calling_codes: list[int] = strawberry.field(
        description="Country calling codes codes may be sent to; empty allows every country."
    )
    rate_limits: list[RateLimit] = strawberry.field(
        description="Every limit in force: the defaults and the store's overrides."
    )
    velocity_factor: int
    velocity_minimum: int
    test_numbers_enabled: bool = strawberry.field(
        description="The store's test phone numbers take their fixed code and send nothing; "
        "off, they are normal numbers."
    )
    sandbox: bool = strawberry.field(
        description="Every message goes to the tenant's built-in test gateway 'Sandbox (built "
        "in)', in the request, whatever gateway is linked; read them with smsMessages."
    )


@strawberry.type(
    description="A number whose flows send nothing, count against no limit and take a fixed "
    "code (set by an admin, never shown again)."
)
class TestPhoneNumber:
    __test__ = False  # not a pytest test class

    id: strawberry.ID
    phone_number: str = strawberry.field(description="E.164, in full (it is a test number).")
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.TestPhoneNumber) -> "TestPhoneNumber":
        return cls(
            id=strawberry.ID(encode("TestPhoneNumber", row.id)),
            phone_number=row.phone_number,
            created_at=row.created_at,
        )


@strawberry.type(description="A security role and its SMS authentication policy.")
class SecurityRole(TenantNode):
    model = models.SecurityRole
    tenant_field = "identity_store__tenant_id"

    pk: relay.NodeID[str]
    name: str
    sms_enabled: bool = strawberry.field(description="Role members may choose SMS.")
    sms_enforced: bool = strawberry.field(description="Role members must use SMS for MFA.")

    @classmethod
    def from_model(cls, row: models.SecurityRole) -> "SecurityRole":
        return cls(
            pk=str(row.id),
            name=row.name,
            sms_enabled=row.sms_enabled,
            sms_enforced=row.sms_enforced,
        )


@strawberry.type(description="An identity store: users, roles and the SMS gateway they use.")
class IdentityStore(TenantNode):
    model = models.IdentityStore

    pk: relay.NodeID[str]
    name: str
    sms_authentication: SmsAuthentication
    gateway_id: strawberry.Private[Any]
    backup_gateway_id: strawberry.Private[Any]

    @strawberry.field
    async def sms_gateway(self) -> GatewayRef | None:
        return await _gateway_ref(self.gateway_id)

    @strawberry.field(description="Used when the gateway fails.")
    async def backup_sms_gateway(self) -> GatewayRef | None:
        return await _gateway_ref(self.backup_gateway_id)

    @strawberry.field
    async def roles(self) -> list[SecurityRole]:
        rows = await models.SecurityRole.filter(identity_store_id=self.pk).order_by("name")
        return [SecurityRole.from_model(r) for r in rows]

    @strawberry.field(description="Its test phone numbers, by number.")
    async def test_phone_numbers(self) -> list[TestPhoneNumber]:
        rows = await list_test_numbers(self.pk)
        return [TestPhoneNumber.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: models.IdentityStore) -> "IdentityStore":
        return cls(
            pk=str(row.id),
            name=row.name,
            gateway_id=row.sms_gateway_id,
            backup_gateway_id=row.backup_sms_gateway_id,
            sms_authentication=SmsAuthentication(
                enabled=row.sms_enabled,
                text_message=row.text_message,
                text_messages=[
                    LocalizedText(locale=tag, text=text)
                    for tag, text in sorted((row.text_messages or {}).items())
                ],
                code_length=row.code_length,
                code_ttl_seconds=row.code_ttl_seconds,
                max_attempts=row.max_attempts,
                resend_cooldown_seconds=row.resend_cooldown_seconds,
                default_region=row.default_region,
                synchronous_sending=row.synchronous_sending,
                allowed_calling_codes=list(row.allowed_calling_codes or []),
                rate_limits=[
                    RateLimit(
                        action=RateLimitAction(limit.action),
                        scope=RateLimitScope(limit.scope),
                        window_seconds=limit.window_seconds,
                        maximum=limit.maximum,
                        is_default=limit.is_default,
                    )
                    for limit in effective_limits(row.rate_limits)
                ],
                velocity_factor=row.velocity_factor,
                velocity_minimum=row.velocity_minimum,
                test_numbers_enabled=row.test_numbers_enabled,
                sandbox=row.sandbox,
            ),
        )


@strawberry.type(description="The text a store would send, as the phone receives it.")
class SmsTextPreview:
    text: str = strawberry.field(
        description="The exact text: the gateway's signature prefix and the body, with a sample "
        "code of the store's code length (123456 for six digits)."
    )
    locale: str | None = strawberry.field(
        description="The tag of the variant or built-in text chosen; null for the store's "
        "default text."
    )
    encoding: str = strawberry.field(description="GSM-7 or UCS-2.")
    characters: int = strawberry.field(
        description="Septets (GSM-7, extension characters count two) or UTF-16 code units."
    )
    segments: int = strawberry.field(description="SMS parts the text takes.")


@strawberry.type(description="A user of an identity store, as smsauth knows it.")
class IdentityStoreUser(TenantNode):
    model = models.StoreUser
    tenant_field = "identity_store__tenant_id"

    pk: relay.NodeID[str]
    user_id: str
    masked_phone_number: str | None
    phone_verified: bool
    phone_verified_at: datetime | None
    locale: str | None
    row: strawberry.Private[models.StoreUser]

    @strawberry.field
    async def roles(self) -> list[SecurityRole]:
        rows = await self.row.roles.all().order_by("name")
        return [SecurityRole.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: models.StoreUser) -> "IdentityStoreUser":
        return cls(
            pk=str(row.id),
            user_id=row.user_id,
            masked_phone_number=mask(row.phone_number) if row.phone_number else None,
            phone_verified=row.phone_verified_at is not None,
            phone_verified_at=row.phone_verified_at,
            locale=row.locale,
            row=row,
        )


@strawberry.type(description="What SMS authentication means for one user of a store.")
class AuthenticationRequirements:
    sms: SmsRequirement
    enrolled: bool = strawberry.field(description="The user has a verified phone number.")
    enrollment_required: bool = strawberry.field(
        description="SMS is required and the user has no verified phone number yet."
    )


async def _gateway_ref(gateway_id: Any) -> GatewayRef | None:
    if gateway_id is None:
        return None
    row = await models.SmsGateway.get_or_none(id=gateway_id)
    if row is None:
        return None
    return GatewayRef(id=strawberry.ID(encode("SmsGateway", row.id)), name=row.name)
