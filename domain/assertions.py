"""Signed assertions of a successful SMS authentication (JWT, ES256, one key per tenant).

Relying services verify them with the public keys published at ``/.well-known/jwks.json``.
"""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.jwk import ECKey

from domain import clock
from domain.models import SigningKey
from domain.secret_box import SecretBox

ALGORITHM = "ES256"
ASSERTION_TTL = timedelta(minutes=5)
DEFAULT_ISSUER = "urn:smsauth"


@dataclass(frozen=True)
class _Loaded:
    kid: str
    key: ECKey
    at: datetime


#: Each tenant's newest key as this process last read it (decrypted and parsed once, not per
#: assertion); read again after KEY_CACHE so a newer key is picked up.
_keys: dict[uuid.UUID, _Loaded] = {}
KEY_CACHE = timedelta(minutes=1)
KEY_CACHE_TENANTS = 10_000


async def signing_key(tenant_id: uuid.UUID, box: SecretBox) -> tuple[str, ECKey]:
    """The tenant's newest key, created on first use."""
    now = clock.now()
    loaded = _keys.get(tenant_id)
    if loaded is None or not loaded.at <= now < loaded.at + KEY_CACHE:
        kid, key = await _newest_key(tenant_id, box)
        if len(_keys) >= KEY_CACHE_TENANTS:
            _keys.clear()
        loaded = _keys[tenant_id] = _Loaded(kid, key, now)
    return loaded.kid, loaded.key


async def _newest_key(tenant_id: uuid.UUID, box: SecretBox) -> tuple[str, ECKey]:
    row = await SigningKey.filter(tenant_id=tenant_id).order_by("-created_at").first()
    if row is None:
        kid = secrets.token_urlsafe(12)
        key = ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
        row = await SigningKey.create(
            kid=kid,
            tenant_id=tenant_id,
            private_jwk=box.encrypt(key.as_dict(private=True)),
            public_jwk=key.as_dict(private=False),
        )
    return row.kid, ECKey.import_key(box.decrypt(row.private_jwk))


async def issue(
    *,
    tenant_id: uuid.UUID,
    claims: dict[str, object],
    issuer: str | None,
    box: SecretBox,
) -> tuple[str, datetime]:
    """A signed JWT with the standard claims added; returns it and its expiry."""
    kid, key = await signing_key(tenant_id, box)
    now = clock.now()
    expires = now + ASSERTION_TTL
    payload = {
        "iss": issuer or DEFAULT_ISSUER,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode({"alg": ALGORITHM, "kid": kid, "typ": "JWT"}, payload, key), expires


async def public_key_set() -> dict[str, list[dict[str, object]]]:
    """Every tenant's public keys, as a JWKS document."""
    rows = await SigningKey.all().order_by("created_at")
    return {"keys": [dict(row.public_jwk) for row in rows]}
