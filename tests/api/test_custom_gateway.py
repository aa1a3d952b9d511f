"""A third-party gateway type, installed with pip, works through the API like a built-in one.

The fixture installs ``examples/custom_gateway`` (the ``acme`` type) with pip into a temporary
directory and puts that directory on ``sys.path``, so the entry point is found the way it is in a
real installation, without changing the test environment. Afterwards it takes the directory off
the path and clears the registry cache again, so other tests see only the built-in types.
"""

import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from strawberry.relay.utils import from_base64

from providers.registry import registered
from tests.api.graphql_documents import CREATE_GATEWAY, MESSAGES, TEST_GATEWAY

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "custom_gateway"
PHONE = "+447079692712"
INSTALL_TIMEOUT = 300  # seconds; an isolated build may fetch setuptools from the package index

GATEWAY_TYPES = """{ smsGatewayTypes { key name custom defaultUrl urlEditable requiredFields
  parameters { name label required secret default help kind choices } } }"""


def _can_build_offline() -> bool:
    """Whether this environment's setuptools builds wheels by itself (70.1+, or with ``wheel``)."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    found = re.match(r"(\d+)\.(\d+)", version)
    return found is not None and (int(found[1]), int(found[2])) >= (70, 1)


def pip_install(source: Path, target: Path) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--no-deps", "--target", str(target)]
    if _can_build_offline():
        command += ["--no-build-isolation", "--no-index"]
    done = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT
    )
    assert done.returncode == 0, f"pip could not install the example:\n{done.stderr}"


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example installed into a directory on ``sys.path``; the registry sees ``acme``."""
    work = tmp_path_factory.mktemp("custom_gateway")
    source = work / "source"  # a copy, so the build leaves nothing in the repository
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    target = work / "site-packages"
    pip_install(source, target)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    registered.cache_clear()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m.split(".")[0] == "acme_sms_gateway"]:
            del sys.modules[name]
        importlib.invalidate_caches()
        registered.cache_clear()
        assert "acme" not in registered(), "the registry still has the plug-in after the tests"


def acme_input(url: str, **parameters: object) -> dict:
    return {
        "name": "Acme",
        "type": "acme",
        "url": url,
        "senderId": "Acme",
        "signature": "[Acme] ",
        "timeoutSeconds": 5,
        "parameters": {"API_TOKEN": "tok-very-secret", "REGION": "us", **parameters},
    }


async def test_the_plugin_type_is_listed_as_custom_with_its_parameters(installed_example, admin):
    types = {t["key"]: t for t in (await admin.data(GATEWAY_TYPES))["smsGatewayTypes"]}

    acme = types["acme"]
    assert acme["custom"] is True and acme["name"] == "Acme SMS"
    assert acme["defaultUrl"] == "https://api.acme-sms.example/v1" and acme["urlEditable"] is True
    assert acme["requiredFields"] == ["senderId"]
    declared = {
        p["name"]: (p["kind"], p["required"], p["secret"], p["default"], p["choices"])
        for p in acme["parameters"]
    }
    assert declared == {
        "API_TOKEN": ("string", True, True, None, []),
        "REGION": ("choice", False, False, "EU", ["EU", "US"]),
        "DAILY_LIMIT": ("integer", False, False, None, []),
    }
    assert all(p["label"] and p["help"] for p in acme["parameters"])
    assert not any(t["custom"] for key, t in types.items() if key != "acme")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"parameters": {"REGION": "EU"}}, "parameters.API_TOKEN"),  # the declaration: required
        ({"parameters": {"API_TOKEN": "t", "REGION": "ASIA"}}, "parameters.REGION"),  # a choice
        ({"parameters": {"API_TOKEN": "t", "DAILY_LIMIT": 0}}, "parameters.DAILY_LIMIT"),  # check
        ({"senderId": "A very long name"}, "senderId"),  # the plug-in's check_configuration
        ({"senderId": None}, "senderId"),  # the declaration's required fields
    ],
)
async def test_the_plugin_declaration_and_checks_validate_a_new_gateway(
    installed_example, admin, change, field
):
    given = acme_input("https://api.acme-sms.example/v1") | change

    result = (await admin.data(CREATE_GATEWAY, input=given))["createSmsGateway"]

    assert (result["code"], result["field"]) == ("VALIDATION", field)


async def test_test_sms_goes_through_the_plugin_to_the_gateway(
    installed_example, admin, httpserver
):
    httpserver.expect_oneshot_request("/v1/messages", method="POST").respond_with_json(
        {"id": "acme-771"}, status=201
    )
    gw = await admin.ok(CREATE_GATEWAY, input=acme_input(httpserver.url_for("/v1")))
    assert gw["type"] == "acme" and gw["secretParametersSet"] == ["API_TOKEN"]
    assert gw["parameters"] == {"REGION": "US"}  # the secret is never returned

    sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="Test 123")

    assert sent["status"] == "SENT" and sent["providerMessageId"] == "acme-771"
    httpserver.check_assertions()
    ((request, _),) = httpserver.log
    assert request.headers["Authorization"] == "Bearer tok-very-secret"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data()) == {
        "from": "Acme",
        "to": PHONE,
        "text": "[Acme] Test 123",
        "reference": from_base64(sent["id"])[1],
        "region": "US",
    }
    listed = (await admin.data(MESSAGES, gatewayId=gw["id"]))["smsMessages"]["edges"]
    assert [(e["node"]["id"], e["node"]["status"]) for e in listed] == [(sent["id"], "SENT")]


async def test_a_plugin_refusal_is_gateway_rejected(installed_example, admin, httpserver):
    httpserver.expect_request("/v1/messages").respond_with_json(
        {"error": "no credit left"}, status=402
    )
    gw = await admin.ok(CREATE_GATEWAY, input=acme_input(httpserver.url_for("/v1")))

    result = (await admin.data(TEST_GATEWAY, id=gw["id"], phone=PHONE))["testSmsGateway"]

    assert result["code"] == "GATEWAY_REJECTED"
    assert result["providerReason"] == "HTTP 402: no credit left"
    assert result["sms"]["status"] == "FAILED"


def test_the_example_packages_own_tests_pass_against_the_installation(installed_example):
    """The example's tests (its README's "how to test" advice) run green where it is installed."""
    source = installed_example.parent / "source"
    path = os.pathsep.join([str(installed_example), str(ROOT)])
    env = os.environ | {"PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
