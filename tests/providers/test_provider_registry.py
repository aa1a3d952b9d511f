"""The provider registry: the built-in gateway types are found by key, unknown keys are not."""

from providers import http, test_gateway
from providers.registry import get_provider, registered


def test_builtin_types_are_registered_as_not_custom() -> None:
    table = registered()

    assert {"http", "test"} <= set(table)
    assert table["http"].custom is False
    assert table["test"].custom is False


def test_builtin_keys_give_the_builtin_providers() -> None:
    assert get_provider("http") is http.provider
    assert get_provider("test") is test_gateway.provider


def test_every_registered_key_matches_its_providers_type_key() -> None:
    for key, entry in registered().items():
        assert entry.provider.type.key == key


def test_unknown_key_gives_none() -> None:
    assert get_provider("nope") is None


def test_dotted_path_is_not_imported_as_a_provider() -> None:
    assert get_provider("providers.http.provider") is None
    assert get_provider("providers.http:provider") is None
