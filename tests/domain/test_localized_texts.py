"""Which text a store sends in which language, and how many SMS parts each built-in text takes."""

import pytest

from domain.errors import ValidationFailed
from domain.localized_texts import BUILT_IN_TEXTS, choose, clean_variants, normalize_tag
from domain.sms_text import CODE_PLACEHOLDER, DEFAULT_TEXT_MESSAGE, render_code, segment_count

SWISS, UK, TAIWAN, EGYPT, SPAIN = (
    "+41791234567",
    "+447079692712",
    "+886912345678",
    "+201001234567",
    "+34612345678",
)
VARIANTS = {"fr": "Code Acme : [Code]", "de-CH": "Acme-Code: [Code]", "ja": "Acme [Code]"}


def test_flow_locale_comes_before_the_users_and_the_numbers_country():
    chosen = choose("Acme [Code]", VARIANTS, locale="ja", user_locale="fr", phone_number=SWISS)
    assert (chosen.locale, chosen.text) == ("ja", "Acme [Code]")


def test_user_locale_comes_before_the_numbers_country():
    chosen = choose("Acme [Code]", VARIANTS, user_locale="fr", phone_number=SWISS)
    assert chosen.locale == "fr"


def test_numbers_country_picks_its_main_language():
    assert choose("Acme [Code]", VARIANTS, phone_number=SWISS).locale == "de-CH"


def test_store_default_when_nothing_matches():
    chosen = choose("Acme [Code]", VARIANTS, locale="sv", user_locale="fi", phone_number=UK)
    assert chosen == type(chosen)("Acme [Code]", None)


def test_a_source_without_a_text_gives_way_to_the_next():
    assert choose("Acme [Code]", VARIANTS, locale="sv", user_locale="fr").locale == "fr"


@pytest.mark.parametrize(
    ("asked", "variant"),
    [
        ("fr-CA", "fr"),  # the language alone
        ("FR", "fr"),  # case-insensitive
        ("de_ch", "de-CH"),
        ("de-CH-1996", "de-CH"),  # shorter prefixes first
        ("de", None),  # a regional variant does not serve the whole language
    ],
)
def test_matching(asked, variant):
    assert choose("Acme [Code]", VARIANTS, locale=asked).locale == variant


@pytest.mark.parametrize(
    ("locale", "phone", "tag"),
    [
        ("en", None, "en"),
        ("de-AT", None, "de"),
        ("fr-CA", None, "fr"),
        ("es-MX", None, "es"),
        ("pt-BR", None, "pt"),
        ("it", None, "it"),
        ("nl-BE", None, "nl"),
        ("zh-CN", None, "zh"),
        ("zh-Hans", None, "zh"),
        ("zh-TW", None, "zh-Hant"),
        ("ar-SA", None, "ar"),
        (None, SWISS, "de"),
        (None, TAIWAN, "zh-Hant"),
        (None, EGYPT, "ar"),
        (None, SPAIN, "es"),
    ],
)
def test_built_in_texts_serve_a_store_with_the_built_in_default(locale, phone, tag):
    chosen = choose(DEFAULT_TEXT_MESSAGE, {}, locale=locale, phone_number=phone)
    assert (chosen.locale, chosen.text) == (tag, BUILT_IN_TEXTS[tag])


def test_a_customised_default_text_is_kept_over_built_in_texts():
    chosen = choose("Your Acme code is [Code]", {}, locale="de", phone_number=EGYPT)
    assert (chosen.locale, chosen.text) == (None, "Your Acme code is [Code]")


def test_the_stores_variant_wins_over_a_built_in_text():
    store = {"zh": "Acme 验证码 [Code]"}
    assert choose(DEFAULT_TEXT_MESSAGE, store, locale="zh-TW").text == "Acme 验证码 [Code]"
    assert choose(DEFAULT_TEXT_MESSAGE, store, locale="de").locale == "de"  # built-in


@pytest.mark.parametrize(("tag", "text"), sorted(BUILT_IN_TEXTS.items()))
def test_each_built_in_text_renders_the_code_in_one_sms(tag, text):
    assert CODE_PLACEHOLDER in text
    rendered = render_code(text, "12345678")
    assert "12345678" in rendered and CODE_PLACEHOLDER not in rendered
    assert segment_count(rendered).segments == 1


@pytest.mark.parametrize(
    ("tag", "encoding"),
    [
        ("en", "GSM-7"),
        ("de", "GSM-7"),  # ä is in the GSM 03.38 alphabet
        ("fr", "GSM-7"),  # é too
        ("it", "GSM-7"),  # è too
        ("nl", "GSM-7"),
        ("es", "UCS-2"),  # ó is not
        ("pt", "UCS-2"),  # nor ç, ã
        ("zh", "UCS-2"),
        ("zh-Hant", "UCS-2"),
        ("ar", "UCS-2"),
    ],
)
def test_built_in_text_encodings(tag, encoding):
    assert segment_count(render_code(BUILT_IN_TEXTS[tag], "123456")).encoding == encoding


def test_a_long_german_text_with_umlauts_stays_gsm7():
    text = render_code("Ihr Bestätigungscode für Überweisungen lautet [Code]. " * 3, "123456")
    counted = segment_count(text)
    assert (counted.encoding, counted.units, counted.segments) == ("GSM-7", len(text), 2)


def test_a_long_arabic_text_takes_ucs2_segments_of_67():
    text = render_code("رمز التحقق الخاص بك هو [Code]. لا تشاركه مع أي شخص. " * 2, "123456")
    counted = segment_count(text)
    assert counted.encoding == "UCS-2" and counted.units == len(text)
    assert counted.segments == -(-len(text) // 67) == 2


@pytest.mark.parametrize(
    ("given", "standard"),
    [("en", "en"), ("EN_us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("deu", "de"), ("iw", "he")],
)
def test_tags_are_standardised(given, standard):
    assert normalize_tag(given) == standard


@pytest.mark.parametrize("bad", ["", "e", "english", "xx", "de-", "und", "x-private", "a" * 40, 7])
def test_bad_tags_are_refused(bad):
    with pytest.raises(ValidationFailed) as refused:
        normalize_tag(bad)
    assert refused.value.field == "locale"


def test_variants_are_cleaned():
    assert clean_variants([("fr_ca", "Code : [Code]"), ("de", "Code: [Code]")], 640) == {
        "fr-CA": "Code : [Code]",
        "de": "Code: [Code]",
    }


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ([("de", "Code"), ("fr", "[Code]")], "textMessages.0.text"),
        ([("de", "[Code]"), ("Deutsch", "[Code]")], "textMessages.1.locale"),
        ([("de-CH", "[Code]"), ("de_ch", "[Code]")], "textMessages.1.locale"),  # twice
        ([("deu", "[Code]"), ("de", "[Code]")], "textMessages.1.locale"),  # the same tag
        ([("de", "[Code]" + "x" * 640)], "textMessages.0.text"),
    ],
)
def test_bad_variants_are_refused(given, field):
    with pytest.raises(ValidationFailed) as refused:
        clean_variants(given, 640)
    assert refused.value.field == field
