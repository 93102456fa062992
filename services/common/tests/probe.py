"""A tiny raw-bytes gRPC service for the common runtime's tests, plus a server fixture builder.

Requests are bytes naming the behaviour: `ok`, `invalid`, `boom` (unhandled), `stream:<n>`,
`stream-invalid` (one message, then InvalidArgument).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from grpc_health.v1._async import HealthServicer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from services.common.config import CommonSettings
from services.common.errors import FieldViolation, InvalidArgument
from services.common.metrics import GrpcServerMetrics, new_registry
from services.common.server import ServiceSpec, build_server
from services.common.telemetry import build_tracer_provider

SERVICE = "ibkr.test.v1.ProbeService"
UNARY = f"/{SERVICE}/Unary"
STREAM = f"/{SERVICE}/Stream"
COLLECT = f"/{SERVICE}/Collect"
ECHO = f"/{SERVICE}/Echo"
ECHO_WRITTEN = f"/{SERVICE}/EchoWritten"
SECRET_DETAIL = "db password is hunter2"


class ProbeServicer:
    """Behaviour chosen by the request bytes."""

    async def Unary(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request == b"invalid":
            raise InvalidArgument(
                "INVALID_FIELD",
                "quantity must be positive",
                metadata={"field": "order.quantity"},
                field_violations=[FieldViolation("order.quantity", "must be positive", "NOT_POSITIVE")],
            )
        if request == b"boom":
            raise RuntimeError(SECRET_DETAIL)
        if request == b"slow":
            await asyncio.sleep(30)
        return request

    async def Stream(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        if request == b"stream-invalid":
            yield b"first"
            raise InvalidArgument("RESUME_TOKEN_EXPIRED", "too old")
        count = int(request.split(b":")[1])
        for i in range(count):
            yield str(i).encode()


    async def Collect(self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
        """Client streaming: the requests joined."""
        return b"".join([r async for r in requests])

    async def Echo(self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        """Bidirectional streaming, yielding each request back."""
        async for request in requests:
            yield request

    async def EchoWritten(self, requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> None:
        """Bidirectional streaming, writing each request back with `context.write` (a coroutine handler)."""
        async for request in requests:
            await context.write(request)


def add_probe_to_server(servicer: ProbeServicer, server: grpc.aio.Server) -> None:
    """What a generated `add_*Servicer_to_server` does, for raw bytes."""
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(servicer.Unary),
            "Stream": grpc.unary_stream_rpc_method_handler(servicer.Stream),
            "Collect": grpc.stream_unary_rpc_method_handler(servicer.Collect),
            "Echo": grpc.stream_stream_rpc_method_handler(servicer.Echo),
            "EchoWritten": grpc.stream_stream_rpc_method_handler(servicer.EchoWritten),
        },
    )
    server.add_generic_rpc_handlers((handler,))


@dataclass
class ProbeServer:
    server: grpc.aio.Server
    port: int
    health: HealthServicer
    exporter: InMemorySpanExporter
    provider: TracerProvider
    registry: CollectorRegistry

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


async def start_probe_server(
    settings: CommonSettings | None = None, extra_interceptors: tuple[grpc.aio.ServerInterceptor, ...] = ()
) -> ProbeServer:
    settings = settings or CommonSettings()
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider("probe", settings, exporter=exporter)
    registry = new_registry()
    server, port, health = await build_server(
        services=[ServiceSpec(add_probe_to_server, ProbeServicer(), SERVICE)],
        settings=settings,
        port=0,
        tracer_provider=provider,
        metrics=GrpcServerMetrics(registry),
        extra_interceptors=extra_interceptors,
    )
    await server.start()
    return ProbeServer(server, port, health, exporter, provider, registry)


async def finished_spans(
    source: ProbeServer | InMemorySpanExporter, count: int, timeout: float = 10.0
) -> tuple:
    """The finished spans (of a probe server or an exporter) once there are `count` of them.

    An aborted RPC's status reaches the caller before the server's interceptors unwind (abort sends it,
    then raises), so metrics and spans land a moment after the client sees the error. The tracing scope is
    the outermost, so once its spans are finished every inner interceptor has observed the call too.
    """
    exporter = source.exporter if isinstance(source, ProbeServer) else source
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        spans = exporter.get_finished_spans()
        if len(spans) >= count or loop.time() > deadline:
            return spans
        await asyncio.sleep(0.01)
