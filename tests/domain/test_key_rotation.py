"""Rotating the at-rest key: everything written under key A still works with key B alone after a
rotation with keys "B,A"; concurrent writers win; undecryptable values are reported; the key file
of the embedded default takes a new key that running processes pick up."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from domain.gateways import provider_config
from domain.key_rotation import (
    ENCRYPTED_COLUMNS,
    Outcome,
    RotationRefused,
    rotate_all,
    rotate_value,
    rotation_box,
)
from domain.models import SigningKey, SmsGateway, SmsMessage
from domain.secret_box import SecretBox, SecretKeyError, generate_key, load_secret_box
from domain.settings import Settings
from tests.api.graphql_documents import CONFIGURE_SMS, UPDATE_GATEWAY
from tests.api.otp_documents import (
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_AUTHENTICATION,
    VERIFY_ENROLLMENT,
)
from tests.api.otp_support import PHONE, build_setup, enroll, result
from tests.conftest import GraphQLClient

KEY_A, KEY_B, KEY_UNKNOWN = generate_key(), generate_key(), generate_key()
GATEWAY_SECRETS, MESSAGE_PAYLOADS = ENCRYPTED_COLUMNS[0], ENCRYPTED_COLUMNS[1]


@pytest.fixture
def settings(db: str, tmp_path: Path) -> Settings:
    """The app of these tests holds key A only."""
    return Settings(
        database_url=db, secret_key=KEY_A, key_file=str(tmp_path / "unused"), dispatcher=False
    )


@pytest.fixture
async def app_b(db: str, tmp_path: Path) -> AsyncIterator:
    """A second instance on the same database that holds key B alone."""
    settings = Settings(
        database_url=db, secret_key=KEY_B, key_file=str(tmp_path / "unused"), dispatcher=False
    )
    application = create_app(settings, manage_database=False)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def under_key_a(admin, http, tenant, httpserver):
    """A gateway with a password and a secret parameter, bob enrolled and authenticated once (a
    signing key), and alice's enrollment challenge whose message waits in the outbox."""
    s = await build_setup(admin, http, tenant, httpserver)
    (gateway,) = (await admin.data("{ smsGateways { id } }"))["smsGateways"]
    parameters = {
        "HTTP_METHOD": "POST",
        "OPTIONS": {"to": "{phone}", "text": "{otp}"},
        "PARAMETER": {"apikey": "gw-param-secret"},
    }
    await admin.ok(
        UPDATE_GATEWAY,
        id=gateway["id"],
        input={"username": "acme", "password": "gw-password-1", "parameters": parameters},
    )
    await enroll(s, "bob")
    s.assertion = await authenticate(s, s.service, "bob")
    await admin.ok(CONFIGURE_SMS, store=s.store, input={"synchronousSending": False})
    s.challenge = await result(
        s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE
    )
    assert s.challenge["sms"]["status"] == "QUEUED"
    return s


async def authenticate(s, client: GraphQLClient, user: str) -> str:
    challenge = await result(client, START_AUTHENTICATION, store=s.store, user=user)
    if challenge["sms"]["status"] == "QUEUED":
        await s.drain()
    done = await result(
        client, VERIFY_AUTHENTICATION, challenge=challenge["id"], code=s.gateway.last_code()
    )
    return done["assertion"]


def counts(report, outcome: Outcome) -> dict[str, int]:
    return {r.column.name: r.counts[outcome] for r in report.columns}


