"""Mutations on security roles, their authentication policy, and store users."""

import strawberry
from strawberry.types import Info

from api.context import ctx
from api.errors import InvalidPhoneNumberError, as_result, result_union
from api.ids import decode_uuid
from api.mutations.identity_stores import store_pk
from api.mutations.inputs import to_fields
from api.types.common import Deleted
from api.types.stores import IdentityStoreUser, SecurityRole
from domain import policies
from domain.models import Scope
from domain.policies import UserFields

CreateSecurityRoleResult = result_union("CreateSecurityRoleResult", SecurityRole)
SetAuthenticationPolicyResult = result_union("SetAuthenticationPolicyResult", SecurityRole)
DeleteSecurityRoleResult = result_union("DeleteSecurityRoleResult", Deleted)
UpsertUserResult = result_union("UpsertUserResult", IdentityStoreUser, InvalidPhoneNumberError)


@strawberry.input
class SecurityRoleInput:
    name: str


@strawberry.input(description="Enforced implies enabled.")
class AuthenticationPolicyInput:
    sms_enabled: bool | None = strawberry.UNSET
    sms_enforced: bool | None = strawberry.UNSET


@strawberry.input
class UserInput:
    user_id: str
    roles: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Role names of the store; replaces the user's roles."
    )
    phone_number: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new number is unverified until enrolled (or phoneVerified is true).",
    )
    phone_verified: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Import a number already verified elsewhere.",
    )
    locale: str | None = strawberry.UNSET


def role_pk(id: strawberry.ID, field: str = "id"):
    return decode_uuid(id, "SecurityRole", "security role", field)


@strawberry.type
class PolicyMutations:
    @strawberry.mutation
    async def create_security_role(
        self, info: Info, identity_store_id: strawberry.ID, input: SecurityRoleInput
    ) -> CreateSecurityRoleResult:
        async def run() -> SecurityRole:
            principal = ctx(info).require(Scope.ADMIN)
            row = await policies.create_role(
                principal.tenant_id, store_pk(identity_store_id, "identityStoreId"), input.name
            )
            return SecurityRole.from_model(row)

        return await as_result(run)

    @strawberry.mutation(
        description="Whether role members may (enabled) or must (enforced) use SMS."
    )
    async def set_authentication_policy(
        self, info: Info, role_id: strawberry.ID, input: AuthenticationPolicyInput
    ) -> SetAuthenticationPolicyResult:
        async def run() -> SecurityRole:
            principal = ctx(info).require(Scope.ADMIN)
            row = await policies.set_policy(
                principal.tenant_id,
                role_pk(role_id, "roleId"),
                input.sms_enabled,
                input.sms_enforced,
            )
            return SecurityRole.from_model(row)

        return await as_result(run)

    @strawberry.mutation
    async def delete_security_role(self, info: Info, id: strawberry.ID) -> DeleteSecurityRoleResult:
        async def run() -> Deleted:
            principal = ctx(info).require(Scope.ADMIN)
            await policies.delete_role(principal.tenant_id, role_pk(id))
            return Deleted(id=id)

        return await as_result(run)

    @strawberry.mutation(description="Create or update a user of the store.")
    async def upsert_user(
        self, info: Info, identity_store_id: strawberry.ID, input: UserInput
    ) -> UpsertUserResult:
        async def run() -> IdentityStoreUser:
            principal = ctx(info).require(Scope.ADMIN)
            row = await policies.upsert_user(
                principal.tenant_id,
                store_pk(identity_store_id, "identityStoreId"),
                to_fields(input, UserFields),
            )
            return IdentityStoreUser.from_model(row)

        return await as_result(run)
