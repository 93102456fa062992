"""The ledger process: dependencies, the gRPC server, and the background tasks, started and stopped in order.

    app = LedgerApp(settings, tracer_provider, registry)
    server, port = await app.build_server()   # port 0 → ephemeral (tests)
    await app.start()                          # migrated → serving queries; SERVING once consuming
    ...
    await app.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import asyncpg
import grpc
import redis.asyncio as aioredis
from ibkr.gateway.v1 import gateway_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from services.common.bus import ConsumerGroup, EventBus
from services.common.channels import InternalAuthServerInterceptor, make_internal_channel
from services.common.metrics import GrpcServerMetrics
from services.common.server import ServiceSpec, set_serving
from services.common.server import build_server as build_grpc_server
from services.ledger.config import LedgerSettings
from services.ledger.db import create_pool, migrate
from services.ledger.ingest import IngestOptions, Ingestor, refresh_lag
from services.ledger.metrics import LedgerMetrics
from services.ledger.pagination import PageTokens
from services.ledger.reads import LedgerReader
from services.ledger.reconciler import Reconciler
from services.ledger.replay import Replayer
from services.ledger.servicer import LedgerServicer
from services.ledger.store import LedgerStore

SERVICE_NAME = ledger_pb2.DESCRIPTOR.services_by_name["LedgerService"].full_name


def page_token_secret(settings: LedgerSettings) -> bytes:
    """The HMAC key of page tokens: configured, else the suite's internal token, else random (tokens then
    do not survive a restart, which AIP-158 allows)."""
    for secret in (settings.ledger_page_token_secret, settings.internal_token):
        if secret is not None and len(secret.get_secret_value()) >= 16:
            return secret.get_secret_value().encode()
    return secrets.token_bytes(32)


class LedgerApp:
    """Owns the pool, the Redis client, the server and the ingest tasks of one ledger process."""

    def __init__(self, settings: LedgerSettings, tracer_provider: TracerProvider, registry: CollectorRegistry,
                 *, logger: logging.Logger | None = None) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.registry = registry
        self.metrics = LedgerMetrics(registry)
        self.log = logger or logging.getLogger("services.ledger")
        self.stop_event = asyncio.Event()
        self.pool: asyncpg.Pool | None = None
        self.redis: aioredis.Redis | None = None
        self.server: grpc.aio.Server | None = None
        self.health = None
        self.ingestor: Ingestor | None = None
        self.bridge_channel: grpc.aio.Channel | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def build_server(self) -> tuple[grpc.aio.Server, int]:
        """Connect, migrate and bind the server (not started). Returns (server, bound port)."""
        s = self.settings
        self.pool = await create_pool(s.database_url.get_secret_value(), s.ledger_db_schema,
                                      max_size=s.ledger_db_pool_size)
        applied = await migrate(self.pool, s.ledger_db_schema)
        self.log.info("migrated", extra={"schema": s.ledger_db_schema, "applied": applied})
        self.redis = aioredis.from_url(s.redis_url, decode_responses=False)
        group = ConsumerGroup(self.redis, s.bus_stream, s.ledger_consumer_group, s.consumer_name())
        store = LedgerStore(self.pool, s.ledger_db_schema)
        options = IngestOptions(s.ledger_batch_size, s.ledger_batch_wait_ms, s.ledger_claim_idle_ms,
                                s.ledger_claim_interval_seconds, s.ledger_max_deliveries,
                                s.ledger_failpoint_kill_after_commits)
        self.ingestor = Ingestor(group, store, self.metrics, self.tracer_provider.get_tracer("services.ledger"),
                                 options, on_consuming=self._consuming, logger=self.log)
        reader = self.reader = LedgerReader(self.pool)
        # The broker's figures come through risk's read relay of the bridge: only risk may reach the bridge.
        self.bridge_channel = make_internal_channel(s.risk_address, self.tracer_provider, s)
        self.reconciler = Reconciler(store, reader, gateway_pb2_grpc.GatewayServiceStub(self.bridge_channel),
                                     EventBus(self.redis, s.bus_stream, s.bus_maxlen), self.metrics,
                                     deadline=s.ledger_bridge_deadline_seconds, logger=self.log)
        servicer = LedgerServicer(reader, PageTokens(page_token_secret(s)), self.ingestor.state,
                                  stream=s.bus_stream, group=s.ledger_consumer_group, reconciler=self.reconciler,
                                  replayer=Replayer(store, self.redis, s.bus_stream), store=store,
                                  default_account=s.account_id or "")
        self.servicer = servicer
        server, port, self.health = await build_grpc_server(
            services=[ServiceSpec(ledger_pb2_grpc.add_LedgerServiceServicer_to_server, servicer, SERVICE_NAME)],
            settings=s, port=s.ledger_grpc_port, tracer_provider=self.tracer_provider,
            metrics=GrpcServerMetrics(self.registry),
            extra_interceptors=[InternalAuthServerInterceptor(s.internal_token)])
        self.server = server
        self.group = group
        return server, port

    async def _consuming(self, consuming: bool) -> None:
        # Health is SERVING only while the ledger can do its job: migrated (done before) and consuming.
        if self.health is not None:
            await set_serving(self.health, [SERVICE_NAME], consuming)

    async def start(self) -> None:
        """Start serving and the background tasks (ingest, lag)."""
        assert self.server is not None and self.ingestor is not None
        await self.server.start()
        self._tasks.append(asyncio.create_task(self.ingestor.run(self.stop_event), name="ledger-ingest"))
        self._tasks.append(asyncio.create_task(
            refresh_lag(self.group, self.metrics, self.stop_event, self.settings.ledger_lag_interval_seconds,
                        self.log, self.ingestor.state), name="ledger-lag"))
        self._tasks.append(asyncio.create_task(self._refresh_positions(), name="ledger-position-gauges"))
        s = self.settings
        if s.account_id and s.ledger_reconcile_interval_seconds > 0:
            self._tasks.append(asyncio.create_task(
                self.reconciler.run_periodically(s.account_id, s.ledger_reconcile_interval_seconds, self.stop_event),
                name="ledger-reconcile"))

    async def _refresh_positions(self) -> None:
        # A gauge is exposition only (float is fine there); the books stay NUMERIC.
        while not self.stop_event.is_set():
            try:
                positions = await self.reader.open_positions()
                self.metrics.set_positions({k: float(v) for k, v in positions.items()})
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self.log.debug("position gauges not refreshed", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), self.settings.ledger_lag_interval_seconds)

    async def close(self) -> None:
        """Stop the tasks (an in-flight batch finishes and is acked), then close the clients."""
        self.stop_event.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await asyncio.wait_for(task, timeout=self.settings.shutdown_grace_seconds + 5)
                except TimeoutError:
                    task.cancel()
        if self.bridge_channel is not None:
            await self.bridge_channel.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.pool is not None:
            await self.pool.close()
