"""Small pieces the benchmarks share: free loopback ports, local HTTP servers, phone numbers and
throwaway databases, and py-spy samples of a server."""

import contextlib
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def phone(i: int) -> str:
    return f"+4474{i:08d}"  # valid UK mobile numbers


@contextlib.asynccontextmanager
async def throwaway_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for a run, dropped (connections and all) at the end."""
    name = f"smsauth_bench_{secrets.token_hex(6)}"
    dsn = admin_url.replace("postgres://", "postgresql://", 1)
    admin = await asyncpg.connect(dsn, timeout=10)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(dsn, timeout=10)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


async def serve_posts(route: str, handler: Any) -> tuple[web.AppRunner, str]:
    """A local aiohttp server answering POSTs to ``route``: (its runner, its base URL)."""
    app = web.Application()
    app.router.add_post(route, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def py_spy(pid: int, output: Path) -> Iterator[None]:
    """py-spy samples process ``pid`` (collapsed stacks in ``output``) while the block runs."""
    output.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    command = [
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "250",
        "--subprocesses",
    ]
    recorder = subprocess.Popen(
        [*command, "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            recorder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait(timeout=5)
        print(f"py-spy profile: {output}", file=sys.stderr)


async def gql(session: Any, url: str, key: str, query: str, **variables: Any) -> Any:
    """The one root field's value of a GraphQL operation at ``url``; GraphQL errors raise."""
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
