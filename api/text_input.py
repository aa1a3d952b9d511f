"""Text no field may hold: a NUL character (``\\u0000``) in any string argument or variable.

PostgreSQL cannot store NUL in text or JSON columns, and no name, phone number or message needs
it, so such a request is refused before it runs, on every database alike.
"""

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

MESSAGE = "text must not contain the NUL character (\\u0000)"


class _FindsNul(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        if "\x00" in node.value:
            self.found = True
            return Visitor.BREAK
        return None


def document_has_nul(document: DocumentNode | None) -> bool:
    if document is None:
        return False
    finder = _FindsNul()
    visit(document, finder)
    return finder.found


def value_has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(value_has_nul(k) or value_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(value_has_nul(item) for item in value)
    return False


class NoNulInText(SchemaExtension):
    """Refuses the operation (as a validation error) when any text holds a NUL character."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # Errors already [] mean the document passed before (PreparedOperations): no NUL in it.
        checked = context.pre_execution_errors == []
        if value_has_nul(context.variables) or (
            not checked and document_has_nul(context.graphql_document)
        ):
            context.pre_execution_errors = [GraphQLError(MESSAGE)]  # validation then is skipped
        yield
