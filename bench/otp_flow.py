"""OTP flow benchmark: start + verify round trips per second and latency, on a real server.

Starts a local SMS gateway (in this process) and `smsauth serve` (uvicorn, SQLite by default),
sets up a tenant, an `http` gateway, a store, a role and N users, then drives
startSmsAuthentication / verifySmsAuthentication (and the enrollment pair) with the peers'
closed-loop driver (../shared/peers/ceiling/loadgen.py) at each concurrency. Loopback only,
every phase bounded by request count and time.

    .venv/bin/python bench/otp_flow.py                      # c=16 and 64, 2,000 requests a phase
    .venv/bin/python bench/otp_flow.py -n 500 -c 16 --gateway-delay-ms 200
"""

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
GRAPHQL_ERRORS = "... on UserError { code message }"
LIMITED = {
    "SEND": ("PHONE_NUMBER", "USER", "CLIENT_IP", "TENANT", "COUNTRY"),
    "VERIFY": ("PHONE_NUMBER", "USER", "CLIENT_IP"),
}
START_AUTH = f"""mutation($s: ID!, $u: String!) {{ startSmsAuthentication(input:
  {{identityStoreId: $s, userId: $u}}) {{ ... on Challenge {{ id }} {GRAPHQL_ERRORS} }} }}"""
VERIFY_AUTH = f"""mutation($c: ID!, $k: String!) {{ verifySmsAuthentication(input:
  {{challengeId: $c, code: $k}}) {{ ... on Authentication {{ assertion }} {GRAPHQL_ERRORS} }} }}"""
START_ENROLL = f"""mutation($s: ID!, $u: String!, $p: String) {{ startSmsEnrollment(input:
  {{identityStoreId: $s, userId: $u, phoneNumber: $p}}) {{ ... on Challenge {{ id }}
  {GRAPHQL_ERRORS} }} }}"""
