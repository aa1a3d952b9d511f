"""Bearer tokens: API keys (``sa_…``) and user session tokens (``su_…``) -> a ``Principal``.

A token reads ``<prefix>_<ID hex>_<secret>``; only a SHA-256 of the secret is stored (the secret
is 256 random bits, so a fast hash is enough) and it is compared in constant time.
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import clock
from domain.errors import Forbidden, Unauthenticated
from domain.models import ApiKey, Scope, UserSession

KEY_PREFIX = "sa"
USER_TOKEN_PREFIX = "su"

#: ADMIN keys may also run user flows.
SCOPES_OF = {
    Scope.ADMIN: frozenset({Scope.ADMIN, Scope.SERVICE}),
    Scope.SERVICE: frozenset({Scope.SERVICE}),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant and the scopes of its key, or one user's session."""

    tenant_id: uuid.UUID
    scopes: frozenset[Scope]
    key_id: uuid.UUID | None = None
    # A user session token acts for this one user only: (identity store ID, user ID).
    user: tuple[uuid.UUID, str] | None = None
    session_id: uuid.UUID | None = None
    # Where the request came from (per-IP rate limits); None for the system itself.
    client_ip: str | None = None

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this operation needs an {scope.value} key")

    def require_user(self, store_id: uuid.UUID, user_id: str) -> None:
        """Run a user flow: a SERVICE (or ADMIN) key for anyone, a user token for its user."""
        if self.user is not None:
            if self.user != (store_id, user_id):
                raise Forbidden("this user session token is for another user")
            return
        self.require(Scope.SERVICE)

    @property
    def actor(self) -> str:
        """How audit events name the caller."""
        if self.session_id is not None:
            return f"user-session:{self.session_id.hex}"
        return f"api-key:{self.key_id.hex}" if self.key_id else "system"


@dataclass(frozen=True)
class _Read:
    key: ApiKey
    at: datetime


#: API keys as this process last read them, for at most KEY_CACHE: a key is not read from the
#: database on every request. A revocation made by this process applies at once; one made by
#: another instance, within KEY_CACHE. Unknown key IDs are never kept.
_keys: dict[uuid.UUID, _Read] = {}
KEY_CACHE = timedelta(seconds=5)
KEY_CACHE_SIZE = 10_000


async def _api_key(key_id: uuid.UUID) -> ApiKey | None:
    now = clock.now()
    read = _keys.get(key_id)
    if read is not None and read.at <= now < read.at + KEY_CACHE:
        return read.key
    key = await ApiKey.get_or_none(id=key_id)
    if key is not None:
        if len(_keys) >= KEY_CACHE_SIZE:
            _keys.clear()
        _keys[key_id] = _Read(key, now)
    return key


def forget_api_key(key_id: uuid.UUID) -> None:
    """The key changed (revoked): read it again on its next use."""
    _keys.pop(key_id, None)


def new_secret() -> tuple[str, str]:
    """A fresh token secret and the hash to store."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_token(prefix: str, token_id: uuid.UUID, secret: str) -> str:
    return f"{prefix}_{token_id.hex}_{secret}"


def _split(token: str) -> tuple[str, uuid.UUID, str]:
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] not in (KEY_PREFIX, USER_TOKEN_PREFIX):
        raise Unauthenticated("the token is not a valid API key or user token")
    try:
        return parts[0], uuid.UUID(hex=parts[1]), parts[2]
    except ValueError:
        raise Unauthenticated("the token is not a valid API key or user token") from None


async def authenticate(token: str | None) -> Principal:
    """The principal for a bearer token, or ``Unauthenticated`` saying what is wrong."""
    if not token:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    prefix, token_id, secret = _split(token)
    if prefix == KEY_PREFIX:
        key = await _api_key(token_id)
        if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
            raise Unauthenticated("the API key is not valid")
        if key.revoked_at is not None:
            raise Unauthenticated("the API key has been revoked")
        if key.expires_at is not None and key.expires_at <= clock.now():
            raise Unauthenticated("the API key has expired")
        return Principal(tenant_id=key.tenant_id, scopes=SCOPES_OF[Scope(key.scope)], key_id=key.id)
    session = await UserSession.get_or_none(id=token_id).select_related("user")
    if session is None or not hmac.compare_digest(session.secret_hash, hash_secret(secret)):
        raise Unauthenticated("the user token is not valid")
    if session.revoked_at is not None:
        raise Unauthenticated("the user token has been revoked")
    if session.expires_at <= clock.now():
        raise Unauthenticated("the user token has expired")
    return Principal(
        tenant_id=session.tenant_id,
        scopes=frozenset(),
        user=(session.user.identity_store_id, session.user.user_id),
        session_id=session.id,
    )
