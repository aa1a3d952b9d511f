"""Phone numbers: parsing with ``phonenumbers``, E.164 storage and masking for display."""

from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from domain.errors import InvalidPhoneNumber

MAX_INPUT_LENGTH = 40

#: Number types that cannot receive an SMS code (API-NOTES 10).
NOT_SMS_CAPABLE = {
    PhoneNumberType.FIXED_LINE: "a fixed-line number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.UAN: "a universal access number",
    PhoneNumberType.VOICEMAIL: "a voicemail number",
    PhoneNumberType.UNKNOWN: "a number of unknown type",
}


@dataclass(frozen=True)
class Phone:
    e164: str
    region: str | None
    number_type: int
    calling_code: int = 0

    @property
    def masked(self) -> str:
        return mask(self.e164)


def parse_phone(raw: str, default_region: str | None = None) -> Phone:
    """Parse and validate a number; international format unless a default region is given."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("the number is empty")
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidPhoneNumber("the number is too long")
    if default_region is None and text[0].isdigit():
        text = "+" + text  # the seeds' examples omit the plus: 447079692712
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as exc:
        raise InvalidPhoneNumber(_describe_parse_error(exc)) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("not a valid number for its country")
    return Phone(
        e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        region=phonenumbers.region_code_for_number(number),
        number_type=phonenumbers.number_type(number),
        calling_code=number.country_code,
    )


def require_sms_capable(phone: Phone) -> Phone:
    """Refuse number types that cannot take an SMS (used by the OTP flows)."""
    reason = NOT_SMS_CAPABLE.get(phone.number_type)
    if reason:
        raise InvalidPhoneNumber(f"{reason} cannot receive SMS codes")
    return phone


def require_allowed_country(phone: Phone, allowed_calling_codes: list[int] | None) -> Phone:
    """Refuse numbers outside a store's allowed countries (an empty list allows all)."""
    if allowed_calling_codes and phone.calling_code not in allowed_calling_codes:
        allowed = ", ".join(f"+{code}" for code in sorted(allowed_calling_codes))
        raise InvalidPhoneNumber(
            f"numbers with country code +{phone.calling_code} are not allowed here "
            f"(allowed: {allowed})"
        )
    return phone


def calling_code_of(e164: str) -> int:
    return phonenumbers.parse(e164).country_code


def is_calling_code(code: object) -> bool:
    """A country calling code that ``phonenumbers`` knows (44, 1, 49, ...)."""
    return isinstance(code, int) and code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE


def mask(e164: str) -> str:
    """``+447079692712`` -> ``+44******2712``: country code and last four digits only."""
    try:
        country = str(phonenumbers.parse(e164).country_code)
    except NumberParseException:
        country = ""
    digits = e164.lstrip("+")
    hidden = max(len(digits) - len(country) - 4, 0)
    return f"+{country}{'*' * hidden}{digits[-4:]}"


def _describe_parse_error(exc: NumberParseException) -> str:
    return {
        NumberParseException.INVALID_COUNTRY_CODE: "missing or unknown country code "
        "(use international format, e.g. +447079692712)",
        NumberParseException.NOT_A_NUMBER: "not a phone number",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "not a phone number")
