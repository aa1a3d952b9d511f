"""Identity stores: creation (linked to the default gateway), SMS authentication settings, test
phone numbers and a preview of the text they send."""

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import phonenumbers
from tortoise.transactions import in_transaction

from domain import localized_texts
from domain.errors import NotFound, ValidationFailed
from domain.messaging import sandbox_gateway
from domain.models import Challenge, ChallengeStatus, IdentityStore, SmsGateway, TestPhoneNumber
from domain.names import clean_name
from domain.phone import (
    is_calling_code,
    parse_phone,
    require_allowed_country,
    require_sms_capable,
)
from domain.rate_limits import clean_overrides
from domain.sms_text import CODE_PLACEHOLDER, Segmentation, compose, render_code, segment_count
from domain.unset import UNSET, is_set

LIMITS = {
    "code_length": (4, 10, "codeLength"),
    "code_ttl_seconds": (30, 86400, "codeTtlSeconds"),
    "max_attempts": (1, 20, "maxAttempts"),
    "resend_cooldown_seconds": (0, 3600, "resendCooldownSeconds"),
    "velocity_factor": (0, 1000, "velocityFactor"),
    "velocity_minimum": (1, 10_000_000, "velocityMinimum"),
}
MAX_TEXT_MESSAGE = 640
SAMPLE_CODE = "1234567890"  # a preview's code: its first code_length digits


@dataclass
class SmsAuthenticationFields:
    """Changes to a store's SMS authentication; UNSET keeps the current value."""

    gateway_id: Any = UNSET
    backup_gateway_id: Any = UNSET
    text_message: Any = UNSET
    #: ``[(locale, text), ...]``: replaces the store's variants per language.
    text_messages: Any = UNSET
    code_length: Any = UNSET
    code_ttl_seconds: Any = UNSET
    max_attempts: Any = UNSET
    resend_cooldown_seconds: Any = UNSET
    default_region: Any = UNSET
    enabled: Any = UNSET
    synchronous_sending: Any = UNSET
    allowed_calling_codes: Any = UNSET
    rate_limits: Any = UNSET
    velocity_factor: Any = UNSET
    velocity_minimum: Any = UNSET
    test_numbers_enabled: Any = UNSET
    sandbox: Any = UNSET


@dataclass(frozen=True)
class TextPreview:
    text: str  # exactly as sent: signature prefix, body, sample code
    locale: str | None  # the variant's or built-in text's tag; None for the default text
    segmentation: Segmentation


async def preview_text(
    tenant_id: uuid.UUID, store_id: uuid.UUID, locale: str | None, phone_number: str | None
) -> TextPreview:
    """The text the store would send for a locale and/or number (no user: no stored locale),
    through its primary gateway, with a sample code of its code length."""
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    tag = localized_texts.normalize_tag(locale) if locale else None
    number = parse_phone(phone_number, store.default_region).e164 if phone_number else None
    chosen = localized_texts.choose(
        store.text_message, store.text_messages, tag, phone_number=number
    )
    gateway = (
        await SmsGateway.get_or_none(id=store.sms_gateway_id) if store.sms_gateway_id else None
    )
    body = render_code(chosen.text, SAMPLE_CODE[: store.code_length])
    text = compose(body, gateway.signature if gateway else None)
    return TextPreview(text=text, locale=chosen.locale, segmentation=segment_count(text))


async def list_stores(tenant_id: uuid.UUID) -> list[IdentityStore]:
    return await IdentityStore.filter(tenant_id=tenant_id).order_by("name")


async def get_store(tenant_id: uuid.UUID, store_id: uuid.UUID, field: str = "id") -> IdentityStore:
    store = await IdentityStore.get_or_none(id=store_id, tenant_id=tenant_id)
    if store is None:
        raise NotFound("identity store", field=field)
    return store


