"""The production example in docker/ keeps its promises: two API instances, a worker, PostgreSQL
and Redis, private networks refused and GraphiQL off, a non-root multi-stage image."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.settings import Settings

DOCKER = Path(__file__).resolve().parents[1] / "docker"
#: What an operator puts in docker/.env; every required variable of the compose file.
OPERATOR_ENV = {
    "SMSAUTH_SECRET_KEY": "a-fernet-key",
    "SMSAUTH_POSTGRES_PASSWORD": "s3cret",
    "SMSAUTH_PUBLIC_URL": "https://auth.example.com",
}
WORKER = ["smsauth", "worker"]
VARIABLE = re.compile(r"\$\{(\w+)(?:(:\?|:-)([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``, as ``docker compose``."""

    def one(found: re.Match[str]) -> str:
        name, operator, rest = found.groups()
        if env.get(name):
            return env[name]
        if operator == ":?":
            raise LookupError(f"{name}: {rest}")
        return rest if operator == ":-" else ""

    return VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def smsauth_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == "docker/Dockerfile"
    }


def api_instances(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in smsauth_services(compose).items()
        if service.get("command") != WORKER
    }


def settings_of(service: dict[str, Any], env: dict[str, str] = OPERATOR_ENV) -> Settings:
    """The settings the process reads, from the service's environment as compose gives it."""
    environ = {name: interpolate(str(value), env) for name, value in service["environment"].items()}
    return Settings.from_env(environ)


def test_two_api_instances_a_worker_postgresql_and_redis(compose):
    services = compose["services"]
    assert len(api_instances(compose)) == 2
    workers = [s for s in smsauth_services(compose).values() if s.get("command") == WORKER]
    assert len(workers) == 1
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for service in smsauth_services(compose).values():
        settings = settings_of(service)
        assert settings.database_url.startswith("postgres://smsauth:s3cret@postgres:5432/")
        assert settings.redis_url == "redis://redis:6379/0"
        assert settings.public_url == "https://auth.example.com"
        assert set(service["depends_on"]) == {"postgres", "redis"}


def test_every_smsauth_service_refuses_private_networks_and_serves_no_ide(compose):
    for name, service in smsauth_services(compose).items():
        settings = settings_of(service)
        assert settings.allow_private_networks is False, name
        assert settings.graphiql is False, name
        assert settings.introspection is False, name
        assert settings.debug is False, name


def test_the_worker_sends_and_api_instances_only_queue(compose):
    for name, service in smsauth_services(compose).items():
        assert settings_of(service).dispatcher is (service.get("command") == WORKER), name


def test_secrets_must_be_given_by_the_operator(compose):
    for service in smsauth_services(compose).values():
        for missing in OPERATOR_ENV:
            env = {name: value for name, value in OPERATOR_ENV.items() if name != missing}
            with pytest.raises(LookupError, match=missing):
                settings_of(service, env)


def test_only_the_proxy_is_published_and_the_api_trusts_only_it(compose):
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    proxy_address = services["proxy"]["networks"]["edge"]["ipv4_address"]
    for name, service in api_instances(compose).items():
        assert settings_of(service).trusted_proxies == proxy_address, name
        assert "edge" in service["networks"]
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis"):
        assert services[name]["networks"] == ["backend"]
    caddyfile = (DOCKER / "Caddyfile").read_text()
    assert re.search(r"reverse_proxy api-1:8000 api-2:8000 \{", caddyfile)
    assert "health_uri /readyz" in caddyfile
    assert re.search(r"^\s*respond /metrics 404$", caddyfile, re.M)  # metrics stay internal


def test_api_instances_are_healthy_only_when_ready(compose):
    for name, service in api_instances(compose).items():
        probe = " ".join(service["healthcheck"]["test"])
        assert "http://127.0.0.1:8000/readyz" in probe, name
    for name in ("postgres", "redis"):
        assert compose["services"][name]["healthcheck"]["test"]
    for service in smsauth_services(compose).values():
        conditions = {dep["condition"] for dep in service["depends_on"].values()}
        assert conditions == {"service_healthy"}


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    stages: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_the_image_is_multi_stage_and_runs_as_a_non_root_user():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    final = stages[-1]
    users = [line.split(None, 1)[1] for line in final if line.upper().startswith("USER ")]
    assert users, "the final stage sets no USER"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"} and group not in {"root", "0"}
    assert any(line.startswith("COPY --from=builder") for line in final)
