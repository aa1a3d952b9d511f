"""Process settings, read once from ``SMSAUTH_*`` environment variables."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite://./smsauth.db"
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything that configures one smsauth process."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    key_file: str = "./smsauth.key"
    redis_url: str | None = None
    public_url: str | None = None
    debug: bool = False
    graphiql: bool = True
    # Run the sender loop in this process; turn off for API instances when workers send.
    dispatcher: bool = True
    # How long past a gateway's timeout a claimed message stays leased to its dispatcher.
    lease_margin_seconds: float = 15.0
    # Gateway URLs, proxies, SMTP and SMPP hosts may be private or loopback addresses (link-local
    # and cloud metadata addresses are always refused). True for the embedded default.
    allow_private_networks: bool = True
    # The GraphQL schema may be introspected (GraphiQL needs it).
    introspection: bool = True
    # Larger request bodies are refused with HTTP 413.
    max_body_bytes: int = 256 * 1024
    # Browser origins allowed to call the API (CORS); empty allows none.
    cors_origins: tuple[str, ...] = ()
    # Peers whose X-Forwarded-For gives the client IP (comma-separated IPs or CIDRs, or "*").
    trusted_proxies: str = "127.0.0.1"
    # Log lines as JSON objects ("json") or as plain text ("text"); and the least level logged.
    log_format: str = "json"
    log_level: str = "info"
    # Serve Prometheus metrics at /metrics.
    metrics: bool = True

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name)
            return default if raw is None else raw.strip().lower() in TRUE_WORDS

        return cls(
            database_url=env.get("SMSAUTH_DATABASE_URL") or DEFAULT_DATABASE_URL,
            secret_key=env.get("SMSAUTH_SECRET_KEY") or None,
            key_file=env.get("SMSAUTH_KEY_FILE") or "./smsauth.key",
            redis_url=env.get("SMSAUTH_REDIS_URL") or None,
            public_url=(env.get("SMSAUTH_PUBLIC_URL") or "").rstrip("/") or None,
            debug=flag("SMSAUTH_DEBUG", False),
            graphiql=flag("SMSAUTH_GRAPHIQL", True),
            dispatcher=flag("SMSAUTH_DISPATCHER", True),
            lease_margin_seconds=float(env.get("SMSAUTH_LEASE_MARGIN_SECONDS") or 15.0),
            allow_private_networks=flag("SMSAUTH_ALLOW_PRIVATE_NETWORKS", True),
            introspection=flag("SMSAUTH_INTROSPECTION", True),
            max_body_bytes=int(env.get("SMSAUTH_MAX_BODY_BYTES") or 256 * 1024),
            cors_origins=tuple(
                origin.strip().rstrip("/")
                for origin in (env.get("SMSAUTH_CORS_ORIGINS") or "").split(",")
                if origin.strip()
            ),
            trusted_proxies=env.get("SMSAUTH_TRUSTED_PROXIES") or "127.0.0.1",
            log_format=(env.get("SMSAUTH_LOG_FORMAT") or "json").strip().lower(),
            log_level=(env.get("SMSAUTH_LOG_LEVEL") or "info").strip().lower(),
            metrics=flag("SMSAUTH_METRICS", True),
        )
