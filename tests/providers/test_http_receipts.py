"""The generic ``http`` provider reads receipts as the gateway's ``RECEIPT_*`` parameters declare.

Fields are looked up in the query string, then the form, then a JSON body (dotted names reach into
nested objects; a JSON list is a batch). Values in no declared list mean the message is on its way.
"""

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from providers.base import (
    ConfigProblem,
    GatewayConfig,
    InboundRequest,
    Receipt,
    ReceiptMalformed,
)
from providers.http import provider

WEBHOOK = "https://smsauth.example/webhooks/sms/7f3c"
RECEIPTS = {
    "RECEIPT_ID_FIELD": "msgid",
    "RECEIPT_STATUS_FIELD": "stat",
    "RECEIPT_DELIVERED_VALUES": "DELIVRD, delivered",
    "RECEIPT_FAILED_VALUES": "REJECTD",
    "RECEIPT_UNDELIVERED_VALUES": "UNDELIV,EXPIRED",
}


def gateway(**parameters: Any) -> GatewayConfig:
    """An http gateway with working send options and these receipt parameters."""
    return GatewayConfig(
        type="http",
        url="https://gateway.example/send",
        parameters={
            "HTTP_METHOD": "GET",
            "OPTIONS": {"to": "{phone}", "text": "{otp}"},
            **parameters,
        },
    )


CONFIG = gateway(**RECEIPTS)


def get(**query: str) -> InboundRequest:
    query = {"token": "webhook-token", **query}
    return InboundRequest(method="GET", url=f"{WEBHOOK}?{urlencode(query)}", query=query)


def post_form(**form: str) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url=f"{WEBHOOK}?token=webhook-token",
        headers={"content-type": "application/x-www-form-urlencoded"},
        query={"token": "webhook-token"},
        form=form,
        body=urlencode(form).encode(),
    )


def post_json(body: Any) -> InboundRequest:
    return InboundRequest(
        method="POST",
        url=f"{WEBHOOK}?token=webhook-token",
        headers={"content-type": "application/json"},
        query={"token": "webhook-token"},
        body=json.dumps(body).encode(),
    )


# --- where the fields are ----------------------------------------------------------------------


def test_a_receipt_in_the_query_string() -> None:
    receipts = provider.parse_receipts(get(msgid="abc-1", stat="DELIVRD"), CONFIG)

    assert receipts == [Receipt(provider_message_id="abc-1", status="DELIVERED", detail="DELIVRD")]


def test_a_receipt_in_a_form_body() -> None:
    receipts = provider.parse_receipts(post_form(msgid="abc-1", stat="UNDELIV"), CONFIG)

    assert receipts == [
        Receipt(provider_message_id="abc-1", status="UNDELIVERED", detail="UNDELIV")
    ]


def test_a_receipt_in_a_json_body_with_dotted_fields_and_numbers() -> None:
    config = gateway(
        **RECEIPTS | {"RECEIPT_ID_FIELD": "message.id", "RECEIPT_STATUS_FIELD": "message.state"}
    )

    receipts = provider.parse_receipts(
        post_json({"message": {"id": 1151346216, "state": "REJECTD"}}), config
    )

    assert receipts == [
        Receipt(provider_message_id="1151346216", status="FAILED", detail="REJECTD")
    ]


def test_a_json_key_with_a_dot_in_its_name_is_read_as_it_is() -> None:
    config = gateway(**RECEIPTS | {"RECEIPT_STATUS_FIELD": "dlr.status"})

    receipts = provider.parse_receipts(post_json({"msgid": "a", "dlr.status": "DELIVRD"}), config)

    assert receipts[0].status == "DELIVERED"


def test_a_json_list_is_a_batch_of_receipts() -> None:
    batch = [{"msgid": "a", "stat": "DELIVRD"}, {"msgid": "b", "stat": "EXPIRED"}]

    receipts = provider.parse_receipts(post_json(batch), CONFIG)

    assert [(r.provider_message_id, r.status) for r in receipts] == [
        ("a", "DELIVERED"),
        ("b", "UNDELIVERED"),
    ]


def test_the_query_string_comes_before_the_json_body() -> None:
    request = InboundRequest(
        method="POST",
        url=f"{WEBHOOK}?token=t&msgid=from-query",
        query={"token": "t", "msgid": "from-query"},
        body=json.dumps({"msgid": "from-body", "stat": "DELIVRD"}).encode(),
    )

    (receipt,) = provider.parse_receipts(request, CONFIG)

    assert receipt.provider_message_id == "from-query"


