"""``/webhooks/sms/{gatewayId}``: providers' delivery receipts, handed to ``domain.receipts``."""

import logging
import uuid
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from domain import receipts
from domain.errors import NotFound
from domain.runtime import Runtime
from providers.base import InboundRequest, ReceiptMalformed, ReceiptRejected

log = logging.getLogger("smsauth.webhooks")
MAX_BODY = 256 * 1024


async def receive_receipt(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        gateway_id = uuid.UUID(request.path_params["gateway_id"])
    except ValueError:
        return PlainTextResponse("unknown gateway", status_code=404)
    body = await request.body()
    if len(body) > MAX_BODY:
        return PlainTextResponse("too large", status_code=413)
    form = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    inbound = InboundRequest(
        method=request.method,
        url=_public_url(runtime, request),
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        form=form,
        body=body,
    )
    try:
        moved = await receipts.handle(runtime, gateway_id, inbound)
    except ReceiptRejected:
        return PlainTextResponse("forbidden", status_code=403)
    except ReceiptMalformed as error:
        return PlainTextResponse(f"not a receipt: {error}", status_code=400)
    except NotFound:
        return PlainTextResponse("unknown gateway", status_code=404)
    return PlainTextResponse(f"ok {moved}")


def _public_url(runtime: Runtime, request: Request) -> str:
    """The URL as the provider called it: behind a proxy, rebuilt from SMSAUTH_PUBLIC_URL."""
    base = runtime.settings.public_url
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{base}{request.url.path}{query}"
