"""GraphQL types of tenants, the caller (viewer) and API keys."""

from datetime import datetime

import strawberry

from api.ids import encode
from api.types.common import ApiKeyScope
from domain import models


@strawberry.type
class Tenant:
    id: strawberry.ID
    name: str


@strawberry.type(description="The caller: its tenant and the scopes of its key.")
class Viewer:
    tenant: Tenant
    scopes: list[ApiKeyScope]


@strawberry.type(description="An API key; the key itself is shown only once, when created.")
class ApiKey:
    id: strawberry.ID
    name: str | None
    scope: ApiKeyScope
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working; null if it never expires."
    )

    @classmethod
    def from_model(cls, row: models.ApiKey) -> "ApiKey":
        return cls(
            id=strawberry.ID(encode("ApiKey", row.id)),
            name=row.name,
            scope=ApiKeyScope(row.scope),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            expires_at=row.expires_at,
        )


@strawberry.type(description="A new API key. Store `key` now: it cannot be shown again.")
class ApiKeyCreated:
    id: strawberry.ID
    key: str
    scope: ApiKeyScope
    name: str | None
    expires_at: datetime | None
