"""The one vocabulary of expected failures; ``api/`` turns each into a typed GraphQL error."""

from collections.abc import Sequence
from typing import Any, ClassVar


class DomainError(Exception):
    """An expected failure a caller can act on: it carries a stable code and a safe message."""

    code: ClassVar[str] = "ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class ValidationFailed(DomainError):
    code = "VALIDATION"


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, what: str, *, field: str | None = None) -> None:
        super().__init__(f"{what} not found", field=field)


class GatewayInUse(DomainError):
    code = "GATEWAY_IN_USE"

    def __init__(self, stores: Sequence[Any]) -> None:
        names = ", ".join(sorted(store.name for store in stores))
        super().__init__(f"the gateway is linked to identity stores: {names}")
        self.stores = list(stores)


class InvalidPhoneNumber(DomainError):
    code = "INVALID_PHONE_NUMBER"

    def __init__(self, reason: str, *, field: str | None = "phoneNumber") -> None:
        super().__init__(f"invalid phone number: {reason}", field=field)
        self.reason = reason


class GatewayFailure(DomainError):
    """A send that did not go through; ``sms`` is the recorded message, if one was written."""

    def __init__(self, reason: str, sms: Any = None, challenge: Any = None) -> None:
        super().__init__(f"{self.summary}: {reason}")
        self.reason = reason
        self.sms = sms
        self.challenge = challenge  # an OTP challenge left retryable with resendSmsCode

    summary: ClassVar[str] = "gateway failure"


class GatewayUnavailable(GatewayFailure):
    code = "GATEWAY_UNAVAILABLE"
    summary = "the gateway could not be reached"


class GatewayRejected(GatewayFailure):
    code = "GATEWAY_REJECTED"
    summary = "the gateway refused the message"


class SmsNotEnabled(DomainError):
    code = "SMS_NOT_ENABLED"


class NotEnrolled(DomainError):
    code = "NOT_ENROLLED"

    def __init__(self) -> None:
        super().__init__("the user has no verified phone number", field="userId")


class InvalidCode(DomainError):
    code = "INVALID_CODE"

    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"the code is not valid; {attempts_left} attempts left", field="code")
        self.attempts_left = attempts_left


class CodeExpired(DomainError):
    code = "CODE_EXPIRED"

    def __init__(self, message: str = "the code has expired; ask for a new one") -> None:
        super().__init__(message, field="code")


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, retry_at: Any) -> None:
        super().__init__("too many wrong codes; start again later", field="code")
        self.retry_at = retry_at


class ResendTooSoon(DomainError):
    code = "RESEND_TOO_SOON"

    def __init__(self, available_at: Any) -> None:
        super().__init__(f"wait until {available_at.isoformat()} before asking for a new code")
        self.available_at = available_at


class RateLimited(DomainError):
    """A limit (or a country hold) refuses the request until ``retry_at``."""

    code = "RATE_LIMITED"

    def __init__(self, scope: str, retry_at: Any, message: str) -> None:
        super().__init__(f"{message}; try again after {retry_at.isoformat()}")
        self.scope = scope
        self.retry_at = retry_at
