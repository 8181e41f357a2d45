"""Error bodies in each service's own shape, and the answers that are not answers
(a dropped connection, a timeout) that fault injection needs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

#: Exchange's own prefix and exception type for an identity it cannot find.
EXO_NOT_FOUND = "Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
#: The wording Exchange uses when a tenant has too many requests in flight.
EXO_CONCURRENCY_MESSAGE = (
    "You have reached the maximum number of concurrent requests per tenant. "
    "Please wait and try again."
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def retry_after_text(seconds: float) -> str:
    """Retry-After as the services send it: whole seconds, or tenths below one second
    (clients must cope with both)."""
    tenths = max(1, -(-seconds * 10 // 1))
    if tenths >= 10:
        return str(int(-(-tenths // 10)))
    return f"0.{int(tenths)}"


def graph_error_body(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": _now(),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def graph_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(graph_error_body(code, message), status, headers=dict(headers or {}))


def exo_error_body(code: str, message: str, detail: str | None = None) -> dict[str, Any]:
    """Exchange wraps a cmdlet's failure: the reason is in details[0].message."""
    error: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        error["details"] = [{"code": "Client", "target": "", "message": detail}]
        error["innererror"] = {
            "message": message,
            "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
        }
    return {"error": error, "adminapi.warnings@odata.type": "#Collection(String)",
            "@adminapi.warnings": []}


def exo_error(
    status: int,
    code: str,
    message: str,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(exo_error_body(code, message, detail), status, headers=dict(headers or {}))


def entra_error(status: int, error: str, code: int, description: str) -> JSONResponse:
    """A token endpoint error as Entra ID writes it (AADSTS code, trace and correlation ids)."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return JSONResponse(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        },
        status,
    )


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised when the emulator drops a connection. In process the client's transport
    lets it through as the transport error it is; on loopback the server closes the
    connection mid-response instead."""


class EmulatedTimeout(httpx.ReadTimeout):
    """Raised in process for a timeout fault: no transport timer runs there."""


class DroppedResponse(Response):
    """Starts a response, sends part of it, and breaks off."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"value": [', "more_body": True})
        raise ConnectionDropped("Server disconnected without sending a complete response.")


class TimeoutResponse(Response):
    """Keeps the client waiting past its read timeout (loopback) or times out at once
    (in process), then answers 504 if anyone is still listening."""

    def __init__(self, *, seconds: float, loopback: bool) -> None:
        super().__init__(status_code=504)
        self.seconds = seconds
        self.loopback = loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.loopback:
            raise EmulatedTimeout("The read operation timed out (emulated).")
        await asyncio.sleep(self.seconds)
        await JSONResponse(graph_error_body("GatewayTimeout", "The request timed out."), 504)(
            scope, receive, send
        )
