"""GraphQL documents of the user flows, as a mobile app or SPA sends them."""

FIELDS = {
    "InvalidCodeError": "attemptsLeft",
    "TooManyAttemptsError": "retryAt",
    "ResendTooSoonError": "availableAt",
    "GatewayUnavailableError": "reason challenge { id }",
    "GatewayRejectedError": "providerReason challenge { id }",
    "InvalidPhoneNumberError": "reason",
    "RateLimitedError": "retryAt scope",
}
SEND = ("ResendTooSoonError", "GatewayUnavailableError", "GatewayRejectedError", "RateLimitedError")
CODE = ("InvalidCodeError", "TooManyAttemptsError", "RateLimitedError")


def errors(*types: str) -> str:
    """UserError's fields, plus the extra fields of the given members of the result union."""
    spreads = " ".join(f"... on {t} {{ {FIELDS[t]} }}" for t in types)
    return f"... on UserError {{ __typename code message field }} {spreads}"


CHALLENGE = (
    "... on Challenge { id maskedPhoneNumber expiresAt resendAvailableAt attemptsLeft "
    "sms { id status segments } }"
)

START_ENROLLMENT = f"""
mutation($store: ID!, $user: String!, $phone: String) {{
  startSmsEnrollment(input: {{ identityStoreId: $store, userId: $user, phoneNumber: $phone }}) {{
    {CHALLENGE} {errors(*SEND, "InvalidPhoneNumberError")}
  }}
}}"""

VERIFY_ENROLLMENT = f"""
mutation($challenge: ID!, $code: String!) {{
  verifySmsEnrollment(input: {{ challengeId: $challenge, code: $code }}) {{
    ... on Enrollment {{ maskedPhoneNumber verifiedAt }} {errors(*CODE)}
  }}
}}"""

START_AUTHENTICATION = f"""
mutation($store: ID!, $user: String!) {{
  startSmsAuthentication(input: {{ identityStoreId: $store, userId: $user }}) {{
    {CHALLENGE} {errors(*SEND)}
  }}
}}"""

VERIFY_AUTHENTICATION = f"""
mutation($challenge: ID!, $code: String!) {{
  verifySmsAuthentication(input: {{ challengeId: $challenge, code: $code }}) {{
    ... on Authentication {{ assertion expiresAt }} {errors(*CODE)}
  }}
}}"""

RESEND = f"""
mutation($challenge: ID!) {{ resendSmsCode(challengeId: $challenge) {{
    {CHALLENGE} {errors(*SEND, "TooManyAttemptsError")}
  }}
}}"""

REMOVE_ENROLLMENT = f"""
mutation($store: ID!, $user: String!) {{
  removeSmsEnrollment(identityStoreId: $store, userId: $user) {{
    ... on Deleted {{ id }} {errors()}
  }}
}}"""

CREATE_SESSION = f"""
mutation($store: ID!, $user: String!, $ttl: Int) {{
  createUserSession(identityStoreId: $store, userId: $user, ttlSeconds: $ttl) {{
    ... on UserSession {{ token expiresAt }} {errors()}
  }}
}}"""

AUDIT = """
query($user: String, $first: Int) {
  auditEvents(userId: $user, first: $first) {
    edges { node { action outcome actor userId identityStoreId maskedPhoneNumber detail } }
    pageInfo { hasNextPage }
  }
}"""

DELIVERY_STATUS = """
subscription($messageId: ID, $challengeId: ID, $gatewayId: ID) {
  smsDeliveryStatus(messageId: $messageId, challengeId: $challengeId, gatewayId: $gatewayId) {
    message { id to status gateway { id } } status detail
  }
}"""

REVOKE_SESSION = f"""
mutation($id: ID) {{ revokeUserSession(id: $id) {{ ... on Deleted {{ id }} {errors()} }} }}"""
