"""GraphQL documents the API tests share (what a front-end would send)."""

ERROR_FIELDS = "... on UserError { __typename code message field }"

CREATE_GATEWAY = f"""
mutation($input: SmsGatewayInput!) {{
  createSmsGateway(input: $input) {{
    ... on SmsGateway {{
      id name type url accountId username hasPassword senderId signature description enabled
      isDefault checkSsl timeoutSeconds parameters secretParametersSet extensionParameters
      proxy {{ host port domain username hasPassword description }}
      linkedIdentityStores {{ id name }}
    }}
    {ERROR_FIELDS}
  }}
}}"""

UPDATE_GATEWAY = CREATE_GATEWAY.replace(
    "$input: SmsGatewayInput!", "$id: ID!, $input: SmsGatewayInput!"
).replace("createSmsGateway(input: $input)", "updateSmsGateway(id: $id, input: $input)")

SET_DEFAULT = f"""
mutation($id: ID!) {{
  setDefaultSmsGateway(id: $id) {{ ... on SmsGateway {{ id isDefault }} {ERROR_FIELDS} }}
}}"""

DELETE_GATEWAY = f"""
mutation($id: ID!) {{
  deleteSmsGateway(id: $id) {{
    ... on Deleted {{ id }}
    ... on GatewayInUseError {{ identityStores {{ id name }} }}
    {ERROR_FIELDS}
  }}
}}"""

GATEWAYS = """{ smsGateways { id name isDefault linkedIdentityStores { name } } }"""

TEST_GATEWAY = f"""
mutation($id: ID!, $phone: String!, $text: String) {{
  testSmsGateway(id: $id, phoneNumber: $phone, text: $text) {{
    ... on SmsMessage {{ id to status providerMessageId segments encoding text gateway {{ id }} }}
    ... on GatewayRejectedError {{ providerReason sms {{ id status errorDetail }} }}
    ... on GatewayUnavailableError {{ reason sms {{ id status errorDetail }} }}
    ... on InvalidPhoneNumberError {{ reason }}
    {ERROR_FIELDS}
  }}
}}"""

STORE_FIELDS = """
  id name smsGateway { id name } backupSmsGateway { id name }
  smsAuthentication { enabled textMessage codeLength codeTtlSeconds maxAttempts
                      resendCooldownSeconds defaultRegion }
  roles { id name smsEnabled smsEnforced }
"""

CREATE_STORE = f"""
mutation($name: String!) {{
  createIdentityStore(input: {{ name: $name }}) {{
    ... on IdentityStore {{ {STORE_FIELDS} }} {ERROR_FIELDS}
  }}
}}"""

UPDATE_STORE = f"""
mutation($id: ID!, $name: String) {{
  updateIdentityStore(id: $id, input: {{ name: $name }}) {{
    ... on IdentityStore {{ id name }} {ERROR_FIELDS}
  }}
}}"""

DELETE_STORE = f"""
mutation($id: ID!) {{
  deleteIdentityStore(id: $id) {{ ... on Deleted {{ id }} {ERROR_FIELDS} }}
}}"""

CONFIGURE_SMS = f"""
mutation($store: ID!, $input: SmsAuthenticationInput!) {{
  configureSmsAuthentication(identityStoreId: $store, input: $input) {{
    ... on IdentityStore {{ {STORE_FIELDS} }} {ERROR_FIELDS}
  }}
}}"""

ADD_TEST_NUMBER = f"""
mutation($store: ID!, $phone: String!, $code: String!) {{
  addTestPhoneNumber(identityStoreId: $store, input: {{ phoneNumber: $phone, code: $code }}) {{
    ... on TestPhoneNumber {{ id phoneNumber createdAt }}
    ... on InvalidPhoneNumberError {{ reason }}
    {ERROR_FIELDS}
  }}
}}"""

REMOVE_TEST_NUMBER = f"""
mutation($store: ID!, $phone: String!) {{
  removeTestPhoneNumber(identityStoreId: $store, phoneNumber: $phone) {{
    ... on Deleted {{ id }} {ERROR_FIELDS}
  }}
}}"""

CREATE_ROLE = f"""
mutation($store: ID!, $name: String!) {{
  createSecurityRole(identityStoreId: $store, input: {{ name: $name }}) {{
    ... on SecurityRole {{ id name smsEnabled smsEnforced }} {ERROR_FIELDS}
  }}
}}"""

SET_POLICY = f"""
mutation($role: ID!, $input: AuthenticationPolicyInput!) {{
  setAuthenticationPolicy(roleId: $role, input: $input) {{
    ... on SecurityRole {{ id name smsEnabled smsEnforced }} {ERROR_FIELDS}
  }}
}}"""

UPSERT_USER = f"""
mutation($store: ID!, $input: UserInput!) {{
  upsertUser(identityStoreId: $store, input: $input) {{
    ... on IdentityStoreUser {{ id userId maskedPhoneNumber phoneVerified locale roles {{ name }} }}
    ... on InvalidPhoneNumberError {{ reason }}
    {ERROR_FIELDS}
  }}
}}"""

REQUIREMENTS = """
query($store: ID!, $user: String!) {
  authenticationRequirements(identityStoreId: $store, userId: $user) {
    sms enrolled enrollmentRequired
  }
}"""

MESSAGES = """
query($first: Int, $after: String, $gatewayId: ID, $status: DeliveryStatus) {
  smsMessages(first: $first, after: $after, gatewayId: $gatewayId, status: $status) {
    edges { cursor node { id to status purpose text segments encoding providerMessageId
                          errorDetail gateway { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on SmsGateway { name }
    ... on IdentityStore { name }
    ... on SecurityRole { name }
    ... on IdentityStoreUser { userId maskedPhoneNumber }
    ... on SmsMessage { to status }
  }
}"""

GATEWAY_BY_ID = """query($id: ID!) { smsGateway(id: $id) { id name } }"""

STORE_BY_ID = """query($id: ID!) { identityStore(id: $id) { id name } }"""

DELETE_ROLE = f"""
mutation($id: ID!) {{ deleteSecurityRole(id: $id) {{ ... on Deleted {{ id }} {ERROR_FIELDS} }} }}"""

CREATE_API_KEY = f"""
mutation($input: ApiKeyInput!) {{
  createApiKey(input: $input) {{ ... on ApiKeyCreated {{ id key scope name }} {ERROR_FIELDS} }}
}}"""

REVOKE_API_KEY = f"""
mutation($id: ID!) {{ revokeApiKey(id: $id) {{ ... on Deleted {{ id }} {ERROR_FIELDS} }} }}"""

API_KEYS = """{ apiKeys { id name scope revokedAt } }"""

VIEWER = """{ viewer { tenant { id name } scopes } }"""

GATEWAY_TYPES = """{ smsGatewayTypes { key name custom } }"""

STORES = f"""{{ identityStores {{ {STORE_FIELDS} }} }}"""

COUNTRY_HOLDS = """{ smsCountryHolds { callingCode heldUntil reason } }"""

RELEASE_HOLD = f"""
mutation($code: Int!) {{
  releaseSmsCountryHold(callingCode: $code) {{
    ... on SmsCountryHold {{ callingCode heldUntil reason }} {ERROR_FIELDS}
  }}
}}"""
