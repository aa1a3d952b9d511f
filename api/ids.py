"""Relay global IDs, ``base64("<GraphQL type>:<primary key>")``, decoded to the expected type."""

import uuid

from strawberry.relay.utils import from_base64, to_base64

from domain.errors import NotFound


def encode(type_name: str, pk: object) -> str:
    return to_base64(type_name, str(pk))


def decode_uuid(value: str, type_name: str, what: str, field: str = "id") -> uuid.UUID:
    """The primary key inside a global ID; anything else (wrong type, garbage) is NOT_FOUND."""
    try:
        found_type, pk = from_base64(value)
        if found_type != type_name:
            raise ValueError(found_type)
        return uuid.UUID(pk)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(what, field=field) from None


def decode_int(value: str, type_name: str, what: str, field: str = "id") -> int:
    try:
        found_type, pk = from_base64(value)
        if found_type != type_name:
            raise ValueError(found_type)
        return int_key(pk)
    except (ValueError, TypeError, AttributeError):
        raise NotFound(what, field=field) from None


def int_key(value: str) -> int:
    """An integer primary key: ASCII digits within the database's 64-bit range."""
    if not value.isascii() or not value.isdigit() or int(value) >= 2**63:
        raise ValueError(value)
    return int(value)


def int_keys(values: list[str]) -> list[int]:
    """The values that are integer primary keys (node IDs from ``node(id:)`` may be anything)."""
    found = []
    for value in values:
        try:
            found.append(int_key(value))
        except ValueError:
            continue
    return found


def valid_uuids(values: list[str]) -> list[uuid.UUID]:
    """The values that are UUIDs (node IDs from ``node(id:)`` may be anything)."""
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found
