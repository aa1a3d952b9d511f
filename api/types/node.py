"""Relay nodes that belong to a tenant: ``node(id:)`` finds only the caller's own objects."""

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from strawberry import relay
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from tortoise.models import Model

from api.context import ctx
from api.ids import valid_uuids
from domain.errors import NotFound
from domain.models import Scope


class TenantNode(relay.Node):
    """Subclasses name their model and how a row reaches its tenant."""

    model: ClassVar[type[Model]]
    tenant_field: ClassVar[str] = "tenant_id"

    @classmethod
    def from_model(cls, row: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def parse_ids(cls, ids: list[str]) -> list[Any]:
        return valid_uuids(ids)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        principal = ctx(info).require(Scope.ADMIN)
        ids = list(node_ids)
        rows = await cls.model.filter(
            **{cls.tenant_field: principal.tenant_id, "id__in": cls.parse_ids(ids)}
        )
        by_id = {str(row.pk): row for row in rows}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in ids]


class OurNodesOnly(FieldExtension):
    """``node(id:)`` with an ID naming the ``Node`` interface itself is NOT_FOUND, like any ID that
    names no node type (strawberry would call the interface's unimplemented resolver)."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        if not issubclass(kwargs["id"].resolve_type(info), TenantNode):
            raise NotFound("object", field="id")
        return next_(source, info, **kwargs)
