"""Identity stores, SMS authentication settings, security roles, users and their requirements."""

import pytest

from tests.api.graphql_documents import (
    CONFIGURE_SMS,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    DELETE_GATEWAY,
    DELETE_STORE,
    REQUIREMENTS,
    SET_POLICY,
    UPDATE_STORE,
    UPSERT_USER,
)


@pytest.fixture
async def gateway(admin):
    return await admin.ok(CREATE_GATEWAY, input={"name": "Test", "type": "test", "isDefault": True})


@pytest.fixture
async def store(admin, gateway):
    return await admin.ok(CREATE_STORE, name="Corp AD")


async def test_new_store_has_the_seeds_defaults(store):
    sms = store["smsAuthentication"]
    assert sms["enabled"] is False
    assert sms["textMessage"] == "Your verification code is [Code]"
    assert sms["codeLength"] == 6
    assert store["roles"] == []


async def test_configure_sms_authentication(admin, store, gateway):
    backup = await admin.ok(CREATE_GATEWAY, input={"name": "Backup", "type": "test"})
    configured = await admin.ok(
        CONFIGURE_SMS,
        store=store["id"],
        input={
            "gatewayId": gateway["id"],
            "backupGatewayId": backup["id"],
            "textMessage": "[Code] is your Acme code",
            "codeLength": 8,
            "codeTtlSeconds": 120,
            "maxAttempts": 5,
            "resendCooldownSeconds": 45,
            "defaultRegion": "gb",
            "enabled": True,
        },
    )
    assert configured["smsAuthentication"] == {
        "enabled": True,
        "textMessage": "[Code] is your Acme code",
        "codeLength": 8,
        "codeTtlSeconds": 120,
        "maxAttempts": 5,
        "resendCooldownSeconds": 45,
        "defaultRegion": "GB",
    }
    assert configured["backupSmsGateway"]["name"] == "Backup"
    partial = await admin.ok(CONFIGURE_SMS, store=store["id"], input={"codeLength": 4})
    assert partial["smsAuthentication"]["textMessage"] == "[Code] is your Acme code"
    refused = (await admin.data(DELETE_GATEWAY, id=backup["id"]))["deleteSmsGateway"]
    assert refused["code"] == "GATEWAY_IN_USE"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"textMessage": "Your code"}, "textMessage"),
        ({"codeLength": 3}, "codeLength"),
        ({"codeLength": 11}, "codeLength"),
        ({"maxAttempts": 0}, "maxAttempts"),
        ({"codeTtlSeconds": 5}, "codeTtlSeconds"),
        ({"resendCooldownSeconds": -1}, "resendCooldownSeconds"),
        ({"defaultRegion": "Narnia"}, "defaultRegion"),
        ({"gatewayId": None, "enabled": True}, "gatewayId"),
    ],
)
async def test_configure_rejects_bad_values_and_changes_nothing(admin, store, given, field):
    result = await admin.data(CONFIGURE_SMS, store=store["id"], input=given)
    result = result["configureSmsAuthentication"]
    assert (result["code"], result["field"]) == ("VALIDATION", field)
    again = await admin.data(
        f'{{ identityStore(id: "{store["id"]}") {{ smsGateway {{ name }} '
        "smsAuthentication { textMessage codeLength enabled } } }"
    )
    assert again["identityStore"] == {
        "smsGateway": {"name": "Test"},
        "smsAuthentication": {
            "textMessage": "Your verification code is [Code]",
            "codeLength": 6,
            "enabled": False,
        },
    }


async def test_configure_with_unknown_gateway_is_not_found(admin, store):
    result = await admin.data(
        CONFIGURE_SMS, store=store["id"], input={"gatewayId": "U21zR2F0ZXdheTpub3Bl"}
    )
    assert result["configureSmsAuthentication"]["code"] == "NOT_FOUND"
    assert result["configureSmsAuthentication"]["field"] == "gatewayId"


async def test_rename_and_delete_store(admin, store):
    renamed = await admin.ok(UPDATE_STORE, id=store["id"], name="Directory")
    assert renamed["name"] == "Directory"
    other = await admin.ok(CREATE_STORE, name="Other")
    clash = await admin.data(UPDATE_STORE, id=other["id"], name="Directory")
    assert clash["updateIdentityStore"]["code"] == "VALIDATION"
    assert (await admin.ok(DELETE_STORE, id=store["id"])) == {"id": store["id"]}
    names = [s["name"] for s in (await admin.data("{ identityStores { name } }"))["identityStores"]]
    assert names == ["Other"]


async def test_enforcing_a_role_enables_it_and_disabling_unenforces(admin, store):
    role = await admin.ok(CREATE_ROLE, store=store["id"], name="Admins")
    assert (role["smsEnabled"], role["smsEnforced"]) == (False, False)
    enforced = await admin.ok(SET_POLICY, role=role["id"], input={"smsEnforced": True})
    assert (enforced["smsEnabled"], enforced["smsEnforced"]) == (True, True)
    disabled = await admin.ok(SET_POLICY, role=role["id"], input={"smsEnabled": False})
    assert (disabled["smsEnabled"], disabled["smsEnforced"]) == (False, False)
    contradictory = await admin.data(
        SET_POLICY, role=role["id"], input={"smsEnabled": False, "smsEnforced": True}
    )
    assert contradictory["setAuthenticationPolicy"]["code"] == "VALIDATION"
    duplicate = await admin.data(CREATE_ROLE, store=store["id"], name="Admins")
    assert duplicate["createSecurityRole"]["field"] == "name"


