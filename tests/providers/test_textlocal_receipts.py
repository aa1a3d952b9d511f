"""The ``textlocal`` provider reads the receipts Textlocal POSTs to ``receipt_url``.

Textlocal's "Handling Receipts" documents the form fields ``number``, ``status`` (one letter),
``customID`` (the ``custom`` value the send path sets to smsauth's reference) and ``datetime``;
receipts carry no message ID and no signature (smsauth's webhook token authenticates them).
"""

from urllib.parse import urlencode

import pytest

from providers.base import GatewayConfig, InboundRequest, Receipt, ReceiptMalformed
from providers.textlocal import provider

CONFIG = GatewayConfig(
    type="textlocal", url="https://api.txtlocal.com", parameters={"APIKEY": "key"}
)


def receipt_post(**fields: str) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url="https://smsauth.example/webhooks/sms/7f3c?token=webhook-token",
        headers={"content-type": "application/x-www-form-urlencoded"},
        query={"token": "webhook-token"},
        form=fields,
        body=urlencode(fields).encode(),
    )


def textlocal_receipt(status: str) -> InboundRequest:
    return receipt_post(
        number="447079692712", status=status, customID="42", datetime="2024-05-03 08:58:10"
    )


@pytest.mark.parametrize(
    ("letter", "status", "detail"),
    [
        ("D", "DELIVERED", "D: delivered to the handset"),
        ("U", "UNDELIVERED", "U: undelivered: expired at the operator after 48 hours"),
        ("E", "UNDELIVERED", "E: expired at the operator after the validity period"),
        ("I", "FAILED", "I: invalid number: badly formatted or on no mobile network"),
        ("P", "SENT", "P: pending"),
        ("?", "SENT", "?: no delivery receipt from the operator"),
    ],
)
def test_each_letter_maps_to_a_status_matched_by_our_reference(
    letter: str, status: str, detail: str
) -> None:
    receipts = provider.parse_receipts(textlocal_receipt(letter), CONFIG)

    assert receipts == [
        Receipt(provider_message_id=None, status=status, detail=detail, reference="42")
    ]


def test_a_lower_case_letter_is_read_too() -> None:
    (receipt,) = provider.parse_receipts(textlocal_receipt("d"), CONFIG)

    assert receipt.status == "DELIVERED"


def test_an_unknown_status_is_still_on_its_way_with_numbers_masked() -> None:
    (receipt,) = provider.parse_receipts(textlocal_receipt("X 447079692712"), CONFIG)

    assert (receipt.status, receipt.detail) == ("SENT", "X ***712: unknown status")


def test_the_recipients_number_never_reaches_the_detail() -> None:
    (receipt,) = provider.parse_receipts(textlocal_receipt("U"), CONFIG)

    assert "447079692712" not in (receipt.detail or "")


def test_a_receipt_without_a_status_is_malformed() -> None:
    with pytest.raises(ReceiptMalformed, match="no status"):
        provider.parse_receipts(receipt_post(number="447079692712", customID="42"), CONFIG)


def test_a_receipt_without_a_custom_id_cannot_be_matched() -> None:
    with pytest.raises(ReceiptMalformed, match="customID"):
        provider.parse_receipts(receipt_post(number="447079692712", status="D"), CONFIG)


def test_the_declaration_says_textlocal_sends_receipts() -> None:
    assert provider.type.receipts is True
