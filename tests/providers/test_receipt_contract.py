"""The receipt part of the provider contract: the default, the declarations and the request."""

import pytest

from providers.base import (
    BaseProvider,
    GatewayConfig,
    GatewayType,
    InboundRequest,
    ReceiptMalformed,
)
from providers.registry import BUILTINS

RECEIPT_TYPES = {"http", "twilio", "messagebird", "textlocal"}


class Silent(BaseProvider):
    type = GatewayType(key="silent", name="Silent")


def test_a_type_that_implements_no_receipts_refuses_them_as_malformed() -> None:
    request = InboundRequest(method="POST", url="https://smsauth.example/webhooks/sms/1")

    with pytest.raises(ReceiptMalformed, match="sends no delivery receipts"):
        Silent().parse_receipts(request, GatewayConfig(type="silent"))


def test_exactly_the_types_that_parse_receipts_declare_them() -> None:
    declared = {key for key, p in BUILTINS.items() if p.type.receipts}

    assert declared == RECEIPT_TYPES
    for key in RECEIPT_TYPES:
        assert type(BUILTINS[key]).parse_receipts is not BaseProvider.parse_receipts


@pytest.mark.parametrize("key", sorted(set(BUILTINS) - RECEIPT_TYPES))
def test_the_other_builtin_types_take_no_receipts(key: str) -> None:
    provider = BUILTINS[key]
    request = InboundRequest(method="POST", url="https://smsauth.example/webhooks/sms/1")

    with pytest.raises(ReceiptMalformed):
        provider.parse_receipts(request, GatewayConfig(type=key))


def test_headers_are_looked_up_by_lower_cased_name_and_query_before_form() -> None:
    request = InboundRequest(
        method="POST",
        url="https://smsauth.example/webhooks/sms/1?token=t&id=q",
        headers={"x-twilio-signature": "sig"},
        query={"token": "t", "id": "q"},
        form={"id": "f", "status": "D"},
    )

    assert request.header("X-Twilio-Signature") == "sig"
    assert (request.param("id"), request.param("status"), request.param("none")) == ("q", "D", None)


def test_the_webhook_token_never_shows_in_the_request_repr() -> None:
    request = InboundRequest(
        method="GET", url="https://smsauth.example/webhooks/sms/1?token=secret-token&id=1"
    )

    assert "secret-token" not in repr(request)
