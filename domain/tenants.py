"""Tenants and their API keys: creation and revocation (authentication is in ``domain.auth``)."""

import uuid
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from domain import auth, clock
from domain.auth import KEY_PREFIX, format_token, new_secret
from domain.errors import NotFound, ValidationFailed
from domain.models import ApiKey, Scope, Tenant
from domain.names import clean_name

#: How far ahead an API key's expiry may be set.
MAX_KEY_LIFETIME = timedelta(days=2 * 365)


async def create_tenant(name: str) -> tuple[Tenant, ApiKey, str]:
    """A new tenant and its first ADMIN key; the plain key is returned once and never stored."""
    tenant_name = clean_name(name, "the tenant name")
    async with in_transaction():
        tenant = await Tenant.create(name=tenant_name)
        key, plain = await create_api_key(tenant.id, Scope.ADMIN, "initial admin key")
    return tenant, key, plain


async def create_api_key(
    tenant_id: uuid.UUID, scope: Scope, name: str | None, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key, valid until ``expires_at`` (never expires without one)."""
    name = clean_name(name, "the key name", required=False)
    check_expiry(expires_at)
    secret, secret_hash = new_secret()
    key = await ApiKey.create(
        tenant_id=tenant_id,
        scope=scope,
        name=name,
        secret_hash=secret_hash,
        expires_at=expires_at,
    )
    return key, format_token(KEY_PREFIX, key.id, secret)


def check_expiry(expires_at: datetime | None) -> None:
    if expires_at is None:
        return
    if expires_at.tzinfo is None:
        raise ValidationFailed("give a time zone offset, e.g. Z for UTC", field="expiresAt")
    now = clock.now()
    if expires_at <= now:
        raise ValidationFailed("must be in the future", field="expiresAt")
    if expires_at > now + MAX_KEY_LIFETIME:
        raise ValidationFailed("must be at most 2 years ahead", field="expiresAt")


async def revoke_api_key(tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    updated = await ApiKey.filter(id=key_id, tenant_id=tenant_id, revoked_at=None).update(
        revoked_at=clock.now()
    )
    auth.forget_api_key(key_id)
    if not updated:
        raise NotFound("API key", field="id")
