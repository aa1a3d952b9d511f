"""Raw SQL for the few statements the ORM has no form for (an upsert with a condition, UPDATE ...
RETURNING) and for the hot joined reads of the OTP flows, where building the query costs the ORM
more than running it. Each is written once for SQLite (3.35 and newer) and PostgreSQL: only the
placeholders and the binding of UUIDs differ, and ``Params`` takes care of both; rows become
model instances through the ORM's own conversion (``from_row``)."""

import enum
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from tortoise.models import Model

M = TypeVar("M", bound=Model)


class Params:
    """Bound values and their placeholders in a connection's dialect (``?`` or ``$n``).

    Call it in the order the placeholders appear in the statement's text: SQLite's ``?`` are
    bound by position."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgres"
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        if isinstance(value, enum.Enum):
            value = value.value
        if isinstance(value, uuid.UUID) and not self.postgres:
            value = str(value)  # how Tortoise stores UUIDs in SQLite
        self.values.append(value)
        return f"${len(self.values)}" if self.postgres else "?"


def select_list(model: type[Model], alias: str) -> str:
    """Every column of ``model`` from table alias ``alias``, named ``"<alias>.<column>"``."""
    return ",".join(f'"{alias}"."{c}" AS "{alias}.{c}"' for c in model._meta.db_fields)


def from_row(model: type[M], row: Mapping[str, Any], alias: str) -> M | None:
    """The ``model`` instance in a row selected with ``select_list`` (None for a LEFT JOIN that
    found nothing), converted the way the ORM converts its own rows."""
    if row[f"{alias}.{model._meta.db_pk_column}"] is None:
        return None
    return model._init_from_db(**{c: row[f"{alias}.{c}"] for c in model._meta.db_fields})


async def fetch_one(model: type[Model], sql: str, params: Params) -> dict[str, Any] | None:
    """The first row of a query run on ``model``'s connection."""
    rows = await model._meta.db.execute_query_dict(sql, params.values)
    return rows[0] if rows else None


def attach(instance: Model, relation: str, related: Model | None) -> None:
    """Set a foreign key's object on ``instance`` as ``select_related`` does (the ORM keeps a
    fetched related object in ``_<relation>``), so ``instance.<relation>`` needs no query."""
    object.__setattr__(instance, f"_{relation}", related)


def assignments(model: type[Model], changes: Mapping[str, Any], p: Params) -> str:
    """``"column"=<placeholder>, ...`` for field values, converted by the fields themselves."""
    fields = model._meta.fields_map
    return ",".join(
        f'"{fields[name].source_field or name}"={p(fields[name].to_db_value(value, model))}'
        for name, value in changes.items()
    )