async def test_after_rotation_key_b_alone_reads_every_secret(under_key_a, app_b):
    s = under_key_a
    report = await rotate_all(SecretBox([KEY_B, KEY_A]), batch_size=2)
    assert report.ok, report.lines()
    assert counts(report, Outcome.ROTATED) == {
        "sms_gateway.secrets": 1,
        "sms_message.payload": 1,  # alice's queued message; sent ones hold no text any more
        "signing_key.private_jwk": 1,
        "challenge.secret": 3,  # bob's enrollment and authentication, alice's enrollment
    }
    assert "SMS gateway secrets (sms_gateway.secrets): 1 re-encrypted" in report.lines()[0]

    only_b = SecretBox([KEY_B])
    gateway = await SmsGateway.get()
    config = provider_config(gateway, only_b)
    assert config.password == "gw-password-1"
    assert config.parameters["PARAMETER"] == {"apikey": "gw-param-secret"}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_b), base_url="http://b.test"
    ) as http_b:
        service_b = GraphQLClient(http_b, s.service.token)
        s.drain = app_b.state.dispatcher.drain
        await s.drain()  # the queued text and the gateway's secrets decrypt with key B
        sent = s.gateway.received[-1]
        assert sent["to"] == PHONE and sent["apikey"] == "gw-param-secret"
        verified = await result(
            service_b, VERIFY_ENROLLMENT, challenge=s.challenge["id"], code=s.gateway.last_code()
        )
        assert verified["verifiedAt"], verified
        assertion = await authenticate(s, service_b, "bob")
        jwks = (await http_b.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(assertion)
    assert header["kid"] == jwt.get_unverified_header(s.assertion)["kid"]  # the same key signs
    (key,) = jwks["keys"]
    assert jwt.decode(assertion, jwt.PyJWK(key).key, algorithms=["ES256"], audience=s.store)
    assert await SigningKey.all().count() == 1


async def test_a_second_run_re_encrypts_nothing(under_key_a):
    box = SecretBox([KEY_B, KEY_A])
    first = await rotate_all(box)
    second = await rotate_all(box)
    assert second.ok and set(counts(second, Outcome.ROTATED).values()) == {0}
    assert counts(second, Outcome.CURRENT) == counts(first, Outcome.ROTATED)


async def test_an_undecryptable_value_is_reported_and_the_rest_rotated(under_key_a):
    gateway = await SmsGateway.get()
    await SmsGateway.filter(id=gateway.id).update(secrets=SecretBox([KEY_UNKNOWN]).encrypt({}))
    report = await rotate_all(SecretBox([KEY_B, KEY_A]))
    assert not report.ok
    assert f"NOT ROTATED sms_gateway.secrets id={gateway.id}" in "\n".join(report.lines())
    assert counts(report, Outcome.UNDECRYPTABLE)["sms_gateway.secrets"] == 1
    assert counts(report, Outcome.ROTATED)["challenge.secret"] == 3


async def test_a_concurrent_writer_is_never_overwritten(under_key_a):
    """Rotation read ``stale``; a writer then saved a new value: the writer's value stays (and
    is re-encrypted if it was written under the old key)."""
    box = SecretBox([KEY_B, KEY_A])
    gateway = await SmsGateway.get()
    stale = gateway.secrets
    written_under_b = SecretBox([KEY_B]).encrypt({"password": "changed-by-a-new-instance"})
    await SmsGateway.filter(id=gateway.id).update(secrets=written_under_b)
    assert await rotate_value(GATEWAY_SECRETS, gateway.id, stale, box) == Outcome.CURRENT
    assert (await SmsGateway.get(id=gateway.id)).secrets == written_under_b

    written_under_a = SecretBox([KEY_A]).encrypt({"password": "changed-by-an-old-instance"})
    await SmsGateway.filter(id=gateway.id).update(secrets=written_under_a)
    assert await rotate_value(GATEWAY_SECRETS, gateway.id, stale, box) == Outcome.ROTATED
    now = (await SmsGateway.get(id=gateway.id)).secrets
    assert SecretBox([KEY_B]).decrypt(now) == {"password": "changed-by-an-old-instance"}

    message = await SmsMessage.get(payload__isnull=False)
    await SmsMessage.filter(id=message.id).update(payload=None)  # sent meanwhile: text cleared
    assert await rotate_value(MESSAGE_PAYLOADS, message.id, message.payload, box) == Outcome.GONE
    assert (await SmsMessage.get(id=message.id)).payload is None


def test_new_key_goes_in_front_of_the_key_file_and_running_boxes_follow(tmp_path):
    settings = Settings(key_file=str(tmp_path / "smsauth.key"))
    running = load_secret_box(settings)  # what a server started before the rotation holds
    old_token = running.encrypt("old")
    (old_key,) = (tmp_path / "smsauth.key").read_text().split()
    with pytest.raises(RotationRefused, match="--new-key"):
        rotation_box(settings)
    box = rotation_box(settings, new_key=True)
    new_key, kept = (tmp_path / "smsauth.key").read_text().strip().split(",")
    assert kept == old_key and box.key_count == 2
    assert (tmp_path / "smsauth.key").stat().st_mode & 0o777 == 0o600
    assert SecretBox([new_key]).decrypt(running.encrypt("fresh")) == "fresh"
    assert running.decrypt(SecretBox([new_key]).encrypt("rotated")) == "rotated"
    (tmp_path / "smsauth.key").write_text(new_key + "\n")  # the old key dropped after rotating
    with pytest.raises(SecretKeyError):
        running.decrypt(old_token)


def test_rotation_refuses_what_it_cannot_do(tmp_path):
    with pytest.raises(RotationRefused, match="nothing to rotate to"):
        rotation_box(Settings(secret_key=KEY_A))
    with pytest.raises(RotationRefused, match="SMSAUTH_SECRET_KEY is set"):
        rotation_box(Settings(secret_key=f"{KEY_B},{KEY_A}"), new_key=True)
    missing = Settings(key_file=str(tmp_path / "nowhere.key"))
    with pytest.raises(RotationRefused, match="no key file"):
        rotation_box(missing, new_key=True)
    assert not (tmp_path / "nowhere.key").exists()
    assert rotation_box(Settings(secret_key=f"{KEY_B},{KEY_A}")).key_count == 2
