"""The one boot sequence for a grpc.aio server, and its graceful shutdown.

server, port, health = await build_server(services=[...], settings=s, port=s.edge_grpc_port,
                                          tracer_provider=tp, metrics=GrpcServerMetrics(registry))
await server.start()
await set_serving(health, [spec.name for spec in specs], True)
await run_until_signal(server, health, grace=s.shutdown_grace_seconds, on_shutdown=[pool.close])
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from opentelemetry.trace import TracerProvider

from services.common._grpc_util import HEALTH_SERVICE
from services.common.config import CommonSettings
from services.common.errors import ErrorMappingServerInterceptor
from services.common.metrics import GrpcServerMetrics, MetricsServerInterceptor
from services.common.telemetry import TracingServerInterceptor

OVERALL = ""
"""The health service name for the server as a whole."""

# Accept the client keepalive pings `make_internal_channel` sends (every 20 s, even when idle); the
# defaults (5 min, 2 strikes) would answer them with GOAWAY too_many_pings.
SERVER_KEEPALIVE_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
)

ShutdownCallback = Callable[[], Awaitable[Any] | Any]


@dataclass(frozen=True)
class ServiceSpec:
    """One service to serve: the generated `add_*_to_server`, the servicer, the full service name.

    `ServiceSpec(trading_pb2_grpc.add_TradingServiceServicer_to_server, servicer,
    trading_pb2.DESCRIPTOR.services_by_name["TradingService"].full_name)`
    """

    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: object
    name: str


async def build_server(
    *,
    services: Sequence[ServiceSpec],
    settings: CommonSettings,
    port: int,
    tracer_provider: TracerProvider,
    metrics: GrpcServerMetrics,
    extra_interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
    options: Iterable[tuple[str, Any]] = (),
    server_credentials: grpc.ServerCredentials | None = None,
) -> tuple[grpc.aio.Server, int, HealthServicer]:
    """A bound (not yet started) server with tracing → metrics → errors → extras, health and reflection.

    Health starts NOT_SERVING for the whole server ("") and each service; flip it with `set_serving` once
    dependencies are ready. Binds `settings.bind_host:port` (0 → ephemeral) and returns the bound port.
    """
    interceptors = [
        TracingServerInterceptor(tracer_provider),
        MetricsServerInterceptor(metrics),
        ErrorMappingServerInterceptor(),
        *extra_interceptors,
    ]
    # Later duplicates win in grpc channel args, so caller options override our defaults.
    server = grpc.aio.server(interceptors=interceptors, options=[*SERVER_KEEPALIVE_OPTIONS, *options])
    for spec in services:
        spec.add_to_server(spec.servicer, server)

    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    names = [spec.name for spec in services]
    await set_serving(health, names, False)

    reflection.enable_server_reflection([*names, HEALTH_SERVICE, reflection.SERVICE_NAME], server)

    address = f"{_host_for_address(settings.bind_host)}:{port}"
    if server_credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, server_credentials)
    if bound == 0:
        raise RuntimeError(f"could not bind gRPC server to {address}")
    return server, bound, health


def _host_for_address(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


async def set_serving(health: HealthServicer, names: Iterable[str], serving: bool) -> None:
    """Set each named service, and the whole server (""), to SERVING or NOT_SERVING.

    Ignored once `enter_graceful_shutdown` has run, so a late readiness flip cannot undo a shutdown.
    """
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in (OVERALL, *names):
        await health.set(name, status)


async def run_until_signal(
    server: grpc.aio.Server,
    health: HealthServicer,
    *,
    grace: float,
    on_shutdown: Sequence[ShutdownCallback] = (),
    stop: asyncio.Event | None = None,
    logger: logging.Logger | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop` is set, or the server terminates), then shut down in order.

    Health goes NOT_SERVING first so load balancers drain, then `server.stop(grace)` lets in-flight calls
    finish, then each `on_shutdown` callback runs in order (close pools, flush telemetry); a failing callback
    is logged and the rest still run.
    """
    log = logger or logging.getLogger("services.common.server")
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        stopped = asyncio.ensure_future(stop.wait())
        terminated = asyncio.ensure_future(server.wait_for_termination())
        await asyncio.wait({stopped, terminated}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)

    log.info("shutting down", extra={"grace_seconds": grace})
    await health.enter_graceful_shutdown()
    await server.stop(grace)
    # Never cancel `terminated`: it waits on the server's own shutdown future, and cancelling it would
    # cancel that future and make stop() raise CancelledError.
    await terminated
    for callback in on_shutdown:
        try:
            result = callback()
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception(
                "shutdown callback failed",
                extra={"callback": getattr(callback, "__qualname__", repr(callback))},
            )
    log.info("stopped")