async def test_requirements_combine_the_users_roles(admin, store, gateway):
    await admin.ok(CONFIGURE_SMS, store=store["id"], input={"enabled": True})
    roles = {}
    for name, policy in [
        ("Staff", {"smsEnabled": True}),
        ("Admins", {"smsEnforced": True}),
        ("Guests", {"smsEnabled": False}),
    ]:
        roles[name] = await admin.ok(CREATE_ROLE, store=store["id"], name=name)
        await admin.ok(SET_POLICY, role=roles[name]["id"], input=policy)

    async def requirements(user, role_names, **extra):
        await admin.ok(
            UPSERT_USER, store=store["id"], input={"userId": user, "roles": role_names, **extra}
        )
        return (await admin.data(REQUIREMENTS, store=store["id"], user=user))[
            "authenticationRequirements"
        ]

    assert await requirements("guest", ["Guests"]) == {
        "sms": "UNAVAILABLE",
        "enrolled": False,
        "enrollmentRequired": False,
    }
    assert await requirements("staff", ["Staff", "Guests"]) == {
        "sms": "OPTIONAL",
        "enrolled": False,
        "enrollmentRequired": False,
    }
    assert await requirements("boss", ["Staff", "Admins"]) == {
        "sms": "REQUIRED",
        "enrolled": False,
        "enrollmentRequired": True,
    }
    assert await requirements(
        "boss", ["Admins"], phoneNumber="+447079692712", phoneVerified=True
    ) == {"sms": "REQUIRED", "enrolled": True, "enrollmentRequired": False}
    unknown = await admin.data(REQUIREMENTS, store=store["id"], user="nobody")
    assert unknown["authenticationRequirements"]["sms"] == "UNAVAILABLE"
    await admin.ok(CONFIGURE_SMS, store=store["id"], input={"enabled": False})
    off = await admin.data(REQUIREMENTS, store=store["id"], user="boss")
    assert off["authenticationRequirements"]["sms"] == "UNAVAILABLE"


async def test_upsert_user_validates_roles_phone_and_locale(admin, store):
    await admin.ok(CREATE_ROLE, store=store["id"], name="Staff")
    unknown = await admin.data(
        UPSERT_USER, store=store["id"], input={"userId": "u1", "roles": ["Staff", "Ghosts"]}
    )
    assert unknown["upsertUser"]["code"] == "VALIDATION"
    assert "Ghosts" in unknown["upsertUser"]["message"]
    bad_phone = await admin.data(
        UPSERT_USER, store=store["id"], input={"userId": "u1", "phoneNumber": "12"}
    )
    assert bad_phone["upsertUser"]["__typename"] == "InvalidPhoneNumberError"
    landline = await admin.data(
        UPSERT_USER, store=store["id"], input={"userId": "u1", "phoneNumber": "+442079460000"}
    )
    assert "fixed-line" in landline["upsertUser"]["reason"]
    bad_locale = await admin.data(
        UPSERT_USER, store=store["id"], input={"userId": "u1", "locale": "not a locale"}
    )
    assert bad_locale["upsertUser"]["field"] == "locale"
    users = await admin.data("{ identityStores { id } }")
    assert users  # nothing above created the user:
    from domain.models import StoreUser

    assert await StoreUser.filter(user_id="u1").count() == 0
    user = await admin.ok(
        UPSERT_USER,
        store=store["id"],
        input={
            "userId": "u1",
            "roles": ["Staff"],
            "phoneNumber": "+44 7079 692712",
            "locale": "en-GB",
        },
    )
    assert user["userId"] == "u1" and user["maskedPhoneNumber"] == "+44******2712"
    assert user["phoneVerified"] is False and user["roles"] == [{"name": "Staff"}]
    assert user["locale"] == "en-GB"
    updated = await admin.ok(UPSERT_USER, store=store["id"], input={"userId": "u1", "roles": []})
    assert updated["roles"] == [] and updated["maskedPhoneNumber"] == "+44******2712"


async def test_national_numbers_use_the_stores_default_region(admin, store):
    await admin.ok(CONFIGURE_SMS, store=store["id"], input={"defaultRegion": "GB"})
    user = await admin.ok(
        UPSERT_USER, store=store["id"], input={"userId": "u2", "phoneNumber": "07079 692712"}
    )
    assert user["maskedPhoneNumber"] == "+44******2712"


async def test_deleting_a_store_removes_its_roles_and_users(admin, store):
    await admin.ok(CREATE_ROLE, store=store["id"], name="Staff")
    await admin.ok(UPSERT_USER, store=store["id"], input={"userId": "u1", "roles": ["Staff"]})
    await admin.ok(DELETE_STORE, id=store["id"])
    from domain.models import SecurityRole, StoreUser

    assert await SecurityRole.all().count() == 0 and await StoreUser.all().count() == 0
