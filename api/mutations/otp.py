"""The user flows: SMS enrollment and authentication, resend, removal and user sessions."""

import strawberry
from strawberry.types import Info

from api.context import ctx
from api.errors import (
    CodeExpiredError,
    GatewayRejectedError,
    GatewayUnavailableError,
    InvalidCodeError,
    InvalidPhoneNumberError,
    NotEnrolledError,
    RateLimitedError,
    ResendTooSoonError,
    SmsNotEnabledError,
    TooManyAttemptsError,
    as_result,
    result_union,
)
from api.ids import decode_uuid, encode
from api.mutations.identity_stores import store_pk
from api.types.challenges import Authentication, Challenge, Enrollment, UserSession
from api.types.common import Deleted
from domain import assertions, localized_texts, otp, user_sessions
from domain.phone import mask

SEND_ERRORS = (
    ResendTooSoonError,
    RateLimitedError,
    InvalidPhoneNumberError,
    GatewayRejectedError,
    GatewayUnavailableError,
)
CODE_ERRORS = (InvalidCodeError, CodeExpiredError, TooManyAttemptsError, RateLimitedError)

StartSmsEnrollmentResult = result_union(
    "StartSmsEnrollmentResult",
    Challenge,
    SmsNotEnabledError,
    *SEND_ERRORS,
)
StartSmsAuthenticationResult = result_union(
    "StartSmsAuthenticationResult", Challenge, NotEnrolledError, SmsNotEnabledError, *SEND_ERRORS
)
ResendSmsCodeResult = result_union(
    "ResendSmsCodeResult", Challenge, TooManyAttemptsError, CodeExpiredError, *SEND_ERRORS
)
VerifySmsEnrollmentResult = result_union("VerifySmsEnrollmentResult", Enrollment, *CODE_ERRORS)
VerifySmsAuthenticationResult = result_union(
    "VerifySmsAuthenticationResult", Authentication, *CODE_ERRORS
)
RemoveSmsEnrollmentResult = result_union("RemoveSmsEnrollmentResult", Deleted, NotEnrolledError)
CreateUserSessionResult = result_union("CreateUserSessionResult", UserSession)
RevokeUserSessionResult = result_union("RevokeUserSessionResult", Deleted)


LOCALE_HELP = (
    "The language of the text (a BCP 47 tag such as de-CH); else the user's stored locale, "
    "else the number's country."
)


def _locale(locale: str | None) -> str | None:
    return localized_texts.normalize_tag(locale) if locale else None


@strawberry.input
class StartSmsEnrollmentInput:
    identity_store_id: strawberry.ID
    user_id: str
    phone_number: str | None = strawberry.field(
        default=None, description="In international format; the user's stored number if omitted."
    )
    locale: str | None = strawberry.field(default=None, description=LOCALE_HELP)


@strawberry.input
class StartSmsAuthenticationInput:
    identity_store_id: strawberry.ID
    user_id: str
    locale: str | None = strawberry.field(default=None, description=LOCALE_HELP)


@strawberry.input
class VerifySmsCodeInput:
    challenge_id: strawberry.ID
    code: str


def challenge_pk(id: strawberry.ID):
    return decode_uuid(id, "Challenge", "challenge", "challengeId")