def test_our_reference_is_read_from_its_field() -> None:
    config = gateway(
        RECEIPT_REFERENCE_FIELD="ref",
        RECEIPT_STATUS_FIELD="stat",
        RECEIPT_DELIVERED_VALUES="DELIVRD",
    )

    receipts = provider.parse_receipts(get(ref="42", stat="DELIVRD"), config)

    assert receipts == [
        Receipt(provider_message_id=None, status="DELIVERED", detail="DELIVRD", reference="42")
    ]


# --- what the values mean ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("delivered", "DELIVERED"),
        ("Delivered", "DELIVERED"),
        (" DELIVRD ", "DELIVERED"),
        ("rejectd", "FAILED"),
        ("expired", "UNDELIVERED"),
        ("ENROUTE", "SENT"),
        ("", None),
    ],
)
def test_values_are_matched_ignoring_case_and_unlisted_ones_mean_sent(
    value: str, status: str | None
) -> None:
    request = get(msgid="abc-1", stat=value)

    if status is None:
        with pytest.raises(ReceiptMalformed, match="no stat"):
            provider.parse_receipts(request, CONFIG)
    else:
        assert provider.parse_receipts(request, CONFIG)[0].status == status


def test_numbers_in_the_status_are_masked() -> None:
    (receipt,) = provider.parse_receipts(
        get(msgid="abc-1", stat="failed for +447079692712"), CONFIG
    )

    assert (receipt.status, receipt.detail) == ("SENT", "failed for ***712")


# --- what is not a receipt ---------------------------------------------------------------------


def test_a_gateway_without_a_status_field_takes_no_receipts() -> None:
    with pytest.raises(ReceiptMalformed, match="receipts are not configured for this gateway"):
        provider.parse_receipts(get(msgid="abc-1", stat="DELIVRD"), gateway())


def test_a_receipt_without_the_status_field_is_malformed() -> None:
    with pytest.raises(ReceiptMalformed, match="no stat"):
        provider.parse_receipts(get(msgid="abc-1"), CONFIG)


def test_a_receipt_without_an_id_or_reference_is_malformed() -> None:
    with pytest.raises(ReceiptMalformed, match="no message ID or reference"):
        provider.parse_receipts(get(stat="DELIVRD"), CONFIG)


@pytest.mark.parametrize("body", [42, "DELIVRD", [], [1, 2]])
def test_a_json_body_that_is_not_an_object_or_a_list_of_them_is_malformed(body: Any) -> None:
    with pytest.raises(ReceiptMalformed, match="JSON body"):
        provider.parse_receipts(post_json(body), CONFIG)


def test_a_body_that_is_not_json_is_ignored() -> None:
    request = InboundRequest(
        method="POST",
        url=f"{WEBHOOK}?token=t&msgid=a&stat=DELIVRD",
        query={"token": "t", "msgid": "a", "stat": "DELIVRD"},
        body=b"\xff not json",
    )

    assert provider.parse_receipts(request, CONFIG)[0].status == "DELIVERED"


# --- configuration -----------------------------------------------------------------------------


def test_a_complete_receipt_configuration_has_no_problems() -> None:
    assert provider.check_configuration(CONFIG) == []


def test_receipt_parameters_without_a_status_field_are_refused() -> None:
    problems = provider.check_configuration(gateway(RECEIPT_ID_FIELD="msgid"))

    assert problems == [
        ConfigProblem(
            "parameters.RECEIPT_STATUS_FIELD", "RECEIPT_ID_FIELD need RECEIPT_STATUS_FIELD"
        )
    ]


def test_a_status_field_needs_an_id_or_reference_field_and_delivered_values() -> None:
    problems = provider.check_configuration(gateway(RECEIPT_STATUS_FIELD="stat"))

    assert [p.field for p in problems] == [
        "parameters.RECEIPT_ID_FIELD",
        "parameters.RECEIPT_DELIVERED_VALUES",
    ]


def test_a_value_in_two_lists_is_refused() -> None:
    problems = provider.check_configuration(
        gateway(**RECEIPTS | {"RECEIPT_FAILED_VALUES": "rejectd,Delivered"})
    )

    assert problems == [
        ConfigProblem(
            "parameters.RECEIPT_FAILED_VALUES", "'delivered' is also in RECEIPT_DELIVERED_VALUES"
        )
    ]


def test_the_receipt_parameters_are_declared_plain_and_optional() -> None:
    declared = {p.name: p for p in provider.type.parameters if p.name.startswith("RECEIPT_")}

    assert provider.type.receipts is True
    assert sorted(declared) == sorted(
        [
            "RECEIPT_ID_FIELD",
            "RECEIPT_REFERENCE_FIELD",
            "RECEIPT_STATUS_FIELD",
            "RECEIPT_DELIVERED_VALUES",
            "RECEIPT_FAILED_VALUES",
            "RECEIPT_UNDELIVERED_VALUES",
        ]
    )
    assert not any(p.required or p.secret for p in declared.values())
