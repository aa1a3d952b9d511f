"""Tenants and their API keys: creation and revocation (authentication is in ``domain.auth``)."""

import uuid

from tortoise.transactions import in_transaction

from domain import clock
from domain.auth import KEY_PREFIX, format_token, new_secret
from domain.errors import NotFound
from domain.models import ApiKey, Scope, Tenant
from domain.names import clean_name


async def create_tenant(name: str) -> tuple[Tenant, ApiKey, str]:
    """A new tenant and its first ADMIN key; the plain key is returned once and never stored."""
    tenant_name = clean_name(name, "the tenant name")
    async with in_transaction():
        tenant = await Tenant.create(name=tenant_name)
        key, plain = await create_api_key(tenant.id, Scope.ADMIN, "initial admin key")
    return tenant, key, plain


async def create_api_key(
    tenant_id: uuid.UUID, scope: Scope, name: str | None
) -> tuple[ApiKey, str]:
    secret, secret_hash = new_secret()
    key = await ApiKey.create(
        tenant_id=tenant_id,
        scope=scope,
        name=clean_name(name, "the key name", required=False),
        secret_hash=secret_hash,
    )
    return key, format_token(KEY_PREFIX, key.id, secret)


async def revoke_api_key(tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    updated = await ApiKey.filter(id=key_id, tenant_id=tenant_id, revoked_at=None).update(
        revoked_at=clock.now()
    )
    if not updated:
        raise NotFound("API key", field="id")
