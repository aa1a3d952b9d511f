"""The ``twilio`` provider reads status callbacks, and only those signed with the Auth Token.

Each test builds the form POST Twilio makes and signs it here, independently of the provider,
with the algorithm of Twilio's "Secure webhooks" page: HMAC-SHA1 keyed with the Auth Token over
the full URL followed by each POST parameter's name and value, sorted by name, in Base64. The
helper is first checked against twilio-python's published test vector.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

import pytest

from providers.base import GatewayConfig, InboundRequest, Receipt, ReceiptMalformed, ReceiptRejected
from providers.twilio import provider

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "auth-token-0123456789abcdef"
CALLBACK = "https://smsauth.example/webhooks/sms/7f3c?token=webhook-token"
MESSAGE_SID = "SM" + "1" * 32
CONFIG = GatewayConfig(
    type="twilio",
    url="https://api.twilio.com",
    account_id=ACCOUNT_SID,
    password=AUTH_TOKEN,
    sender_id="+15005550006",
)

# twilio-python, tests/unit/test_request_validator.py: token, URL, parameters and signatures.
EXAMPLE_TOKEN = "12345"
EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
EXAMPLE_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
EXAMPLE_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
EXAMPLE_SIGNATURE_WITH_PORT_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="


def twilio_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    signed = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


def callback(
    params: Mapping[str, str],
    *,
    url: str = CALLBACK,
    signature: str | None = None,
    signed_params: Mapping[str, str] | None = None,
) -> InboundRequest:
    """A status callback as Twilio posts it, signed over ``signed_params`` (default: ``params``)."""
    if signature is None:
        signature = twilio_signature(AUTH_TOKEN, url, signed_params or params)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature:
        headers["x-twilio-signature"] = signature
    return InboundRequest(
        method="POST",
        url=url,
        headers=headers,
        query={"token": "webhook-token"},
        form=dict(params),
        body=urlencode(params).encode(),
    )


def status_params(status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": "+15005550006",
        "MessageSid": MESSAGE_SID,
        "MessageStatus": status,
        "SmsSid": MESSAGE_SID,
        "SmsStatus": status,
        "To": "+447079692712",
        **extra,
    }


# --- the signature -----------------------------------------------------------------------------


def test_the_test_helper_reproduces_twilios_published_signature() -> None:
    assert twilio_signature(EXAMPLE_TOKEN, EXAMPLE_URL, EXAMPLE_PARAMS) == EXAMPLE_SIGNATURE


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (EXAMPLE_URL, EXAMPLE_SIGNATURE),
        (EXAMPLE_URL.replace(".com", ".com:1234"), EXAMPLE_SIGNATURE),
        (EXAMPLE_URL, EXAMPLE_SIGNATURE_WITH_PORT_443),
    ],
    ids=["as-published", "signed-without-the-port", "signed-with-port-443"],
)
def test_twilios_published_example_passes_the_signature_check(url: str, signature: str) -> None:
    request = InboundRequest(
        method="POST", url=url, headers={"x-twilio-signature": signature}, form=EXAMPLE_PARAMS
    )
    config = GatewayConfig(type="twilio", password=EXAMPLE_TOKEN)

    with pytest.raises(ReceiptMalformed):  # signed, but a voice request, not a status callback
        provider.parse_receipts(request, config)


def test_a_signature_made_with_another_auth_token_is_rejected() -> None:
    params = status_params("delivered")
    forged = twilio_signature("another-token", CALLBACK, params)

    with pytest.raises(ReceiptRejected, match="does not match"):
        provider.parse_receipts(callback(params, signature=forged), CONFIG)


def test_a_parameter_changed_after_signing_is_rejected() -> None:
    signed = status_params("undelivered")

    request = callback(status_params("delivered"), signed_params=signed)

    with pytest.raises(ReceiptRejected):
        provider.parse_receipts(request, CONFIG)


def test_a_signature_for_another_url_is_rejected() -> None:
    params = status_params("delivered")
    other_url = twilio_signature(AUTH_TOKEN, CALLBACK.replace("7f3c", "8a1d"), params)

    with pytest.raises(ReceiptRejected):
        provider.parse_receipts(callback(params, signature=other_url), CONFIG)


def test_a_callback_without_a_signature_is_rejected() -> None:
    with pytest.raises(ReceiptRejected, match="no X-Twilio-Signature"):
        provider.parse_receipts(callback(status_params("delivered"), signature=""), CONFIG)


def test_a_gateway_without_an_auth_token_refuses_callbacks() -> None:
    unsigned_key = twilio_signature("", CALLBACK, status_params("delivered"))
    config = GatewayConfig(type="twilio", account_id=ACCOUNT_SID)

    with pytest.raises(ReceiptRejected, match="no Auth Token"):
        provider.parse_receipts(
            callback(status_params("delivered"), signature=unsigned_key), config
        )


# --- the receipt -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("twilio_status", "status"),
    [
        ("accepted", "SENT"),
        ("scheduled", "SENT"),
        ("queued", "SENT"),
        ("sending", "SENT"),
        ("sent", "SENT"),
        ("delivered", "DELIVERED"),
        ("read", "DELIVERED"),
        ("undelivered", "UNDELIVERED"),
        ("failed", "FAILED"),
        ("canceled", "FAILED"),
    ],
)
def test_a_signed_status_callback_gives_the_mapped_status(twilio_status: str, status: str) -> None:
    receipts = provider.parse_receipts(callback(status_params(twilio_status)), CONFIG)

    assert receipts == [
        Receipt(provider_message_id=MESSAGE_SID, status=status, detail=twilio_status)
    ]


def test_the_error_code_is_in_the_detail() -> None:
    params = status_params("undelivered", ErrorCode="30003")

    (receipt,) = provider.parse_receipts(callback(params), CONFIG)

    assert (receipt.status, receipt.detail) == ("UNDELIVERED", "undelivered: Twilio error 30003")


def test_numbers_in_the_error_text_are_masked() -> None:
    params = status_params(
        "failed", ErrorCode="21211", ErrorMessage="Invalid 'To' Phone Number: +447079692712"
    )

    (receipt,) = provider.parse_receipts(callback(params), CONFIG)

    assert receipt.detail == "failed: Twilio error 21211 Invalid 'To' Phone Number: ***712"


def test_an_unknown_status_is_still_on_its_way() -> None:
    (receipt,) = provider.parse_receipts(callback(status_params("partially_delivered")), CONFIG)

    assert (receipt.status, receipt.detail) == ("SENT", "partially_delivered")


def test_a_signed_request_without_message_sid_or_status_is_malformed() -> None:
    params = {"AccountSid": ACCOUNT_SID, "MessageSid": MESSAGE_SID}

    with pytest.raises(ReceiptMalformed, match="MessageStatus"):
        provider.parse_receipts(callback(params), CONFIG)


def test_the_declaration_says_twilio_sends_receipts() -> None:
    assert provider.type.receipts is True
