"""Mutations on the velocity guard's country holds."""

import strawberry
from strawberry.types import Info

from api.context import ctx
from api.errors import as_result, result_union
from api.types.holds import SmsCountryHold
from domain import velocity
from domain.models import Scope

ReleaseSmsCountryHoldResult = result_union("ReleaseSmsCountryHoldResult", SmsCountryHold)


@strawberry.type
class CountryHoldMutations:
    @strawberry.mutation(
        description="Lift a hold now; the guard leaves that country alone for the rest of the hour."
    )
    async def release_sms_country_hold(
        self, info: Info, calling_code: int
    ) -> ReleaseSmsCountryHoldResult:
        async def run() -> SmsCountryHold:
            principal = ctx(info).require(Scope.ADMIN)
            return SmsCountryHold.from_model(await velocity.release(principal, calling_code))

        return await as_result(run)
