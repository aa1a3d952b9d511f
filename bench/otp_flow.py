"""OTP flow benchmark: smsauth side by side with the ceiling and privacyIDEA, in one run.

With one driver (the peers' closed-loop ../shared/peers/ceiling/loadgen.py), one worker count
and one concurrency list, it measures at each concurrency C, one right after the other:

- the ceiling (on by default, `--no-ceiling` skips it): the peers' Strawberry + Tortoise app's
  one-INSERT mutation `gql_sqlite_write` (bench/otp_ceiling.py);
- smsauth: startSmsAuthentication / verifySmsAuthentication and the enrollment pair against a
  local SMS gateway (bench/otp_smsauth.py), in the `embedded` mode (SQLite, one process that also
  sends) or `scaleout` (a throwaway PostgreSQL database, Redis, 2 API workers that only queue and
  a separate `smsauth worker` that sends);
- with `--peer`, after all of that, privacyIDEA's SMS challenge and verify through the peers'
  scripts (bench/otp_peer.py).

The ceiling app stays up (idle) while smsauth is measured, so that its row at each C is taken
just before smsauth's: on a shared machine, minutes apart can differ by 20 %.

It prints one table (bench/otp_report.py) with requests/s, p50/p95/p99 and the ratios to the
ceiling and to privacyIDEA at the same C, and writes the JSON lines and the table to `--out`.
Loopback only; every phase stops after n requests or `--duration` seconds.

    .venv/bin/python bench/otp_flow.py -n 1000 -c 16 64
    .venv/bin/python bench/otp_flow.py -n 1000 -c 16 64 --mode scaleout --peer
    .venv/bin/python bench/otp_flow.py -n 500 -c 16 --gateway-delay-ms 200 --no-ceiling
    .venv/bin/python bench/otp_flow.py -n 2000 -c 16 --no-ceiling --py-spy /tmp/prof
"""

import argparse
import asyncio
import contextlib
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

from bench_support import throwaway_database
from otp_ceiling import ceiling
from otp_peer import run_peer
from otp_report import write
from otp_smsauth import ROOT, run_smsauth


def environments(args, work: Path, database_url: str) -> tuple[dict, dict | None]:
    """The API processes' environment and, in scale-out, the sending worker's (else None)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env = {**clean, "PYTHONPATH": str(ROOT), "SMSAUTH_DATABASE_URL": database_url}
    if args.mode == "embedded":
        return {**env, "SMSAUTH_KEY_FILE": str(work / "key")}, None
    from domain.secret_box import generate_key

    env.update(SMSAUTH_SECRET_KEY=generate_key(), SMSAUTH_REDIS_URL=args.redis_url)
    return {**env, "SMSAUTH_DISPATCHER": "false"}, env


async def nothing(_c: int) -> list[dict]:
    return []


async def measure(args, work: Path, loadgen) -> tuple[list[dict], str]:
    """At each C the ceiling's row (unless --no-ceiling), then smsauth's, in the chosen mode."""
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(loadgen.make_session(max(args.concurrency)))
        args.baseline = nothing
        if args.ceiling:
            args.baseline = await stack.enter_async_context(ceiling(loadgen, session, args, work))
        if args.mode == "embedded":
            database_url = f"sqlite://{work}/smsauth.db"
        else:
            database_url = await stack.enter_async_context(throwaway_database(args.pg_url))
        api_env, sender_env = environments(args, work, database_url)
        rows = await run_smsauth(loadgen, session, args, api_env, sender_env, work)
        return rows, getattr(args.baseline, "venv", "-")


def header(args, started: str, load: tuple, venv: str) -> str:
    storage = (
        "SQLite file, one uvicorn process group that also sends"
        if args.mode == "embedded"
        else "PostgreSQL (throwaway database) + Redis, API workers only queue, "
        "one separate `smsauth worker` sends"
    )
    return "\n".join(
        [
            f"## OTP flow side by side, {started}",
            "",
            f"- command: `{shlex.join([sys.executable, *sys.argv])}`",
            f"- machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / "
            f"{load[2]:.2f} at start, Python {platform.python_version()}",
            f"- mode: {args.mode} ({storage}); uvicorn workers: {args.workers} "
            f"(ceiling and privacyIDEA's gunicorn the same)",
            f"- gateway delay: {args.gateway_delay_ms} ms; n = {args.n} per phase, "
            f"C = {' '.join(map(str, args.concurrency))}, hard stop {args.duration:g} s a phase",
            f"- ceiling served by: {venv}",
        ]
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="requests per phase (and users)")
    parser.add_argument("-c", "--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--mode", choices=("embedded", "scaleout"), default="embedded")
    parser.add_argument("--workers", type=int, help="default: 1 embedded, 2 scaleout")
    parser.add_argument("--duration", type=float, default=60.0, help="hard stop per phase (s)")
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--gateway-delay-ms", type=int, default=0)
    parser.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--peer", action="store_true", help="also privacyIDEA (setup: minutes)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--peers", default=str(ROOT.parent / "shared" / "peers"))
    parser.add_argument("--peer-dir", default=os.environ.get("PEER_DIR", "/tmp/peer"))
    parser.add_argument(
        "--py-spy", metavar="DIR", help="sample the smsauth API process in each phase into DIR"
    )
    parser.add_argument("--out", type=Path, help="results folder (default: a new temp folder)")
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = 1 if args.mode == "embedded" else 2
    return args


def main() -> None:
    args = parse()
    sys.dont_write_bytecode = True  # no __pycache__ in the shared peers' folder
    sys.path.insert(0, str(Path(args.peers) / "ceiling"))
    import loadgen  # the peers' closed-loop driver

    with contextlib.suppress(ImportError):
        import uvloop  # as the peers' drivers do

        uvloop.install()
    out = args.out or Path(tempfile.mkdtemp(prefix="smsauth-otp-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()
    rows, venv = asyncio.run(measure(args, out, loadgen))
    if args.peer:
        rows += run_peer(args, out)
    print("\n" + write(out, header(args, started, load, venv), rows))
    print(f"results: {out} (results.jsonl, table.md, logs)")


if __name__ == "__main__":
    main()
