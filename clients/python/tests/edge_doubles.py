"""Small gRPC servers that implement the public edge proto, for testing client mechanics.

They exist because the real edge cannot be made, on demand, to answer UNAVAILABLE twice then OK, to cut a
stream at an exact frame, or to send a chosen rich status. They run a real `grpc.aio` server on port 0 in
a thread of its own (so blocking and asyncio clients in the test can both call it) and record what they
received. The real edge is exercised end to end in `tests/e2e/test_clients.py`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from google.type import decimal_pb2
from grpc import aio
from grpc_status import rpc_status
from ibkr.edge.v1 import (
    event_service_pb2,
    event_service_pb2_grpc,
    trading_service_pb2,
    trading_service_pb2_grpc,
)
from ibkr.trading.v1 import event_pb2, execution_pb2, order_pb2

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

    def serve(self, *registrations: Registration, credentials: grpc.ServerCredentials | None = None) -> str:
        """Start a server with the given (add_XServicer_to_server, servicer) pairs; its address.

        Plaintext unless `credentials` (e.g. `grpc.ssl_server_credentials`) are given."""

        async def start() -> str:
            server = aio.server()
            for add, servicer in registrations:
                add(servicer, server)
            if credentials is None:
                port = server.add_insecure_port("127.0.0.1:0")
            else:
                port = server.add_secure_port("127.0.0.1:0", credentials)
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


@pytest.fixture(name="server_thread")
def server_thread_fixture() -> Iterator[ServerThread]:
    """Starts edge-double servers on demand; stops them after the test. Import it into a test module to use
    it (the client tests have no conftest: a rootless `conftest` module would shadow the repository's)."""
    servers = ServerThread()
    yield servers
    servers.close()


class Trading(trading_service_pb2_grpc.TradingServiceServicer):
    """PlaceOrder echoes the order as SUBMITTED (or fails with `error`); records requests and keys."""

    def __init__(self, error: grpc.Status | None = None) -> None:
        self.error = error
        self.requests: list[trading_service_pb2.PlaceOrderRequest] = []
        self.keys: list[str] = []
        self.placed = asyncio.Event()

    async def PlaceOrder(self, request, context):
        self.requests.append(request)
        self.keys.append(authorization(context))
        if self.error is not None:
            await context.abort_with_status(self.error)
        self.placed.set()
        return trading_service_pb2.PlaceOrderResponse(order=order_of(request, order_pb2.ORDER_STATUS_SUBMITTED))


def order_of(request: trading_service_pb2.PlaceOrderRequest, status: int) -> order_pb2.Order:
    return order_pb2.Order(order_id="o-1", client_order_id=request.client_order_id, account_id="DU1",
                           spec=request.order, status=status)


class Events(event_service_pb2_grpc.EventServiceServicer):
    """Sends a snapshot marker, then, once an order was placed, its fill and its FILLED update."""

    def __init__(self, trading: Trading) -> None:
        self.trading = trading

    async def StreamEvents(self, request, context):
        yield event_service_pb2.StreamEventsResponse(
            marker=event_pb2.StreamMarker(type=event_pb2.STREAM_MARKER_TYPE_SNAPSHOT_BEGIN), resume_token="0"
        )
        await self.trading.placed.wait()
        placed = self.trading.requests[-1]
        other = event_pb2.Event(fill=execution_pb2.Fill(execution_id="x-0", client_order_id="someone-else"))
        fill = event_pb2.Event(fill=execution_pb2.Fill(
            execution_id="x-1", order_id="o-1", client_order_id=placed.client_order_id,
            instrument=placed.order.instrument, side=placed.order.side, quantity=placed.order.quantity,
            price=decimal_pb2.Decimal(value="187.25"),
        ))
        update = event_pb2.Event(order_update=event_pb2.OrderUpdate(
            order=order_of(placed, order_pb2.ORDER_STATUS_FILLED)
        ))
        for number, event in enumerate((other, fill, update), start=1):
            yield event_service_pb2.StreamEventsResponse(event=event, resume_token=str(number))
        await asyncio.Event().wait()  # stay open like a live stream


class ScriptedEvents(event_service_pb2_grpc.EventServiceServicer):
    """Serves `count` events; the n-th connection is cut after `cuts[n]` frames with `cut_statuses[n]`.

    The resume token of event i is `str(i)`; resuming with it starts at event i + 1. A heartbeat frame
    (carrying the token of the last event) is sent first on every connection, as the real edge may.
    """

    def __init__(
        self, count: int, cuts: list[tuple[int, grpc.Status]], expired: bool = False, heartbeat: bool = True
    ) -> None:
        self.count = count
        self.heartbeat = heartbeat
        self.cuts = cuts
        self.expired = expired
        self.tokens: list[str] = []
        self.keys: list[str] = []

    async def StreamEvents(self, request, context):
        connection = len(self.tokens)
        self.tokens.append(request.resume_token)
        self.keys.append(authorization(context))
        if request.resume_token and self.expired:
            await context.abort_with_status(
                rich_status(grpc.StatusCode.FAILED_PRECONDITION, "token too old", "RESUME_TOKEN_EXPIRED")
            )
        start = int(request.resume_token) + 1 if request.resume_token else 0
        if self.heartbeat:
            yield event_service_pb2.StreamEventsResponse(
                heartbeat=event_pb2.Heartbeat(), resume_token=request.resume_token
            )
        limit, status = self.cuts[connection] if connection < len(self.cuts) else (None, None)
        for sent, index in enumerate(range(start, self.count)):
            if limit is not None and sent == limit:
                await context.abort_with_status(status)
            yield event_service_pb2.StreamEventsResponse(
                event=event_pb2.Event(event_id=f"e{index}", account_id=request.account_id),
                resume_token=str(index),
            )


def unavailable() -> grpc.Status:
    return rich_status(grpc.StatusCode.UNAVAILABLE, "edge restarting", "EDGE_SHUTTING_DOWN")


def too_slow() -> grpc.Status:
    return rich_status(grpc.StatusCode.RESOURCE_EXHAUSTED, "queue full", "SUBSCRIBER_TOO_SLOW")


class Recorder:
    """Implements every method of the public services: records (method, request, key) and answers with
    the empty response (streams end at once). For checking the requests the client builds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, str]] = []

    def registrations(self) -> list[Registration]:
        """(add_to_server, servicer) for the five public services, all recording into `calls`."""
        from google.protobuf import symbol_database
        from ibkr.edge.v1 import (
            admin_service_pb2,
            admin_service_pb2_grpc,
            market_data_service_pb2,
            market_data_service_pb2_grpc,
            portfolio_service_pb2,
            portfolio_service_pb2_grpc,
        )

        database = symbol_database.Default()
        services = (
            (admin_service_pb2, admin_service_pb2_grpc, "AdminService"),
            (event_service_pb2, event_service_pb2_grpc, "EventService"),
            (market_data_service_pb2, market_data_service_pb2_grpc, "MarketDataService"),
            (portfolio_service_pb2, portfolio_service_pb2_grpc, "PortfolioService"),
            (trading_service_pb2, trading_service_pb2_grpc, "TradingService"),
        )
        result: list[Registration] = []
        for module, grpc_module, name in services:
            methods: dict[str, Any] = {}
            for method in module.DESCRIPTOR.services_by_name[name].methods:
                response_class = database.GetSymbol(method.output_type.full_name)
                methods[method.name] = self._handler(method.name, response_class, method.server_streaming)
            servicer = type(f"Recording{name}", (getattr(grpc_module, f"{name}Servicer"),), methods)()
            result.append((getattr(grpc_module, f"add_{name}Servicer_to_server"), servicer))
        return result

    def _handler(self, name: str, response_class: Any, streaming: bool) -> Any:
        calls = self.calls
        if streaming:
            async def stream(_self: Any, request: Any, context: aio.ServicerContext) -> Any:
                calls.append((name, request, authorization(context)))
                return
                yield  # an async generator that ends at once

            return stream

        async def unary(_self: Any, request: Any, context: aio.ServicerContext) -> Any:
            calls.append((name, request, authorization(context)))
            return response_class()

        return unary
