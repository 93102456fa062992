"""Wiring of the risk service: dependencies in boot order, the server, and shutdown in reverse.

    app = RiskApp(settings, tracer_provider=tp, registry=registry)
    server, port = await app.build_server()   # port 0 in tests
    await app.start()                          # serve, tail the bus, health SERVING
    ...
    await app.stop()

Where the exposure book starts from (see `_restore`):
- risk's own tables are always loaded (reservations are written before each send, positions and a bus
  cursor as events are applied);
- if that cursor is still within the bus retention, the tail resumes right after it: exact, nothing
  counted twice; the ledger is read only for working orders risk did not admit (adopted);
- otherwise (first start, or down longer than the bus keeps events) positions and working orders come from
  the ledger, and the tail starts at the bus position taken *before* asking the ledger.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2
from ibkr.risk.v1 import risk_pb2
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError

from services.common.bus import EventBus, stream_id_key
from services.common.channels import InternalAuthServerInterceptor, make_internal_channel
from services.common.metrics import GrpcServerMetrics, new_registry
from services.common.server import ServiceSpec, build_server, set_serving
from services.common.telemetry import build_tracer_provider
from services.gateway_bridge.client import gateway_channel
from services.risk.bridge import Bridge, order_channel
from services.risk.config import RiskSettings
from services.risk.core.book import Books
from services.risk.feed import BusTail, Feed
from services.risk.gate import Gate
from services.risk.gateway_relay import (
    GATEWAY_SERVICE_NAME,
    BridgeHealthMirror,
    add_gateway_relay_to_server,
    gateway_relay_handler,
)
from services.risk.metrics import RiskMetrics
from services.risk.policy_codec import seed_policy_proto
from services.risk.policy_manager import PolicyManager
from services.risk.publisher import Publisher, redis_batch_publisher
from services.risk.quote_keeper import QuoteKeeper
from services.risk.rebuild import LEDGER_REBUILD_HEALTH, load_own_state, rebuild_from_ledger
from services.risk.servicer import RiskServicer, add_risk_service_to_server
from services.risk.store import RiskStore
from services.risk.trading_state import TradingStates

SERVICE_NAME = risk_pb2.DESCRIPTOR.services_by_name["RiskService"].full_name
log = logging.getLogger("services.risk")


def bridge_channel(settings: RiskSettings, tracer_provider: TracerProvider) -> grpc.aio.Channel:
    """The channel to the bridge: the bridge's own client, which takes the active/standby address list
    and only calls the replica whose health is SERVING."""
    return gateway_channel(settings.bridge_address, tracer_provider, settings)


class RiskApp:
    """Owns every dependency of one risk process."""

    def __init__(self, settings: RiskSettings, *, tracer_provider: TracerProvider | None = None,
                 registry: CollectorRegistry | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider or build_tracer_provider("risk", settings)
        self.registry = registry or new_registry()
        self.clock = clock
        self.metrics = RiskMetrics(self.registry)
        self.store: RiskStore | None = None
        self.redis: aioredis.Redis | None = None
        self.channels: list[grpc.aio.Channel] = []
        self.server: grpc.aio.Server | None = None
        self.health = None
        self.tail: BusTail | None = None
        self.gate: Gate | None = None
        self.bridge: Bridge | None = None
        self.publisher: Publisher | None = None
        self.bridge_health: BridgeHealthMirror | None = None
        self.quote_keeper: QuoteKeeper | None = None
        self.ledger_ok = False

    async def build_server(self) -> tuple[grpc.aio.Server, int]:
        """Connect dependencies, restore state and bind the server (not started). Returns (server, port)."""
        s = self.settings
        if s.database_url is None:
            raise SystemExit("IBKR_DATABASE_URL: required (risk persists its policy, states and reservations)")
        self.store = await RiskStore.open(s.database_url.get_secret_value(), s.risk_db_schema)
        # Socket timeouts above the tail's 1 s XREAD block, so a dead Redis fails calls instead of hanging them.
        self.redis = aioredis.from_url(s.redis_url, decode_responses=False, socket_connect_timeout=5,
                                       socket_timeout=10)
        bus = EventBus(self.redis, s.bus_stream, s.bus_maxlen)

        self.publisher = Publisher(
            lambda payload, kind, account: bus.publish(payload, event_type=kind, account=account),
            self.store.insert_decisions, self.metrics,
            publish_many=redis_batch_publisher(self.redis, s.bus_stream, s.bus_maxlen))  # one XADD pipeline a batch
        manager = PolicyManager(self.store)
        policies = await manager.bootstrap(seed_policy_proto(s))
        states = TradingStates(self.store, self.publisher, self.metrics)
        await states.load((s.account_id,) if s.account_id else ())

        channel = bridge_channel(s, self.tracer_provider)
        self.channels.append(channel)
        orders = order_channel(s.bridge_address)  # order RPCs: no client interceptors (see bridge.py)
        self.channels.append(orders)
        bridge = self.bridge = Bridge(channel, s.risk_downstream_timeout_seconds, self.clock, orders=orders,
                                      tracer_provider=self.tracer_provider, token=s.internal_token)
        quote_lookup = bridge.quote_lookup(s.risk_quote_lookup_timeout_seconds) if s.risk_quote_lookup else None
        books = Books()
        if quote_lookup is not None and s.risk_quote_keep_fresh_symbols:
            self.quote_keeper = QuoteKeeper(quote_lookup, books.market,
                                            lambda: float(policies.live.quote_max_age_seconds), self.clock,
                                            limit=s.risk_quote_keep_fresh_symbols,
                                            window=s.risk_quote_keep_fresh_seconds)
        self.gate = Gate(books, policies, states, self.store, self.publisher, self.metrics,
                         reference_prices=s.reference_prices(), quote_lookup=quote_lookup, clock=self.clock,
                         on_market_priced=self.quote_keeper.touch if self.quote_keeper is not None else None)
        feed = Feed(self.gate, self.metrics, self.clock, s.bus_stream)
        start_id = await self._restore(feed)
        self.tail = BusTail(bus, feed, start_id)

        servicer = RiskServicer(self.gate, bridge, manager)
        relay = gateway_relay_handler(channel, s.risk_downstream_timeout_seconds)
        self.server, port, self.health = await build_server(
            services=[ServiceSpec(add_risk_service_to_server, servicer, SERVICE_NAME),
                      ServiceSpec(add_gateway_relay_to_server, relay, GATEWAY_SERVICE_NAME)],
            settings=s, port=s.risk_grpc_port, tracer_provider=self.tracer_provider,
            metrics=GrpcServerMetrics(self.registry),
            extra_interceptors=[InternalAuthServerInterceptor(s.internal_token)])
        self.bridge_health = BridgeHealthMirror(channel, self.health)
        return self.server, port

    async def _restore(self, feed: Feed) -> str:
        """Load the book (see the module docstring); returns the bus id to tail after."""
        s, store, gate = self.settings, self.store, self.gate
        assert store is not None and gate is not None and self.redis is not None
        reservations, positions = await load_own_state(gate)
        cursor = await store.bus_cursor(s.bus_stream)
        try:
            first = await self.redis.xrange(s.bus_stream, count=1)
            last = await self.redis.xrevrange(s.bus_stream, count=1)
            head = last[0][0].decode() if last else "0-0"
        except RedisError:
            # The bus is down: serve from our own state; the tail retries with backoff until it is back.
            log.warning("bus unavailable at start; tailing from the saved cursor once it is back", exc_info=True)
            first, head = [], "$"
        own_is_current = cursor is not None and (not first or stream_id_key(cursor) >= stream_id_key(
            first[0][0].decode()))
        accounts = sorted({*gate.books.accounts, *([s.account_id] if s.account_id else [])})
        self.ledger_ok = True
        if s.ledger_address and accounts:
            ledger = make_internal_channel(s.ledger_address, self.tracer_provider, s)
            self.channels.append(ledger)
            if own_is_current:
                # Positions are exact from our own tables; only adopt working orders we did not admit.
                own_positions = {a: dict(b.positions) for a, b in gate.books.accounts.items()}
                self.ledger_ok = await rebuild_from_ledger(gate, feed, ledger, accounts, s.risk_ledger_timeout_seconds)
                for account, kept in own_positions.items():
                    gate.books.account(account).positions = kept
            else:
                self.ledger_ok = await rebuild_from_ledger(gate, feed, ledger, accounts, s.risk_ledger_timeout_seconds)
        log.info("exposure state restored", extra={
            "reservations": reservations, "positions": positions, "cursor": cursor, "resume_after": cursor
            if own_is_current else head, "ledger_ok": self.ledger_ok})
        return cursor if own_is_current else head

    async def start(self) -> None:
        """Serve, start the publisher and the bus tail, then report SERVING."""
        assert self.server is not None and self.tail is not None and self.publisher is not None
        await self.server.start()
        self.publisher.start()
        self.tail.start()
        if self.quote_keeper is not None:
            self.quote_keeper.start()
        await set_serving(self.health, [SERVICE_NAME], True)
        assert self.bridge_health is not None
        self.bridge_health.start()
        await self.health.set(LEDGER_REBUILD_HEALTH, health_pb2.HealthCheckResponse.SERVING if self.ledger_ok
                              else health_pb2.HealthCheckResponse.NOT_SERVING)

    async def close(self) -> None:
        """Release dependencies (after the server stopped)."""
        if self.bridge_health is not None:
            await self.bridge_health.stop()
        if self.quote_keeper is not None:
            await self.quote_keeper.stop()
        if self.tail is not None:
            await self.tail.stop()
        if self.publisher is not None:
            await self.publisher.close()
        for channel in self.channels:
            await channel.close()
        if self.redis is not None:
            await self.redis.aclose()
        if self.store is not None:
            await self.store.close()

    async def stop(self, grace: float = 1.0) -> None:
        """Stop serving and close everything (tests; the process uses run_until_signal + close)."""
        if self.server is not None:
            await self.health.enter_graceful_shutdown()
            await self.server.stop(grace)
        await self.close()
