"""Tenants and their API keys: creation, authentication of bearer tokens, revocation.

A key reads ``sa_<key id hex>_<secret>``; only a SHA-256 of the secret is stored (the secret is
256 random bits, so a fast hash is enough) and it is compared in constant time.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain import clock
from domain.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from domain.models import ApiKey, Scope, Tenant

KEY_PREFIX = "sa"
#: ADMIN keys may also run user flows.
SCOPES_OF = {
    Scope.ADMIN: frozenset({Scope.ADMIN, Scope.SERVICE}),
    Scope.SERVICE: frozenset({Scope.SERVICE}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant and the scopes of the key used."""

    tenant_id: uuid.UUID
    scopes: frozenset[Scope]
    key_id: uuid.UUID | None = None

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this operation needs an {scope.value} key")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_name(name: str | None, what: str, *, required: bool) -> str | None:
    cleaned = (name or "").strip()
    if not cleaned:
        if required:
            raise ValidationFailed(f"{what} must not be empty", field="name")
        return None
    if len(cleaned) > 200:
        raise ValidationFailed(f"{what} is longer than 200 characters", field="name")
    return cleaned


async def create_tenant(name: str) -> tuple[Tenant, ApiKey, str]:
    """A new tenant and its first ADMIN key; the plain key is returned once and never stored."""
    tenant_name = _clean_name(name, "the tenant name", required=True)
    async with in_transaction():
        tenant = await Tenant.create(name=tenant_name)
        key, plain = await create_api_key(tenant.id, Scope.ADMIN, "initial admin key")
    return tenant, key, plain


async def create_api_key(
    tenant_id: uuid.UUID, scope: Scope, name: str | None
) -> tuple[ApiKey, str]:
    secret = secrets.token_urlsafe(32)
    key = await ApiKey.create(
        tenant_id=tenant_id,
        scope=scope,
        name=_clean_name(name, "the key name", required=False),
        secret_hash=_hash(secret),
    )
    return key, f"{KEY_PREFIX}_{key.id.hex}_{secret}"


async def revoke_api_key(tenant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    updated = await ApiKey.filter(id=key_id, tenant_id=tenant_id, revoked_at=None).update(
        revoked_at=clock.now()
    )
    if not updated:
        raise NotFound("API key", field="id")


async def authenticate(token: str | None) -> Principal:
    """The principal for a bearer token, or ``Unauthenticated`` saying what is wrong."""
    if not token:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise Unauthenticated("the token is not a valid API key")
    try:
        key_id = uuid.UUID(hex=parts[1])
    except ValueError:
        raise Unauthenticated("the token is not a valid API key") from None
    key = await ApiKey.get_or_none(id=key_id)
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        raise Unauthenticated("the API key is not valid")
    if key.revoked_at is not None:
        raise Unauthenticated("the API key has been revoked")
    return Principal(tenant_id=key.tenant_id, scopes=SCOPES_OF[Scope(key.scope)], key_id=key.id)
