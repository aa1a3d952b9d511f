"""Which SMS text a store sends in which language: its variants, the built-in texts, the choice.

The language comes from the first of these that has a text: the ``locale`` the flow passes, the
user's stored locale, the main language of the phone number's country (CLDR likely subtags,
through ``langcodes``: CH -> de-CH, TW -> zh-TW, EG -> ar-EG), else the store's default text. A
tag matches the store's variants first, then the built-in texts (only while the store's default
text is the built-in one: a store that customised it keeps its own text), so a store's "zh"
variant wins over the built-in "zh-Hant" text for zh-TW. Matching is RFC 4647
lookup, case-insensitive: the tag, its shorter prefixes, the language with its usual script
(``zh-TW`` -> ``zh-Hant``), the language alone (``fr-CA`` -> ``fr``).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import langcodes
import phonenumbers

from domain.errors import ValidationFailed
from domain.sms_text import CODE_PLACEHOLDER, DEFAULT_TEXT_MESSAGE

MAX_TAG = 35  # as StoreUser.locale
MAX_VARIANTS = 100

#: Short texts in each language, keyed by tag; "zh" is Simplified Chinese.
BUILT_IN_TEXTS: dict[str, str] = {
    "en": DEFAULT_TEXT_MESSAGE,
    "de": "Ihr Bestätigungscode lautet [Code]",
    "fr": "Votre code de vérification est [Code]",
    "es": "Tu código de verificación es [Code]",
    "pt": "Seu código de verificação é [Code]",
    "it": "Il tuo codice di verifica è [Code]",
    "nl": "Je verificatiecode is [Code]",
    "zh": "您的验证码是[Code]",
    "zh-Hant": "您的驗證碼是[Code]",
    "ar": "رمز التحقق الخاص بك هو [Code]",
}


@dataclass(frozen=True)
class ChosenText:
    text: str  # a template with [Code]
    locale: str | None  # the variant's or built-in text's tag; None for the store's default


def normalize_tag(tag: Any, field: str = "locale") -> str:
    """A well-formed, valid BCP 47 tag in its standard form (``EN_us`` -> ``en-US``)."""
    text = tag.strip().replace("_", "-") if isinstance(tag, str) else ""
    try:
        valid = 0 < len(text) <= MAX_TAG and langcodes.tag_is_valid(text)
        standard = langcodes.standardize_tag(text) if valid else ""
    except (langcodes.LanguageTagError, ValueError):
        standard = ""
    if not standard or standard.startswith(("x-", "und")):
        raise ValidationFailed(
            "must be a BCP 47 language tag such as en, de-CH or zh-Hant", field=field
        )
    return standard


def clean_variants(variants: Iterable[tuple[Any, Any]], max_length: int) -> dict[str, str]:
    """``(locale, text)`` pairs as a store keeps them; errors name ``textMessages.<i>.<field>``."""
    cleaned: dict[str, str] = {}
    for index, (tag, text) in enumerate(variants):
        if index >= MAX_VARIANTS:
            raise ValidationFailed(f"at most {MAX_VARIANTS} languages", field="textMessages")
        key = normalize_tag(tag, field=f"textMessages.{index}.locale")
        if key.lower() in {k.lower() for k in cleaned}:
            raise ValidationFailed(f"{key} is given twice", field=f"textMessages.{index}.locale")
        if not isinstance(text, str) or CODE_PLACEHOLDER not in text:
            raise ValidationFailed(
                f"the text must contain {CODE_PLACEHOLDER}", field=f"textMessages.{index}.text"
            )
        if len(text) > max_length:
            raise ValidationFailed(
                f"longer than {max_length} characters", field=f"textMessages.{index}.text"
            )
        cleaned[key] = text
    return cleaned


def choose(
    default_text: str,
    variants: Mapping[str, str] | None,
    locale: str | None = None,
    user_locale: str | None = None,
    phone_number: str | None = None,
) -> ChosenText:
    """The text for the first of locale, user locale and number's country that has one: the
    store's variant for that language, else (default text untouched) the built-in text."""
    built_in = default_text == DEFAULT_TEXT_MESSAGE
    if not variants and not built_in:
        return ChosenText(default_text, None)  # nothing to choose from
    tables = [_by_lower_key(variants or {})] + ([_BUILT_IN_BY_KEY] if built_in else [])
    sources: tuple[Callable[[], str | None], ...] = (
        lambda: locale,
        lambda: user_locale,
        lambda: country_tag(phone_number),
    )
    for source in sources:  # lazily: a number is parsed only when the locales found nothing
        order = lookup_order(source())
        for table in tables:
            for candidate in order:
                if candidate in table:
                    return ChosenText(table[candidate][1], table[candidate][0])
    return ChosenText(default_text, None)


def _by_lower_key(texts: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    return {key.lower(): (key, text) for key, text in texts.items()}


_BUILT_IN_BY_KEY = _by_lower_key(BUILT_IN_TEXTS)


@lru_cache(maxsize=1024)
def lookup_order(tag: str | None) -> tuple[str, ...]:
    """Lower-case tags to try for ``tag``, most specific first; () for a missing or bad tag."""
    if not tag:
        return ()
    try:
        language = langcodes.Language.get(tag.replace("_", "-"))
        standard = language.to_tag()
        script = language.maximize().script
    except (langcodes.LanguageTagError, ValueError):
        return ()
    if not language.language:
        return ()
    parts = standard.split("-")
    order = ["-".join(parts[:n]).lower() for n in range(len(parts), 0, -1)]
    if script:
        order.insert(-1, f"{language.language}-{script}".lower())
    return tuple(dict.fromkeys(order))


def country_tag(phone_number: str | None) -> str | None:
    """The main language of the number's country with the country (``+41…`` -> ``de-CH``)."""
    if not phone_number:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone_number))
    except phonenumbers.NumberParseException:
        return None
    return region_tag(region) if region else None


@lru_cache(maxsize=512)
def region_tag(region: str) -> str | None:
    if region not in phonenumbers.SUPPORTED_REGIONS:
        return None  # "001" (non-geographic numbers), "ZZ"
    likely = langcodes.Language.get(f"und-{region}").maximize()
    if not likely.language or likely.language == "und":
        return None
    return f"{likely.language}-{region}"
