"""Mutations on the tenant's API keys."""

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.context import ctx
from api.errors import as_result, result_union
from api.ids import decode_uuid, encode
from api.types.common import ApiKeyScope, Deleted
from api.types.tenants import ApiKeyCreated
from domain import tenants
from domain.models import Scope

CreateApiKeyResult = result_union("CreateApiKeyResult", ApiKeyCreated)
RevokeApiKeyResult = result_union("RevokeApiKeyResult", Deleted)


@strawberry.input
class ApiKeyInput:
    scope: ApiKeyScope
    name: str | None = None
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the key stops working (future, at most 2 years ahead); never if null.",
    )


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="A new key; the key is in the answer and never again.")
    async def create_api_key(self, info: Info, input: ApiKeyInput) -> CreateApiKeyResult:
        async def run() -> ApiKeyCreated:
            principal = ctx(info).require(Scope.ADMIN)
            row, plain = await tenants.create_api_key(
                principal.tenant_id, Scope(input.scope.value), input.name, input.expires_at
            )
            return ApiKeyCreated(
                id=strawberry.ID(encode("ApiKey", row.id)),
                key=plain,
                scope=input.scope,
                name=row.name,
                expires_at=row.expires_at,
            )

        return await as_result(run)

    @strawberry.mutation
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyResult:
        async def run() -> Deleted:
            principal = ctx(info).require(Scope.ADMIN)
            await tenants.revoke_api_key(principal.tenant_id, decode_uuid(id, "ApiKey", "API key"))
            return Deleted(id=id)

        return await as_result(run)
