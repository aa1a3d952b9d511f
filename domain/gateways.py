"""SMS gateway accounts: validation against the type's declaration, secrets, default, deletion."""

import uuid
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from domain.errors import GatewayInUse, NotFound, ValidationFailed
from domain.gateway_rules import check_destinations, config_of, validate_draft
from domain.models import IdentityStore, SmsGateway
from domain.secret_box import SecretBox
from domain.unset import UNSET, is_set
from providers.base import GatewayConfig, GatewayType
from providers.destinations import DestinationPolicy
from providers.registry import get_provider

#: Nullable text fields: an explicit null clears them.
CLEARABLE = {"url", "account_id", "username", "sender_id", "signature", "description"}


@dataclass
class ProxyFields:
    host: Any = UNSET
    port: Any = UNSET
    domain: Any = UNSET
    username: Any = UNSET
    password: Any = UNSET
    description: Any = UNSET


@dataclass
class GatewayFields:
    """Changes to a gateway; UNSET keeps the current value, a missing secret keeps the old one."""

    name: Any = UNSET
    type: Any = UNSET
    url: Any = UNSET
    account_id: Any = UNSET
    username: Any = UNSET
    password: Any = UNSET
    sender_id: Any = UNSET
    signature: Any = UNSET
    description: Any = UNSET
    enabled: Any = UNSET
    is_default: Any = UNSET
    check_ssl: Any = UNSET
    timeout_seconds: Any = UNSET
    parameters: Any = UNSET
    extension_parameters: Any = UNSET
    proxy: Any = UNSET


@dataclass
class Draft:
    """A gateway's whole state in the clear, as validated before it is written."""

    name: str | None = None
    type: str | None = None
    url: str | None = None
    account_id: str | None = None
    username: str | None = None
    password: str | None = None
    sender_id: str | None = None
    signature: str | None = None
    description: str | None = None
    enabled: bool = True
    is_default: bool = False
    check_ssl: bool = True
    timeout_seconds: float = 10.0
    parameters: dict[str, Any] = field(default_factory=dict)
    extension_parameters: dict[str, str] = field(default_factory=dict)
    proxy: dict[str, Any] | None = None


def gateway_type(key: str) -> GatewayType:
    provider = get_provider(key)
    if provider is None:
        raise ValidationFailed(f"unknown gateway type {key!r}", field="type")
    return provider.type


async def list_gateways(tenant_id: uuid.UUID) -> list[SmsGateway]:
    return await SmsGateway.filter(tenant_id=tenant_id).order_by("name")


async def get_gateway(tenant_id: uuid.UUID, gateway_id: uuid.UUID) -> SmsGateway:
    gateway = await SmsGateway.get_or_none(id=gateway_id, tenant_id=tenant_id)
    if gateway is None:
        raise NotFound("SMS gateway", field="id")
    return gateway


async def create_gateway(
    tenant_id: uuid.UUID,
    changes: GatewayFields,
    box: SecretBox,
    destinations: DestinationPolicy | None = None,
) -> SmsGateway:
    """Validate and store a new gateway; ``destinations`` is the process's SSRF policy (the
    runtime transport's), the embedded default when not given."""
    if not is_set(changes.type) or not changes.type:
        raise ValidationFailed("choose a gateway type", field="type")
    draft = await _validated(tenant_id, None, _apply(Draft(), changes), destinations, None)
    async with in_transaction():
        if draft.is_default:
            await SmsGateway.filter(tenant_id=tenant_id, is_default=True).update(is_default=False)
        gateway = SmsGateway(tenant_id=tenant_id)
        _write(gateway, draft, box)
        await gateway.save()
    return gateway


async def update_gateway(
    tenant_id: uuid.UUID,
    gateway_id: uuid.UUID,
    changes: GatewayFields,
    box: SecretBox,
    destinations: DestinationPolicy | None = None,
) -> SmsGateway:
    gateway = await get_gateway(tenant_id, gateway_id)
    stored = draft_of(gateway, box)
    draft = await _validated(tenant_id, gateway.id, _apply(stored, changes), destinations, stored)
    async with in_transaction():
        if draft.is_default and not gateway.is_default:
            await SmsGateway.filter(tenant_id=tenant_id, is_default=True).update(is_default=False)
        _write(gateway, draft, box)
        await gateway.save()
    return gateway


async def set_default_gateway(tenant_id: uuid.UUID, gateway_id: uuid.UUID) -> SmsGateway:
    gateway = await get_gateway(tenant_id, gateway_id)
    async with in_transaction():
        await SmsGateway.filter(tenant_id=tenant_id, is_default=True).update(is_default=False)
        gateway.is_default = True
        await gateway.save(update_fields=["is_default", "updated_at"])
    return gateway


async def delete_gateway(tenant_id: uuid.UUID, gateway_id: uuid.UUID) -> None:
    gateway = await get_gateway(tenant_id, gateway_id)
    async with in_transaction():
        stores = await linked_stores(gateway.id)
        if stores:
            raise GatewayInUse(stores)
        await gateway.delete()


async def linked_stores(gateway_id: uuid.UUID) -> list[IdentityStore]:
    """Identity stores that use the gateway, as primary or as backup."""
    return await IdentityStore.filter(
        Q(sms_gateway_id=gateway_id) | Q(backup_sms_gateway_id=gateway_id)
    ).order_by("name")


