"""Display names (tenants, keys, stores, roles): trimmed, non-empty when required, 200 at most."""

from typing import Any

from domain.errors import ValidationFailed

MAX_NAME = 200


def clean_name(name: Any, what: str, *, required: bool = True) -> str | None:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned:
        if required:
            raise ValidationFailed(f"{what} must not be empty", field="name")
        return None
    if len(cleaned) > MAX_NAME:
        raise ValidationFailed(f"{what} is longer than {MAX_NAME} characters", field="name")
    return cleaned
