"""Wires the edge together: dependencies → servicers → server with auth. Used by `__main__` and the tests.

    edge = await build_edge(settings, tracer_provider=tp, registry=new_registry())
    await edge.start()          # server started, hub tailing, health SERVING
    ...
    await edge.close(grace)     # health NOT_SERVING, stop(grace), close hub, channels, Redis
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2_grpc
from ibkr.edge.v1 import (
    admin_service_pb2,
    admin_service_pb2_grpc,
    event_service_pb2,
    market_data_service_pb2,
    market_data_service_pb2_grpc,
    portfolio_service_pb2,
    portfolio_service_pb2_grpc,
    trading_service_pb2,
)
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from services.common.channels import CLIENT_KEEPALIVE_OPTIONS
from services.common.metrics import GrpcServerMetrics
from services.common.server import ServiceSpec, build_server, set_serving
from services.common.telemetry import INSTRUMENTATION_NAME, UnrecordedSpans, never_records
from services.edge.auth import AuthGuard, AuthMetrics
from services.edge.config import EdgeSettings
from services.edge.downstream import Downstream
from services.edge.hub import HubMetrics, StreamHub
from services.edge.keys import ApiKeyStore
from services.edge.quotelines import QuoteLines
from services.edge.ratelimit import RateLimiter, StreamSlots
from services.edge.servicers.admin import AdminServicer, HealthProbe
from services.edge.servicers.events import EventServicer, add_event_service
from services.edge.servicers.market_data import MarketDataServicer
from services.edge.servicers.portfolio import PortfolioServicer
from services.edge.servicers.trading import TradingServicer, add_trading_service
from services.gateway_bridge.client import HEALTH_SERVICE_NAME as GATEWAY_HEALTH_SERVICE


def public_service_names() -> list[str]:
    """The five public services' full names (what reflection lists)."""
    return [
        trading_service_pb2.DESCRIPTOR.services_by_name["TradingService"].full_name,
        portfolio_service_pb2.DESCRIPTOR.services_by_name["PortfolioService"].full_name,
        market_data_service_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name,
        event_service_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
        admin_service_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
    ]


BUS_SERVICES = frozenset({public_service_names()[2], public_service_names()[3]})
"""The services that read the bus (StreamQuotes, StreamEvents): NOT_SERVING while Redis is unreachable."""


def server_credentials(settings: EdgeSettings) -> grpc.ServerCredentials | None:
    """TLS credentials from the configured PEM files (mutual TLS when a client CA is set), or None."""
    if not settings.tls_enabled:
        return None
    assert settings.edge_tls_cert_file is not None and settings.edge_tls_key_file is not None
    pair = (settings.edge_tls_key_file.read_bytes(), settings.edge_tls_cert_file.read_bytes())
    client_ca = settings.edge_tls_client_ca_file.read_bytes() if settings.edge_tls_client_ca_file else None
    return grpc.ssl_server_credentials([pair], root_certificates=client_ca,
                                       require_client_auth=client_ca is not None)