async def create_store(tenant_id: uuid.UUID, name: Any) -> IdentityStore:
    """A new store, linked to the tenant's default gateway if there is one."""
    name = clean_name(name, "the identity store name")
    async with in_transaction():
        await _refuse_duplicate(tenant_id, name, None)
        default = await SmsGateway.get_or_none(tenant_id=tenant_id, is_default=True)
        return await IdentityStore.create(tenant_id=tenant_id, name=name, sms_gateway=default)


async def rename_store(tenant_id: uuid.UUID, store_id: uuid.UUID, name: Any) -> IdentityStore:
    store = await get_store(tenant_id, store_id)
    if is_set(name):
        store.name = clean_name(name, "the identity store name")
        await _refuse_duplicate(tenant_id, store.name, store.id)
        await store.save(update_fields=["name"])
    return store


async def delete_store(tenant_id: uuid.UUID, store_id: uuid.UUID) -> None:
    store = await get_store(tenant_id, store_id)
    await store.delete()


async def configure_sms(
    tenant_id: uuid.UUID, store_id: uuid.UUID, changes: SmsAuthenticationFields
) -> IdentityStore:
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    if is_set(changes.gateway_id):
        store.sms_gateway_id = await _gateway_id(tenant_id, changes.gateway_id, "gatewayId")
    if is_set(changes.backup_gateway_id):
        store.backup_sms_gateway_id = await _gateway_id(
            tenant_id, changes.backup_gateway_id, "backupGatewayId"
        )
    if store.backup_sms_gateway_id and store.backup_sms_gateway_id == store.sms_gateway_id:
        raise ValidationFailed(
            "the backup gateway must differ from the gateway", field="backupGatewayId"
        )
    if is_set(changes.text_message) and changes.text_message is not None:
        store.text_message = _text_message(changes.text_message)
    if is_set(changes.text_messages):
        store.text_messages = localized_texts.clean_variants(
            changes.text_messages or [], MAX_TEXT_MESSAGE
        )
    for attr, (low, high, public) in LIMITS.items():
        value = getattr(changes, attr)
        if is_set(value) and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationFailed(f"must be a whole number from {low} to {high}", field=public)
            setattr(store, attr, value)
    if is_set(changes.default_region):
        store.default_region = _region(changes.default_region)
    if is_set(changes.allowed_calling_codes):
        store.allowed_calling_codes = _calling_codes(changes.allowed_calling_codes)
    if is_set(changes.rate_limits):
        store.rate_limits = clean_overrides(changes.rate_limits or [])
    if is_set(changes.enabled) and changes.enabled is not None:
        store.sms_enabled = bool(changes.enabled)
    if is_set(changes.synchronous_sending) and changes.synchronous_sending is not None:
        store.synchronous_sending = bool(changes.synchronous_sending)
    if is_set(changes.test_numbers_enabled) and changes.test_numbers_enabled is not None:
        store.test_numbers_enabled = bool(changes.test_numbers_enabled)
        if not store.test_numbers_enabled:  # their pending codes stop working with them
            await _supersede_test_challenges(store.id)
    if is_set(changes.sandbox) and changes.sandbox is not None:
        store.sandbox = bool(changes.sandbox)
        if store.sandbox:
            await sandbox_gateway(tenant_id)  # created now, so admins see it at once
    if store.sms_enabled and not store.sms_gateway_id and not store.sandbox:
        raise ValidationFailed(
            "link an SMS gateway before enabling SMS authentication", field="gatewayId"
        )
    await store.save()
    return store


def _calling_codes(codes: Any) -> list[int]:
    """Known country calling codes, each once, in order; None or [] allows every country."""
    cleaned: list[int] = []
    for index, code in enumerate(codes or []):
        if not is_calling_code(code):
            raise ValidationFailed(
                f"{code!r} is not a country calling code (e.g. 44, 1, 49)",
                field=f"allowedCallingCodes.{index}",
            )
        if code not in cleaned:
            cleaned.append(code)
    return cleaned


