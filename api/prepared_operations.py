"""Operation limits and the cache of operations that passed them: each distinct operation text is
parsed and validated once per process, not on every request.

Front ends send the same few documents over and over (a start, a verify, a dashboard query), and
parsing plus validating one (with the depth and alias limits) costs more than running it. A
document that parsed, validated and held no NUL character is kept, keyed by its text and the
validation rules in force (introspection may add one); a later request with the same text skips
both steps. Documents that fail are never kept, so each failing request is checked in full and
no attacker can fill the cache with error objects; the cache is a bounded LRU so that a stream of
distinct valid texts only evicts.
"""

from collections import OrderedDict
from collections.abc import Iterator

from graphql import DocumentNode
from graphql.validation import ASTValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4000
#: Distinct operation texts kept per process; a document is at most a few hundred KiB of nodes
#: (MAX_TOKENS), most are a few KiB.
CACHE_SIZE = 256

# One class per rule for the life of the process (Strawberry's limiter extensions build new
# ones per request), so the rules in force can key the cache.
DEPTH_LIMIT = depth_rule(MAX_DEPTH, None, None)
ALIAS_LIMIT = alias_rule(MAX_ALIASES)

Key = tuple[str, tuple[type[ASTValidationRule], ...]]


class OperationLimits(AddValidationRules):
    """At most MAX_DEPTH levels of selection and MAX_ALIASES aliases in a document."""

    def __init__(self) -> None:
        super().__init__([DEPTH_LIMIT, ALIAS_LIMIT])


class DocumentCache:
    """A bounded LRU of documents that passed validation."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._documents: OrderedDict[Key, DocumentNode] = OrderedDict()

    def get(self, key: Key) -> DocumentNode | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def put(self, key: Key, document: DocumentNode) -> None:
        self._documents[key] = document
        self._documents.move_to_end(key)
        while len(self._documents) > self.size:
            self._documents.popitem(last=False)

    def __len__(self) -> int:
        return len(self._documents)


VALIDATED = DocumentCache()


class PreparedOperations(SchemaExtension):
    """Skips parsing and validation for an operation text that passed both before.

    It must come after the extensions that add validation rules (the rules are part of the key)
    and before ``NoNulInText``, which still checks each request's variables.
    """

    def __init__(self, cache: DocumentCache = VALIDATED) -> None:
        self.cache = cache
        self.key: Key | None = None
        self.hit = False

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.pre_execution_errors is None:
            self.key = (context.query, tuple(context.validation_rules))
            cached = self.cache.get(self.key)
            self.hit = cached is not None and cached is context.graphql_document
            if self.hit:
                context.pre_execution_errors = []  # validated before: Strawberry skips it
        yield
        if self.key is not None and not self.hit and context.pre_execution_errors == []:
            if context.graphql_document is not None:
                self.cache.put(self.key, context.graphql_document)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            rules = tuple(context.validation_rules)
            context.graphql_document = self.cache.get((context.query, rules))
        yield
