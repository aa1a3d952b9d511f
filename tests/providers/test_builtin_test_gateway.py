"""The built-in ``test`` gateway: accepts and "delivers" without any network I/O, under a quota."""

from typing import Any

import pytest

from providers.base import Accepted, GatewayConfig, OutboundMessage
from providers.test_gateway import DEFAULT_DAILY_QUOTA, provider


class NoTransport:
    """A transport that fails the test if the test gateway ever uses it."""

    async def request(self, config: GatewayConfig, method: str, url: str, **kwargs: Any) -> Any:
        raise AssertionError("the test gateway must not do network I/O")


def config(**parameters: Any) -> GatewayConfig:
    return GatewayConfig(type="test", parameters=parameters)


async def test_send_is_accepted_and_delivered_with_a_message_id() -> None:
    message = OutboundMessage(to="+447079692712", text="Your code is 123456", reference="42")

    result = await provider.send(message, config(), NoTransport())

    assert isinstance(result, Accepted)
    assert result.delivered is True
    assert result.provider_message_id == "test-42"


async def test_message_ids_differ_per_message() -> None:
    results = [
        await provider.send(OutboundMessage("+447079692712", "x", ref), config(), NoTransport())
        for ref in ("1", "2")
    ]

    assert results[0].provider_message_id != results[1].provider_message_id


def test_daily_quota_defaults_to_50() -> None:
    assert DEFAULT_DAILY_QUOTA == 50
    assert provider.daily_quota(config()) == 50


def test_declared_quota_default_matches_the_quota_used() -> None:
    declared = provider.type.parameter("DAILY_QUOTA")

    assert declared is not None
    assert declared.default == provider.daily_quota(config())


def test_daily_quota_follows_the_parameter() -> None:
    assert provider.daily_quota(config(DAILY_QUOTA=7)) == 7


@pytest.mark.parametrize("quota", [1, 50, 1000])
def test_quota_within_1_to_1000_is_accepted(quota: int) -> None:
    assert provider.check_configuration(config(DAILY_QUOTA=quota)) == []


def test_default_quota_is_accepted() -> None:
    assert provider.check_configuration(config()) == []


@pytest.mark.parametrize("quota", [0, -1, 1001])
def test_quota_outside_1_to_1000_is_a_problem(quota: int) -> None:
    problems = provider.check_configuration(config(DAILY_QUOTA=quota))

    assert [p.field for p in problems] == ["parameters.DAILY_QUOTA"]
    assert problems[0].message == "must be between 1 and 1000"


def test_test_gateway_keeps_texts_and_has_a_fixed_url() -> None:
    assert provider.type.keeps_text is True
    assert provider.type.url_editable is False
