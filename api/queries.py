"""The Query root: thin resolvers that check scope, call ``domain/`` and convert the result."""

import strawberry
from strawberry import relay
from strawberry.types import Info

from api.context import ctx
from api.ids import decode_int, decode_uuid, encode
from api.types.challenges import AuditEvent, AuditEventConnection, AuditEventEdge
from api.types.common import DeliveryStatus, PageInfo
from api.types.gateways import SmsGateway, SmsGatewayType
from api.types.holds import SmsCountryHold
from api.types.messages import SmsMessage, SmsMessageConnection, SmsMessageEdge
from api.types.node import OurNodesOnly
from api.types.stores import AuthenticationRequirements, IdentityStore, SmsTextPreview
from api.types.tenants import ApiKey, Tenant, Viewer
from domain import audit, gateways, identity_stores, messaging, models, policies, velocity
from domain.errors import NotFound, ValidationFailed
from domain.models import Scope
from providers.registry import registered

MAX_PAGE = 100


@strawberry.type
class Query:
    node: relay.Node | None = relay.node(
        description="Any object by its global ID.", extensions=[OurNodesOnly()]
    )

    @strawberry.field(description="The caller: its tenant and scopes.")
    async def viewer(self, info: Info) -> Viewer:
        principal = ctx(info).require(Scope.SERVICE)
        tenant = await models.Tenant.get(id=principal.tenant_id)
        return Viewer(
            tenant=Tenant(id=strawberry.ID(encode("Tenant", tenant.id)), name=tenant.name),
            scopes=sorted(principal.scopes),
        )

    @strawberry.field(description="Every gateway type, built-in and custom, with its parameters.")
    def sms_gateway_types(self, info: Info) -> list[SmsGatewayType]:
        ctx(info).require(Scope.SERVICE)
        return [
            SmsGatewayType.from_declaration(r.provider.type, r.custom)
            for r in registered().values()
        ]

    @strawberry.field
    async def sms_gateways(self, info: Info) -> list[SmsGateway]:
        principal = ctx(info).require(Scope.ADMIN)
        return [SmsGateway.from_model(r) for r in await gateways.list_gateways(principal.tenant_id)]

    @strawberry.field
    async def sms_gateway(self, info: Info, id: strawberry.ID) -> SmsGateway | None:
        principal = ctx(info).require(Scope.ADMIN)
        try:
            pk = decode_uuid(id, "SmsGateway", "SMS gateway")
            return SmsGateway.from_model(await gateways.get_gateway(principal.tenant_id, pk))
        except NotFound:
            return None

    @strawberry.field(description="Countries the velocity guard holds now (SMS pumping defence).")
    async def sms_country_holds(self, info: Info) -> list[SmsCountryHold]:
        principal = ctx(info).require(Scope.ADMIN)
        return [
            SmsCountryHold.from_model(r) for r in await velocity.active_holds(principal.tenant_id)
        ]

    @strawberry.field
    async def identity_stores(self, info: Info) -> list[IdentityStore]:
        principal = ctx(info).require(Scope.ADMIN)
        rows = await identity_stores.list_stores(principal.tenant_id)
        return [IdentityStore.from_model(r) for r in rows]

    @strawberry.field
    async def identity_store(self, info: Info, id: strawberry.ID) -> IdentityStore | None:
        principal = ctx(info).require(Scope.ADMIN)
        try:
            pk = decode_uuid(id, "IdentityStore", "identity store")
            return IdentityStore.from_model(
                await identity_stores.get_store(principal.tenant_id, pk)
            )
        except NotFound:
            return None

    @strawberry.field(description="Whether a user may, must or cannot use SMS, and if enrolled.")
    async def authentication_requirements(
        self, info: Info, identity_store_id: strawberry.ID, user_id: str
    ) -> AuthenticationRequirements:
        principal = ctx(info).require(Scope.SERVICE)
        store_id = decode_uuid(
            identity_store_id, "IdentityStore", "identity store", "identityStoreId"
        )
        found = await policies.requirements(principal.tenant_id, store_id, user_id)
        return AuthenticationRequirements(
            sms=found.sms, enrolled=found.enrolled, enrollment_required=found.enrollment_required
        )

    @strawberry.field(
        description="The exact text a store would send for a language and/or a phone number "
        "(its country's language), with its encoding and segment count."
    )
    async def preview_sms_text(
        self,
        info: Info,
        identity_store_id: strawberry.ID,
        locale: str | None = None,
        phone_number: str | None = None,
    ) -> SmsTextPreview:
        principal = ctx(info).require(Scope.ADMIN)
        store_id = decode_uuid(
            identity_store_id, "IdentityStore", "identity store", "identityStoreId"
        )
        found = await identity_stores.preview_text(
            principal.tenant_id, store_id, locale, phone_number
        )
        return SmsTextPreview(
            text=found.text,
            locale=found.locale,
            encoding=found.segmentation.encoding,
            characters=found.segmentation.units,
            segments=found.segmentation.segments,
        )

    @strawberry.field(description="Messages sent, newest first.")
    async def sms_messages(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        gateway_id: strawberry.ID | None = None,
        status: DeliveryStatus | None = None,
    ) -> SmsMessageConnection:
        principal = ctx(info).require(Scope.ADMIN)
        rows, more = await messaging.list_messages(
            principal.tenant_id,
            first=_page_size(first),
            after=decode_int(after, "SmsMessage", "cursor", "after") if after else None,
            gateway_id=decode_uuid(gateway_id, "SmsGateway", "SMS gateway", "gatewayId")
            if gateway_id
            else None,
            status=models.DeliveryStatus(status.value) if status else None,
        )
        edges = [
            SmsMessageEdge(node=SmsMessage.from_model(r), cursor=encode("SmsMessage", r.id))
            for r in rows
        ]
        return SmsMessageConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="Steps of user flows, newest first.")
    async def audit_events(
        self, info: Info, first: int = 20, after: str | None = None, user_id: str | None = None
    ) -> AuditEventConnection:
        principal = ctx(info).require(Scope.ADMIN)
        rows, more = await audit.list_events(
            principal.tenant_id,
            first=_page_size(first),
            after=decode_int(after, "AuditEvent", "cursor", "after") if after else None,
            user_id=user_id,
        )
        edges = [
            AuditEventEdge(node=AuditEvent.from_model(r), cursor=encode("AuditEvent", r.id))
            for r in rows
        ]
        return AuditEventConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="The tenant's API keys (never the keys themselves).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        principal = ctx(info).require(Scope.ADMIN)
        rows = await models.ApiKey.filter(tenant_id=principal.tenant_id).order_by("created_at")
        return [ApiKey.from_model(r) for r in rows]


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise ValidationFailed(f"first must be from 1 to {MAX_PAGE}", field="first")
    return first
