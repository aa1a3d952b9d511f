"""``Parameter.coerce``: a declared parameter turns an input into its kind or says what is wrong."""

from typing import Any

import pytest

from providers.base import Parameter, ParameterKind


def parameter(kind: ParameterKind, choices: tuple[str, ...] = ()) -> Parameter:
    return Parameter(name="P", label="P", kind=kind, choices=choices)


def test_string_is_kept() -> None:
    assert parameter("string").coerce("ID {x} 100%") == "ID {x} 100%"


@pytest.mark.parametrize("value", [1, None, True, ["a"]])
def test_string_refuses_other_types(value: Any) -> None:
    with pytest.raises(ValueError, match="must be a string"):
        parameter("string").coerce(value)


@pytest.mark.parametrize(("value", "expected"), [(50, 50), ("50", 50), (" 7 ", 7), ("-3", -3)])
def test_integer_accepts_ints_and_numeric_strings(value: Any, expected: int) -> None:
    assert parameter("integer").coerce(value) == expected


@pytest.mark.parametrize("value", [True, False, "fifty", "", 1.5, None, "1.5"])
def test_integer_refuses_booleans_floats_and_words(value: Any) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        parameter("integer").coerce(value)


@pytest.mark.parametrize("value", [True, False])
def test_boolean_accepts_true_and_false(value: bool) -> None:
    assert parameter("boolean").coerce(value) is value


@pytest.mark.parametrize("value", ["true", "false", 1, 0, None])
def test_boolean_refuses_strings_and_numbers(value: Any) -> None:
    with pytest.raises(ValueError, match="must be true or false"):
        parameter("boolean").coerce(value)


@pytest.mark.parametrize("value", ["post", "Post", "POST"])
def test_choice_is_upper_cased(value: str) -> None:
    assert parameter("choice", ("GET", "POST")).coerce(value) == "POST"


@pytest.mark.parametrize("value", ["PUT", "", 1, None])
def test_choice_refuses_values_not_listed(value: Any) -> None:
    with pytest.raises(ValueError, match="must be one of GET, POST"):
        parameter("choice", ("GET", "POST")).coerce(value)


def test_object_from_dict_keeps_strings_and_writes_other_values_as_json() -> None:
    value = {"to": "{phone}", "count": 3, "flag": True, "none": None}

    assert parameter("object").coerce(value) == {
        "to": "{phone}",
        "count": "3",
        "flag": "true",
        "none": "null",
    }


def test_object_from_json_string() -> None:
    coerced = parameter("object").coerce('{"to": "{phone}", "text": "{otp}", "n": 1}')

    assert coerced == {"to": "{phone}", "text": "{otp}", "n": "1"}


def test_object_empty_is_allowed() -> None:
    assert parameter("object").coerce({}) == {}
    assert parameter("object").coerce("{}") == {}


@pytest.mark.parametrize("value", ["not json", "[1, 2]", '"text"', "3", ["a"], 3, None])
def test_object_refuses_non_objects(value: Any) -> None:
    with pytest.raises(ValueError, match="must be an object of names to values"):
        parameter("object").coerce(value)


@pytest.mark.parametrize(
    "value",
    [{"": "x"}, {1: "x"}, {"a": {"b": "c"}}, {"a": [1]}, '{"a": {"b": 1}}', '{"": "x"}'],
)
def test_object_refuses_empty_names_and_nested_values(value: Any) -> None:
    with pytest.raises(ValueError, match="must map non-empty names to plain values"):
        parameter("object").coerce(value)
