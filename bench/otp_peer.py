"""privacyIDEA in the OTP flow bench, through the peers' own scripts (never edited here).

`setup.sh` runs only when the instance ($PEER_DIR/pi) is missing; then `run.sh` serves it
(gunicorn, the run's worker count) and drives challenge and verify with `bench_sms.py`, at the
run's concurrency list, on min(n, 1000) users, each phase capped at the run's duration, with the
PIN variant off and the mock gateway delayed as our gateway is. Its JSON lines land in the run's
results folder.
"""

import json
import os
import signal
import subprocess
from pathlib import Path

SETUP_TIMEOUT = 900  # setup.sh takes 2-3 minutes: venvs, the instance and 1,100 tokens
PI_USERS = 1000  # users with a token without PIN that setup.sh enrolls


def script(path: Path, env: dict, log, timeout: float) -> None:
    """Run one peers' script in its own process group, ended (TERM) if it overruns."""
    process = subprocess.Popen(
        ["bash", str(path)], env=env, stdout=log, stderr=log, start_new_session=True
    )
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)  # its traps stop gunicorn and the mock gateway
        process.wait(timeout=30)
        raise
    if code:
        raise RuntimeError(f"{path.name} failed ({code}); see {log.name}")


def run_peer(args, out: Path) -> list[dict]:
    scripts = Path(args.peers) / "privacyidea"
    env = {**os.environ, "PEER_DIR": args.peer_dir}
    env.pop("PYTHONPATH", None)
    if not (Path(args.peer_dir) / "pi" / "pi.cfg").exists():
        print("# privacyIDEA: running the peers' setup.sh (a few minutes)", flush=True)
        with (out / "privacyidea-setup.log").open("w") as log:
            script(scripts / "setup.sh", env, log, SETUP_TIMEOUT)
    users = min(args.n, PI_USERS)
    results = out / "privacyidea.jsonl"
    env.update(
        PI_C=" ".join(str(c) for c in args.concurrency),
        PI_PIN_C="",
        PI_DURATION=str(args.duration),
        PI_USE=str(users),
        PI_WORKERS=str(args.workers),
        MOCK_DELAY_MS=str(args.gateway_delay_ms),
        RESULTS=str(results),
    )
    # Start-up, a warm-up round, then two phases per concurrency, each capped at the duration.
    bound = 180 + len(args.concurrency) * 2 * (args.duration + 10)
    with (out / "privacyidea-run.log").open("w") as log:
        script(scripts / "run.sh", env, log, bound)
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.startswith("{")]
    for row in rows:
        row["phase"] = f"privacyidea_{row['phase']}"
        row["workers"] = args.workers
        print(json.dumps(row), flush=True)
    return rows
