"""Mutations on identity stores and their SMS authentication settings."""

from typing import Any

import strawberry
from strawberry.types import Info

from api.context import ctx
from api.errors import InvalidPhoneNumberError, as_result, result_union
from api.ids import decode_uuid, encode
from api.mutations.inputs import to_fields
from api.types.common import Deleted, RateLimitAction, RateLimitScope
from api.types.stores import IdentityStore, TestPhoneNumber
from domain import identity_stores
from domain.identity_stores import SmsAuthenticationFields
from domain.models import Scope

CreateIdentityStoreResult = result_union("CreateIdentityStoreResult", IdentityStore)
UpdateIdentityStoreResult = result_union("UpdateIdentityStoreResult", IdentityStore)
DeleteIdentityStoreResult = result_union("DeleteIdentityStoreResult", Deleted)
ConfigureSmsAuthenticationResult = result_union("ConfigureSmsAuthenticationResult", IdentityStore)
AddTestPhoneNumberResult = result_union(
    "AddTestPhoneNumberResult", TestPhoneNumber, InvalidPhoneNumberError
)
RemoveTestPhoneNumberResult = result_union(
    "RemoveTestPhoneNumberResult", Deleted, InvalidPhoneNumberError
)


@strawberry.input
class IdentityStoreInput:
    name: str | None = strawberry.UNSET


@strawberry.input(description="At most `maximum` requests per `windowSeconds` (from the first).")
class RateLimitInput:
    action: RateLimitAction
    scope: RateLimitScope
    window_seconds: int
    maximum: int


@strawberry.input(description="The SMS text for one language.")
class LocalizedTextInput:
    locale: str = strawberry.field(description="A BCP 47 tag: en, de-CH, zh-Hant, ...")
    text: str = strawberry.field(description="Must contain [Code].")


@strawberry.input(description="Omitted fields keep their value; a null gateway unlinks it.")
class SmsAuthenticationInput:
    gateway_id: strawberry.ID | None = strawberry.UNSET
    backup_gateway_id: strawberry.ID | None = strawberry.UNSET
    text_message: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The default text; must contain [Code]. While it is the built-in English "
        "text, built-in texts in other languages are used too.",
    )
    text_messages: list[LocalizedTextInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the store's texts per language; each must contain [Code].",
    )
    code_length: int | None = strawberry.field(default=strawberry.UNSET, description="4 to 10.")
    code_ttl_seconds: int | None = strawberry.UNSET
    max_attempts: int | None = strawberry.UNSET
    resend_cooldown_seconds: int | None = strawberry.UNSET
    default_region: str | None = strawberry.field(
        default=strawberry.UNSET, description="Region for numbers given without a country code."
    )
    enabled: bool | None = strawberry.UNSET
    synchronous_sending: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Send codes inside the request (its answer carries gateway failures) "
        "instead of through the outbox, which answers at once with the message QUEUED.",
    )
    allowed_calling_codes: list[int] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Country calling codes codes may be sent to (44, 1, ...); [] allows all.",
    )
    rate_limits: list[RateLimitInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the store's overrides; limits not given keep their defaults.",
    )
    velocity_factor: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Hold a country when this hour's sends exceed this many times the last "
        "day's hourly average (0 turns the guard off).",
    )
    velocity_minimum: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Sends per hour to one country that never trigger the velocity guard.",
    )
    test_numbers_enabled: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether the store's test phone numbers take their fixed code (default "
        "off); off, they are normal numbers and their pending codes stop working.",
    )
    sandbox: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Send every message to the tenant's built-in test gateway (created on "
        "demand) instead of the linked one; SMS may then be enabled with no gateway linked.",
    )


@strawberry.input(description="A test phone number and its fixed code.")
class TestPhoneNumberInput:
    __test__ = False  # not a pytest test class

    phone_number: str = strawberry.field(
        description="Parsed with the store's default region; must be a valid mobile number."
    )
    code: str = strawberry.field(description="Digits, as many as the store's code length.")


