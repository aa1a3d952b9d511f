"""testSmsGateway (the seeds' Test Connection) and the message log, through real gateways."""

import base64
from urllib.parse import parse_qs

import pytest
from werkzeug import Response

from tests.api.graphql_documents import CREATE_GATEWAY, MESSAGES, TEST_GATEWAY, UPDATE_GATEWAY

PHONE = "+447079692712"


def http_gateway_input(url: str, **parameters):
    return {
        "name": "Local HTTP",
        "type": "http",
        "url": url,
        "username": "smsuser",
        "password": "pw-very-secret",
        "signature": "[Acme] ",
        "timeoutSeconds": 2,
        "extensionParameters": {"route": "otp"},
        "parameters": {
            "HTTP_METHOD": "POST",
            "RETURN_SUCCESS": "OK",
            "PARAMETER": {"api_id": "param-secret-123"},
            "OPTIONS": {"to": "{phone}", "text": "{otp}"},
            **parameters,
        },
    }


async def test_test_gateway_keeps_the_message_with_its_signature(admin):
    gw = await admin.ok(
        CREATE_GATEWAY, input={"name": "T", "type": "test", "signature": "【Cloud IDaaS Platform】"}
    )
    sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone="447079692712", text="Hello there")
    assert sent["status"] == "DELIVERED" and sent["to"] == "+44******2712"
    assert sent["text"] == "【Cloud IDaaS Platform】Hello there"
    assert sent["encoding"] == "UCS-2" and sent["segments"] == 1
    assert sent["gateway"] == {"id": gw["id"]} and sent["providerMessageId"]
    listed = (await admin.data(MESSAGES, first=10))["smsMessages"]
    assert [e["node"]["id"] for e in listed["edges"]] == [sent["id"]]
    assert listed["edges"][0]["node"]["purpose"] == "TEST"


async def test_http_gateway_receives_the_exact_request(admin, httpserver):
    httpserver.expect_oneshot_request("/sms/send", method="POST").respond_with_data("OK id=991")
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(httpserver.url_for("/sms/send")))
    sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="Test {otp} 100%")
    assert sent["status"] == "SENT" and sent["text"] is None
    ((request, _),) = httpserver.log
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(b"smsuser:pw-very-secret").decode()
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.get_data(as_text=True)) == {
        "api_id": ["param-secret-123"],
        "route": ["otp"],
        "to": [PHONE],
        "text": ["[Acme] Test {otp} 100%"],
    }


async def test_update_without_password_still_authenticates_with_the_old_one(admin, httpserver):
    httpserver.expect_request("/send").respond_with_data("OK")
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(httpserver.url_for("/send")))
    await admin.ok(
        UPDATE_GATEWAY,
        id=gw["id"],
        input={
            "description": "edited",
            "parameters": {"HTTP_METHOD": "GET", "OPTIONS": {"msisdn": "{phone}", "msg": "{otp}"}},
        },
    )
    await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="hi")
    ((request, _),) = httpserver.log
    assert request.method == "GET"
    assert request.authorization.password == "pw-very-secret"
    assert request.args["api_id"] == "param-secret-123" and request.args["msisdn"] == PHONE


async def test_gateway_refusal_is_gateway_rejected_and_recorded_as_failed(admin, httpserver):
    httpserver.expect_request("/send").respond_with_data("ERR: insufficient credit")
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(httpserver.url_for("/send")))
    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert result["code"] == "GATEWAY_REJECTED"
    assert "insufficient credit" in result["providerReason"]
    assert result["sms"]["status"] == "FAILED"
    failed = (await admin.data(MESSAGES, status="FAILED"))["smsMessages"]["edges"]
    assert [e["node"]["id"] for e in failed] == [result["sms"]["id"]]
    assert "insufficient credit" in failed[0]["node"]["errorDetail"]


async def test_http_error_status_is_rejected_and_5xx_unavailable(admin, httpserver):
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(httpserver.url_for("/send")))
    httpserver.expect_oneshot_request("/send").respond_with_data("bad number", status=400)
    httpserver.expect_oneshot_request("/send").respond_with_data("down", status=503)
    first = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    second = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert first["code"] == "GATEWAY_REJECTED" and "400" in first["providerReason"]
    assert second["code"] == "GATEWAY_UNAVAILABLE" and "503" in second["reason"]


async def test_unreachable_gateway_is_unavailable(admin):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(f"http://127.0.0.1:{port}/x"))
    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert result["code"] == "GATEWAY_UNAVAILABLE" and "cannot connect" in result["reason"]
    assert result["sms"]["status"] == "FAILED"


