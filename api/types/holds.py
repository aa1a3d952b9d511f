"""GraphQL type of a country hold set by the velocity guard."""

from datetime import datetime

import strawberry

from domain import models


@strawberry.type(description="New sends of the tenant to one country are refused until heldUntil.")
class SmsCountryHold:
    calling_code: int = strawberry.field(description="The country calling code, e.g. 44.")
    held_until: datetime
    reason: str
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.CountryHold) -> "SmsCountryHold":
        return cls(
            calling_code=row.calling_code,
            held_until=row.held_until,
            reason=row.reason,
            created_at=row.created_at,
        )
