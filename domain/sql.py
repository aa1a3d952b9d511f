"""Raw SQL for the few statements the ORM has no form for (an upsert with a condition, UPDATE ...
RETURNING). Each is written once for SQLite (3.35 and newer) and PostgreSQL: only the
placeholders and the binding of UUIDs differ, and ``Params`` takes care of both."""

import enum
import uuid
from typing import Any


class Params:
    """Bound values and their placeholders in a connection's dialect (``?`` or ``$n``)."""

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