VERIFY_ENROLL = f"""mutation($c: ID!, $k: String!) {{ verifySmsEnrollment(input:
  {{challengeId: $c, code: $k}}) {{ ... on Enrollment {{ verifiedAt }} {GRAPHQL_ERRORS} }} }}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def phone(i: int) -> str:
    return f"+4474{i:08d}"  # valid UK mobile numbers


class Gateway:
    """A local SMS gateway that keeps the last code sent to each number."""

    def __init__(self, delay_ms: int) -> None:
        self.delay, self.codes, self.count = delay_ms / 1000, {}, 0

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        if self.delay:
            await asyncio.sleep(self.delay)
        self.codes[form["to"]] = re.search(r"\d{6}", form["text"]).group()
        self.count += 1
        return web.Response(text="OK")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/sms", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}/sms"


async def gql(session, url, key, query, **variables):
    async with session.post(
        url,
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    ) as response:
        body = await response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    (value,) = body["data"].values()
    return value


async def prepare(session, url, key, gateway_url, users: int) -> str:
    gw = await gql(
        session,
        url,
        key,
        """mutation($i: SmsGatewayInput!) { createSmsGateway(input:
        $i) { ... on SmsGateway { id } } }""",
        i={
            "name": "bench",
            "type": "http",
            "url": gateway_url,
            "isDefault": True,
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    store = (
        await gql(
            session,
            url,
            key,
            'mutation { createIdentityStore(input: {name: "b"}) { ... on IdentityStore { id } } }',
        )
    )["id"]
    await gql(
        session,
        url,
        key,
        """mutation($s: ID!, $g: ID!, $limits: [RateLimitInput!]) { configureSmsAuthentication(
        identityStoreId: $s, input: {gatewayId: $g, enabled: true, resendCooldownSeconds: 0,
        maxAttempts: 5, velocityFactor: 0, rateLimits: $limits}) { __typename } }""",
        # Capacity, not abuse defence: every limit still counts each request but never refuses.
        limits=[
            {"action": action, "scope": scope, "windowSeconds": 3600, "maximum": 10_000_000}
            for action, scopes in LIMITED.items()
            for scope in scopes
        ],
        s=store,
        g=gw["id"],
    )
    role = await gql(
        session,
        url,
        key,
        """mutation($s: ID!) { createSecurityRole(identityStoreId:
        $s, input: {name: "staff"}) { ... on SecurityRole { id } } }""",
        s=store,
    )
    await gql(
        session,
        url,
        key,
        """mutation($r: ID!) { setAuthenticationPolicy(roleId: $r,
        input: {smsEnabled: true}) { __typename } }""",
        r=role["id"],
    )
    for i in range(users):
        await gql(
            session,
            url,
            key,
            """mutation($s: ID!, $i: UserInput!) { upsertUser(
            identityStoreId: $s, input: $i) { __typename } }""",
            s=store,
            i={
                "userId": f"user{i}",
                "roles": ["staff"],
                "phoneNumber": phone(i),
                "phoneVerified": True,
            },
        )
    return store


async def run(args: argparse.Namespace) -> list[dict]:
    sys.path.insert(0, str(Path(args.peers) / "ceiling"))
    import loadgen  # the peers' closed-loop driver

    gateway = Gateway(args.gateway_delay_ms)
    gateway_url = await gateway.start()
    work = Path(tempfile.mkdtemp(prefix="smsauth-bench-"))
    env = {
        **os.environ,
        "SMSAUTH_DATABASE_URL": args.database_url or f"sqlite://{work}/b.db",
        "SMSAUTH_KEY_FILE": str(work / "key"),
        "PYTHONPATH": str(ROOT),
    }
    if args.database_url and not env.get("SMSAUTH_SECRET_KEY"):
        from domain.secret_box import generate_key

        env["SMSAUTH_SECRET_KEY"] = generate_key()
    created = subprocess.run(
        [sys.executable, "-m", "api.cli", "tenant", "create", "bench", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(created.stdout)["apiKey"]
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=work,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    results = []
    try:
        async with loadgen.make_session(max(args.concurrency)) as session:
            for _ in range(150):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            store = await prepare(session, url, key, gateway_url, args.n)
            challenges: dict[int, str] = {}

            def starter(document, enroll):
                async def one(i: int) -> bool:
                    extra = {"p": phone(i)} if enroll else {}
                    value = await gql(session, url, key, document, s=store, u=f"user{i}", **extra)
                    challenges[i] = value.get("id")
                    return "id" in value

                return one

            def verifier(document, field):
                async def one(i: int) -> bool:
                    code = gateway.codes.get(phone(i), "")
                    value = await gql(session, url, key, document, c=challenges[i], k=code)
                    return field in value

                return one

            phases = [
                ("start_auth", starter(START_AUTH, False)),
                ("verify_auth", verifier(VERIFY_AUTH, "assertion")),
                ("start_enroll", starter(START_ENROLL, True)),
                ("verify_enroll", verifier(VERIFY_ENROLL, "verifiedAt")),
            ]
            await loadgen.run_phase("warmup", phases[0][1], min(200, args.n), 8, 30)
            for c in args.concurrency:
                for name, one in phases:
                    res = await loadgen.run_phase(
                        name,
                        one,
                        args.n,
                        c,
                        args.duration,
                        extra={
                            "target": "smsauth",
                            "workers": args.workers,
                            "gateway_delay_ms": args.gateway_delay_ms,
                            **loadgen.machine_note(),
                        },
                    )
                    results.append(res)
                    print(json.dumps(res), flush=True)
                    await asyncio.sleep(args.pause)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return results


def table(results: list[dict]) -> str:
    lines = [
        "| phase | C | rps | p50 ms | p95 ms | p99 ms | ok / requested |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['phase']} | {r['concurrency']} | {r['rps_ok']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['p99_ms']} | {r['ok']} / {r['requested']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="requests per phase (and users)")
    parser.add_argument("-c", "--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60.0, help="hard stop per phase (s)")
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--gateway-delay-ms", type=int, default=0)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--peers", default=str(ROOT.parent / "shared" / "peers"))
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = asyncio.run(run(args))
    print(
        f"\nsmsauth OTP flow, {started}, {os.cpu_count()} CPUs, workers={args.workers}, "
        f"gateway delay {args.gateway_delay_ms} ms\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
