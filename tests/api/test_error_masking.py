"""An unexpected exception (a bug) reaches the client masked: a generic message and an error ID that
the ERROR log line carries with the exception; debug mode adds the exception text.

The bug is simulated by making one domain function raise; everything else is the real app.
"""

import logging
import re

import pytest

from domain import gateways, identity_stores
from tests.api.graphql_documents import CREATE_STORE, GATEWAYS
from tests.conftest import GraphQLClient, client_for

SECRET = "secret-xyz"
MASKED = re.compile(r"Unexpected error \(error ID ([0-9a-f]{12})\)")


async def explode(*args, **kwargs):
    raise RuntimeError(f"database password is {SECRET}")


def masked_error(body: dict) -> dict:
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL", error
    assert MASKED.fullmatch(error["message"]), error["message"]
    assert error["extensions"]["errorId"] == MASKED.fullmatch(error["message"]).group(1)
    return error


def logged_with(caplog: pytest.LogCaptureFixture, error_id: str) -> logging.LogRecord:
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.name == "smsauth.api" and record.levelno == logging.ERROR
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)
    assert SECRET in logging.Formatter().format(record)  # the traceback, for whoever debugs it
    return record


@pytest.fixture
def broken_listing(monkeypatch):
    monkeypatch.setattr(gateways, "list_gateways", explode)


async def test_a_failing_query_is_masked_and_its_error_id_is_logged(admin, broken_listing, caplog):
    caplog.set_level(logging.ERROR)
    body = await admin.execute(GATEWAYS)
    assert SECRET not in admin.seen[-1] and "RuntimeError" not in admin.seen[-1]
    assert body["data"] is None
    error = masked_error(body)
    assert error["path"] == ["smsGateways"]
    logged_with(caplog, error["extensions"]["errorId"])


async def test_a_failing_mutation_is_masked_too(admin, monkeypatch, caplog):
    caplog.set_level(logging.ERROR)
    monkeypatch.setattr(identity_stores, "create_store", explode)
    body = await admin.execute(CREATE_STORE, name="Corp")
    assert SECRET not in admin.seen[-1]
    error = masked_error(body)
    logged_with(caplog, error["extensions"]["errorId"])


async def test_each_failure_gets_its_own_error_id(admin, broken_listing, caplog):
    first = masked_error(await admin.execute(GATEWAYS))["extensions"]["errorId"]
    second = masked_error(await admin.execute(GATEWAYS))["extensions"]["errorId"]
    assert first != second


async def test_expected_errors_are_not_masked(anonymous, broken_listing, caplog):
    caplog.set_level(logging.ERROR)
    body = await anonymous.execute(GATEWAYS)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_debug_mode_adds_the_exception_text(settings, tenant, broken_listing, caplog):
    caplog.set_level(logging.ERROR)
    async with client_for(settings, debug=True) as http:
        body = await GraphQLClient(http, tenant[1]).execute(GATEWAYS)
    (error,) = body["errors"]
    error_id = error["extensions"]["errorId"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["message"] == (
        f"Unexpected error (error ID {error_id}): RuntimeError: database password is {SECRET}"
    )
    logged_with(caplog, error_id)
