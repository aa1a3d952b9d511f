"""The ``http`` provider's cross-field rules, checked when a gateway is saved."""

from typing import Any

import pytest

from providers.base import ConfigProblem, GatewayConfig
from providers.http import provider

GOOD_OPTIONS = {"to": "{phone}", "text": "Your code: {otp}"}


def check(
    url: str | None = "https://sms.example.com/send",
    extension: dict[str, str] | None = None,
    **parameters: Any,
) -> list[ConfigProblem]:
    parameters.setdefault("OPTIONS", GOOD_OPTIONS)
    config = GatewayConfig(
        type="http", url=url, parameters=parameters, extension_parameters=extension or {}
    )
    return provider.check_configuration(config)


@pytest.mark.parametrize("url", ["https://sms.example.com/send", "http://10.0.0.5:8080/sms"])
def test_good_configuration_has_no_problems(url: str) -> None:
    assert (
        check(
            url,
            extension={"route": "eu"},
            HTTP_METHOD="POST",
            RETURN_SUCCESS="ID",
            PARAMETER={"user": "acme", "api_id": "3456"},
            SEND_DATA_AS_JSON=True,
            PHONE_FORMAT="DIGITS",
        )
        == []
    )


def test_success_and_failure_text_together_is_a_problem() -> None:
    assert check(RETURN_SUCCESS="ID", RETURN_FAIL="ERR") == [
        ConfigProblem("parameters.RETURN_FAIL", "use either RETURN_SUCCESS or RETURN_FAIL")
    ]


def test_fixed_parameter_named_like_an_option_is_a_problem_naming_it() -> None:
    problems = check(PARAMETER={"user": "acme", "to": "+15550000000"})

    assert [p.field for p in problems] == ["parameters.OPTIONS"]
    assert "to" in problems[0].message.split(": ")[-1].split(", ")


def test_extension_parameter_named_like_an_option_is_a_problem_naming_it() -> None:
    problems = check(extension={"text": "fixed"})

    assert [p.field for p in problems] == ["parameters.OPTIONS"]
    assert problems[0].message.endswith(": text")


def test_every_clashing_name_is_listed() -> None:
    problems = check(PARAMETER={"to": "x"}, extension={"text": "y"})

    assert [p.message.split(": ")[-1] for p in problems] == ["text, to"]


@pytest.mark.parametrize(
    ("options", "missing"),
    [
        ({"to": "{phone}", "text": "Your code"}, "{otp}"),
        ({"to": "+15550000000", "text": "{otp}"}, "{phone}"),
    ],
)
def test_options_lacking_a_tag_is_a_problem(options: dict[str, str], missing: str) -> None:
    assert check(OPTIONS=options) == [
        ConfigProblem("parameters.OPTIONS", f"no option uses {missing}")
    ]


def test_no_options_at_all_is_a_problem_for_both_tags() -> None:
    assert [p.message for p in check(OPTIONS={})] == [
        "no option uses {phone}",
        "no option uses {otp}",
    ]


@pytest.mark.parametrize(
    "url", ["ftp://sms.example.com/send", "sms.example.com/send", "javascript:alert(1)", "", None]
)
def test_non_http_url_is_a_problem(url: str | None) -> None:
    assert check(url) == [ConfigProblem("url", "must be an http:// or https:// URL")]
