"""Small gRPC servers that implement the public edge proto, for testing client mechanics.

They exist because the real edge cannot be made, on demand, to answer UNAVAILABLE twice then OK, to cut a
stream at an exact frame, or to send a chosen rich status. They run a real `grpc.aio` server on port 0 in
a thread of its own (so blocking and asyncio clients in the test can both call it) and record what they
received. The real edge is exercised end to end in `tests/e2e/test_clients.py`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from grpc_status import rpc_status

Registration = tuple[Callable[[Any, aio.Server], None], Any]


def rich_status(
    code: grpc.StatusCode,
    message: str,
    reason: str,
    metadata: Mapping[str, str] | None = None,
    violations: Iterable[tuple[str, str]] = (),
) -> grpc.Status:
    """A `grpc.Status` carrying `google.rpc.Status` with ErrorInfo (domain ibkr.local) and BadRequest."""
    status = status_pb2.Status(code=code.value[0], message=message)
    status.details.add().Pack(
        error_details_pb2.ErrorInfo(reason=reason, domain="ibkr.local", metadata=dict(metadata or {}))
    )
    if violations:
        status.details.add().Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
                ]
            )
        )
    return rpc_status.to_status(status)


def authorization(context: aio.ServicerContext) -> str:
    """The `authorization` header a call carried ('' when none)."""
    return dict(context.invocation_metadata() or ()).get("authorization", "")


class ServerThread:
    """A `grpc.aio` server on 127.0.0.1:0, running on its own event loop thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="edge-double", daemon=True)
        self._thread.start()
        self._servers: list[aio.Server] = []

    def _run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=30)

    def serve(self, *registrations: Registration) -> str:
        """Start a server with the given (add_XServicer_to_server, servicer) pairs; its address."""

        async def start() -> str:
            server = aio.server()
            for add, servicer in registrations:
                add(servicer, server)
            port = server.add_insecure_port("127.0.0.1:0")
            await server.start()
            self._servers.append(server)
            return f"127.0.0.1:{port}"

        return self._run(start())

    def close(self) -> None:
        """Stop every server and the loop."""

        async def stop() -> None:
            for server in self._servers:
                await server.stop(None)

        self._run(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
