"""ASGI middleware: a cap on request bodies, and a structured access log.

The access log writes one JSON object per request to the `metricql.server.access` logger:
`{"ts", "method", "path", "status", "ms", "bytes_in", "bytes_out", "user", "client"}` —
`user` is set by the route once the caller is known (an email or a token digest prefix).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from metricql.server.schemas import error_body

__all__ = ["ACCESS_LOG", "AccessLog", "BodyLimit"]

ACCESS_LOG = logging.getLogger("metricql.server.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413 PayloadTooLargeError, declared or streamed."""

    def __init__(self, app: App, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        message = f"the request body is larger than {self.max_bytes} bytes"
        body = json.dumps(error_body("PayloadTooLargeError", 413, message)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """Raised inside `receive` once a streamed body passes the cap."""


class AccessLog:
    """Logs every HTTP request as one JSON line (see the module docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        entry: dict[str, Any] = {"status": 500, "bytes_in": 0, "bytes_out": 0}
        scope.setdefault("state", {})["access"] = entry

        async def measured_receive() -> Message:
            message = await receive()
            entry["bytes_in"] += len(message.get("body", b""))
            return message

        async def measured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "http.response.body":
                entry["bytes_out"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, measured_receive, measured_send)
        finally:
            client = scope.get("client")
            ACCESS_LOG.info(
                json.dumps(
                    {
                        "ts": round(time.time(), 3),
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": entry["status"],
                        "ms": round((time.perf_counter() - start) * 1000, 2),
                        "bytes_in": entry["bytes_in"],
                        "bytes_out": entry["bytes_out"],
                        "user": entry.get("user"),
                        "client": client[0] if client else None,
                    }
                )
            )
