"""Small shared GraphQL types and the enums of the contract."""

from enum import Enum

import strawberry

from domain.models import DeliveryStatus as DomainDeliveryStatus
from domain.models import Scope
from domain.policies import SmsRequirement as DomainSmsRequirement
from domain.rate_limits import Action, LimitScope

ApiKeyScope = strawberry.enum(Scope, name="ApiKeyScope")
DeliveryStatus = strawberry.enum(DomainDeliveryStatus, name="DeliveryStatus")
SmsRequirement = strawberry.enum(DomainSmsRequirement, name="SmsRequirement")
RateLimitAction = strawberry.enum(
    Action, name="RateLimitAction", description="SEND: a code goes out; VERIFY: a code is checked."
)
RateLimitScope = strawberry.enum(LimitScope, name="RateLimitScope")


@strawberry.type(description="What a delete mutation answers: the ID of what is gone.")
class Deleted:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


__all__ = [
    "ApiKeyScope",
    "DeliveryStatus",
    "SmsRequirement",
    "RateLimitAction",
    "RateLimitScope",
    "Deleted",
    "PageInfo",
    "Enum",
]
