"""What the cross-tenant walk must cover, read from the schema, and what a walk step covers.

Every root field of Query, Mutation and Subscription is an operation to walk; every argument or
input field of type ``ID`` (input objects walked recursively) is a place where another tenant's ID
can be passed. Walk steps mark the victim's IDs as ``"victim:<kind>"`` in their variables, so the
places a step fills with a foreign ID are read from its document, not declared by hand.
"""

from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    parse,
)
from graphql.utilities import value_from_ast_untyped

VICTIM, OWN = "victim:", "own:"
ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def root_fields(schema: GraphQLSchema) -> dict[str, set[str]]:
    """``"Mutation.updateSmsGateway" -> {"id"}``: every root field and its ID argument paths."""
    found = {}
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        for name, field in (root.fields if root else {}).items():
            paths: set[str] = set()
            for arg_name, arg in field.args.items():
                paths |= _id_paths(arg_name, arg.type, ())
            found[f"{root.name}.{name}"] = paths
    return found


def _id_paths(path: str, type_: GraphQLInputType, seen: tuple[str, ...]) -> set[str]:
    named = get_named_type(type_)
    if named.name == "ID":
        return {path}
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return set()
    paths: set[str] = set()
    for name, field in named.fields.items():
        paths |= _id_paths(f"{path}.{name}", field.type, (*seen, named.name))
    return paths


def operation_of(document: str) -> tuple[str, str]:
    """The root field a one-field document runs, and the key its answer comes under."""
    (operation,) = (
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    (field,) = operation.selection_set.selections
    root = ROOTS[operation.operation.value]
    return f"{root}.{field.name.value}", (field.alias or field.name).value


def foreign_paths(document: str, variables: dict[str, Any]) -> set[str]:
    """The argument paths that hold a ``victim:`` marker when the document runs with variables."""
    (operation,) = (
        d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)
    )
    (field,) = operation.selection_set.selections
    paths: set[str] = set()
    for argument in field.arguments:
        paths |= _marked(argument.name.value, value_from_ast_untyped(argument.value, variables))
    return paths


def _marked(path: str, value: Any) -> set[str]:
    if isinstance(value, str) and value.startswith(VICTIM):
        return {path}
    if isinstance(value, dict):
        return set().union(*(_marked(f"{path}.{k}", v) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_marked(path, v) for v in value))
    return set()


def resolve(value: Any, ids: dict[str, dict[str, str]]) -> Any:
    """Variables with ``victim:<kind>`` and ``own:<kind>`` markers replaced by the real IDs."""
    if isinstance(value, str):
        for prefix, party in ((VICTIM, "victim"), (OWN, "own")):
            if value.startswith(prefix):
                kind = value.removeprefix(prefix)
                assert kind in ids[party], f"no {party} object of kind {kind!r} to use"
                return ids[party][kind]
        return value
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


def summarize(data: dict[str, Any] | None, errors: list[dict] | None, key: str) -> str:
    """One word or two for what an operation answered, in the vocabulary of the walk table.

    ``"NOT_FOUND"`` (a union member's code), ``"error NOT_FOUND"`` (a GraphQL error's code, or
    its message if it has no code),
    ``"null"``, ``"no edges"``, ``"empty list"``, or ``"success"`` (anything else: data came back).
    """
    if errors:
        codes = sorted({(e.get("extensions") or {}).get("code", e["message"]) for e in errors})
        return "error " + " ".join(codes)
    value = (data or {}).get(key)
    if value is None:
        return "null"
    if isinstance(value, dict) and "code" in value:
        return value["code"]
    if isinstance(value, dict) and value.get("edges") == []:
        return "no edges"
    if value == []:
        return "empty list"
    return "success"
