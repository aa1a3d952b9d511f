"""Phone number parsing, E.164 storage, masking and the SMS-capable check."""

import pytest

from domain.errors import InvalidPhoneNumber
from domain.phone import mask, parse_phone, require_sms_capable


@pytest.mark.parametrize(
    "raw", ["+447079692712", "447079692712", " +44 7079 692712 ", "+44 (0)7079-692712"]
)
def test_international_forms_parse_to_e164(raw):
    assert parse_phone(raw).e164 == "+447079692712"


def test_seed_examples_without_plus_are_international():
    assert parse_phone("18588123169").region == "US"
    assert parse_phone("923225867987").e164 == "+923225867987"


def test_national_number_uses_default_region():
    assert parse_phone("07079 692712", "GB").e164 == "+447079692712"
    with pytest.raises(InvalidPhoneNumber, match="country code"):
        parse_phone("07079 692712")


@pytest.mark.parametrize("raw", ["", "   ", "abc", "+1", "+99912345678", "1" * 41, "+44123"])
def test_bad_input_is_invalid_phone_number(raw):
    with pytest.raises(InvalidPhoneNumber) as raised:
        parse_phone(raw)
    assert raised.value.code == "INVALID_PHONE_NUMBER" and raised.value.field == "phoneNumber"


def test_mask_keeps_country_code_and_last_four():
    assert mask("+447079692712") == "+44******2712"
    assert mask("+18588123169") == "+1******3169"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("+442079460000", "fixed-line"),
        ("+448001111111", "toll-free"),
        ("+449098790000", "premium-rate"),
    ],
)
def test_numbers_that_cannot_take_sms_are_refused(raw, kind):
    with pytest.raises(InvalidPhoneNumber, match=kind):
        require_sms_capable(parse_phone(raw))


def test_mobile_numbers_are_sms_capable():
    assert require_sms_capable(parse_phone("+447079692712")).e164 == "+447079692712"
