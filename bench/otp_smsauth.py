"""smsauth side of the OTP flow bench: a local SMS gateway, the server processes and the phases.

`run_smsauth` serves smsauth (uvicorn, N workers; in scale-out also a separate `smsauth worker`
that sends the queued messages), sets up a tenant, an `http` gateway, a store, a role and N users,
and drives startSmsAuthentication / verifySmsAuthentication and the enrollment pair with the
peers' closed-loop driver. A verify phase waits (bounded) until the gateway holds every code its
start phase queued, so the outbox's sending time is reported but never counted as a failure.
"""

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from bench_support import free_port, gql, phone, py_spy, serve_posts

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
SEND_TIMEOUT = 60.0  # longest wait for the outbox to deliver a start phase's codes
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
CREATE_GATEWAY = """mutation($i: SmsGatewayInput!) { createSmsGateway(input: $i) {
  ... on SmsGateway { id } } }"""
CREATE_STORE = (
    'mutation { createIdentityStore(input: {name: "b"}) { ... on IdentityStore { id } } }'
)
CONFIGURE = """mutation($s: ID!, $g: ID!, $limits: [RateLimitInput!]) { configureSmsAuthentication(
  identityStoreId: $s, input: {gatewayId: $g, enabled: true, resendCooldownSeconds: 0,
  maxAttempts: 5, velocityFactor: 0, rateLimits: $limits}) { __typename } }"""
CREATE_ROLE = """mutation($s: ID!) { createSecurityRole(identityStoreId: $s,
  input: {name: "staff"}) { ... on SecurityRole { id } } }"""
POLICY = """mutation($r: ID!) { setAuthenticationPolicy(roleId: $r,
  input: {smsEnabled: true}) { __typename } }"""
UPSERT_USER = """mutation($s: ID!, $i: UserInput!) { upsertUser(identityStoreId: $s,
  input: $i) { __typename } }"""


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
        self.runner, url = await serve_posts("/sms", self.handle)
        return f"{url}/sms"

    async def wait_for(self, count: int, timeout: float) -> float:
        """Seconds until `count` messages arrived (bounded by `timeout`)."""
        started = time.perf_counter()
        while self.count < count and time.perf_counter() - started < timeout:
            await asyncio.sleep(0.05)
        return round(time.perf_counter() - started, 2)


async def prepare(session, url, key, gateway_url, users: int) -> str:
    """A gateway, a store with SMS authentication on, a role with SMS allowed and N users."""
    gateway = await gql(
        session,
        url,
        key,
        CREATE_GATEWAY,
        i={
            "name": "bench",
            "type": "http",
            "url": gateway_url,
            "isDefault": True,
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    store = (await gql(session, url, key, CREATE_STORE))["id"]
    # Capacity, not abuse defence: every limit still counts each request but never refuses.
    limits = [
        {"action": action, "scope": scope, "windowSeconds": 3600, "maximum": 10_000_000}
        for action, scopes in LIMITED.items()
        for scope in scopes
    ]
    await gql(session, url, key, CONFIGURE, limits=limits, s=store, g=gateway["id"])
    role = await gql(session, url, key, CREATE_ROLE, s=store)
    await gql(session, url, key, POLICY, r=role["id"])

    async def user(i: int) -> None:
        person = {"userId": f"user{i}", "roles": ["staff"], "phoneNumber": phone(i)}
        await gql(session, url, key, UPSERT_USER, s=store, i={**person, "phoneVerified": True})

    for first in range(0, users, 16):
        await asyncio.gather(*(user(i) for i in range(first, min(first + 16, users))))
    return store


class Smsauth:
    """smsauth's processes: uvicorn with N workers and, in scale-out, one `smsauth worker`."""

    def __init__(self, api_env: dict, sender_env: dict | None, work: Path, workers: int) -> None:
        self.port, self.work, self.processes = free_port(), work, []
        self.url = f"http://127.0.0.1:{self.port}"
        serve = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"]
        serve += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self._spawn("smsauth-api", serve + ["--no-access-log", "--log-level", "warning"], api_env)
        if sender_env is not None:
            self._spawn("smsauth-worker", [sys.executable, "-m", "api.cli", "worker"], sender_env)

    def _spawn(self, name: str, command: list[str], env: dict) -> None:
        with (self.work / f"{name}.log").open("w") as log:
            process = subprocess.Popen(command, env=env, cwd=self.work, stdout=log, stderr=log)
        self.processes.append((name, process))

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.perf_counter() + START_TIMEOUT
        while time.perf_counter() < deadline:
            for name, process in self.processes:
                if process.poll() is not None:
                    log = (self.work / f"{name}.log").read_text()[-2000:]
                    raise RuntimeError(f"{name} exited: {log}")
            try:
                async with session.get(f"{self.url}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"smsauth not up in {START_TIMEOUT} s (logs in {self.work})")

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def create_tenant(env: dict) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "api.cli", "tenant", "create", "bench", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(created.stdout)["apiKey"]


def profiled(args, server: "Smsauth", phase: str) -> contextlib.AbstractContextManager:
    """With --py-spy DIR, py-spy samples the API process during the phase into DIR/<phase>.txt."""
    if not args.py_spy:
        return contextlib.nullcontext()
    _, api = server.processes[0]
    return py_spy(api.pid, Path(args.py_spy).resolve() / f"smsauth-{args.mode}-{phase}.txt")


async def drive(loadgen, session, args, server: Smsauth, key: str, gateway: Gateway, store: str):
    """Each concurrency: the baseline's rows, then start_auth, verify_auth, start_enroll and
    verify_enroll; one row each."""
    url = f"{server.url}/graphql"
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
    sent = gateway.count
    await loadgen.run_phase("warmup", phases[0][1], min(200, args.n), 8, 30)
    await gateway.wait_for(sent + min(200, args.n), SEND_TIMEOUT)
    results = []
    for c in args.concurrency:
        results += await args.baseline(c)
        for name, one in phases:
            sent = gateway.count
            note = {"target": "smsauth", **loadgen.machine_note()}
            with profiled(args, server, f"{name}-c{c}"):
                res = await loadgen.run_phase(name, one, args.n, c, args.duration, extra=note)
            if name.startswith("start"):
                res["sms_wait_s"] = await gateway.wait_for(sent + res["ok"], SEND_TIMEOUT)
                res["sms_sent"] = gateway.count - sent
            results.append(res)
            print(json.dumps(res), flush=True)
            await asyncio.sleep(args.pause)
    return results


async def run_smsauth(loadgen, session, args, api_env: dict, sender_env: dict | None, work: Path):
    gateway = Gateway(args.gateway_delay_ms)
    gateway_url = await gateway.start()
    key = create_tenant(api_env)
    server = Smsauth(api_env, sender_env, work, args.workers)
    try:
        await server.wait_ready(session)
        store = await prepare(session, f"{server.url}/graphql", key, gateway_url, args.n)
        return await drive(loadgen, session, args, server, key, gateway, store)
    finally:
        server.stop()
        await gateway.runner.cleanup()
