"""Subscriptions fan-out benchmark: subscriptions one instance holds, its RSS, and receipt latency.

For each mode it starts real `smsauth serve` processes (uvicorn, one worker each) on loopback with
a fresh database, a tenant (`tenant create --json`) and a Twilio gateway pointing at a tiny Twilio
in this process that answers the Messages resource with a new sid. It sends M messages with
testSmsGateway, opens N `smsDeliveryStatus(messageId: ...)` subscriptions (graphql-transport-ws
over the `websockets` package; C connections carrying N/C subscriptions each, subscription i
follows message i mod M) on the watching instance and reads that process's VmRSS once every
subscription has its first `next` frame. Then it posts signed Twilio "delivered" status callbacks
for K messages to the sending instance at a fixed rate and records, for every subscriber of those
messages, the time from just before the POST to the DELIVERED frame on that subscriber ("first
subscriber": the earliest of a message's subscribers), and the servers' CPU seconds meanwhile.
`--follow gateway` makes every subscription follow the gateway instead (each sees every event).

Modes: `one` (one instance, SQLite, in-process bus), `redis` (two instances sharing a throwaway
PostgreSQL database `smsauth_bench_<random>`, events over Redis) and `notify` (the same, events
over PostgreSQL LISTEN/NOTIFY). Loopback only; every phase has a hard stop; processes, throwaway
databases and temporary files are removed in `finally`.

    .venv/bin/python bench/fanout.py --subscriptions 1000
    .venv/bin/python bench/fanout.py                     # 10,000 subscriptions, 100 sockets
    .venv/bin/python bench/fanout.py --modes one --follow gateway --subscriptions 200
    .venv/bin/python bench/fanout.py --modes one --py-spy /tmp/prof  # profile the watcher

Prints one JSON object per mode (with more detail: POST latency, CPU, problems) and a table.
"""

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import bench_support
import websockets
from aiohttp import web
from bench_support import free_port, phone, py_spy, serve_posts, throwaway_database

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "bench-twilio-auth-token"
MODES = {
    "one": "one instance (SQLite, in-process bus)",
    "redis": "two instances (PostgreSQL + Redis)",
    "notify": "two instances (PostgreSQL NOTIFY)",
}
CREATE_GATEWAY = """mutation($i: SmsGatewayInput!) { createSmsGateway(input: $i) {
  ... on SmsGateway { id } ... on UserError { code message } } }"""
TEST_GATEWAY = """mutation($id: ID!, $p: String!) { testSmsGateway(id: $id, phoneNumber: $p,
  text: "fan-out") { ... on SmsMessage { id status providerMessageId }
  ... on UserError { code message } } }"""
SUBSCRIBE = {
    "message": """subscription($v: ID!) { smsDeliveryStatus(messageId: $v) {
  message { id status } status } }""",
    "gateway": """subscription($v: ID!) { smsDeliveryStatus(gatewayId: $v) {
  message { id status } status } }""",
}
START_TIMEOUT = 30.0
WARMUP = 5  # receipts before the measured ones, for messages nobody follows


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, as the peers' loadgen computes it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def twilio_signature(url: str, params: dict[str, str]) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class Twilio:
    """Twilio's Messages resource, enough for smsauth: a new sid per message, callbacks kept."""

    def __init__(self) -> None:
        self.count, self.callbacks, self.runner = 0, set(), None

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("StatusCallback"):
            self.callbacks.add(form["StatusCallback"])
        self.count += 1
        return web.json_response({"sid": f"SM{self.count:032x}", "status": "queued"}, status=201)

    async def start(self) -> str:
        self.runner, url = await serve_posts("/{tail:.*}", self.handle)
        return url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class Server:
    """`smsauth serve` (uvicorn, one worker: the Popen PID is the serving process)."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int, name: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / f"{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(int(START_TIMEOUT / 0.1)):
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{self.url}/healthz") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"server not up in {START_TIMEOUT} s: {self.log.read_text()[-2000:]}")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        (line,) = [x for x in status.splitlines() if x.startswith("VmRSS:")]
        return round(int(line.split()[1]) / 1024, 1)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


async def gql(session: aiohttp.ClientSession, url: str, key: str, query: str, **variables):
    """A mutation's value at the server ``url``; a UserError in it raises too."""
    value = await bench_support.gql(session, f"{url}/graphql", key, query, **variables)
    if "code" in value:
        raise RuntimeError(value)
    return value


