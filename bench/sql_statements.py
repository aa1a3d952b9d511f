"""SQL statements per OTP operation: what each GraphQL request costs the database.

Runs the real app in-process on a fresh SQLite file (or ``--database-url``), sets up a tenant,
the built-in test gateway, a store, a role and users, then counts the statements Tortoise sends
for each operation (its ``tortoise.db_client`` debug records, counted and never printed) and for
the dispatcher sending one queued message. privacyIDEA runs about 69 per request (issue 8).

    .venv/bin/python bench/sql_statements.py [--show]
"""

import argparse
import asyncio
import logging
import re
import statistics
import tempfile
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from api.app import create_app
from domain.models import Scope
from domain.secret_box import generate_key
from domain.settings import Settings
from domain.tenants import create_api_key, create_tenant

SETUP = [
    (
        'mutation { createSmsGateway(input: {name: "T", type: "test", isDefault: true}) '
        "{ ... on SmsGateway { id } } }"
    ),
]
STORE = 'mutation { createIdentityStore(input: {name: "S"}) { ... on IdentityStore { id } } }'
CONFIGURE = """mutation($s: ID!) { configureSmsAuthentication(identityStoreId: $s,
  input: {enabled: true, resendCooldownSeconds: 0}) { __typename } }"""
ROLE = """mutation($s: ID!) { createSecurityRole(identityStoreId: $s, input: {name: "staff"})
  { ... on SecurityRole { id } } }"""
POLICY = """mutation($r: ID!) { setAuthenticationPolicy(roleId: $r, input: {smsEnabled: true})
  { __typename } }"""
USER = """mutation($s: ID!, $u: String!) { upsertUser(identityStoreId: $s,
  input: {userId: $u, roles: ["staff"]}) { __typename } }"""
OPERATIONS = {
    "startSmsEnrollment": """mutation($s: ID!, $u: String!, $p: String) { startSmsEnrollment(
      input: {identityStoreId: $s, userId: $u, phoneNumber: $p}) {
      ... on Challenge { id } ... on UserError { code } } }""",
    "verifySmsEnrollment": """mutation($c: ID!, $code: String!) { verifySmsEnrollment(
      input: {challengeId: $c, code: $code}) { ... on Enrollment { verifiedAt }
      ... on UserError { code } } }""",
    "startSmsAuthentication": """mutation($s: ID!, $u: String!) { startSmsAuthentication(
      input: {identityStoreId: $s, userId: $u}) { ... on Challenge { id }
      ... on UserError { code } } }""",
    "verifySmsAuthentication": """mutation($c: ID!, $code: String!) { verifySmsAuthentication(
      input: {challengeId: $c, code: $code}) { ... on Authentication { expiresAt }
      ... on UserError { code } } }""",
}
LAST_TEXT = "{ smsMessages(first: 1) { edges { node { text } } } }"


class Counter(logging.Handler):
    """Counts the statement records of Tortoise's client logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.texts: list[str] = []  # the statements' SQL, without their bound values

    def emit(self, record: logging.LogRecord) -> None:
        if not record.getMessage().startswith(("Created connection", "Closed connection")):
            self.count += 1
            self.texts.append(str(record.args[0] if record.args else record.msg))


async def run(database_url: str, rounds: int, show: bool) -> dict[str, list[int]]:
    settings = Settings(database_url=database_url, secret_key=generate_key(), dispatcher=False)
    app = create_app(settings)
    counter = Counter()
    async with LifespanManager(app):
        db_log = logging.getLogger("tortoise.db_client")
        db_log.setLevel(logging.DEBUG)
        db_log.addHandler(counter)
        db_log.propagate = False  # counted, never printed: records hold bound values
        tenant, _, admin_key = await create_tenant("Bench")
        _, service_key = await create_api_key(tenant.id, Scope.SERVICE, "bench")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:

            async def gql(key: str, query: str, **variables) -> dict:
                response = await http.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {key}"},
                )
                body = response.json()
                assert not body.get("errors"), body
                return body["data"]

            def shown(name: str, before: int) -> None:
                if show and index == rounds - 1:
                    print(f"-- {name}")
                    print("\n".join(f"{n:3}. {t}" for n, t in enumerate(counter.texts[before:], 1)))

            async def counted(name: str, **variables) -> tuple[int, dict]:
                before = counter.count
                data = await gql(service_key, OPERATIONS[name], **variables)
                (result,) = data.values()
                assert "code" not in result, (name, result)
                shown(name, before)
                return counter.count - before, result

            async def last_code() -> str:
                data = await gql(admin_key, LAST_TEXT)
                text = data["smsMessages"]["edges"][0]["node"]["text"]
                return re.search(r"\d{6}", text).group()

            for query in SETUP:
                await gql(admin_key, query)
            store = (await gql(admin_key, STORE))["createIdentityStore"]["id"]
            await gql(admin_key, CONFIGURE, s=store)
            role = (await gql(admin_key, ROLE, s=store))["createSecurityRole"]["id"]
            await gql(admin_key, POLICY, r=role)
            counts: dict[str, list[int]] = {name: [] for name in [*OPERATIONS, "dispatch"]}
            for index in range(rounds):
                user, phone = f"user{index}", f"+4474{index:08d}"
                await gql(admin_key, USER, s=store, u=user)
                for purpose in ("Enrollment", "Authentication"):
                    extra = {"p": phone} if purpose == "Enrollment" else {}
                    used, challenge = await counted(f"startSms{purpose}", s=store, u=user, **extra)
                    counts[f"startSms{purpose}"].append(used)
                    before = counter.count
                    await app.state.dispatcher.drain()
                    counts["dispatch"].append(counter.count - before)
                    shown(f"dispatcher, after startSms{purpose}", before)
                    used, _ = await counted(
                        f"verifySms{purpose}", c=challenge["id"], code=await last_code()
                    )
                    counts[f"verifySms{purpose}"].append(used)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--rounds", type=int, default=5, help="users enrolled and authenticated")
    parser.add_argument(
        "--show", action="store_true", help="print the last round's statements (SQL, no values)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite://{Path(tmp) / 'bench.db'}"
        counts = asyncio.run(run(url, args.rounds, args.show))
    print(f"SQL statements per operation ({url.split(':')[0]}, {args.rounds} rounds)\n")
    print("| operation | median | min | max |\n|---|---:|---:|---:|")
    for name, values in counts.items():
        label = "dispatcher: send one queued message" if name == "dispatch" else name
        print(f"| {label} | {statistics.median(values):g} | {min(values)} | {max(values)} |")


if __name__ == "__main__":
    main()