def public_parameters(gateway: SmsGateway) -> dict[str, Any]:
    return dict(gateway.parameters or {})


def draft_of(gateway: SmsGateway, box: SecretBox) -> Draft:
    secrets = box.decrypt(gateway.secrets) if gateway.secrets else {}
    proxy = dict(gateway.proxy) if gateway.proxy else None
    if proxy is not None:
        proxy["password"] = secrets.get("proxy_password")
    return Draft(
        name=gateway.name,
        type=gateway.type,
        url=gateway.url,
        account_id=gateway.account_id,
        username=gateway.username,
        password=secrets.get("password"),
        sender_id=gateway.sender_id,
        signature=gateway.signature,
        description=gateway.description,
        enabled=gateway.enabled,
        is_default=gateway.is_default,
        check_ssl=gateway.check_ssl,
        timeout_seconds=gateway.timeout_seconds,
        parameters={**(gateway.parameters or {}), **secrets.get("parameters", {})},
        extension_parameters=dict(gateway.extension_parameters or {}),
        proxy=proxy,
    )


def provider_config(gateway: SmsGateway, box: SecretBox) -> GatewayConfig:
    """The gateway as its provider sees it, secrets decrypted and parameter defaults filled in."""
    return config_of(gateway_type(gateway.type), draft_of(gateway, box))


def _apply(draft: Draft, changes: GatewayFields) -> Draft:
    updates: dict[str, Any] = {}
    for f in fields(GatewayFields):
        value = getattr(changes, f.name)
        if not is_set(value):
            continue
        if f.name == "password":
            if value is not None:  # null or missing keeps the stored secret; "" clears it
                updates["password"] = value or None
        elif f.name == "proxy":
            updates["proxy"] = _apply_proxy(draft.proxy, value)
        elif f.name == "parameters":
            updates["parameters"] = _apply_parameters(draft, value, changes)
        elif f.name in ("name", "type") or value is not None:
            updates[f.name] = value
        elif f.name in CLEARABLE:
            updates[f.name] = None
    if is_set(changes.type) and changes.type != draft.type and not is_set(changes.parameters):
        updates["parameters"] = {}
    return replace(draft, **updates)


def _apply_proxy(
    current: dict[str, Any] | None, value: ProxyFields | None
) -> dict[str, Any] | None:
    if value is None:
        return None
    proxy = dict(current or {})
    for f in fields(ProxyFields):
        item = getattr(value, f.name)
        if f.name == "password":
            if is_set(item) and item is not None:
                proxy["password"] = item or None
        elif is_set(item):
            proxy[f.name] = item
    return proxy


def _apply_parameters(draft: Draft, value: Any, changes: GatewayFields) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ValidationFailed(
            "parameters must be an object of names to values", field="parameters"
        )
    type_key = changes.type if is_set(changes.type) else draft.type
    declared = gateway_type(type_key) if type_key else None
    result = dict(value)
    if declared and type_key == draft.type:  # keep secrets the caller did not send again
        for p in declared.parameters:
            if p.secret and result.get(p.name) is None and p.name in draft.parameters:
                result[p.name] = draft.parameters[p.name]
    return {k: v for k, v in result.items() if v is not None}


async def _validated(
    tenant_id: uuid.UUID,
    gateway_id: uuid.UUID | None,
    draft: Draft,
    destinations: DestinationPolicy | None,
    stored: Draft | None,
) -> Draft:
    draft = validate_draft(draft)
    # Hosts the gateway had already are not judged again: disabling or renaming a gateway whose
    # host the policy refuses now must work (sending to it is refused anyway).
    await check_destinations(draft, destinations or DestinationPolicy(), stored)
    clash = SmsGateway.filter(tenant_id=tenant_id, name=draft.name)
    if gateway_id is not None:
        clash = clash.exclude(id=gateway_id)
    if await clash.exists():
        raise ValidationFailed(f"a gateway named {draft.name!r} exists already", field="name")
    return draft


def _write(gateway: SmsGateway, draft: Draft, box: SecretBox) -> None:
    declared = gateway_type(draft.type or "")
    secret_params = {p.name for p in declared.parameters if p.secret}
    secrets: dict[str, Any] = {
        "password": draft.password,
        "proxy_password": (draft.proxy or {}).get("password"),
        "parameters": {k: v for k, v in draft.parameters.items() if k in secret_params},
    }
    names = [n for n in ("password",) if draft.password]
    names += ["proxy.password"] if secrets["proxy_password"] else []
    names += [f"parameters.{k}" for k in sorted(secrets["parameters"])]
    for name in (
        "name",
        "type",
        "url",
        "account_id",
        "username",
        "sender_id",
        "signature",
        "description",
        "enabled",
        "is_default",
        "check_ssl",
        "timeout_seconds",
        "extension_parameters",
    ):
        setattr(gateway, name, getattr(draft, name))
    gateway.parameters = {k: v for k, v in draft.parameters.items() if k not in secret_params}
    gateway.proxy = (
        {k: v for k, v in draft.proxy.items() if k != "password"} if draft.proxy else None
    )
    gateway.secret_names = names
    gateway.secrets = box.encrypt(secrets) if names else None