class Subscribers:
    """N subscriptions over C graphql-transport-ws connections, timing DELIVERED frames."""

    def __init__(self, ws_url: str, key: str, follows: list[str]) -> None:
        self.ws_url, self.key, self.follows = ws_url, key, follows  # subscription i -> message
        self.established = 0
        self.all_established = asyncio.Event()
        self.sent_at: dict[str, float] = {}  # message ID -> perf_counter just before the POST
        self.measured: set[str] = set()  # the messages whose DELIVERED frames are timed
        self.latencies: list[float] = []
        self.first: dict[str, float] = {}  # message ID -> first subscriber's latency
        self.expected = 0
        self.all_received = asyncio.Event()
        self.problems: dict[str, int] = {}
        self.sockets: list = []
        self.readers: list[asyncio.Task] = []

    def problem(self, kind: str) -> None:
        self.problems[kind] = self.problems.get(kind, 0) + 1

    async def open(self, connections: int, document: str, variable: str | None) -> None:
        """Open the connections, each with its share of the subscriptions; returns once all are
        sent (``all_established`` is set when each has had its first ``next``)."""
        shares = [list(range(c, len(self.follows), connections)) for c in range(connections)]
        await asyncio.gather(*(self._connect(share, document, variable) for share in shares))

    async def _connect(self, share: list[int], document: str, variable: str | None) -> None:
        ws = await websockets.connect(
            self.ws_url,
            subprotocols=["graphql-transport-ws"],
            ping_interval=None,
            max_size=None,
            open_timeout=60,
            close_timeout=2,
        )
        self.sockets.append(ws)
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.key}"}}
        await ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        self.readers.append(asyncio.create_task(self._read(ws)))
        for i in share:
            value = variable or self.follows[i]
            payload = {"query": document, "variables": {"v": value}}
            await ws.send(json.dumps({"id": str(i), "type": "subscribe", "payload": payload}))

    async def _read(self, ws) -> None:
        seen: set[str] = set()
        try:
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "ping":
                    await ws.send('{"type":"pong"}')
                    continue
                if kind != "next":
                    self.problem(str(kind))
                    continue
                arrived = time.perf_counter()
                data = (frame["payload"].get("data") or {}).get("smsDeliveryStatus")
                if data is None:
                    errors = frame["payload"].get("errors") or [{}]
                    self.problem(f"error: {errors[0].get('message', '?')[:100]}")
                    continue
                sub = frame["id"]
                if sub not in seen:
                    seen.add(sub)
                    self.established += 1
                    if self.established == len(self.follows):
                        self.all_established.set()
                if data["status"] != "DELIVERED":
                    continue
                message = data["message"]["id"]
                if message not in self.measured:
                    continue  # a warm-up message's
                sent = self.sent_at.get(message)
                if sent is None:
                    self.problem("DELIVERED before its receipt")
                    continue
                self.latencies.append(arrived - sent)
                self.first.setdefault(message, arrived - sent)
                if len(self.latencies) == self.expected:
                    self.all_received.set()
        except websockets.ConnectionClosed:
            self.problem("connection closed")

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(
            *(asyncio.wait_for(ws.close(), 5) for ws in self.sockets), return_exceptions=True
        )


async def post_receipts(
    session: aiohttp.ClientSession,
    sender: str,
    callback: str,
    messages: list[dict],
    rate: float,
    subs: Subscribers,
) -> list[float]:
    """One signed "delivered" status callback per message, started every 1/rate seconds."""
    parts = urlsplit(callback)
    target = f"{sender}{parts.path}?{parts.query}"
    posts: list[float] = []

    async def one(message: dict) -> None:
        params = {
            "MessageSid": message["providerMessageId"],
            "MessageStatus": "delivered",
            "AccountSid": ACCOUNT_SID,
        }
        headers = {"X-Twilio-Signature": twilio_signature(callback, params)}
        started = subs.sent_at[message["id"]] = time.perf_counter()
        try:
            async with session.post(target, data=params, headers=headers) as answer:
                text = await answer.text()
        except aiohttp.ClientError as exc:
            subs.problem(f"receipt failed: {type(exc).__name__}")
            return
        posts.append(time.perf_counter() - started)
        if answer.status != 200 or text != "ok 1":
            subs.problem(f"receipt answered {answer.status} {text[:40]}")

    tasks = []
    begin = time.perf_counter()
    for k, message in enumerate(messages):
        await asyncio.sleep(max(0.0, begin + k / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(message)))
    await asyncio.gather(*tasks)
    return posts


