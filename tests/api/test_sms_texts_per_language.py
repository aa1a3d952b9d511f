"""SMS texts per language through GraphQL: a store's variants, the flows' choice of language and
``previewSmsText``, against the real local gateway of the flow tests."""

import pytest

from domain.sms_text import DEFAULT_TEXT_MESSAGE
from tests.api.graphql_documents import CREATE_STORE, ERROR_FIELDS, UPSERT_USER
from tests.api.otp_documents import CHALLENGE, RESEND, SEND, START_ENROLLMENT, errors
from tests.api.otp_support import PHONE, enroll, result
from tests.api.tenant_walk import PREVIEW_TEXT

SWISS, TAIWAN = "+41791234567", "+886912345678"

CONFIGURE_TEXTS = f"""
mutation($store: ID!, $input: SmsAuthenticationInput!) {{
  configureSmsAuthentication(identityStoreId: $store, input: $input) {{
    ... on IdentityStore {{ smsAuthentication {{ textMessage textMessages {{ locale text }} }} }}
    {ERROR_FIELDS}
  }}
}}"""

START_ENROLLMENT_IN = f"""
mutation($store: ID!, $user: String!, $phone: String, $locale: String) {{
  startSmsEnrollment(input: {{ identityStoreId: $store, userId: $user, phoneNumber: $phone,
                               locale: $locale }}) {{
    {CHALLENGE} {errors(*SEND, "InvalidPhoneNumberError")}
  }}
}}"""

START_AUTHENTICATION_IN = f"""
mutation($store: ID!, $user: String!, $locale: String) {{
  startSmsAuthentication(input: {{ identityStoreId: $store, userId: $user, locale: $locale }}) {{
    {CHALLENGE} {errors(*SEND)}
  }}
}}"""

VARIANTS = [
    {"locale": "fr", "text": "Votre code Acme est [Code]"},
    {"locale": "de_ch", "text": "Ihr Acme-Code lautet [Code]"},
    {"locale": "zh", "text": "您的Acme验证码是[Code]"},
]


async def texts(setup, **changes) -> dict:
    return await result(setup.admin, CONFIGURE_TEXTS, store=setup.store, input=changes)


async def preview(client, store, **variables) -> dict:
    return await client.execute(PREVIEW_TEXT, store=store, **variables)


def sent_text(setup) -> str:
    return setup.gateway.received[-1]["text"]


async def test_variants_are_stored_by_standard_tag_and_replaced_whole(setup):
    stored = await texts(setup, textMessages=VARIANTS)
    assert stored["smsAuthentication"]["textMessages"] == [
        {"locale": "de-CH", "text": "Ihr Acme-Code lautet [Code]"},
        {"locale": "fr", "text": "Votre code Acme est [Code]"},
        {"locale": "zh", "text": "您的Acme验证码是[Code]"},
    ]
    kept = await texts(setup, codeLength=8)
    assert len(kept["smsAuthentication"]["textMessages"]) == 3
    replaced = await texts(setup, textMessages=[{"locale": "es", "text": "Código: [Code]"}])
    assert replaced["smsAuthentication"]["textMessages"] == [
        {"locale": "es", "text": "Código: [Code]"}
    ]
    cleared = await texts(setup, textMessages=[])
    assert cleared["smsAuthentication"] == {
        "textMessage": "Your Acme code is [Code]",
        "textMessages": [],
    }


@pytest.mark.parametrize(
    ("variants", "field"),
    [
        ([{"locale": "French", "text": "[Code]"}], "textMessages.0.locale"),
        (
            [{"locale": "fr", "text": "[Code]"}, {"locale": "", "text": "[Code]"}],
            "textMessages.1.locale",
        ),
        ([{"locale": "fr", "text": "votre code"}], "textMessages.0.text"),
        ([{"locale": "fr", "text": "[Code]" + "x" * 640}], "textMessages.0.text"),
        (
            [{"locale": "fr", "text": "[Code]"}, {"locale": "FR", "text": "[Code]"}],
            "textMessages.1.locale",
        ),
    ],
)
async def test_bad_variants_are_refused_and_change_nothing(setup, variants, field):
    refused = await result(
        setup.admin, CONFIGURE_TEXTS, store=setup.store, input={"textMessages": variants}
    )
    assert (refused["code"], refused["field"]) == ("VALIDATION", field)
    assert (await texts(setup))["smsAuthentication"]["textMessages"] == []


async def test_the_flows_locale_picks_the_variant(setup):
    await texts(setup, textMessages=VARIANTS)
    sent = await result(
        setup.service,
        START_ENROLLMENT_IN,
        store=setup.store,
        user="alice",
        phone=PHONE,
        locale="fr-CA",
    )
    assert sent["sms"]["status"] == "SENT"
    assert sent_text(setup) == f"[Acme] Votre code Acme est {setup.gateway.last_code()}"


async def test_a_bad_flow_locale_is_refused_before_anything_is_sent(setup):
    refused = await result(
        setup.service, START_ENROLLMENT_IN, store=setup.store, user="alice", phone=PHONE, locale="?"
    )
    assert (refused["code"], refused["field"]) == ("VALIDATION", "locale")
    assert setup.gateway.received == []


