"""The OTP flow bench's report: one markdown table with ratios, and the run's results folder.

Rows per concurrency: the ceiling write, smsauth's four phases and (with --peer) privacyIDEA's
challenge and verify. "x ceiling" is a row's requests/s over the ceiling's at the same C;
"x privacyIDEA" is smsauth's over privacyIDEA's at the same C (a start phase against the
challenge, a verify phase against the verify).
"""

import json
from pathlib import Path

ORDER = [
    "gql_sqlite_write",
    "start_auth",
    "verify_auth",
    "start_enroll",
    "verify_enroll",
    "privacyidea_challenge",
    "privacyidea_verify",
]
LABELS = {
    "gql_sqlite_write": "ceiling write",
    "privacyidea_challenge": "privacyIDEA challenge",
    "privacyidea_verify": "privacyIDEA verify",
}


def ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.2f}x" if value and base else "-"


def load(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def peer_of(phase: str) -> str | None:
    if phase.startswith("start"):
        return "privacyidea_challenge"
    if phase.startswith("verify"):
        return "privacyidea_verify"
    return None


def table(rows: list[dict]) -> str:
    rps = {(r["phase"], r["concurrency"]): r["rps_ok"] for r in rows}
    lines = [
        "| phase | C | rps | p50 ms | p95 ms | p99 ms | ok / requested | x ceiling "
        "| x privacyIDEA | load1 before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ordered = sorted(
        (r for r in rows if r["phase"] in ORDER),
        key=lambda r: (r["concurrency"], ORDER.index(r["phase"])),
    )
    for r in ordered:
        c, phase = r["concurrency"], r["phase"]
        ceiling = "-" if phase == ORDER[0] else ratio(r["rps_ok"], rps.get((ORDER[0], c)))
        peer = peer_of(phase)
        versus = ratio(r["rps_ok"], rps.get((peer, c))) if peer else "-"
        note = " (deadline)" if r.get("hit_deadline") else ""
        lines.append(
            f"| {LABELS.get(phase, phase)}{note} | {c} | {r['rps_ok']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['p99_ms']} | {r['ok']} / {r['requested']} | {ceiling} | "
            f"{versus} | {load(r.get('loadavg1_before'))} |"
        )
    return "\n".join(lines)


def write(out: Path, header: str, rows: list[dict]) -> str:
    """Write results.jsonl and table.md into `out`; the markdown (header and table)."""
    with (out / "results.jsonl").open("w") as lines:
        for row in rows:
            lines.write(json.dumps(row) + "\n")
    report = f"{header}\n\n{table(rows)}\n"
    (out / "table.md").write_text(report)
    return report
