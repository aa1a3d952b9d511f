"""The ceiling for the OTP flow bench: the peers' Strawberry + Tortoise SQLite-write app.

Served as ../shared/peers/ceiling/run.sh serves it (schema made once with `--init-db`, then
`uvicorn app_strawberry:app --workers W --no-access-log` from the ceiling folder), with the
peers' own venv when it exists, else this one; on a free loopback port and a fresh SQLite file
in the run's work folder, so nothing under the shared folder is written.
"""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from bench_support import free_port
from otp_smsauth import START_TIMEOUT

WRITE = json.dumps({"query": 'mutation { addItem(name: "x") { id } }'}).encode()
HEADERS = {"Content-Type": "application/json"}


def ceiling_python(peer_dir: Path) -> tuple[str, str]:
    """The interpreter to serve the ceiling with, and a label saying which venv it is."""
    venv = peer_dir / "ceil-venv" / "bin" / "python"
    if venv.exists():
        return str(venv), str(venv.parents[1])
    return sys.executable, f"{Path(sys.executable).parents[1]} (this venv; no ceil-venv)"


async def wait_up(session: aiohttp.ClientSession, url: str, process: subprocess.Popen) -> None:
    deadline = time.perf_counter() + START_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the ceiling app exited")
        try:
            async with session.get(url) as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the ceiling app was not up in {START_TIMEOUT} s")


@contextlib.asynccontextmanager
async def ceiling(loadgen, session, args, work: Path):
    """The ceiling app, served and warmed up, as a `measure(c)` that returns one row."""
    folder = Path(args.peers) / "ceiling"
    python, venv = ceiling_python(Path(args.peer_dir))
    env = {**os.environ, "CEIL_DB": str(work / "ceil.sqlite"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    init = [python, "app_strawberry.py", "--init-db"]
    subprocess.run(init, cwd=folder, env=env, check=True, timeout=60, capture_output=True)
    port = free_port()
    command = [python, "-m", "uvicorn", "app_strawberry:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(args.workers)]
    command += ["--no-access-log", "--log-level", "warning"]
    with (work / "ceiling.log").open("w") as log:
        server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/graphql"

    async def one(_i: int) -> bool:
        async with session.post(url, data=WRITE, headers=HEADERS) as answer:
            payload = await answer.read()
        return answer.status == 200 and b'"id"' in payload

    async def measure(c: int) -> list[dict]:
        note = {"target": "ceiling", "ceiling_venv": venv, **loadgen.machine_note()}
        res = await loadgen.run_phase("gql_sqlite_write", one, args.n, c, args.duration, note)
        print(json.dumps(res), flush=True)
        await asyncio.sleep(args.pause)
        return [res]

    try:
        await wait_up(session, f"{url}?query=%7Bhello%7D", server)
        await loadgen.run_phase("warmup", one, min(200, args.n), 8, 30)
        measure.venv = venv
        yield measure
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
