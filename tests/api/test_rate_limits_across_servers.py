"""Rate limits across two real ``smsauth serve`` processes.

With Redis, the two servers even run on separate copies of one SQLite database, so only Redis
can carry the count between them; the control run without Redis shows that each copy then counts
alone. On PostgreSQL (``SMSAUTH_TEST_DATABASE_URL``) two servers share the database and its
counters. In every case the default limit is 5 codes per phone number per hour.
"""

import asyncio
import json
import os
import shutil

import pytest

from domain.secret_box import generate_key
from tests.api.graphql_documents import (
    CONFIGURE_SMS,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    SET_POLICY,
    UPSERT_USER,
)
from tests.api.otp_documents import START_ENROLLMENT
from tests.api.server_support import ROOT, Server, cli, graphql
from tests.domain.test_counters import REDIS_URL, _redis_unreachable

PHONE = "+447079692712"
PER_NUMBER_AND_HOUR = 5
USERS = [f"u{i}" for i in range(12)]


def base_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SMSAUTH_DATABASE_URL=database_url,
        SMSAUTH_SECRET_KEY=generate_key(),
    )
    return env


async def prepare(env: dict[str, str], cwd) -> tuple[str, str]:
    """A tenant whose store sends through the built-in test gateway: (API key, store ID)."""
    key = json.loads(cli(env, cwd, "tenant", "create", "Pump", "--json").stdout)["apiKey"]
    server = Server(env, cwd)
    try:
        await server.wait_ready()
        gw = await graphql(
            server.url, key, CREATE_GATEWAY, input={"name": "T", "type": "test", "isDefault": True}
        )
        store = (await graphql(server.url, key, CREATE_STORE, name="S"))["createIdentityStore"]
        await graphql(
            server.url,
            key,
            CONFIGURE_SMS,
            store=store["id"],
            input={
                "gatewayId": gw["createSmsGateway"]["id"],
                "enabled": True,
                "resendCooldownSeconds": 0,
            },
        )
        role = (await graphql(server.url, key, CREATE_ROLE, store=store["id"], name="staff"))[
            "createSecurityRole"
        ]
        await graphql(server.url, key, SET_POLICY, role=role["id"], input={"smsEnabled": True})
        for user in USERS:
            await graphql(
                server.url,
                key,
                UPSERT_USER,
                store=store["id"],
                input={"userId": user, "roles": ["staff"]},
            )
    finally:
        server.stop()
    return key, store["id"]


async def alternate_starts(urls: list[str], key: str, store: str) -> list[str]:
    """Start an enrollment to one number on each server in turn; the answers' outcomes."""
    outcomes = []
    for index, user in enumerate(USERS):
        data = await graphql(
            urls[index % 2], key, START_ENROLLMENT, store=store, user=user, phone=PHONE
        )
        answer = data["startSmsEnrollment"]
        outcomes.append("SENT" if "id" in answer else f"{answer['code']}:{answer['scope']}")
    return outcomes


async def run_pair(env_a: dict[str, str], env_b: dict[str, str], cwd, key, store) -> list[str]:
    first, second = Server(env_a, cwd), Server(env_b, cwd)
    try:
        await asyncio.gather(first.wait_ready(), second.wait_ready())
        return await alternate_starts([first.url, second.url], key, store)
    finally:
        first.stop()
        second.stop()


def copy_database(source, target) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{source}{suffix}"):
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


@pytest.mark.slow
async def test_redis_carries_the_count_between_servers_on_separate_databases(tmp_path):
    reason = await _redis_unreachable()
    if reason:
        pytest.skip(reason)
    env = base_env(f"sqlite://{tmp_path / 'a.db'}")
    key, store = await prepare(env, tmp_path)
    copy_database(tmp_path / "a.db", tmp_path / "b.db")
    env_b = {**env, "SMSAUTH_DATABASE_URL": f"sqlite://{tmp_path / 'b.db'}"}
    with_redis = await run_pair(
        {**env, "SMSAUTH_REDIS_URL": REDIS_URL},
        {**env_b, "SMSAUTH_REDIS_URL": REDIS_URL},
        tmp_path,
        key,
        store,
    )
    assert with_redis == ["SENT"] * PER_NUMBER_AND_HOUR + ["RATE_LIMITED:PHONE_NUMBER"] * 7


@pytest.mark.slow
async def test_without_shared_state_each_server_counts_alone(tmp_path):
    env = base_env(f"sqlite://{tmp_path / 'a.db'}")
    key, store = await prepare(env, tmp_path)
    copy_database(tmp_path / "a.db", tmp_path / "b.db")
    env_b = {**env, "SMSAUTH_DATABASE_URL": f"sqlite://{tmp_path / 'b.db'}"}
    alone = await run_pair(env, env_b, tmp_path, key, store)
    assert alone.count("SENT") == 2 * PER_NUMBER_AND_HOUR  # 5 on each copy: why Redis matters


@pytest.mark.slow
async def test_servers_sharing_postgresql_share_the_count(database_url, db, tmp_path):
    if not database_url.startswith("postgres"):
        pytest.skip("needs SMSAUTH_TEST_DATABASE_URL: two servers share a PostgreSQL database")
    env = base_env(database_url)
    key, store = await prepare(env, tmp_path)
    shared = await run_pair(env, env, tmp_path, key, store)
    assert shared == ["SENT"] * PER_NUMBER_AND_HOUR + ["RATE_LIMITED:PHONE_NUMBER"] * 7
