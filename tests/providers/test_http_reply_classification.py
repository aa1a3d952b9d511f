"""How an HTTP reply's status is classified before a provider reads its body.

``http_failure`` is shared by every HTTP-based provider: 429 and 5xx mean "try again later"
(``Unavailable``), any other non-2xx means the gateway refused (``Rejected``), and 2xx is for the
provider to read. ``listed_errors`` reads the ``{"errors": [{"code", ...}]}`` bodies some
gateways send. Neither ever puts a whole phone number into a reason.
"""

import json

import pytest

from providers.base import Rejected, Unavailable
from providers.transport import HttpReply, http_failure, listed_errors


def reply(status: int, text: str = "") -> HttpReply:
    return HttpReply(status=status, text=text, headers={})


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_a_2xx_reply_is_left_to_the_provider(status: int) -> None:
    assert http_failure(reply(status, "whatever"), "Acme") is None


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 599])
def test_429_and_5xx_are_unavailable_and_name_the_gateway(status: int) -> None:
    result = http_failure(reply(status, "busy,\n  try later"), "Acme")

    assert result == Unavailable(f"HTTP {status} from Acme: busy, try later")


@pytest.mark.parametrize("status", [100, 301, 302, 400, 401, 403, 404, 422, 428, 430, 499])
def test_any_other_status_is_rejected(status: int) -> None:
    result = http_failure(reply(status, "bad request"), "Acme")

    assert result == Rejected(f"HTTP {status}: bad request")


@pytest.mark.parametrize("status", [400, 503])
def test_numbers_in_the_snippet_are_masked(status: int) -> None:
    result = http_failure(reply(status, "invalid to=+447079692712 (447079692712)"), "Acme")

    assert result is not None
    assert "7079692712" not in result.reason
    assert result.reason.endswith("invalid to=***712 (***712)")


def test_the_snippet_is_the_start_of_the_reply() -> None:
    result = http_failure(reply(400, "x" * 1000), "Acme")

    assert result == Rejected(f"HTTP 400: {'x' * 300}")


@pytest.mark.parametrize("status", [400, 503])
def test_a_provider_detail_replaces_the_snippet_and_is_masked_too(status: int) -> None:
    result = http_failure(reply(status, "{...}"), "Acme", "Acme error 7: bad +447079692712")

    assert result is not None
    assert result.reason.endswith(": Acme error 7: bad ***712")
    assert "{...}" not in result.reason


def test_an_empty_detail_is_kept_rather_than_replaced_by_the_snippet() -> None:
    assert http_failure(reply(400, "body"), "Acme", "") == Rejected("HTTP 400: ")


def test_listed_errors_joins_each_code_and_text_and_masks_numbers() -> None:
    body = {
        "errors": [
            {"code": 2, "description": "no such recipient +447079692712"},
            "not an error object",
            {"code": 9},
        ]
    }

    text = listed_errors(reply(422, json.dumps(body)), "Acme", "description")

    assert text == "Acme error 2: no such recipient ***712; Acme error 9: "


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not JSON +447079692712", "not JSON ***712"),
        ('{"errors": [], "to": "447079692712"}', '{"errors": [], "to": "***712"}'),
        ('{"errors": "x"}', '{"errors": "x"}'),
        ('["errors"]', '["errors"]'),
    ],
)
def test_listed_errors_falls_back_to_the_masked_snippet(text: str, expected: str) -> None:
    assert listed_errors(reply(400, text), "Acme", "message") == expected
