"""Expected failures as GraphQL types: ``UserError`` and its members, mapped from domain errors."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar, Union

import strawberry

from api.ids import encode
from api.types.challenges import Challenge
from api.types.common import RateLimitScope
from api.types.messages import SmsMessage
from domain import errors as domain

T = TypeVar("T")


@strawberry.interface(description="An expected failure the caller can act on.")
class UserError:
    code: str
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, as a dotted path, if one is."
    )


@strawberry.type
class ValidationError(UserError):
    pass


@strawberry.type
class NotFoundError(UserError):
    pass


@strawberry.type
class ForbiddenError(UserError):
    pass


@strawberry.type
class IdentityStoreRef:
    id: strawberry.ID
    name: str


@strawberry.type
class GatewayInUseError(UserError):
    identity_stores: list[IdentityStoreRef]


@strawberry.type
class InvalidPhoneNumberError(UserError):
    reason: str


@strawberry.type
class GatewayUnavailableError(UserError):
    reason: str
    sms: SmsMessage | None = None
    challenge: Challenge | None = strawberry.field(
        default=None, description="The challenge to retry with resendSmsCode, in OTP flows."
    )


@strawberry.type
class GatewayRejectedError(UserError):
    provider_reason: str
    sms: SmsMessage | None = None
    challenge: Challenge | None = strawberry.field(
        default=None, description="The challenge to retry with resendSmsCode, in OTP flows."
    )


@strawberry.type
class InvalidCodeError(UserError):
    attempts_left: int


@strawberry.type
class CodeExpiredError(UserError):
    pass


@strawberry.type
class TooManyAttemptsError(UserError):
    retry_at: datetime = strawberry.field(description="When a new challenge may be started.")


@strawberry.type
class ResendTooSoonError(UserError):
    available_at: datetime


@strawberry.type
class NotEnrolledError(UserError):
    pass


@strawberry.type
class SmsNotEnabledError(UserError):
    pass


@strawberry.type(description="A rate limit or a country hold refuses the request for now.")
class RateLimitedError(UserError):
    retry_at: datetime = strawberry.field(description="When the request may be made again.")
    scope: RateLimitScope = strawberry.field(description="The limit that refused it.")


def to_user_error(error: domain.DomainError) -> UserError:
    """The union member for a domain error (``Unauthenticated`` never gets here)."""
    base = {"code": error.code, "message": error.message, "field": error.field}
    if isinstance(error, domain.GatewayInUse):
        refs = [
            IdentityStoreRef(id=strawberry.ID(encode("IdentityStore", s.id)), name=s.name)
            for s in error.stores
        ]
        return GatewayInUseError(**base, identity_stores=refs)
    if isinstance(error, domain.InvalidPhoneNumber):
        return InvalidPhoneNumberError(**base, reason=error.reason)
    if isinstance(error, domain.GatewayFailure):
        sms = SmsMessage.from_model(error.sms) if error.sms is not None else None
        challenge = Challenge.from_model(error.challenge) if error.challenge else None
        if isinstance(error, domain.GatewayRejected):
            return GatewayRejectedError(
                **base, provider_reason=error.reason, sms=sms, challenge=challenge
            )
        return GatewayUnavailableError(**base, reason=error.reason, sms=sms, challenge=challenge)
    if isinstance(error, domain.InvalidCode):
        return InvalidCodeError(**base, attempts_left=error.attempts_left)
    if isinstance(error, domain.TooManyAttempts):
        return TooManyAttemptsError(**base, retry_at=error.retry_at)
    if isinstance(error, domain.RateLimited):
        return RateLimitedError(**base, retry_at=error.retry_at, scope=RateLimitScope(error.scope))
    if isinstance(error, domain.ResendTooSoon):
        return ResendTooSoonError(**base, available_at=error.available_at)
    member = {
        domain.ValidationFailed: ValidationError,
        domain.NotFound: NotFoundError,
        domain.Forbidden: ForbiddenError,
        domain.CodeExpired: CodeExpiredError,
        domain.NotEnrolled: NotEnrolledError,
        domain.SmsNotEnabled: SmsNotEnabledError,
    }.get(type(error))
    if member is None:
        raise error  # an error code with no union member is a bug: let it surface
    return member(**base)


async def as_result(action: Callable[[], Awaitable[T]]) -> T | UserError:
    """Run a mutation's domain call; expected failures become union members."""
    try:
        return await action()
    except domain.Unauthenticated:
        raise
    except domain.DomainError as error:
        return to_user_error(error)


#: Error members every mutation can answer with.
COMMON_ERRORS: tuple[Any, ...] = (ValidationError, NotFoundError, ForbiddenError)


def result_union(name: str, *members: Any) -> Any:
    """``<Verb><Noun>Result``: the payload, the mutation's own errors, then the common ones."""
    return Annotated[Union[members + COMMON_ERRORS], strawberry.union(name)]  # noqa: UP007
