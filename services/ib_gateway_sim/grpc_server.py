"""The control service's gRPC wiring, in one place: the shared boot sequence from `services.common.server`
(tracing, metrics and error interceptors, health, reflection), plus the simulator's domain metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from grpc_health.v1._async import HealthServicer
from ibkr.sim.v1 import sim_pb2_grpc
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.common.channels import InternalAuthServerInterceptor
from services.common.config import CommonSettings
from services.common.metrics import GrpcServerMetrics, new_registry
from services.common.server import ServiceSpec, build_server, set_serving
from services.common.telemetry import build_tracer_provider

from .control import SERVICE_NAME, SimulatorControlServicer
from .simulator import Simulator


class SimCollector(Collector):
    """Domain metrics read from the simulator at scrape time (nothing is counted in the hot path)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        sim = self.sim
        yield GaugeMetricFamily("ibkr_sim_connected_clients", "API clients connected to the simulator.",
                                value=len(sim.gateway.ready_sessions()))
        orders = CounterMetricFamily("ibkr_sim_orders", "Orders the simulator received since its last reset, "
                                     "by outcome.", labels=["outcome"])
        received = sim.broker.received
        rejected = sum(1 for o in received if o.reject_code)
        orders.add_metric(["accepted"], len(received) - rejected)
        orders.add_metric(["rejected"], rejected)
        yield orders
        yield CounterMetricFamily("ibkr_sim_executions", "Executions since the simulator's last reset.",
                                  value=len(sim.broker.executions))
        yield CounterMetricFamily("ibkr_sim_api_requests", "TWS API requests received since start.",
                                  value=sum(sim.gateway.requests.values()))


@dataclass
class ControlServer:
    server: grpc.aio.Server
    port: int
    health: HealthServicer
    registry: CollectorRegistry

    async def stop(self, grace: float = 0.5) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def serve_control(sim: Simulator, *, settings: CommonSettings | None = None, port: int = 0,
                        tracer_provider: TracerProvider | None = None,
                        registry: CollectorRegistry | None = None) -> ControlServer:
    """Start `SimulatorControlService` for `sim` (port 0: ephemeral) and mark it SERVING.

    Like every suite service it requires `x-ibkr-internal-token` when `IBKR_INTERNAL_TOKEN` is set (health
    and reflection stay open); with no token configured it is open.
    """
    settings = settings or sim.config
    registry = registry or new_registry()
    registry.register(SimCollector(sim))
    server, bound, health = await build_server(
        services=[ServiceSpec(sim_pb2_grpc.add_SimulatorControlServiceServicer_to_server,
                              SimulatorControlServicer(sim), SERVICE_NAME)],
        settings=settings,
        port=port,
        tracer_provider=tracer_provider or build_tracer_provider("ib_gateway_sim", settings),
        metrics=GrpcServerMetrics(registry),
        extra_interceptors=[InternalAuthServerInterceptor(settings.internal_token)],
    )
    await server.start()
    await set_serving(health, [SERVICE_NAME], True)
    return ControlServer(server, bound, health, registry)