async def run_mode(mode: str, args: argparse.Namespace, secret_key: str) -> dict:
    result: dict = {"mode": mode, "subscriptions": args.subscriptions}
    work = Path(tempfile.mkdtemp(prefix="smsauth-fanout-"))
    servers: list[Server] = []
    subscribers: list[Subscribers] = []

    async def stop_servers() -> None:
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in servers))

    async def close_subscribers() -> None:
        for subs in subscribers:
            await subs.close()

    try:
        # Cleanup runs in reverse: websockets, servers, the Twilio, the session, the database.
        async with contextlib.AsyncExitStack() as stack:
            env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
            env.update(PYTHONPATH=str(ROOT), SMSAUTH_SECRET_KEY=secret_key)
            env.update(item.split("=", 1) for item in args.server_env)
            if mode == "one":
                env["SMSAUTH_DATABASE_URL"] = f"sqlite://{work}/fanout.db"
            else:
                db = await stack.enter_async_context(throwaway_database(args.postgres))
                env["SMSAUTH_DATABASE_URL"] = db
                if mode == "redis":
                    env["SMSAUTH_REDIS_URL"] = args.redis
            ports = [free_port() for _ in range(1 if mode == "one" else 2)]
            env["SMSAUTH_PUBLIC_URL"] = f"http://127.0.0.1:{ports[0]}"  # the sending instance
            session = await stack.enter_async_context(
                aiohttp.ClientSession(
                    # a new connection per request, as from Twilio; no keep-alive races either
                    connector=aiohttp.TCPConnector(force_close=True),
                    timeout=aiohttp.ClientTimeout(total=60),
                )
            )
            twilio = Twilio()
            stack.push_async_callback(twilio.stop)
            stack.push_async_callback(stop_servers)
            stack.push_async_callback(close_subscribers)

            # Phase 1: processes, tenant, gateway, M + warm-up messages sent.
            async with asyncio.timeout(args.phase_timeout):
                twilio_url = await twilio.start()
                created = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "api.cli", "tenant", "create", "fanout", "--json"],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=True,
                )
                key = json.loads(created.stdout)["apiKey"]
                for port, name in zip(ports, ("sender", "watcher"), strict=False):
                    servers.append(Server(env, work, port, name))
                await asyncio.gather(*(s.wait_ready(session) for s in servers))
                sender, watcher = servers[0], servers[-1]
                gateway = await gql(
                    session,
                    sender.url,
                    key,
                    CREATE_GATEWAY,
                    i={
                        "name": "Twilio",
                        "type": "twilio",
                        "url": twilio_url,
                        "accountId": ACCOUNT_SID,
                        "password": AUTH_TOKEN,
                        "senderId": "+15005550006",
                    },
                )
                limit = asyncio.Semaphore(8)

                async def send(i: int) -> dict:
                    async with limit:
                        return await gql(
                            session, sender.url, key, TEST_GATEWAY, id=gateway["id"], p=phone(i)
                        )

                sent = await asyncio.gather(*(send(i) for i in range(args.messages + WARMUP)))
                if {m["status"] for m in sent} != {"SENT"} or len(twilio.callbacks) != 1:
                    raise RuntimeError(f"unexpected sends: {sent[:3]} {twilio.callbacks}")
                messages, warmup = sent[: args.messages], sent[args.messages :]
                (callback,) = twilio.callbacks
            result["rss_idle_mib"] = watcher.rss_mib()

            # Phase 2: N subscriptions on the watching instance, RSS once all are established.
            ids = [m["id"] for m in messages]
            follows = [ids[i % len(ids)] for i in range(args.subscriptions)]
            subs = Subscribers(watcher.url.replace("http", "ws", 1) + "/graphql", key, follows)
            subscribers.append(subs)
            variable = gateway["id"] if args.follow == "gateway" else None
            begin = time.perf_counter()
            try:
                async with asyncio.timeout(args.phase_timeout):
                    await subs.open(args.connections, SUBSCRIBE[args.follow], variable)
                    extra = len(sent)
                    while args.follow == "gateway" and not subs.all_established.is_set():
                        # a gateway subscription has no current status: one more message's
                        # SENDING/SENT events give every subscriber its first frame
                        await send(extra)
                        extra += 1
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(subs.all_established.wait(), 2)
                    await subs.all_established.wait()
            except TimeoutError:
                subs.problem("subscribe phase timed out")
            result["subscribe_s"] = round(time.perf_counter() - begin, 1)
            result["held"] = subs.established
            await asyncio.sleep(1.0)  # let the server settle after the last first frame
            result["rss_held_mib"] = watcher.rss_mib()

            # Phase 3: warm-up receipts (messages nobody follows: only tenant-wide and gateway
            # subscribers are woken by them), then K signed "delivered" receipts at a fixed rate.
            async with asyncio.timeout(args.phase_timeout):
                await post_receipts(session, sender.url, callback, warmup, args.rate, subs)
                await asyncio.sleep(1.0)
            receipted = messages[: args.receipts]
            wanted = subs.measured = {m["id"] for m in receipted}
            if args.follow == "gateway":
                subs.expected = len(receipted) * subs.established
            else:
                subs.expected = sum(1 for f in follows if f in wanted)
            cpu = [s.cpu_seconds() for s in servers]
            spy = contextlib.nullcontext()
            if args.py_spy:
                profile = Path(args.py_spy).resolve() / f"fanout-{mode}-{args.subscriptions}.txt"
                spy = py_spy(watcher.process.pid, profile)
            begin = time.perf_counter()
            result["latency_phase_at"] = round(time.time(), 1)
            posts: list[float] = []
            with spy:
                try:
                    async with asyncio.timeout(args.phase_timeout):
                        posts = await post_receipts(
                            session, sender.url, callback, receipted, args.rate, subs
                        )
                        await subs.all_received.wait()
                except TimeoutError:
                    subs.problem("latency phase timed out")
            elapsed = time.perf_counter() - begin
            cpu = [round(s.cpu_seconds() - c, 2) for s, c in zip(servers, cpu, strict=True)]
            firsts = list(subs.first.values())
            result.update(
                rss_after_mib=watcher.rss_mib(),
                receipts=len(receipted),
                rate=args.rate,
                received=len(subs.latencies),
                expected=subs.expected,
                p50_ms=ms(pct(subs.latencies, 50)),
                p99_ms=ms(pct(subs.latencies, 99)),
                max_ms=ms(max(subs.latencies, default=None)),
                first_p50_ms=ms(pct(firsts, 50)),
                first_p99_ms=ms(pct(firsts, 99)),
                post_p50_ms=ms(pct(posts, 50)),
                post_p99_ms=ms(pct(posts, 99)),
                phase_s=round(elapsed, 1),
                server_cpu_s=cpu,
                problems=subs.problems,
            )
    except Exception as exc:  # a broken mode is reported, the other modes still run
        result["error"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        if args.keep_logs:
            print(f"logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def table(results: list[dict]) -> str:
    lines = [
        "| mode | subscriptions held | RSS MiB idle → held | receipt→subscriber p50 / p99 ms "
        "| first subscriber p50 / p99 ms | events received / expected |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if "error" in r and "received" not in r:
            lines.append(f"| {MODES[r['mode']]} | error: {r['error'][:120]} | | | | |")
            continue
        lines.append(
            f"| {MODES[r['mode']]} | {r['held']} / {r['subscriptions']} "
            f"| {r['rss_idle_mib']} → {r['rss_held_mib']} | {r['p50_ms']} / {r['p99_ms']} "
            f"| {r['first_p50_ms']} / {r['first_p99_ms']} | {r['received']} / {r['expected']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=10000, help="N, held at once")
    parser.add_argument("--connections", type=int, default=100, help="C websocket connections")
    parser.add_argument("--messages", type=int, default=1000, help="M messages sent and followed")
    parser.add_argument("--receipts", type=int, default=60, help="K receipted messages (<= M)")
    parser.add_argument("--rate", type=float, default=1.0, help="receipts per second")
    parser.add_argument("--follow", choices=SUBSCRIBE, default="message")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--phase-timeout", type=float, default=180.0, help="hard stop (s)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep-logs", action="store_true", help="keep the servers' logs")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE", help="for the servers"
    )
    parser.add_argument(
        "--py-spy", metavar="DIR", help="profile the watcher during the latency phase into DIR"
    )
    args = parser.parse_args()
    args.receipts = min(args.receipts, args.messages)
    for url in (args.postgres, args.redis):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing non-loopback {url!r}")
    sys.path.insert(0, str(ROOT))
    from domain.secret_box import generate_key

    secret_key = generate_key()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = []
    for mode in args.modes:
        result = asyncio.run(run_mode(mode, args, secret_key))
        print(json.dumps(result), flush=True)
        results.append(result)
    print(
        f"\nsmsauth subscriptions fan-out, {started}, {os.cpu_count()} CPUs, "
        f"{args.subscriptions} subscriptions on {args.connections} connections following "
        f"{args.follow}s ({args.messages} messages), {args.receipts} receipts at {args.rate}/s, "
        f"load average at the end {os.getloadavg()[0]:.2f}\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
