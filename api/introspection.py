"""Introspection switched per app (``SMSAUTH_INTROSPECTION``) on the one shared schema.

The schema is a module-level object (exported to schema.graphql), so the switch is read from the
request's runtime settings, not fixed when the schema is built. ``__typename`` keeps working.
"""

from collections.abc import Iterator

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension


class IntrospectionSwitch(SchemaExtension):
    """Refuses ``__schema`` and ``__type`` as a validation error when introspection is off."""

    def on_operation(self) -> Iterator[None]:
        runtime = getattr(self.execution_context.context, "runtime", None)
        if runtime is not None and not runtime.settings.introspection:
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                NoSchemaIntrospectionCustomRule,
            )
        yield
