"""The ``smsauth`` command line: serve, worker, tenant create, export-schema, generate-key,
rotate-key."""

import argparse
import asyncio
import json
import sys

from domain.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smsauth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="tenant_command", required=True
    )
    create = tenant.add_parser("create", help="create a tenant and print its first ADMIN key")
    create.add_argument("name")
    create.add_argument("--json", action="store_true", help='print {"tenantId", "apiKey"}')
    worker = commands.add_parser("worker", help="send queued messages (no API)")
    worker.add_argument("--batch", type=int, default=32)
    worker.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    worker.add_argument("--metrics-host", default="127.0.0.1")
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    commands.add_parser("generate-key", help="print a new SMSAUTH_SECRET_KEY")
    rotate = commands.add_parser(
        "rotate-key", help="re-encrypt every stored secret under the first configured key"
    )
    rotate.add_argument(
        "--new-key", action="store_true", help="first put a new key in front of the key file's"
    )
    args = parser.parse_args(argv)

    if args.command == "serve":
        import uvicorn

        from api.logging_setup import log_config, uvicorn_level

        settings = Settings.from_env()
        try:
            logging_config = log_config(settings.log_format, settings.log_level)
        except ValueError as error:
            print(f"smsauth: {error}", file=sys.stderr)
            return 2
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=logging_config,  # JSON lines (or text) with request IDs, uvicorn's too
            log_level=uvicorn_level(settings.log_level),
            # The client IP (per-IP rate limits) comes from X-Forwarded-For of trusted proxies only.
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
            ws_max_size=settings.max_body_bytes,  # WebSocket messages: the HTTP body limit
        )
        return 0
    if args.command == "worker":
        return asyncio.run(_worker(args.batch, args.metrics_host, args.metrics_port))
    if args.command == "export-schema":
        from api.schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return 0
    if args.command == "generate-key":
        from domain.secret_box import generate_key

        print(generate_key())
        return 0
    if args.command == "rotate-key":
        return asyncio.run(_rotate_key(args.new_key))
    return asyncio.run(_create_tenant(args.name, args.json))


async def _worker(batch: int, metrics_host: str, metrics_port: int | None) -> int:
    """A sender process: several may share a PostgreSQL database with the API instances."""
    import logging
    import signal

    from domain.bus import create_bus
    from domain.db import close_database, open_database
    from domain.dispatcher import Dispatcher
    from domain.runtime import Runtime
    from domain.smpp_receipts import SmppReceipts

    settings = Settings.from_env()
    if not _observe_worker(settings, metrics_host, metrics_port):
        return 2
    runtime = Runtime.from_settings(settings)
    await open_database(settings.database_url)
    runtime.bus = create_bus(settings)
    await runtime.bus.start()
    dispatcher = Dispatcher(runtime, batch=batch)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    dispatcher.start()
    smpp_receipts = SmppReceipts(runtime)
    smpp_receipts.start()
    logging.getLogger("smsauth.worker").info("smsauth worker sending queued messages")
    await stop.wait()
    await smpp_receipts.stop()
    await dispatcher.stop()
    await runtime.bus.close()
    await runtime.close()
    await close_database()
    return 0


def _observe_worker(settings: Settings, metrics_host: str, metrics_port: int | None) -> bool:
    """The worker's logging and, with a port, its own Prometheus endpoint; False if refused."""
    from api.logging_setup import configure

    try:
        configure(settings.log_format, settings.log_level)
    except ValueError as error:
        print(f"smsauth: {error}", file=sys.stderr)
        return False
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from domain import metrics

        start_http_server(metrics_port, addr=metrics_host, registry=metrics.registry())
    return True


async def _rotate_key(new_key: bool) -> int:
    """Exit 0 when every secret is under the first key, 1 when some could not be, 2 if refused."""
    from domain.db import close_database, open_database
    from domain.key_rotation import RotationRefused, rotate_all, rotation_box
    from domain.secret_box import SecretKeyError

    settings = Settings.from_env()
    try:
        box = rotation_box(settings, new_key=new_key)
    except (RotationRefused, SecretKeyError) as error:
        print(f"smsauth: {error}", file=sys.stderr)
        return 2
    if new_key:
        print("a new key was put in front of the key file's keys", file=sys.stderr)
    await open_database(settings.database_url)
    try:
        report = await rotate_all(box)
    finally:
        await close_database()
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


async def _create_tenant(name: str, as_json: bool) -> int:
    from api.ids import encode
    from domain.db import close_database, open_database
    from domain.errors import DomainError
    from domain.tenants import create_tenant

    settings = Settings.from_env()
    await open_database(settings.database_url)
    try:
        tenant, _, key = await create_tenant(name)
    except DomainError as error:
        print(f"smsauth: {error.message}", file=sys.stderr)
        return 2
    finally:
        await close_database()
    tenant_id = encode("Tenant", tenant.id)
    if as_json:
        print(json.dumps({"tenantId": tenant_id, "apiKey": key}))
    else:
        print(f"tenant {tenant.name!r} created: {tenant_id}")
        print(f"ADMIN API key (shown once, keep it safe): {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
