"""SMS gateway accounts through GraphQL: fields, secrets, default flag, deletion rules."""

import base64

from tests.api.graphql_documents import (
    CREATE_GATEWAY,
    CREATE_STORE,
    DELETE_GATEWAY,
    GATEWAYS,
    SET_DEFAULT,
    UPDATE_GATEWAY,
)

HTTP_INPUT = {
    "name": "Clickatell",
    "type": "http",
    "url": "https://api.example.test/http/sendmsg",
    "accountId": "acct-7",
    "username": "smsuser",
    "password": "pw-very-secret",
    "senderId": "+15550001",
    "signature": "【Cloud IDaaS Platform】",
    "description": "primary",
    "timeoutSeconds": 5,
    "checkSsl": False,
    "parameters": {
        "HTTP_METHOD": "get",
        "RETURN_SUCCESS": "ID",
        "PARAMETER": {"api_id": "param-secret-123"},
        "OPTIONS": {"to": "{phone}", "text": "{otp}"},
    },
    "extensionParameters": {"channel": "otp"},
    "proxy": {
        "host": "proxy.internal",
        "port": 3128,
        "domain": "CORP",
        "username": "pxuser",
        "password": "proxy-secret-456",
        "description": "egress",
    },
}


async def create(admin, **overrides):
    return await admin.ok(CREATE_GATEWAY, input={"name": "Test", "type": "test", **overrides})


async def test_create_http_gateway_keeps_every_field_and_hides_secrets(admin):
    gw = await admin.ok(CREATE_GATEWAY, input=HTTP_INPUT)
    assert gw["name"] == "Clickatell" and gw["type"] == "http"
    assert gw["url"] == HTTP_INPUT["url"]
    assert (gw["accountId"], gw["username"], gw["senderId"]) == ("acct-7", "smsuser", "+15550001")
    assert gw["signature"] == "【Cloud IDaaS Platform】" and gw["description"] == "primary"
    assert gw["timeoutSeconds"] == 5 and gw["checkSsl"] is False and gw["enabled"] is True
    assert gw["hasPassword"] is True
    assert gw["parameters"] == {
        "HTTP_METHOD": "GET",
        "RETURN_SUCCESS": "ID",
        "OPTIONS": {"to": "{phone}", "text": "{otp}"},
    }
    assert gw["secretParametersSet"] == ["PARAMETER"]
    assert gw["extensionParameters"] == {"channel": "otp"}
    assert gw["proxy"] == {
        "host": "proxy.internal",
        "port": 3128,
        "domain": "CORP",
        "username": "pxuser",
        "hasPassword": True,
        "description": "egress",
    }
    for secret in ("pw-very-secret", "param-secret-123", "proxy-secret-456"):
        assert all(secret not in body for body in admin.seen)


async def test_secrets_are_encrypted_at_rest(admin):
    from domain.models import SmsGateway

    await admin.ok(CREATE_GATEWAY, input=HTTP_INPUT)
    row = await SmsGateway.get(name="Clickatell")
    stored = repr(row.__dict__)
    for secret in ("pw-very-secret", "param-secret-123", "proxy-secret-456"):
        assert secret not in stored


async def test_update_without_secret_keeps_it_and_empty_string_clears_it(admin):
    gw = await admin.ok(CREATE_GATEWAY, input=HTTP_INPUT)
    kept = await admin.ok(UPDATE_GATEWAY, id=gw["id"], input={"description": "changed"})
    assert kept["hasPassword"] is True and kept["proxy"]["hasPassword"] is True
    assert kept["secretParametersSet"] == ["PARAMETER"] and kept["description"] == "changed"
    nulled = await admin.ok(UPDATE_GATEWAY, id=gw["id"], input={"password": None})
    assert nulled["hasPassword"] is True
    cleared = await admin.ok(UPDATE_GATEWAY, id=gw["id"], input={"password": ""})
    assert cleared["hasPassword"] is False
    assert cleared["username"] == "smsuser"


async def test_update_of_parameters_keeps_unsent_secret_parameters(admin):
    gw = await admin.ok(CREATE_GATEWAY, input=HTTP_INPUT)
    params = {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "msg": "{otp}"}}
    updated = await admin.ok(UPDATE_GATEWAY, id=gw["id"], input={"parameters": params})
    assert updated["parameters"]["HTTP_METHOD"] == "POST"
    assert updated["secretParametersSet"] == ["PARAMETER"]


async def test_names_are_unique_per_tenant(admin, other_admin):
    await create(admin, name="Main")
    clash = await admin.data(CREATE_GATEWAY, input={"name": " Main ", "type": "test"})
    assert clash["createSmsGateway"]["code"] == "VALIDATION"
    assert clash["createSmsGateway"]["field"] == "name"
    await create(other_admin, name="Main")  # another tenant may use the name


