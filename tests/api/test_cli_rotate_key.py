"""``smsauth rotate-key`` as an operator runs it: the real CLI against a SQLite file, next to a
running ``smsauth serve`` that keeps working while its key file is rotated."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from strawberry.relay.utils import from_base64

from domain.secret_box import SecretBox, generate_key
from tests.api.graphql_documents import CREATE_GATEWAY, TEST_GATEWAY, UPDATE_GATEWAY
from tests.api.server_support import ROOT, Server, cli, graphql

GATEWAY_LINE = "SMS gateway secrets (sms_gateway.secrets): {} re-encrypted, {} already under"


def rotate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "rotate-key", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    """The README's default: a SQLite file and a generated key file in the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(PYTHONPATH=str(ROOT), SMSAUTH_DATABASE_URL="sqlite://./smsauth.db")
    return env


async def send_test(url: str, key: str, gateway_id: str) -> str:
    sent = await graphql(url, key, TEST_GATEWAY, id=gateway_id, phone="+447079692712", text="hi")
    return sent["testSmsGateway"]["status"]


async def create_gateway(url: str, key: str, name: str, password: str) -> str:
    created = await graphql(
        url, key, CREATE_GATEWAY, input={"name": name, "type": "test", "password": password}
    )
    return created["createSmsGateway"]["id"]


@pytest.mark.slow
async def test_key_file_rotation_while_the_server_runs(embedded_env, tmp_path):
    env, key_file = embedded_env, tmp_path / "smsauth.key"
    key = json.loads(cli(env, tmp_path, "tenant", "create", "Rot", "--json").stdout)["apiKey"]
    no_file = rotate(env, tmp_path, "--new-key")  # the server creates the key file
    assert no_file.returncode == 2 and "no key file" in no_file.stderr
    server = Server(env, tmp_path)
    try:
        await server.wait_ready()
        (old_key,) = key_file.read_text().split()
        refused = rotate(env, tmp_path)
        assert refused.returncode == 2 and "--new-key" in refused.stderr
        first = await create_gateway(server.url, key, "First", "rot-secret-1")
        assert await send_test(server.url, key, first) == "DELIVERED"

        rotated = rotate(env, tmp_path, "--new-key")
        assert rotated.returncode == 0, rotated.stderr
        assert GATEWAY_LINE.format(1, 0) in rotated.stdout
        new_key, kept = key_file.read_text().strip().split(",")
        assert kept == old_key
        # The running server reads the changed key file: old and new secrets both work.
        assert await send_test(server.url, key, first) == "DELIVERED"
        second = await create_gateway(server.url, key, "Second", "rot-secret-2")
        again = rotate(env, tmp_path)
        assert again.returncode == 0 and GATEWAY_LINE.format(0, 2) in again.stdout

        second_pk = from_base64(second)[1]
        with sqlite3.connect(tmp_path / "smsauth.db") as db:  # a value no configured key opens
            token = SecretBox([generate_key()]).encrypt({"password": "lost"})
            db.execute("UPDATE sms_gateway SET secrets = ? WHERE id = ?", (token, second_pk))
        broken = rotate(env, tmp_path)
        assert broken.returncode == 1
        assert f"NOT ROTATED sms_gateway.secrets id={second_pk}" in broken.stdout

        key_file.write_text(new_key + "\n")  # every secret is under the new key: drop the old
        assert await send_test(server.url, key, first) == "DELIVERED"
        updated = await graphql(server.url, key, UPDATE_GATEWAY, id=first, input={"name": "F"})
        assert updated["updateSmsGateway"]["hasPassword"] is True
    finally:
        log = server.stop()
    outputs = log + "".join(p.stdout + p.stderr for p in (refused, rotated, again, broken))
    for secret in (old_key, new_key, "rot-secret-1", "rot-secret-2"):
        assert secret not in outputs


def test_key_list_from_the_environment(embedded_env, tmp_path):
    old, new = generate_key(), generate_key()
    env = {**embedded_env, "SMSAUTH_SECRET_KEY": old}
    cli(env, tmp_path, "tenant", "create", "Env")
    alone = rotate(env, tmp_path)
    assert alone.returncode == 2 and "nothing to rotate to" in alone.stderr
    both = {**env, "SMSAUTH_SECRET_KEY": f"{new},{old}"}
    file_flag = rotate(both, tmp_path, "--new-key")
    assert file_flag.returncode == 2 and "SMSAUTH_SECRET_KEY is set" in file_flag.stderr
    done = rotate(both, tmp_path)
    assert done.returncode == 0, done.stderr
    assert GATEWAY_LINE.format(0, 0) in done.stdout
    assert not (tmp_path / "smsauth.key").exists()