def _text_message(text: Any) -> str:
    if not isinstance(text, str) or CODE_PLACEHOLDER not in text:
        raise ValidationFailed(
            f"the text message must contain {CODE_PLACEHOLDER}", field="textMessage"
        )
    if len(text) > MAX_TEXT_MESSAGE:
        raise ValidationFailed(f"longer than {MAX_TEXT_MESSAGE} characters", field="textMessage")
    return text


def _region(region: Any) -> str | None:
    if region is None or region == "":
        return None
    code = region.strip().upper() if isinstance(region, str) else ""
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed(
            "must be a two-letter region code such as GB or US", field="defaultRegion"
        )
    return code


async def _gateway_id(tenant_id: uuid.UUID, gateway_id: uuid.UUID | None, field: str) -> Any:
    if gateway_id is None:
        return None
    if not await SmsGateway.filter(id=gateway_id, tenant_id=tenant_id).exists():
        raise NotFound("SMS gateway", field=field)
    return gateway_id


async def _refuse_duplicate(tenant_id: uuid.UUID, name: str, store_id: uuid.UUID | None) -> None:
    clash = IdentityStore.filter(tenant_id=tenant_id, name=name)
    if store_id is not None:
        clash = clash.exclude(id=store_id)
    if await clash.exists():
        raise ValidationFailed(f"an identity store named {name!r} exists already", field="name")


def code_hash(store_id: uuid.UUID, code: str) -> str:
    """How a test number's fixed code is kept: only ever compared, never shown."""
    return hashlib.sha256(f"{store_id}:{code}".encode()).hexdigest()


async def list_test_numbers(store_id: uuid.UUID) -> list[TestPhoneNumber]:
    return await TestPhoneNumber.filter(identity_store_id=store_id).order_by("phone_number")


async def add_test_number(
    tenant_id: uuid.UUID, store_id: uuid.UUID, phone_number: Any, code: Any
) -> TestPhoneNumber:
    """Map a number (parsed with the store's default region) to a fixed code of the store's
    code length; adding a number again replaces its code."""
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    phone = require_sms_capable(parse_phone(phone_number or "", store.default_region))
    number = require_allowed_country(phone, store.allowed_calling_codes).e164
    if not (isinstance(code, str) and code.isascii() and code.isdigit()) or (
        len(code) != store.code_length
    ):
        raise ValidationFailed(
            f"must be {store.code_length} digits (the store's code length)", field="input.code"
        )
    async with in_transaction():
        row = await TestPhoneNumber.get_or_none(identity_store_id=store.id, phone_number=number)
        if row is None:
            row = await TestPhoneNumber.create(
                identity_store_id=store.id, phone_number=number, code_hash=code_hash(store.id, code)
            )
            await _count_test_numbers(store.id)
        else:
            row.code_hash = code_hash(store.id, code)
            await row.save(update_fields=["code_hash"])
            await _supersede_test_challenges(store.id, number)
    return row


async def remove_test_number(
    tenant_id: uuid.UUID, store_id: uuid.UUID, phone_number: Any
) -> TestPhoneNumber:
    """The number becomes a normal number again; its pending test challenges stop working."""
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    number = parse_phone(phone_number or "", store.default_region).e164
    async with in_transaction():
        row = await TestPhoneNumber.get_or_none(identity_store_id=store.id, phone_number=number)
        if row is None:
            raise NotFound("test phone number", field="phoneNumber")
        await row.delete()
        await _count_test_numbers(store.id)
        await _supersede_test_challenges(store.id, number)
    return row


async def _count_test_numbers(store_id: uuid.UUID) -> None:
    count = await TestPhoneNumber.filter(identity_store_id=store_id).count()
    await IdentityStore.filter(id=store_id).update(test_number_count=count)


async def _supersede_test_challenges(store_id: uuid.UUID, number: str | None = None) -> None:
    pending = Challenge.filter(
        identity_store_id=store_id, test=True, status=ChallengeStatus.PENDING
    )
    if number is not None:
        pending = pending.filter(phone_number=number)
    await pending.update(status=ChallengeStatus.SUPERSEDED)
