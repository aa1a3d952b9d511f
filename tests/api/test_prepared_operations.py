"""Operations parsed and validated once per text (api/prepared_operations.py): repeats skip both
steps, and nothing a check would refuse gets past it through the cache."""

import uuid

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import parse

from api.prepared_operations import VALIDATED, DocumentCache
from tests.conftest import GraphQLClient, client_for

STORES = "query Stores { identityStores { name } }"
CREATE = (
    "mutation Create($name: String!) { createIdentityStore(input: {name: $name}) { __typename } }"
)
SCHEMA_NAME = "{ __schema { queryType { name } } }"


@pytest.fixture
def counted(monkeypatch) -> dict[str, int]:
    """How often Strawberry really parses and validates an operation."""
    calls = {"parse": 0, "validate": 0}

    def parsing(*args, **kwargs):
        calls["parse"] += 1
        return real_parse(*args, **kwargs)

    def validating(*args, **kwargs):
        calls["validate"] += 1
        return real_validate(*args, **kwargs)

    real_parse, real_validate = strawberry_schema.parse, strawberry_schema.validate_document
    monkeypatch.setattr(strawberry_schema, "parse", parsing)
    monkeypatch.setattr(strawberry_schema, "validate_document", validating)
    return calls


async def test_a_repeated_operation_is_parsed_and_validated_once(admin, counted):
    unique = uuid.uuid4().hex  # texts no other test has sent in this process
    for name in ("One", "Two", "Three"):
        await admin.ok(CREATE.replace("Create", f"Create{unique}"), name=name)
    fresh = f"{STORES} # {unique}"
    answers = [await admin.data(fresh) for _ in range(3)]
    assert answers == [{"identityStores": [{"name": n} for n in ("One", "Three", "Two")]}] * 3
    assert counted == {"parse": 2, "validate": 2}  # the mutation's text once, the query's once


async def test_a_refused_operation_is_checked_again_every_time(admin, counted):
    deep = "{ identityStores { " + "name { a " * 12 + "}" * 12 + " } }"
    for _ in range(3):
        body = await admin.execute(deep)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert counted["validate"] == 3


async def test_a_cached_operation_still_refuses_nul_in_its_variables(admin):
    await admin.ok(CREATE, name="Fine")
    body = await admin.execute(CREATE, name="Bad\x00name")
    assert body["data"] is None
    assert "NUL" in body["errors"][0]["message"]
    names = [s["name"] for s in (await admin.data(STORES))["identityStores"]]
    assert names == ["Fine"]


async def test_a_nul_in_the_document_is_refused_on_every_repeat(admin):
    document = 'mutation { createIdentityStore(input: {name: "A\\u0000B"}) { __typename } }'
    for _ in range(2):
        body = await admin.execute(document)
        assert body["data"] is None and "NUL" in body["errors"][0]["message"]
    assert (await admin.data(STORES))["identityStores"] == []


async def test_introspection_passed_with_it_on_is_refused_with_it_off(settings):
    async with client_for(settings) as http:
        assert await GraphQLClient(http, None).data(SCHEMA_NAME) == {
            "__schema": {"queryType": {"name": "Query"}}
        }
    async with client_for(settings, introspection=False) as http:
        body = await GraphQLClient(http, None).execute(SCHEMA_NAME)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_errors_of_a_refused_text_are_not_kept(admin):
    before = len(VALIDATED)
    await admin.execute("{ noSuchField }")
    assert len(VALIDATED) == before


def test_the_cache_keeps_the_most_recently_used_texts():
    cache = DocumentCache(size=2)
    documents = {text: parse(text) for text in ("{ a }", "{ b }", "{ c }")}
    cache.put(("{ a }", ()), documents["{ a }"])
    cache.put(("{ b }", ()), documents["{ b }"])
    assert cache.get(("{ a }", ())) is documents["{ a }"]  # a is now the most recent
    cache.put(("{ c }", ()), documents["{ c }"])
    assert cache.get(("{ b }", ())) is None
    assert cache.get(("{ a }", ())) is documents["{ a }"]
    assert cache.get(("{ c }", ())) is documents["{ c }"]
    assert len(cache) == 2
