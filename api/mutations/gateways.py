"""Mutations on SMS gateway accounts: create, update, set default, delete, test."""

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.context import ctx
from api.errors import (
    GatewayInUseError,
    GatewayRejectedError,
    GatewayUnavailableError,
    InvalidPhoneNumberError,
    as_result,
    result_union,
)
from api.ids import decode_uuid
from api.mutations.inputs import to_fields
from api.types.common import Deleted
from api.types.gateways import SmsGateway
from api.types.messages import SmsMessage
from domain import gateways, messaging
from domain.gateways import GatewayFields, ProxyFields
from domain.models import Scope
from domain.phone import parse_phone
from domain.unset import UNSET

CreateSmsGatewayResult = result_union("CreateSmsGatewayResult", SmsGateway)
UpdateSmsGatewayResult = result_union("UpdateSmsGatewayResult", SmsGateway)
SetDefaultSmsGatewayResult = result_union("SetDefaultSmsGatewayResult", SmsGateway)
DeleteSmsGatewayResult = result_union("DeleteSmsGatewayResult", Deleted, GatewayInUseError)
TestSmsGatewayResult = result_union(
    "TestSmsGatewayResult",
    SmsMessage,
    InvalidPhoneNumberError,
    GatewayRejectedError,
    GatewayUnavailableError,
)


@strawberry.input(description="Proxy options; an omitted or null password keeps the stored one.")
class ProxyInput:
    host: str | None = strawberry.UNSET
    port: int | None = strawberry.UNSET
    domain: str | None = strawberry.UNSET
    username: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET


@strawberry.input(
    description="A gateway account. On update every field is optional: omitted fields keep their "
    'value; an omitted or null password keeps the stored secret and "" clears it.'
)
class SmsGatewayInput:
    name: str | None = strawberry.UNSET
    type: str | None = strawberry.UNSET
    url: str | None = strawberry.UNSET
    account_id: str | None = strawberry.UNSET
    username: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    sender_id: str | None = strawberry.UNSET
    signature: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.UNSET
    is_default: bool | None = strawberry.UNSET
    check_ssl: bool | None = strawberry.UNSET
    timeout_seconds: float | None = strawberry.UNSET
    parameters: JSON | None = strawberry.UNSET
    extension_parameters: JSON | None = strawberry.UNSET
    proxy: ProxyInput | None = strawberry.UNSET


def _fields(data: SmsGatewayInput) -> GatewayFields:
    proxy = data.proxy
    if proxy is not strawberry.UNSET and proxy is not None:
        proxy = to_fields(proxy, ProxyFields)
    return to_fields(data, GatewayFields, proxy=UNSET if proxy is strawberry.UNSET else proxy)


def _gateway_pk(id: strawberry.ID, field: str = "id"):
    return decode_uuid(id, "SmsGateway", "SMS gateway", field)


@strawberry.type
class GatewayMutations:
    @strawberry.mutation
    async def create_sms_gateway(
        self, info: Info, input: SmsGatewayInput
    ) -> CreateSmsGatewayResult:
        async def run() -> SmsGateway:
            principal, runtime = ctx(info).require(Scope.ADMIN), ctx(info).runtime
            row = await gateways.create_gateway(
                principal.tenant_id,
                _fields(input),
                runtime.secret_box,
                runtime.transport.policy,
            )
            return SmsGateway.from_model(row)

        return await as_result(run)

    @strawberry.mutation
    async def update_sms_gateway(
        self, info: Info, id: strawberry.ID, input: SmsGatewayInput
    ) -> UpdateSmsGatewayResult:
        async def run() -> SmsGateway:
            principal, runtime = ctx(info).require(Scope.ADMIN), ctx(info).runtime
            row = await gateways.update_gateway(
                principal.tenant_id,
                _gateway_pk(id),
                _fields(input),
                runtime.secret_box,
                runtime.transport.policy,
            )
            return SmsGateway.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="Make this the default gateway, linked to new stores.")
    async def set_default_sms_gateway(
        self, info: Info, id: strawberry.ID
    ) -> SetDefaultSmsGatewayResult:
        async def run() -> SmsGateway:
            principal = ctx(info).require(Scope.ADMIN)
            row = await gateways.set_default_gateway(principal.tenant_id, _gateway_pk(id))
            return SmsGateway.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="Refused with GATEWAY_IN_USE while a store uses it.")
    async def delete_sms_gateway(self, info: Info, id: strawberry.ID) -> DeleteSmsGatewayResult:
        async def run() -> Deleted:
            principal = ctx(info).require(Scope.ADMIN)
            await gateways.delete_gateway(principal.tenant_id, _gateway_pk(id))
            return Deleted(id=id)

        return await as_result(run)

    @strawberry.mutation(description="Send a real test message (Test Connection).")
    async def test_sms_gateway(
        self, info: Info, id: strawberry.ID, phone_number: str, text: str | None = None
    ) -> TestSmsGatewayResult:
        async def run() -> SmsMessage:
            context = ctx(info)
            principal = context.require(Scope.ADMIN)
            row = await messaging.send_test_message(
                principal.tenant_id,
                _gateway_pk(id),
                parse_phone(phone_number),
                text,
                context.runtime,
            )
            return SmsMessage.from_model(row)

        return await as_result(run)