@strawberry.type
class OtpMutations:
    @strawberry.mutation(description="Send a code to a phone number the user wants to enroll.")
    async def start_sms_enrollment(
        self, info: Info, input: StartSmsEnrollmentInput
    ) -> StartSmsEnrollmentResult:
        async def run() -> Challenge:
            context = ctx(info)
            row = await otp.start_enrollment(
                context.caller(),
                context.runtime,
                store_pk(input.identity_store_id, "identityStoreId"),
                input.user_id,
                input.phone_number,
                _locale(input.locale),
            )
            return Challenge.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="Check the code; the number becomes the user's phone.")
    async def verify_sms_enrollment(
        self, info: Info, input: VerifySmsCodeInput
    ) -> VerifySmsEnrollmentResult:
        async def run() -> Enrollment:
            context = ctx(info)
            user = await otp.verify_enrollment(
                context.caller(), context.runtime, challenge_pk(input.challenge_id), input.code
            )
            return Enrollment(
                masked_phone_number=mask(user.phone_number or ""),
                verified_at=user.phone_verified_at,
            )

        return await as_result(run)

    @strawberry.mutation(description="Send a code to the user's verified phone number.")
    async def start_sms_authentication(
        self, info: Info, input: StartSmsAuthenticationInput
    ) -> StartSmsAuthenticationResult:
        async def run() -> Challenge:
            context = ctx(info)
            row = await otp.start_authentication(
                context.caller(),
                context.runtime,
                store_pk(input.identity_store_id, "identityStoreId"),
                input.user_id,
                _locale(input.locale),
            )
            return Challenge.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="Check the code; answers a signed assertion.")
    async def verify_sms_authentication(
        self, info: Info, input: VerifySmsCodeInput
    ) -> VerifySmsAuthenticationResult:
        async def run() -> Authentication:
            context = ctx(info)
            challenge = await otp.verify_authentication(
                context.caller(), context.runtime, challenge_pk(input.challenge_id), input.code
            )
            store_id = encode("IdentityStore", challenge.identity_store_id)
            token, expires = await assertions.issue(
                tenant_id=challenge.tenant_id,
                claims={
                    "sub": challenge.user.user_id,
                    "aud": store_id,
                    "amr": ["sms"],
                    "tenant": encode("Tenant", challenge.tenant_id),
                    "identity_store": store_id,
                },
                issuer=context.runtime.settings.public_url,
                box=context.runtime.secret_box,
            )
            return Authentication(assertion=token, expires_at=expires)

        return await as_result(run)

    @strawberry.mutation(description="A new code for the challenge, after the cooldown.")
    async def resend_sms_code(self, info: Info, challenge_id: strawberry.ID) -> ResendSmsCodeResult:
        async def run() -> Challenge:
            context = ctx(info)
            row = await otp.resend_code(
                context.caller(), context.runtime, challenge_pk(challenge_id)
            )
            return Challenge.from_model(row)

        return await as_result(run)

    @strawberry.mutation(description="Forget the user's verified phone number.")
    async def remove_sms_enrollment(
        self, info: Info, identity_store_id: strawberry.ID, user_id: str
    ) -> RemoveSmsEnrollmentResult:
        async def run() -> Deleted:
            user = await otp.remove_enrollment(
                ctx(info).caller(), store_pk(identity_store_id, "identityStoreId"), user_id
            )
            return Deleted(id=strawberry.ID(encode("IdentityStoreUser", user.id)))

        return await as_result(run)

    @strawberry.mutation(description="A short-lived token that may run only this user's flows.")
    async def create_user_session(
        self,
        info: Info,
        identity_store_id: strawberry.ID,
        user_id: str,
        ttl_seconds: int | None = None,
    ) -> CreateUserSessionResult:
        async def run() -> UserSession:
            session, token = await user_sessions.create_session(
                ctx(info).caller(),
                store_pk(identity_store_id, "identityStoreId"),
                user_id,
                ttl_seconds,
            )
            return UserSession(
                id=strawberry.ID(encode("UserSession", session.id)),
                token=token,
                expires_at=session.expires_at,
            )

        return await as_result(run)

    @strawberry.mutation(
        description="End a user session at once: a SERVICE key any of its tenant's, a user token "
        "itself only (sign-out; the ID may then be left out)."
    )
    async def revoke_user_session(
        self, info: Info, id: strawberry.ID | None = None
    ) -> RevokeUserSessionResult:
        async def run() -> Deleted:
            pk = decode_uuid(id, "UserSession", "user session") if id is not None else None
            revoked = await user_sessions.revoke_session(ctx(info).caller(), pk)
            return Deleted(id=strawberry.ID(encode("UserSession", revoked)))

        return await as_result(run)
