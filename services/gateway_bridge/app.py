"""One bridge replica, assembled: store, bus, pacing, IB session, order service, supervisor, gRPC server.

    app = await BridgeApp.create(settings, tracer_provider, registry)
    server, port = await build_server(app, settings.bridge_grpc_port)
    await app.start(server)
    ...
    await app.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid

import grpc
import redis.asyncio as aioredis
from grpc_health.v1._async import HealthServicer
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import event_pb2, reconciliation_pb2, system_pb2
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry

from services.common.bus import EventBus
from services.common.channels import InternalAuthServerInterceptor
from services.common.errors import Unavailable
from services.common.metrics import GrpcServerMetrics
from services.common.server import ServiceSpec, set_serving
from services.common.server import build_server as common_build_server
from services.gateway_bridge.config import BridgeSettings
from services.gateway_bridge.convert import now_timestamp, timestamp
from services.gateway_bridge.domain.farms import Farm
from services.gateway_bridge.domain.pacing import Pacer, TokenBucket
from services.gateway_bridge.ib.session import IbSession
from services.gateway_bridge.lease import Lease
from services.gateway_bridge.market_data import MarketData
from services.gateway_bridge.metrics import BridgeMetrics
from services.gateway_bridge.orders import OrderService
from services.gateway_bridge.publisher import Publisher
from services.gateway_bridge.servicer import GatewayServicer
from services.gateway_bridge.store import Store
from services.gateway_bridge.supervisor import Supervisor

log = logging.getLogger("services.gateway_bridge")
SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name


class BridgeApp:
    """Everything one replica owns; no module globals."""

    def __init__(self, settings: BridgeSettings, tracer_provider: TracerProvider, registry: CollectorRegistry,
                 store: Store, redis: aioredis.Redis) -> None:
        self.settings, self.tracer_provider, self.registry = settings, tracer_provider, registry
        self.store, self.redis = store, redis
        self.metrics = BridgeMetrics(registry)
        tracer = tracer_provider.get_tracer("ibkr.gateway_bridge")
        self.publisher = Publisher(EventBus(redis, settings.bus_stream, settings.bus_maxlen), tracer, redis=redis,
                                   maxlen=settings.bus_maxlen)
        self.pacer = Pacer(TokenBucket(settings.bridge_pacing_rate, settings.bridge_pacing_burst),
                           settings.bridge_pacing_queue)
        self.session = IbSession(self.pacer, settings.bridge_ib_request_timeout_seconds, self._on_broker_event)
        self.orders = OrderService(store, self.session, self.publisher,
                                   ack_timeout=settings.bridge_ack_timeout_seconds,
                                   commission_wait=settings.bridge_commission_wait_seconds, metrics=self.metrics,
                                   tracer=tracer)
        self.metrics.pacing_queue.set_function(lambda: self.pacer.depth)
        self.market_data = MarketData(self.session, self.orders.contracts, self.publisher,
                                      settings.bridge_market_data_lines)
        self.lease = Lease(redis, settings.lease_key, settings.bridge_instance_id,
                           settings.bridge_lease_ttl_seconds)
        self.supervisor = Supervisor(settings, self.session, self.orders, self.publisher, self._set_ready,
                                     lease=self.lease,
                                     on_market_data_lost=self.market_data.restore, on_state=self._on_state, on_reconciled=self.metrics.reconciliations.inc,
                                     on_farm=self._on_farm)
        self.orders.bind_supervisor(on_notice=self.supervisor.notice, on_closed=self.supervisor.session_closed)
        self.servicer = GatewayServicer(self.orders, self.market_data, settings.account_id, self.connection_status,
                                        settings.bridge_ib_request_timeout_seconds, self.reconcile_now,
                                        data_farms=self.data_farms)
        self.health: HealthServicer | None = None
        self._supervisor_task: asyncio.Task[None] | None = None
        self.fatal = asyncio.Event()  # set when the supervisor stops for good: the process should exit

    @classmethod
    async def create(cls, settings: BridgeSettings, tracer_provider: TracerProvider,
                     registry: CollectorRegistry) -> BridgeApp:
        """Open the dependencies (migrating schema `bridge`)."""
        store = await Store.open(settings.database_url.get_secret_value(),
                                 intent_synchronous_commit=settings.bridge_intent_synchronous_commit)
        redis = aioredis.from_url(settings.redis_url, decode_responses=False)
        return cls(settings, tracer_provider, registry, store, redis)

    def _on_broker_event(self, event: object) -> None:
        self.orders.submit_event(event)  # type: ignore[arg-type]

    def _on_farm(self, farm: Farm) -> None:
        kind = gateway_pb2.DataFarmKind.Name(farm.kind).removeprefix("DATA_FARM_KIND_").lower()
        self.metrics.data_farm_connected.labels(farm.name, kind).set(1 if farm.connected else 0)

    def data_farms(self) -> list[gateway_pb2.DataFarmStatus]:
        """The farms of the current session, for GetConnectionStatus."""
        return [gateway_pb2.DataFarmStatus(name=f.name, kind=f.kind, connected=f.connected, broker_code=f.code,
                                           update_time=timestamp(f.time))
                for f in sorted(self.orders.farms.farms.values(), key=lambda f: f.name)]

    def _on_state(self, state: int) -> None:
        self.metrics.connection_state.set(state)
        self.metrics.connected.set(1 if state == system_pb2.BROKER_CONNECTION_STATE_CONNECTED else 0)

    async def _set_ready(self, ready: bool) -> None:
        if self.health is not None:
            await set_serving(self.health, [SERVICE_NAME], ready)

    def connection_status(self) -> system_pb2.ConnectionStatus:
        s, sup = self.settings, self.supervisor
        status = system_pb2.ConnectionStatus(
            state=sup.state, host=s.ib_host, port=s.ib_port, client_id=s.ib_client_id,
            server_version=self.session.server_version if self.session.connected else 0,
            managed_accounts=sup.accounts, bridge_instance_id=s.bridge_instance_id, last_error=sup.last_error,
            market_data_line_budget=s.bridge_market_data_lines, market_data_lines_in_use=self.market_data.book.in_use,
            pacing_queue_depth=self.pacer.depth,
            lease_held=self.lease.held)
        for field, value in (("connect_time", sup.connect_time), ("last_reconcile_time", sup.last_reconcile_wall)):
            if value is not None and self.session.connected:
                getattr(status, field).CopyFrom(timestamp(dt.datetime.fromtimestamp(value, dt.UTC)))
        age = time.monotonic() - self.session.last_message_time
        status.last_message_time.CopyFrom(timestamp(dt.datetime.fromtimestamp(time.time() - age, dt.UTC)))
        return status

    async def reconcile_now(self, account_id: str) -> reconciliation_pb2.ReconciliationRun:
        """Reconcile with IB on request (the Reconcile RPC); UNAVAILABLE while not connected."""
        if not self.orders.ready:
            raise Unavailable("BROKER_UNAVAILABLE", "not connected to IB (or a reconciliation is running)")
        run = reconciliation_pb2.ReconciliationRun(run_id=str(uuid.uuid4()), trigger="request",
                                                   start_time=now_timestamp())
        counts = await self.orders.reconcile(account_id, self.settings.bridge_ib_request_timeout_seconds * 2)
        run.orders_resolved = counts["resolved_not_at_broker"]
        run.complete_time.CopyFrom(now_timestamp())
        run.succeeded = True
        await self.publisher.publish("reconciliation_completed", event_pb2.ReconciliationCompleted(run=run),
                                     account_id=account_id)
        return run

    async def start(self, server: grpc.aio.Server) -> None:
        """Start the order pump, the gRPC server (NOT_SERVING until connected and reconciled) and the supervisor."""
        await self.orders.start()
        self.market_data.start()
        await server.start()
        self._supervisor_task = asyncio.create_task(self.supervisor.run(), name="bridge-supervisor")
        self._supervisor_task.add_done_callback(lambda _: self.fatal.set())

    def supervisor_failed(self) -> bool:
        """Whether the supervisor stopped for good (the paper-only guard refused the session)."""
        task = self._supervisor_task
        return task is not None and task.done() and not task.cancelled() and task.exception() is not None

    def raise_supervisor_failure(self) -> None:
        """Re-raise what stopped the supervisor (tests, and __main__ to exit non-zero)."""
        if self.supervisor_failed():
            assert self._supervisor_task is not None
            self._supervisor_task.result()

    async def stop(self) -> None:
        await self.supervisor.stop()
        if self._supervisor_task is not None:
            self._supervisor_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._supervisor_task
        await self.orders.stop()
        await self.market_data.stop()
        self.pacer.close()
        with contextlib.suppress(Exception):  # bounded: shutdown must not hang on an unreachable Redis
            await asyncio.wait_for(self.redis.aclose(), 2)
        await self.store.close()


async def build_server(app: BridgeApp, port: int) -> tuple[grpc.aio.Server, int]:
    """The bridge's gRPC server bound to `port` (0: ephemeral), health NOT_SERVING; returns (server, port).
    The health servicer is handed to `app` so readiness follows the IB session."""
    server, bound, health = await common_build_server(
        services=[ServiceSpec(gateway_pb2_grpc.add_GatewayServiceServicer_to_server, app.servicer, SERVICE_NAME)],
        settings=app.settings, port=port, tracer_provider=app.tracer_provider,
        metrics=GrpcServerMetrics(app.registry),
        extra_interceptors=[InternalAuthServerInterceptor(app.settings.internal_token)])
    app.health = health
    return server, bound