def _overrides(limits: list[RateLimitInput] | None) -> Any:
    if limits is strawberry.UNSET or limits is None:
        return limits
    return [
        {
            "action": limit.action.value,
            "scope": limit.scope.value,
            "windowSeconds": limit.window_seconds,
            "maximum": limit.maximum,
        }
        for limit in limits
    ]


def _variants(texts: list[LocalizedTextInput] | None) -> Any:
    if texts is strawberry.UNSET or texts is None:
        return texts
    return [(text.locale, text.text) for text in texts]


def store_pk(id: strawberry.ID, field: str = "id"):
    return decode_uuid(id, "IdentityStore", "identity store", field)


def _gateway(value, field: str):
    if value is strawberry.UNSET or value is None:
        return value
    return decode_uuid(value, "SmsGateway", "SMS gateway", field)


@strawberry.type
class IdentityStoreMutations:
    @strawberry.mutation(description="A new store; linked to the default gateway if one is set.")
    async def create_identity_store(
        self, info: Info, input: IdentityStoreInput
    ) -> CreateIdentityStoreResult:
        async def run() -> IdentityStore:
            principal = ctx(info).require(Scope.ADMIN)
            row = await identity_stores.create_store(principal.tenant_id, input.name or "")
            return IdentityStore.from_model(row)

        return await as_result(run)

    @strawberry.mutation
    async def update_identity_store(
        self, info: Info, id: strawberry.ID, input: IdentityStoreInput
    ) -> UpdateIdentityStoreResult:
        async def run() -> IdentityStore:
            principal = ctx(info).require(Scope.ADMIN)
            row = await identity_stores.rename_store(principal.tenant_id, store_pk(id), input.name)
            return IdentityStore.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="Deletes the store with its roles and users.")
    async def delete_identity_store(
        self, info: Info, id: strawberry.ID
    ) -> DeleteIdentityStoreResult:
        async def run() -> Deleted:
            principal = ctx(info).require(Scope.ADMIN)
            await identity_stores.delete_store(principal.tenant_id, store_pk(id))
            return Deleted(id=id)

        return await as_result(run)

    @strawberry.mutation(description="Link a gateway and set the text, code and limits.")
    async def configure_sms_authentication(
        self, info: Info, identity_store_id: strawberry.ID, input: SmsAuthenticationInput
    ) -> ConfigureSmsAuthenticationResult:
        async def run() -> IdentityStore:
            principal = ctx(info).require(Scope.ADMIN)
            changes = to_fields(
                input,
                SmsAuthenticationFields,
                gateway_id=_gateway(input.gateway_id, "gatewayId"),
                backup_gateway_id=_gateway(input.backup_gateway_id, "backupGatewayId"),
                rate_limits=_overrides(input.rate_limits),
                text_messages=_variants(input.text_messages),
            )
            row = await identity_stores.configure_sms(
                principal.tenant_id, store_pk(identity_store_id, "identityStoreId"), changes
            )
            return IdentityStore.from_model(row)

        return await as_result(run)

    @strawberry.mutation(
        description="Map a number to a fixed code: its flows send nothing and count against no "
        "limit while the store's testNumbersEnabled is on. Adding it again replaces the code."
    )
    async def add_test_phone_number(
        self, info: Info, identity_store_id: strawberry.ID, input: TestPhoneNumberInput
    ) -> AddTestPhoneNumberResult:
        async def run() -> TestPhoneNumber:
            principal = ctx(info).require(Scope.ADMIN)
            row = await identity_stores.add_test_number(
                principal.tenant_id,
                store_pk(identity_store_id, "identityStoreId"),
                input.phone_number,
                input.code,
            )
            return TestPhoneNumber.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="The number becomes a normal number again.")
    async def remove_test_phone_number(
        self, info: Info, identity_store_id: strawberry.ID, phone_number: str
    ) -> RemoveTestPhoneNumberResult:
        async def run() -> Deleted:
            principal = ctx(info).require(Scope.ADMIN)
            row = await identity_stores.remove_test_number(
                principal.tenant_id, store_pk(identity_store_id, "identityStoreId"), phone_number
            )
            return Deleted(id=strawberry.ID(encode("TestPhoneNumber", row.id)))

        return await as_result(run)
