"""Turning Strawberry inputs into domain field sets (UNSET stays UNSET, names stay the same)."""

from dataclasses import fields
from typing import Any, TypeVar

import strawberry

from domain.unset import UNSET

T = TypeVar("T")


def to_fields(source: Any, target: type[T], **extra: Any) -> T:
    """Copy the attributes ``target`` declares from a Strawberry input; unsent ones stay UNSET."""
    values = {f.name: getattr(source, f.name, UNSET) for f in fields(target)}  # type: ignore[arg-type]
    values.update(extra)
    return target(**{k: UNSET if v is strawberry.UNSET else v for k, v in values.items()})