async def test_the_users_locale_then_the_numbers_country_choose_the_language(setup, frozen_clock):
    await texts(setup, textMessages=VARIANTS)
    await enroll(setup, "alice", SWISS)  # no locale stored: Switzerland's German
    assert sent_text(setup).startswith("[Acme] Ihr Acme-Code lautet ")
    await setup.admin.ok(UPSERT_USER, store=setup.store, input={"userId": "alice", "locale": "fr"})
    frozen_clock.advance(seconds=30)
    started = await result(setup.service, START_AUTHENTICATION_IN, store=setup.store, user="alice")
    assert sent_text(setup) == f"[Acme] Votre code Acme est {setup.gateway.last_code(SWISS)}"
    frozen_clock.advance(seconds=30)
    await result(setup.service, RESEND, challenge=started["id"])  # the user's locale again
    assert sent_text(setup).startswith("[Acme] Votre code Acme est ")
    frozen_clock.advance(seconds=30)
    await result(
        setup.service, START_AUTHENTICATION_IN, store=setup.store, user="alice", locale="zh-Hans"
    )
    assert sent_text(setup).startswith("[Acme] 您的Acme验证码是")


async def test_a_customised_default_text_is_kept_for_other_languages(setup):
    await result(
        setup.service,
        START_ENROLLMENT_IN,
        store=setup.store,
        user="alice",
        phone=TAIWAN,
        locale="de",
    )
    assert sent_text(setup).startswith("[Acme] Your Acme code is ")


async def test_built_in_texts_serve_a_store_with_the_built_in_default(setup):
    await texts(setup, textMessage=DEFAULT_TEXT_MESSAGE)
    await result(setup.service, START_ENROLLMENT, store=setup.store, user="alice", phone=TAIWAN)
    assert sent_text(setup) == f"[Acme] 您的驗證碼是{setup.gateway.last_code(TAIWAN)}"
    await result(
        setup.service, START_ENROLLMENT_IN, store=setup.store, user="bob", phone=PHONE, locale="es"
    )
    assert sent_text(setup) == f"[Acme] Tu código de verificación es {setup.gateway.last_code()}"


async def test_preview_answers_the_exact_text_and_its_segments(setup):
    await texts(setup, textMessages=VARIANTS, codeLength=8)
    body = await preview(setup.admin, setup.store, locale="de-CH")
    assert body["data"]["previewSmsText"] == {
        "text": "[Acme] Ihr Acme-Code lautet 12345678",
        "locale": "de-CH",
        "encoding": "GSM-7",
        "characters": 38,  # 36 characters; the signature's [ and ] take two septets each
        "segments": 1,
    }
    by_country = await preview(setup.admin, setup.store, phone="0791234567", locale=None)
    assert by_country["errors"][0]["extensions"]["code"] == "INVALID_PHONE_NUMBER"
    await texts(setup, defaultRegion="CH")
    by_country = await preview(setup.admin, setup.store, phone="079 123 45 67")
    assert by_country["data"]["previewSmsText"]["locale"] == "de-CH"
    default = await preview(setup.admin, setup.store, locale="sv")
    assert default["data"]["previewSmsText"]["text"] == "[Acme] Your Acme code is 12345678"
    assert default["data"]["previewSmsText"]["locale"] is None


async def test_preview_counts_ucs2_and_long_texts(setup):
    await texts(setup, textMessage=DEFAULT_TEXT_MESSAGE)
    arabic = (await preview(setup.admin, setup.store, locale="ar"))["data"]["previewSmsText"]
    assert arabic == {
        "text": "[Acme] رمز التحقق الخاص بك هو 123456",
        "locale": "ar",
        "encoding": "UCS-2",
        "characters": 36,
        "segments": 1,
    }
    long_text = "Ihr Bestätigungscode für Überweisungen lautet [Code]. " * 3  # 162 characters
    await texts(setup, textMessage=long_text)
    german = (await preview(setup.admin, setup.store))["data"]["previewSmsText"]
    # "[Acme] " adds 7 characters, its brackets a septet more each: 171 septets, 153 a part.
    assert (german["encoding"], german["characters"], german["segments"]) == ("GSM-7", 171, 2)


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [
        ({"phone": "+44 123"}, "INVALID_PHONE_NUMBER", "phoneNumber"),
        ({"locale": "English"}, "VALIDATION", "locale"),
    ],
)
async def test_preview_refuses_bad_input(setup, variables, code, field):
    body = await preview(setup.admin, setup.store, **variables)
    (error,) = body["errors"]
    assert error["extensions"] == {"code": code, "field": field}
    assert error["message"]


async def test_preview_of_another_tenants_store_is_not_found(setup, other_admin):
    body = await preview(other_admin, setup.store, locale="de")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["data"] is None


async def test_preview_of_a_store_without_a_gateway_has_no_signature(admin):
    store = await admin.ok(CREATE_STORE, name="Bare")
    body = await preview(admin, store["id"], locale="fr")
    assert body["data"]["previewSmsText"]["text"] == "Votre code de vérification est 123456"
