"""The ``messagebird`` provider reads status reports, and only those with a valid signature JWT.

The signature check is run against MessageBird's own published test vectors (python-rest-api,
``tests/test_request_validator/webhook_signature_test_data.json``: key, URL, body, time and token;
the GET cases are copied verbatim into ``messagebird_signature_vectors.json``).
The status reports are GET requests whose ``MessageBird-Signature-JWT`` the tests sign with PyJWT,
as MessageBird documents: HS256 with the signing key, ``iss`` MessageBird, ``nbf``/``exp``,
``url_hash`` (hex SHA-256 of the full URL) and ``payload_hash`` only when there is a body.
"""

import hashlib
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest

from providers.base import GatewayConfig, InboundRequest, Receipt, ReceiptMalformed, ReceiptRejected
from providers.messagebird import provider, verify_signature

SIGNING_KEY = "signing-key-0123456789abcdef0123456789"
CALLBACK = "https://smsauth.example/webhooks/sms/7f3c?token=webhook-token"
MESSAGE_ID = "e8077d803532c0b5937c639b60216938"
CONFIG = GatewayConfig(
    type="messagebird",
    url="https://rest.messagebird.com",
    password="live_access_key",
    sender_id="Acme",
    parameters={"SIGNING_KEY": SIGNING_KEY},
)

# MessageBird's published vectors (the GET cases of python-rest-api's
# tests/test_request_validator/webhook_signature_test_data.json), all checked at this time.
VECTORS = json.loads((Path(__file__).parent / "messagebird_signature_vectors.json").read_text())
VECTOR_NOW = 1625479200  # 2021-07-05T12:00:00+02:00


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed(
    url: str,
    body: bytes = b"",
    *,
    key: str = SIGNING_KEY,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """A ``MessageBird-Signature-JWT`` for a request to ``url`` with ``body``, valid 60 s."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": "MessageBird",
        "nbf": now,
        "exp": now + 60,
        "jti": "0c8ba2fb-2e7b-4e1b-9a35-5b6c1a0f3b1e",
        "url_hash": sha256(url.encode()),
    }
    if body:
        payload["payload_hash"] = sha256(body)
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key if algorithm != "none" else None, algorithm=algorithm)


def report(
    status: str = "delivered", token: str | None = None, body: bytes = b"", **extra: str
) -> InboundRequest:
    """A status report as MessageBird makes it: a GET of the reportUrl with the report's fields."""
    fields = {
        "id": MESSAGE_ID,
        "reference": "42",
        "recipient": "447079692712",
        "status": status,
        "statusDatetime": "2024-05-03T08:58:10+00:00",
        **extra,
    }
    url = f"{CALLBACK}&{urlencode(fields)}"
    if token is None:
        token = signed(url, body)
    headers = {"messagebird-signature-jwt": token} if token else {}
    return InboundRequest(
        method="GET",
        url=url,
        headers=headers,
        query=dict(parse_qsl(urlsplit(url).query)),
        body=body,
    )


# --- the signature: MessageBird's published vectors -------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_messagebirds_published_vectors(vector: dict[str, Any]) -> None:
    def check() -> dict[str, Any]:
        body = (vector.get("payload") or "").encode()
        return verify_signature(vector["token"], vector["url"], body, vector["secret"], VECTOR_NOW)

    if vector["valid"]:
        assert check()["iss"] == "MessageBird"
    else:
        with pytest.raises(ReceiptRejected):
            check()


# --- the signature of a status report ---------------------------------------------------------


def test_a_report_signed_with_another_key_is_rejected() -> None:
    forged = signed(report().url, key="another-key-0123456789abcdef0123")

    with pytest.raises(ReceiptRejected, match="not signed"):
        provider.parse_receipts(report(token=forged), CONFIG)


def test_a_report_without_a_signature_is_rejected() -> None:
    with pytest.raises(ReceiptRejected, match="no MessageBird-Signature-JWT"):
        provider.parse_receipts(report(token=""), CONFIG)


def test_a_gateway_without_a_signing_key_refuses_reports() -> None:
    config = GatewayConfig(type="messagebird", password="live_access_key", sender_id="Acme")

    with pytest.raises(ReceiptRejected, match="SIGNING_KEY"):
        provider.parse_receipts(report(), config)


def test_a_token_signed_for_another_status_is_rejected() -> None:
    undelivered = report("delivery_failed").url

    with pytest.raises(ReceiptRejected, match="another URL"):
        provider.parse_receipts(report("delivered", token=signed(undelivered)), CONFIG)


def test_an_expired_token_is_rejected() -> None:
    an_hour_ago = int(time.time()) - 3600
    expired = signed(report().url, nbf=an_hour_ago, exp=an_hour_ago + 60)

    with pytest.raises(ReceiptRejected, match="not valid now"):
        provider.parse_receipts(report(token=expired), CONFIG)


@pytest.mark.parametrize(
    "claims",
    [{"iss": "Someone"}, {"iss": None}, {"exp": None}],
    ids=["another-issuer", "no-issuer", "no-expiry"],
)
def test_a_token_without_messagebirds_claims_is_rejected(claims: dict[str, Any]) -> None:
    token = signed(report().url, **claims)

    with pytest.raises(ReceiptRejected):
        provider.parse_receipts(report(token=token), CONFIG)


def test_an_unsigned_token_is_rejected() -> None:
    unsigned = signed(report().url, algorithm="none")

    with pytest.raises(ReceiptRejected, match="not signed"):
        provider.parse_receipts(report(token=unsigned), CONFIG)


def test_hs512_tokens_are_accepted() -> None:
    long_key = "k" * 64  # RFC 7518 wants a key as long as the hash
    config = GatewayConfig(type="messagebird", parameters={"SIGNING_KEY": long_key})
    token = signed(report().url, key=long_key, algorithm="HS512")

    (receipt,) = provider.parse_receipts(report(token=token), config)

    assert receipt.status == "DELIVERED"


# --- the receipt -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messagebird_status", "status"),
    [
        ("scheduled", "SENT"),
        ("sent", "SENT"),
        ("buffered", "SENT"),
        ("delivered", "DELIVERED"),
        ("expired", "UNDELIVERED"),
        ("delivery_failed", "UNDELIVERED"),
    ],
)
def test_a_signed_report_gives_the_mapped_status_and_our_reference(
    messagebird_status: str, status: str
) -> None:
    receipts = provider.parse_receipts(report(messagebird_status), CONFIG)

    assert receipts == [
        Receipt(
            provider_message_id=MESSAGE_ID, status=status, detail=messagebird_status, reference="42"
        )
    ]