async def test_validation_errors_name_the_field(admin):
    cases = [
        ({"name": "", "type": "test"}, "name"),
        ({"name": "x"}, "type"),
        ({"name": "x", "type": "nope"}, "type"),
        (
            {
                "name": "x",
                "type": "http",
                "parameters": {"OPTIONS": {"to": "{phone}", "t": "{otp}"}},
            },
            "url",
        ),
        ({"name": "x", "type": "test", "timeoutSeconds": 0}, "timeoutSeconds"),
        ({"name": "x", "type": "test", "proxy": {"host": "p", "port": 70000}}, "proxy.port"),
        ({"name": "x", "type": "test", "proxy": {"username": "u"}}, "proxy.host"),
        ({"name": "x", "type": "test", "parameters": {"BOGUS": 1}}, "parameters.BOGUS"),
        (
            {"name": "x", "type": "test", "parameters": {"DAILY_QUOTA": "many"}},
            "parameters.DAILY_QUOTA",
        ),
        ({"name": "x", "type": "test", "url": "not a url"}, "url"),
        ({"name": "x", "type": "test", "extensionParameters": ["a"]}, "extensionParameters"),
        (
            {**HTTP_INPUT, "parameters": {**HTTP_INPUT["parameters"], "RETURN_FAIL": "ERR"}},
            "parameters.RETURN_FAIL",
        ),
        (
            {
                **HTTP_INPUT,
                "parameters": {**HTTP_INPUT["parameters"], "PARAMETER": {"to": "fixed"}},
            },
            "parameters.OPTIONS",
        ),
        ({**HTTP_INPUT, "parameters": {"OPTIONS": {"to": "{phone}"}}}, "parameters.OPTIONS"),
    ]
    for given, field in cases:
        result = (await admin.data(CREATE_GATEWAY, input=given))["createSmsGateway"]
        assert (result.get("code"), result.get("field")) == ("VALIDATION", field), given
    assert (await admin.data(GATEWAYS))["smsGateways"] == []  # nothing half-created


async def test_http_parameter_clash_message_names_the_parameter(admin):
    given = {**HTTP_INPUT, "parameters": {**HTTP_INPUT["parameters"], "PARAMETER": {"text": "x"}}}
    result = (await admin.data(CREATE_GATEWAY, input=given))["createSmsGateway"]
    assert "text" in result["message"]


async def test_only_one_default_gateway(admin):
    first = await create(admin, name="One", isDefault=True)
    second = await create(admin, name="Two", isDefault=True)
    listed = {g["name"]: g["isDefault"] for g in (await admin.data(GATEWAYS))["smsGateways"]}
    assert listed == {"One": False, "Two": True}
    await admin.ok(SET_DEFAULT, id=first["id"])
    listed = {g["name"]: g["isDefault"] for g in (await admin.data(GATEWAYS))["smsGateways"]}
    assert listed == {"One": True, "Two": False}
    assert second["isDefault"] is True


async def test_new_store_links_default_gateway_and_keeps_it_when_default_changes(admin):
    first = await create(admin, name="One", isDefault=True)
    store = await admin.ok(CREATE_STORE, name="Corp AD")
    assert store["smsGateway"] == {"id": first["id"], "name": "One"}
    second = await create(admin, name="Two")
    await admin.ok(SET_DEFAULT, id=second["id"])
    later = await admin.ok(CREATE_STORE, name="Partners")
    assert later["smsGateway"]["name"] == "Two"
    listed = {
        g["name"]: g["linkedIdentityStores"] for g in (await admin.data(GATEWAYS))["smsGateways"]
    }
    assert listed == {"One": [{"name": "Corp AD"}], "Two": [{"name": "Partners"}]}


async def test_store_without_default_gateway_has_none(admin):
    await create(admin, name="NotDefault")
    store = await admin.ok(CREATE_STORE, name="Corp AD")
    assert store["smsGateway"] is None


async def test_delete_refused_while_linked_naming_the_stores(admin):
    gw = await create(admin, name="One", isDefault=True)
    await admin.ok(CREATE_STORE, name="Corp AD")
    await admin.ok(CREATE_STORE, name="Partners")
    refused = (await admin.data(DELETE_GATEWAY, id=gw["id"]))["deleteSmsGateway"]
    assert refused["__typename"] == "GatewayInUseError" and refused["code"] == "GATEWAY_IN_USE"
    assert sorted(s["name"] for s in refused["identityStores"]) == ["Corp AD", "Partners"]
    assert "Corp AD" in refused["message"] and "Partners" in refused["message"]
    assert len((await admin.data(GATEWAYS))["smsGateways"]) == 1


async def test_delete_unlinked_gateway(admin):
    gw = await create(admin)
    assert (await admin.ok(DELETE_GATEWAY, id=gw["id"])) == {"id": gw["id"]}
    assert (await admin.data(GATEWAYS))["smsGateways"] == []
    again = (await admin.data(DELETE_GATEWAY, id=gw["id"]))["deleteSmsGateway"]
    assert again["code"] == "NOT_FOUND"


async def test_gateway_types_declare_parameters(admin):
    query = """{ smsGatewayTypes { key name custom defaultUrl urlEditable requiredFields
                 parameters { name label required secret default help kind choices } } }"""
    types = {t["key"]: t for t in (await admin.data(query))["smsGatewayTypes"]}
    assert {"http", "test"} <= set(types)
    http = types["http"]
    assert http["custom"] is False and http["requiredFields"] == ["url"]
    params = {p["name"]: p for p in http["parameters"]}
    assert {"HTTP_METHOD", "RETURN_SUCCESS", "RETURN_FAIL", "PARAMETER", "OPTIONS"} <= set(params)
    assert params["HTTP_METHOD"]["choices"] == ["GET", "POST"]
    assert params["HTTP_METHOD"]["default"] == "GET"
    assert params["PARAMETER"]["secret"] is True and params["PARAMETER"]["default"] is None
    assert all(p["label"] and p["help"] for p in http["parameters"])
    assert types["test"]["urlEditable"] is False


async def test_node_query_finds_gateway_by_global_id(admin):
    gw = await create(admin, name="Node")
    found = await admin.data(
        "query($id: ID!) { node(id: $id) { id ... on SmsGateway { name } } }", id=gw["id"]
    )
    assert found["node"] == {"id": gw["id"], "name": "Node"}
    assert base64.b64decode(gw["id"]).decode().startswith("SmsGateway:")
    single = await admin.data("query($id: ID!) { smsGateway(id: $id) { name } }", id=gw["id"])
    assert single["smsGateway"] == {"name": "Node"}
    garbage = await admin.data('query { smsGateway(id: "garbage") { name } }')
    assert garbage["smsGateway"] is None
