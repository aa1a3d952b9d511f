"""The SSRF guard through GraphQL: gateway destinations are checked when saved and when used.

``strict_admin`` talks to an app whose settings turn ``SMSAUTH_ALLOW_PRIVATE_NETWORKS`` off (as the
production example in ``docker/`` does); ``admin`` to the default app, which allows private and
loopback networks but never link-local or cloud metadata addresses.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from domain.settings import Settings
from tests.api.graphql_documents import CREATE_GATEWAY, TEST_GATEWAY, UPDATE_GATEWAY
from tests.conftest import GraphQLClient, client_for

NOT_PERMITTED = "not a permitted destination"
METADATA_URL = "http://169.254.169.254/latest/meta-data"
PHONE = "+447079692712"


@pytest.fixture
async def strict_admin(settings: Settings, tenant: tuple[Any, str]) -> AsyncIterator[GraphQLClient]:
    """The tenant's admin on an app without private networks (same database as ``admin``)."""
    async with client_for(settings, allow_private_networks=False) as http:
        yield GraphQLClient(http, tenant[1])


def http_gateway(url: str, **fields: Any) -> dict[str, Any]:
    parameters = {"HTTP_METHOD": "GET", "OPTIONS": {"to": "{phone}", "text": "{otp}"}}
    return {"name": "HTTP", "type": "http", "url": url, "parameters": parameters, **fields}


def smtp_gateway(host: str) -> dict[str, Any]:
    parameters = {
        "SMTP_HOST": host,
        "TLS_MODE": "NONE",
        "MAILFROM": "otp@acme.example",
        "MAILTO": "{phone}@sms.example",
    }
    return {"name": "Mail", "type": "smtp", "parameters": parameters}


def smpp_gateway(host: str) -> dict[str, Any]:
    parameters = {"SMSC_HOST": host, "SYSTEM_ID": "esme", "PASSWORD": "pw"}
    return {"name": "SMSC", "type": "smpp", "senderId": "Acme", "parameters": parameters}


async def refused(client: GraphQLClient, document: str, **variables: Any) -> dict[str, Any]:
    (result,) = (await client.data(document, **variables)).values()
    assert result["__typename"] == "ValidationError" and result["code"] == "VALIDATION", result
    assert NOT_PERMITTED in result["message"], result
    return result


@pytest.mark.parametrize("private_networks", [True, False])
async def test_the_metadata_address_is_refused_with_or_without_private_networks(
    admin: GraphQLClient, strict_admin: GraphQLClient, private_networks: bool
) -> None:
    client = admin if private_networks else strict_admin
    result = await refused(client, CREATE_GATEWAY, input=http_gateway(METADATA_URL))
    assert result["field"] == "url"
    assert result["message"] == f"169.254.169.254 is {NOT_PERMITTED} (a cloud metadata address)"


@pytest.mark.parametrize(
    ("gateway", "field"),
    [
        (http_gateway("http://127.0.0.1:8080/send"), "url"),
        (http_gateway("http://[::1]:8080/send"), "url"),
        (http_gateway("http://localhost:8080/send"), "url"),  # a name that resolves to loopback
        (http_gateway("https://sms.example/send", proxy={"host": "10.1.2.3"}), "proxy.host"),
        (smtp_gateway("127.0.0.1"), "parameters.SMTP_HOST"),
        (smpp_gateway("localhost"), "parameters.SMSC_HOST"),
    ],
    ids=["url", "ipv6-url", "url-name", "proxy", "smtp", "smpp"],
)
async def test_private_destinations_are_refused_without_private_networks(
    admin: GraphQLClient, strict_admin: GraphQLClient, gateway: dict[str, Any], field: str
) -> None:
    result = await refused(strict_admin, CREATE_GATEWAY, input=gateway)
    assert result["field"] == field
    assert "SMSAUTH_ALLOW_PRIVATE_NETWORKS is off" in result["message"]

    saved = await admin.ok(CREATE_GATEWAY, input=gateway)  # the embedded default allows them
    assert saved["type"] == gateway["type"]


async def test_a_metadata_host_name_is_refused_as_a_proxy(admin: GraphQLClient) -> None:
    gateway = http_gateway("https://sms.example/send", proxy={"host": "metadata.google.internal"})
    result = await refused(admin, CREATE_GATEWAY, input=gateway)
    assert result["field"] == "proxy.host"


async def test_an_update_is_checked_for_the_hosts_it_changes(
    admin: GraphQLClient, strict_admin: GraphQLClient
) -> None:
    saved = await admin.ok(CREATE_GATEWAY, input=http_gateway("http://127.0.0.1:8080/send"))

    # Saved while private networks were allowed: it can still be disabled or renamed ...
    changed = await strict_admin.ok(
        UPDATE_GATEWAY, id=saved["id"], input={"enabled": False, "name": "Old"}
    )
    assert (changed["enabled"], changed["name"]) == (False, "Old")
    # ... but not pointed at another private host, nor at the metadata address at all.
    result = await refused(
        strict_admin, UPDATE_GATEWAY, id=saved["id"], input={"url": "http://10.0.0.5/send"}
    )
    assert result["field"] == "url"
    await refused(admin, UPDATE_GATEWAY, id=saved["id"], input={"url": METADATA_URL})
    proxy = {"proxy": {"host": "192.168.0.10", "port": 3128}}
    result = await refused(strict_admin, UPDATE_GATEWAY, id=saved["id"], input=proxy)
    assert result["field"] == "proxy.host"


async def test_a_gateway_saved_before_the_setting_changed_is_refused_when_used(
    admin: GraphQLClient, strict_admin: GraphQLClient, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    gateway = http_gateway(httpserver.url_for("/send"), timeoutSeconds=5)
    saved = await admin.ok(CREATE_GATEWAY, input=gateway)

    (result,) = (await strict_admin.data(TEST_GATEWAY, id=saved["id"], phone=PHONE)).values()

    assert result["code"] == "GATEWAY_UNAVAILABLE" and NOT_PERMITTED in result["reason"], result
    assert result["sms"]["status"] == "FAILED"
    assert httpserver.log == []
    (sent,) = (await admin.data(TEST_GATEWAY, id=saved["id"], phone=PHONE)).values()
    assert sent["status"] == "SENT" and len(httpserver.log) == 1  # the default app sends
