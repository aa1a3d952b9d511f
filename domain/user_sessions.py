"""User session tokens: minted by a SERVICE key for one user, short-lived, revocable."""

import uuid
from datetime import timedelta

from domain import clock
from domain.auth import USER_TOKEN_PREFIX, Principal, format_token, new_secret
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.models import Scope, StoreUser, UserSession

DEFAULT_TTL_SECONDS = 900
MAX_TTL_SECONDS = 86400


async def create_session(
    principal: Principal, store_id: uuid.UUID, user_id: str, ttl_seconds: int | None = None
) -> tuple[UserSession, str]:
    """A token that may run only this user's flows; the plain token is returned once."""
    principal.require(Scope.SERVICE)
    ttl = DEFAULT_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    if not 60 <= ttl <= MAX_TTL_SECONDS:
        raise ValidationFailed(f"must be from 60 to {MAX_TTL_SECONDS} seconds", field="ttlSeconds")
    user = await StoreUser.get_or_none(
        identity_store_id=store_id,
        user_id=user_id,
        identity_store__tenant_id=principal.tenant_id,
    )
    if user is None:
        raise NotFound("user", field="userId")
    secret, secret_hash = new_secret()
    session = await UserSession.create(
        tenant_id=principal.tenant_id,
        user=user,
        secret_hash=secret_hash,
        expires_at=clock.now() + timedelta(seconds=ttl),
    )
    return session, format_token(USER_TOKEN_PREFIX, session.id, secret)


async def revoke_session(principal: Principal, session_id: uuid.UUID | None) -> uuid.UUID:
    """Revoke a session: a SERVICE key any of its tenant's, a user token itself only (sign-out,
    ``session_id`` None or its own). Returns the revoked session's ID."""
    if principal.session_id is not None:
        if session_id not in (None, principal.session_id):
            raise Forbidden("a user session token may revoke only itself", field="id")
        session_id = principal.session_id
    else:
        principal.require(Scope.SERVICE)
        if session_id is None:
            raise ValidationFailed("give the ID of the session to revoke", field="id")
    updated = await UserSession.filter(
        id=session_id, tenant_id=principal.tenant_id, revoked_at=None
    ).update(revoked_at=clock.now())
    if not updated:
        raise NotFound("user session", field="id")
    return session_id