async def test_slow_gateway_times_out_as_unavailable(admin, httpserver, stalled_handler):
    httpserver.expect_request("/send").respond_with_handler(stalled_handler)
    given = {**http_gateway_input(httpserver.url_for("/send")), "timeoutSeconds": 0.5}
    gw = await admin.ok(CREATE_GATEWAY, input=given)
    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert result["code"] == "GATEWAY_UNAVAILABLE" and "0.5 s" in result["reason"]


@pytest.mark.parametrize("phone", ["", "12", "+999123", "call me", "+44 20 7946 0958x" * 5])
async def test_bad_numbers_are_invalid_phone_number_and_send_nothing(admin, phone):
    gw = await admin.ok(CREATE_GATEWAY, input={"name": "T", "type": "test"})
    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=phone))["testSmsGateway"]
    assert result["__typename"] == "InvalidPhoneNumberError"
    assert result["code"] == "INVALID_PHONE_NUMBER" and result["field"] == "phoneNumber"
    assert (await admin.data(MESSAGES))["smsMessages"]["edges"] == []


async def test_disabled_gateway_does_not_send(admin):
    gw = await admin.ok(CREATE_GATEWAY, input={"name": "T", "type": "test", "enabled": False})
    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert result["code"] == "GATEWAY_UNAVAILABLE" and "disabled" in result["reason"]


async def test_test_gateway_daily_quota(admin, frozen_clock):
    gw = await admin.ok(
        CREATE_GATEWAY, input={"name": "T", "type": "test", "parameters": {"DAILY_QUOTA": 2}}
    )
    for _ in range(2):
        await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE)
    over = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert over["code"] == "GATEWAY_REJECTED" and "quota" in over["providerReason"]
    frozen_clock.advance(days=1)
    await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE)


async def test_messages_page_newest_first_and_filter_by_gateway(admin):
    one = await admin.ok(CREATE_GATEWAY, input={"name": "One", "type": "test"})
    two = await admin.ok(CREATE_GATEWAY, input={"name": "Two", "type": "test"})
    sent = [
        await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text=f"m{i}")
        for i, gw in enumerate([one, two, one, two, one])
    ]
    page = (await admin.data(MESSAGES, first=2))["smsMessages"]
    assert [e["node"]["text"] for e in page["edges"]] == ["m4", "m3"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await admin.data(MESSAGES, first=10, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["text"] for e in rest["smsMessages"]["edges"]] == ["m2", "m1", "m0"]
    assert rest["smsMessages"]["pageInfo"]["hasNextPage"] is False
    only_two = (await admin.data(MESSAGES, gatewayId=two["id"]))["smsMessages"]["edges"]
    assert [e["node"]["text"] for e in only_two] == ["m3", "m1"]
    assert len(sent) == 5
    bad_cursor = await admin.execute(MESSAGES, after="nonsense")
    assert bad_cursor["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    too_many = await admin.execute(MESSAGES, first=1000)
    assert too_many["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "first"}


async def test_long_text_counts_segments(admin):
    gw = await admin.ok(CREATE_GATEWAY, input={"name": "T", "type": "test"})
    sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="a" * 161)
    assert (sent["encoding"], sent["segments"]) == ("GSM-7", 2)


async def test_gateway_echoing_the_message_back_does_not_store_it(admin, httpserver):
    httpserver.expect_request("/send").respond_with_handler(
        lambda request: Response(f"REFUSED to={request.form['to']} text={request.form['text']}")
    )
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(httpserver.url_for("/send")))
    result = await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="code 482913")
    reason = result["testSmsGateway"]["providerReason"]
    assert "REFUSED" in reason and "482913" not in reason and "7079692712" not in reason


async def test_a_crashing_provider_fails_the_message_instead_of_losing_it(
    admin, httpserver, monkeypatch, caplog
):
    import providers.http

    async def crash(*args, **kwargs):
        raise RuntimeError("provider bug")

    monkeypatch.setattr(providers.http.provider, "send", crash)
    gw = await admin.ok(CREATE_GATEWAY, input=http_gateway_input(httpserver.url_for("/send")))
    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]
    assert result["code"] == "GATEWAY_UNAVAILABLE" and "error ID" in result["reason"]
    assert result["sms"]["status"] == "FAILED"
    assert "provider bug" in caplog.text  # the operator sees the cause in the log
