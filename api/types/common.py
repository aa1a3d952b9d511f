"""Small shared GraphQL types and the enums of the contract."""

from enum import Enum

import strawberry

from domain.models import DeliveryStatus as DomainDeliveryStatus
from domain.models import Scope
from domain.policies import SmsRequirement as DomainSmsRequirement

ApiKeyScope = strawberry.enum(Scope, name="ApiKeyScope")
DeliveryStatus = strawberry.enum(DomainDeliveryStatus, name="DeliveryStatus")
SmsRequirement = strawberry.enum(DomainSmsRequirement, name="SmsRequirement")


@strawberry.type(description="What a delete mutation answers: the ID of what is gone.")
class Deleted:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


__all__ = ["ApiKeyScope", "DeliveryStatus", "SmsRequirement", "Deleted", "PageInfo", "Enum"]