def test_the_reason_and_error_code_are_in_the_detail_with_numbers_masked() -> None:
    request = report(
        "delivery_failed", statusReason="unknown subscriber 447079692712", statusErrorCode="1"
    )

    (receipt,) = provider.parse_receipts(request, CONFIG)

    assert receipt.detail == "delivery_failed: unknown subscriber ***712 (error 1)"


def test_an_unknown_status_is_still_on_its_way() -> None:
    (receipt,) = provider.parse_receipts(report("teleported"), CONFIG)

    assert (receipt.status, receipt.detail) == ("SENT", "teleported")


def test_a_signed_request_without_id_or_status_is_malformed() -> None:
    url = f"{CALLBACK}&status=delivered"
    request = InboundRequest(
        method="GET",
        url=url,
        headers={"messagebird-signature-jwt": signed(url)},
        query={"token": "webhook-token", "status": "delivered"},
    )

    with pytest.raises(ReceiptMalformed, match="no id"):
        provider.parse_receipts(request, CONFIG)


def test_the_declaration_has_a_secret_optional_signing_key() -> None:
    declared = provider.type

    assert declared.receipts is True
    assert [(p.name, p.required, p.secret) for p in declared.parameters] == [
        ("SIGNING_KEY", False, True)
    ]


def test_a_body_the_token_does_not_sign_is_rejected() -> None:
    url_only = signed(report().url)

    with pytest.raises(ReceiptRejected, match="another body"):
        provider.parse_receipts(report(token=url_only, body=b'{"injected": true}'), CONFIG)
