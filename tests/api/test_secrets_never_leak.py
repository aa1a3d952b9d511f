"""Secrets (passwords, secret parameters, API keys) never appear in any response or log line."""

import logging

from tests.api.graphql_documents import (
    CREATE_GATEWAY,
    CREATE_STORE,
    GATEWAYS,
    MESSAGES,
    TEST_GATEWAY,
    UPDATE_GATEWAY,
)

SECRETS = ("pw-very-secret", "param-secret-123", "proxy-secret-456")


async def test_full_admin_flow_leaks_no_secret(admin, httpserver, caplog, tenant):
    caplog.set_level(logging.DEBUG)
    httpserver.expect_oneshot_request("/send").respond_with_data("OK")
    httpserver.expect_oneshot_request("/send").respond_with_data("failure", status=500)
    gateway_input = {
        "name": "HTTP",
        "type": "http",
        "url": httpserver.url_for("/send"),
        "username": "u",
        "password": SECRETS[0],
        "isDefault": True,
        "parameters": {
            "PARAMETER": {"key": SECRETS[1]},
            "OPTIONS": {"to": "{phone}", "text": "{otp}"},
        },
    }
    gw = await admin.ok(CREATE_GATEWAY, input=gateway_input)
    await admin.ok(
        UPDATE_GATEWAY,
        id=gw["id"],
        input={"proxy": {"host": "127.0.0.1", "port": 9, "password": SECRETS[2]}},
    )
    await admin.ok(UPDATE_GATEWAY, id=gw["id"], input={"proxy": None})
    await admin.ok(CREATE_STORE, name="Corp")
    await admin.ok(TEST_GATEWAY, id=gw["id"], phone="+447079692712", text="code 482913")
    failed = await admin.data(TEST_GATEWAY, id=gw["id"], phone="+447079692712")
    assert failed["testSmsGateway"]["code"] == "GATEWAY_UNAVAILABLE"
    await admin.data(GATEWAYS)
    await admin.data(MESSAGES)
    await admin.data(
        "query($id: ID!) { node(id: $id) { ... on SmsGateway { parameters proxy { host } } } }",
        id=gw["id"],
    )
    await admin.execute("{ this is not graphql")
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]  # the fake gateway's
    assert any(r.name.startswith("smsauth") for r in ours)  # the log was really captured
    handler = logging.Formatter("%(name)s %(message)s %(exc_text)s")
    logged = "\n".join(handler.format(r) for r in ours)
    for secret in (*SECRETS, tenant[1]):
        assert secret not in logged
        assert all(secret not in body for body in admin.seen)
    assert "+447079692712" not in logged and "482913" not in logged


async def test_otp_flows_log_and_answer_no_code_and_no_full_number(setup, caplog, frozen_clock):
    from tests.api.otp_documents import (
        START_AUTHENTICATION,
        START_ENROLLMENT,
        VERIFY_AUTHENTICATION,
        VERIFY_ENROLLMENT,
    )
    from tests.api.otp_support import PHONE

    caplog.set_level(logging.DEBUG)
    s = setup
    codes = []
    enrolling = await s.service.data(START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    codes.append(s.gateway.last_code())
    await s.service.data(
        VERIFY_ENROLLMENT,
        challenge=enrolling["startSmsEnrollment"]["id"],
        code="999999" if codes[0] != "999999" else "000000",
    )
    await s.service.data(
        VERIFY_ENROLLMENT, challenge=enrolling["startSmsEnrollment"]["id"], code=codes[0]
    )
    frozen_clock.advance(seconds=60)
    auth = await s.service.data(START_AUTHENTICATION, store=s.store, user="alice")
    codes.append(s.gateway.last_code())
    await s.service.data(
        VERIFY_AUTHENTICATION, challenge=auth["startSmsAuthentication"]["id"], code=codes[1]
    )
    ours = [r for r in caplog.records if not r.name.startswith("werkzeug")]
    assert any(r.name.startswith("smsauth") for r in ours)
    logged = "\n".join(
        logging.Formatter("%(name)s %(message)s %(exc_text)s").format(r) for r in ours
    )
    for secret in (*codes, PHONE, PHONE.lstrip("+")):
        assert secret not in logged
        assert all(secret not in body for body in s.service.seen)
