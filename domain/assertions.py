"""Signed assertions of a successful SMS authentication (JWT, ES256, one key per tenant).

Relying services verify them with the public keys published at ``/.well-known/jwks.json``.
"""

import secrets
import uuid
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.jwk import ECKey

from domain import clock
from domain.models import SigningKey
from domain.secret_box import SecretBox

ALGORITHM = "ES256"
ASSERTION_TTL = timedelta(minutes=5)
DEFAULT_ISSUER = "urn:smsauth"


async def signing_key(tenant_id: uuid.UUID, box: SecretBox) -> tuple[str, ECKey]:
    """The tenant's newest key, created on first use."""
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
