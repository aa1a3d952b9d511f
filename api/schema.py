"""The assembled GraphQL schema."""

from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import MaxTokensLimiter
from strawberry.tools import merge_types

from api.error_presentation import ErrorPresentation
from api.introspection import IntrospectionSwitch
from api.metrics import OperationMetrics
from api.mutations.api_keys import ApiKeyMutations
from api.mutations.country_holds import CountryHoldMutations
from api.mutations.gateways import GatewayMutations
from api.mutations.identity_stores import IdentityStoreMutations
from api.mutations.otp import OtpMutations
from api.mutations.policies import PolicyMutations
from api.prepared_operations import MAX_TOKENS, OperationLimits, PreparedOperations
from api.queries import Query
from api.subscriptions import Subscription
from api.text_input import NoNulInText
from api.types import gateways, messages, stores

Mutation = merge_types(
    "Mutation",
    (
        GatewayMutations,
        IdentityStoreMutations,
        PolicyMutations,
        ApiKeyMutations,
        OtpMutations,
        CountryHoldMutations,
    ),
)


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Logging is ErrorPresentation's job: expected errors are not log-worthy."""


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[
        gateways.SmsGateway,
        stores.IdentityStore,
        stores.SecurityRole,
        stores.IdentityStoreUser,
        messages.SmsMessage,
    ],
    extensions=[
        OperationMetrics,
        OperationLimits,
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        IntrospectionSwitch,
        PreparedOperations,  # after the extensions that add rules, before NoNulInText
        NoNulInText,
        ErrorPresentation,
    ],
)
