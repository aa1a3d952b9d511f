"""The ``smsauth`` command line: serve, worker, tenant create, export-schema, generate-key."""

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
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    commands.add_parser("generate-key", help="print a new SMSAUTH_SECRET_KEY")
    args = parser.parse_args(argv)

    if args.command == "serve":
        import uvicorn

        settings = Settings.from_env()
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            # The client IP (per-IP rate limits) comes from X-Forwarded-For of trusted proxies only.
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
        )
        return 0
    if args.command == "worker":
        return asyncio.run(_worker(args.batch))
    if args.command == "export-schema":
        from api.schema import schema

        sys.stdout.write(schema.as_str() + "\n")
        return 0
    if args.command == "generate-key":
        from domain.secret_box import generate_key

        print(generate_key())
        return 0
    return asyncio.run(_create_tenant(args.name, args.json))


async def _worker(batch: int) -> int:
    """A sender process: several may share a PostgreSQL database with the API instances."""
    import signal

    from domain.bus import create_bus
    from domain.db import close_database, open_database
    from domain.dispatcher import Dispatcher
    from domain.runtime import Runtime
    from domain.smpp_receipts import SmppReceipts

    settings = Settings.from_env()
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
    print("smsauth worker sending queued messages", file=sys.stderr, flush=True)
    await stop.wait()
    await smpp_receipts.stop()
    await dispatcher.stop()
    await runtime.bus.close()
    await runtime.close()
    await close_database()
    return 0


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
