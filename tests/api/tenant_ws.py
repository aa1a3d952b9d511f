"""A real WebSocket path for the cross-tenant walk: the test's app served by uvicorn in the test's
own event loop (so the test still steps its outbox), and the ``websockets`` client speaking
graphql-transport-ws."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
import websockets

from tests.api.server_support import free_port

WAIT = 10.0


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """The app (its lifespan already running) on a local port; yields the WebSocket URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        async with asyncio.timeout(WAIT):
            while not server.started:
                assert not task.done(), task.exception()
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, WAIT)


class Subscriber:
    """One graphql-transport-ws connection; frames are read in order and kept by operation ID."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.returned: set[int] = set()

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, token: str) -> AsyncIterator["Subscriber"]:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert ack["type"] == "connection_ack", ack
            yield cls(ws)

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))

    async def until(self, op_id: str, kind: str = "next") -> dict[str, Any]:
        """The next frame of ``kind`` (or an error) for ``op_id`` not returned before: one read
        already or one awaited (bounded). Every frame read is kept, in order."""

        def wanted(index: int) -> bool:
            frame = self.frames[index]
            fits = frame.get("id") == op_id and frame["type"] in (kind, "error")
            return fits and index not in self.returned

        found = next((i for i in range(len(self.frames)) if wanted(i)), None)
        async with asyncio.timeout(WAIT):
            while found is None:
                frame = json.loads(await self.ws.recv())
                if frame["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                self.frames.append(frame)
                found = len(self.frames) - 1 if wanted(len(self.frames) - 1) else None
        self.returned.add(found)
        return self.frames[found]

    def first(self, op_id: str) -> dict[str, Any] | None:
        return next((f for f in self.frames if f.get("id") == op_id), None)


def answer_of(frame: dict[str, Any] | None) -> tuple[dict | None, list | None]:
    """(data, errors) of a subscription's first frame, as over HTTP; (None, None) if none came."""
    if frame is None:
        return None, None
    if frame["type"] == "error":  # refused before execution: the payload is the error list
        return None, frame["payload"]
    if frame["type"] == "complete":
        return None, [{"message": "completed without a result"}]
    return frame["payload"].get("data"), frame["payload"].get("errors")
