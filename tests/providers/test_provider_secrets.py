"""Secrets and codes never show in a gateway configuration's or a message's ``repr``.

Reprs end up in logs and tracebacks, so they may name a gateway or a message but nothing sensitive.
"""

from providers.base import GatewayConfig, OutboundMessage, Proxy


def test_gateway_config_repr_hides_password_and_secret_parameters() -> None:
    config = GatewayConfig(
        type="http",
        url="https://sms.example.com/send",
        username="AC123",
        password="hunter2",
        proxy=Proxy(host="proxy.internal", username="proxyuser", password="proxypass"),
        parameters={"PARAMETER": {"api_key": "k3y-s3cret"}},
        extension_parameters={"token": "ext-s3cret"},
    )

    text = repr(config)

    assert "https://sms.example.com/send" in text
    for secret in ("hunter2", "proxypass", "k3y-s3cret", "ext-s3cret"):
        assert secret not in text
    assert "hunter2" not in str(config)


def test_outbound_message_repr_hides_code_and_number() -> None:
    message = OutboundMessage(to="+447079692712", text="Your code is 123456", reference="42")

    text = repr(message)

    assert "42" in text
    assert "123456" not in text
    assert "447079692712" not in text
    assert "123456" not in str(message)