@dataclass
class Edge:
    """A built edge: the server, its port, and what must be closed with it."""

    server: grpc.aio.Server
    port: int
    health: Any
    hub: StreamHub
    redis: aioredis.Redis
    channels: list[grpc.aio.Channel]
    keys: ApiKeyStore
    service_names: list[str] = field(default_factory=public_service_names)

    async def start(self) -> None:
        """Start the hub and the server, then report SERVING (overall and the streaming services follow the
        bus reader: NOT_SERVING while it cannot reach Redis)."""
        self.hub.on_health = self._bus_health
        await self.hub.start()
        await self.server.start()
        await set_serving(self.health, self.service_names, True)

    async def _bus_health(self, reachable: bool) -> None:
        # Orders and queries do not need Redis, so their services stay SERVING; streams and the whole server
        # ("", what the supervisor and probes read) follow the bus.
        await set_serving(self.health, [n for n in self.service_names if n in BUS_SERVICES], reachable)

    async def close(self, grace: float = 0.0) -> None:
        """Stop serving (streams get `grace` seconds), then close the hub, channels and Redis."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.close_dependencies()

    async def close_dependencies(self) -> None:
        """Close the hub, the peer channels and Redis (after the server stopped)."""
        await self.hub.close()
        for channel in self.channels:
            await channel.close()
        await self.redis.aclose()


async def build_edge(settings: EdgeSettings, *, tracer_provider: TracerProvider, registry: CollectorRegistry,
                     port: int | None = None) -> Edge:
    """Build (not start) the edge from settings: channels, hub, servicers, interceptors, server."""
    # No client interceptors: `Downstream.call` attaches the CLIENT span, trace context and internal token
    # itself, for a fraction of what grpc.aio's interceptor machinery costs per call.
    channel_options = [*CLIENT_KEEPALIVE_OPTIONS, ("grpc.max_receive_message_length", settings.edge_max_message_bytes)]
    channels = {name: grpc.aio.insecure_channel(address, options=channel_options)
                for name, address in (("risk", settings.risk_address), ("ledger", settings.ledger_address))}
    token = settings.internal_token.get_secret_value() if settings.internal_token is not None else None
    # The bridge's reads go through risk's relay (only risk may reach the bridge), which calls the SERVING
    # replica of the active/standby pair.
    down = Downstream.from_channels(channels["risk"], channels["ledger"], channels["risk"],
                                    settings.edge_downstream_timeout_seconds,
                                    tracer=tracer_provider.get_tracer(INSTRUMENTATION_NAME), token=token or None,
                                    unrecorded=UnrecordedSpans(tracer_provider) if never_records(tracer_provider)
                                    else None)
    redis = aioredis.Redis.from_url(settings.redis_url)
    # One XREAD batch is dispatched before any stream gets to send, so a batch must fit in half a queue:
    # otherwise a burst alone would cut healthy subscribers.
    read_count = max(1, min(settings.edge_bus_read_count, settings.edge_subscriber_queue_size // 2))
    hub = StreamHub(redis, settings.bus_stream, metrics=HubMetrics(registry), read_count=read_count,
                    block_ms=settings.edge_bus_block_ms, tracer=tracer_provider.get_tracer("ibkr.edge"))
    keys = ApiKeyStore(settings.edge_api_keys_file)
    lines = QuoteLines(down, subscriber_id=f"edge-{uuid.uuid4().hex[:12]}")
    health_probes = {name: HealthProbe(address, health_pb2_grpc.HealthStub(channels[name]))
                     for name, address in (("risk", settings.risk_address), ("ledger", settings.ledger_address))}
    health_probes["bridge"] = HealthProbe(f"via risk {settings.risk_address}",
                                          health_pb2_grpc.HealthStub(channels["risk"]), GATEWAY_HEALTH_SERVICE)
    auth = AuthGuard(keys, RateLimiter(settings.edge_rate_limit_per_second, settings.edge_rate_limit_burst),
                     StreamSlots(settings.edge_max_streams_per_key), AuthMetrics(registry))
    admin = AdminServicer(down, health_probes)
    # Every public handler is registered behind the auth guard (health and reflection, added by build_server,
    # are not).
    guarded = auth.add_to_server
    specs = [
        ServiceSpec(guarded(add_trading_service), TradingServicer(down),
                    public_service_names()[0]),
        ServiceSpec(guarded(portfolio_service_pb2_grpc.add_PortfolioServiceServicer_to_server), PortfolioServicer(down),
                    public_service_names()[1]),
        ServiceSpec(guarded(market_data_service_pb2_grpc.add_MarketDataServiceServicer_to_server),
                    MarketDataServicer(down, hub, lines, heartbeat_seconds=settings.edge_heartbeat_seconds,
                                       min_interval_ms=settings.edge_quote_conflate_ms), public_service_names()[2]),
        ServiceSpec(guarded(add_event_service),
                    EventServicer(hub, down, queue_size=settings.edge_subscriber_queue_size,
                                  heartbeat_seconds=settings.edge_heartbeat_seconds), public_service_names()[3]),
        ServiceSpec(guarded(admin_service_pb2_grpc.add_AdminServiceServicer_to_server), admin, public_service_names()[4]),
    ]
    options = (("grpc.max_receive_message_length", settings.edge_max_message_bytes),
               ("grpc.max_send_message_length", settings.edge_max_message_bytes))
    server, bound, health = await build_server(
        services=specs, settings=settings, port=settings.edge_grpc_port if port is None else port,
        tracer_provider=tracer_provider, metrics=GrpcServerMetrics(registry),
        options=options, server_credentials=server_credentials(settings))
    return Edge(server, bound, health, hub, redis, list(channels.values()), keys)
