"""GraphQL types of SMS gateway accounts and gateway types."""

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from api.context import ctx
from api.errors import IdentityStoreRef
from api.ids import encode
from api.types.node import TenantNode
from domain import gateways
from domain.models import SmsGateway as GatewayRow
from providers.base import GatewayType, Parameter


@strawberry.type(description="A parameter a gateway type declares (drives forms and validation).")
class GatewayParameter:
    name: str
    label: str
    required: bool
    secret: bool
    default: JSON | None
    help: str
    kind: str
    choices: list[str]

    @classmethod
    def from_declaration(cls, p: Parameter) -> "GatewayParameter":
        return cls(
            name=p.name,
            label=p.label,
            required=p.required,
            secret=p.secret,
            default=None if p.secret else p.default,
            help=p.help,
            kind=p.kind,
            choices=list(p.choices),
        )


@strawberry.type(description="A kind of SMS gateway smsauth can send through.")
class SmsGatewayType:
    key: str
    name: str
    description: str
    default_url: str | None
    url_editable: bool
    custom: bool
    required_fields: list[str]
    parameters: list[GatewayParameter]

    @classmethod
    def from_declaration(cls, t: GatewayType, custom: bool) -> "SmsGatewayType":
        return cls(
            key=t.key,
            name=t.name,
            description=t.description,
            default_url=t.default_url,
            url_editable=t.url_editable,
            custom=custom,
            required_fields=list(t.required_fields),
            parameters=[GatewayParameter.from_declaration(p) for p in t.parameters],
        )


@strawberry.type
class GatewayProxy:
    host: str | None
    port: int | None
    domain: str | None
    username: str | None
    has_password: bool
    description: str | None


@strawberry.type(description="An SMS gateway account. Secrets are write-only: see hasPassword.")
class SmsGateway(TenantNode):
    model = GatewayRow

    pk: relay.NodeID[str]
    name: str
    type: str
    url: str | None
    account_id: str | None
    username: str | None
    has_password: bool
    sender_id: str | None
    signature: str | None = strawberry.field(description="Prefix put before every message body.")
    description: str | None
    enabled: bool
    is_default: bool
    check_ssl: bool
    timeout_seconds: float
    parameters: JSON = strawberry.field(description="The type's parameters, secret ones left out.")
    secret_parameters_set: list[str] = strawberry.field(
        description="Names of the secret parameters that hold a value."
    )
    extension_parameters: JSON
    proxy: GatewayProxy | None

    @strawberry.field(
        description="Where the provider should send delivery receipts (with this gateway's "
        "token); null until SMSAUTH_PUBLIC_URL is set."
    )
    def receipt_url(self, info: Info) -> str | None:
        return ctx(info).runtime.callback_url(self.pk)

    @strawberry.field(description="Identity stores using this gateway, as primary or backup.")
    async def linked_identity_stores(self) -> list[IdentityStoreRef]:
        stores = await gateways.linked_stores(self.pk)
        return [
            IdentityStoreRef(id=strawberry.ID(encode("IdentityStore", s.id)), name=s.name)
            for s in stores
        ]

    @classmethod
    def from_model(cls, row: GatewayRow) -> "SmsGateway":
        names = set(row.secret_names or [])
        proxy = row.proxy or None
        return cls(
            pk=str(row.id),
            name=row.name,
            type=row.type,
            url=row.url,
            account_id=row.account_id,
            username=row.username,
            has_password="password" in names,
            sender_id=row.sender_id,
            signature=row.signature,
            description=row.description,
            enabled=row.enabled,
            is_default=row.is_default,
            check_ssl=row.check_ssl,
            timeout_seconds=row.timeout_seconds,
            parameters=gateways.public_parameters(row),
            secret_parameters_set=sorted(
                n.split(".", 1)[1] for n in names if n.startswith("parameters.")
            ),
            extension_parameters=dict(row.extension_parameters or {}),
            proxy=GatewayProxy(
                host=proxy.get("host"),
                port=proxy.get("port"),
                domain=proxy.get("domain"),
                username=proxy.get("username"),
                has_password="proxy.password" in names,
                description=proxy.get("description"),
            )
            if proxy
            else None,
        )
