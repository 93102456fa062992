"""Fixtures of the risk tests: a recording GatewayService on port 0 (it stands in for the broker, which a
unit test cannot run), and a real risk server on port 0 against real Postgres (a unique schema per test)
and real Redis (a unique stream per test)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from decimal import Decimal

import grpc
import pytest
import redis.asyncio as aioredis
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from ibkr.trading.v1 import (
    event_pb2,
    execution_pb2,
    instrument_pb2,
    market_data_pb2,
    order_pb2,
    risk_policy_pb2,
)
from opentelemetry.sdk.trace import TracerProvider

from services.common.bus import EventBus
from services.common.errors import DomainError, ErrorMappingServerInterceptor, NotFound
from services.common.money import decimal_to_proto
from services.common.server import SERVER_KEEPALIVE_OPTIONS
from services.risk.app import RiskApp
from services.risk.config import RiskSettings

ACCOUNT = "DU1234567"


@dataclass
class RecordingGateway(gateway_pb2_grpc.GatewayServiceServicer):
    """Records every request that reaches it; answers like a healthy bridge, or fails as told."""

    placed: list = field(default_factory=list)
    cancelled: list = field(default_factory=list)
    cancel_alls: list = field(default_factory=list)
    replaced: list = field(default_factory=list)
    closed: list = field(default_factory=list)
    fail_with: DomainError | None = None
    quote: market_data_pb2.Quote | None = None
    quote_error: DomainError | None = None
    delay: float = 0.0
    place_metadata: list = field(default_factory=list)  # invocation metadata of each PlaceOrder
    quote_requests: list = field(default_factory=list)  # symbols of each GetQuote

    async def PlaceOrder(self, request, context):
        self.placed.append(request)
        self.place_metadata.append(dict(context.invocation_metadata()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        order = order_pb2.Order(order_id=f"ord_{request.client_order_id}", client_order_id=request.client_order_id,
                                account_id=request.account_id, spec=request.order,
                                status=order_pb2.ORDER_STATUS_SUBMITTED, risk_decision_id=request.risk_decision_id)
        return gateway_pb2.PlaceOrderResponse(order=order)

    async def GetOrder(self, request, context):
        key = request.client_order_id or request.order_id.removeprefix("ord_")
        placed = next((p for p in self.placed if p.client_order_id == key), None)
        if placed is None:
            raise NotFound("ORDER_NOT_FOUND", f"no order {key}")
        return gateway_pb2.GetOrderResponse(order=order_pb2.Order(
            order_id=f"ord_{key}", client_order_id=key, account_id=placed.account_id, spec=placed.order,
            status=order_pb2.ORDER_STATUS_SUBMITTED))

    async def ReplaceOrder(self, request, context):
        self.replaced.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        key = request.order_id or request.client_order_id
        return gateway_pb2.ReplaceOrderResponse(order=order_pb2.Order(
            order_id=request.order_id or f"ord_{key}", client_order_id=request.client_order_id,
            account_id=request.account_id, spec=request.order, status=order_pb2.ORDER_STATUS_PENDING_REPLACE))

    async def ClosePosition(self, request, context):
        self.closed.append(request)
        return gateway_pb2.ClosePositionResponse(order=order_pb2.Order(
            order_id=f"ord_{request.client_order_id}", client_order_id=request.client_order_id,
            account_id=request.account_id, status=order_pb2.ORDER_STATUS_SUBMITTED))

    async def CancelOrder(self, request, context):
        self.cancelled.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        key = request.order_id or request.client_order_id
        return gateway_pb2.CancelOrderResponse(order=order_pb2.Order(
            order_id=key, account_id=request.account_id, status=order_pb2.ORDER_STATUS_PENDING_CANCEL))

    async def CancelAllOrders(self, request, context):
        self.cancel_alls.append(request)
        return gateway_pb2.CancelAllOrdersResponse()

    async def GetQuote(self, request, context):
        self.quote_requests.append(request.instrument.symbol)
        if self.quote_error is not None:
            raise self.quote_error
        if self.quote is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "no quote")
        return gateway_pb2.GetQuoteResponse(quote=self.quote)


@pytest.fixture
async def gateway():
    """A real GatewayService server on port 0; yields (servicer, address)."""
    servicer = RecordingGateway()
    server = grpc.aio.server(interceptors=[ErrorMappingServerInterceptor()], options=SERVER_KEEPALIVE_OPTIONS)
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield servicer, f"127.0.0.1:{port}"
    await server.stop(0)


def make_settings(postgres_dsn: str, redis_url: str, unique_name: str, bridge: str, **overrides) -> RiskSettings:
    values = {"database_url": postgres_dsn, "redis_url": redis_url, "bus_stream": f"{unique_name}:events",
                  "risk_db_schema": unique_name, "bridge_address": bridge, "ledger_address": None, "risk_grpc_port": 0,
                  "risk_metrics_port": 0, "account_id": ACCOUNT, "risk_quote_lookup": False}
    values.update(overrides)
    return RiskSettings(**values)


@dataclass
class RiskUnderTest:
    app: RiskApp
    address: str
    channel: grpc.aio.Channel
    stub: risk_pb2_grpc.RiskServiceStub
    redis: aioredis.Redis

    async def stop(self) -> None:
        if self.app.server is None:
            return
        # Bounded, so a stuck shutdown step fails the test naming the step instead of hanging the run.
        for name, step in (("channel", self.channel.close()), ("redis", self.redis.aclose()),
                           ("app", self.app.stop(0))):
            try:
                await asyncio.wait_for(step, 10)
            except TimeoutError:
                for task in asyncio.all_tasks():
                    _print_task(task)
                raise AssertionError(f"risk shutdown stuck in {name}") from None
        self.app.server = None


def _print_task(task: asyncio.Task) -> None:
    """A task's name and Python frames on stderr (grpc's compiled frames carry no line number, which
    `Task.print_stack` cannot print)."""
    print(f"task {task.get_name()}: {task.get_coro()!r}", file=sys.stderr)
    for frame in task.get_stack():
        print(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}", file=sys.stderr)


async def start_risk(settings: RiskSettings, tracer_provider: TracerProvider | None = None) -> RiskUnderTest:
    app = RiskApp(settings, tracer_provider=tracer_provider or TracerProvider())
    _server, port = await app.build_server()
    await app.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    return RiskUnderTest(app, f"127.0.0.1:{port}", channel, risk_pb2_grpc.RiskServiceStub(channel),
                         aioredis.from_url(settings.redis_url, decode_responses=False))


@pytest.fixture
async def risk_factory(postgres_dsn, redis_url, unique_name, gateway):
    """Start risk servers with settings overrides; whatever is still running is stopped at the end."""
    started: list[RiskUnderTest] = []

    async def start(tracer_provider: TracerProvider | None = None, **overrides) -> RiskUnderTest:
        risk = await start_risk(make_settings(postgres_dsn, overrides.pop("redis_url", redis_url), unique_name,
                                              gateway[1], **overrides), tracer_provider)
        started.append(risk)
        return risk

    yield start
    for r in started:
        if r.app.server is not None:
            await r.stop()


@pytest.fixture
async def risk(risk_factory):
    return await risk_factory()


def spec(symbol: str = "AAPL", side: int = order_pb2.ORDER_SIDE_BUY, quantity: str = "10",
         order_type: int = order_pb2.ORDER_TYPE_LIMIT, limit: str | None = "100", stop: str | None = None
         ) -> order_pb2.OrderSpec:
    """An OrderSpec for tests (a DAY limit buy of 10 AAPL at 100 by default)."""
    s = order_pb2.OrderSpec(instrument=instrument_pb2.Instrument(symbol=symbol,
                                                                 security_type=instrument_pb2.SECURITY_TYPE_STOCK),
                            side=side, quantity=decimal_to_proto(Decimal(quantity)), order_type=order_type,
                            time_in_force=order_pb2.TIME_IN_FORCE_DAY)
    if limit is not None:
        s.limit_price.CopyFrom(decimal_to_proto(Decimal(limit)))
    if stop is not None:
        s.stop_price.CopyFrom(decimal_to_proto(Decimal(stop)))
    return s


async def publish(risk: RiskUnderTest, event) -> None:
    """Put a broker event on the test's bus stream, as the bridge would."""
    bus = EventBus(risk.redis, risk.app.settings.bus_stream, None)
    await bus.publish(event.SerializeToString(), event_type=event.WhichOneof("payload"), account=event.account_id)


async def eventually(check, timeout: float = 10.0):
    """Poll an async check until it returns a truthy value (the bus is asynchronous); fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


def fill_event(coid: str, qty: str, price: str = "100", side: int = order_pb2.ORDER_SIDE_BUY, symbol: str = "AAPL",
               execution_id: str | None = None):
    fill = execution_pb2.Fill(execution_id=execution_id or f"ex-{coid}-{qty}", order_id=f"ord_{coid}",
                              client_order_id=coid, account_id=ACCOUNT, side=side,
                              instrument=instrument_pb2.Instrument(symbol=symbol),
                              quantity=decimal_to_proto(Decimal(qty)), price=decimal_to_proto(Decimal(price)))
    return event_pb2.Event(event_id=fill.execution_id, account_id=ACCOUNT, source="gateway_bridge", symbol=symbol,
                           fill=fill)


def order_event(coid: str, status: int, quantity: str, filled: str = "0", symbol: str = "AAPL",
                side: int = order_pb2.ORDER_SIDE_BUY, limit: str = "100"):
    order = order_pb2.Order(order_id=f"ord_{coid}", client_order_id=coid, account_id=ACCOUNT, status=status,
                            spec=spec(symbol=symbol, side=side, quantity=quantity, limit=limit),
                            filled_quantity=decimal_to_proto(Decimal(filled)))
    return event_pb2.Event(event_id=f"{coid}-{status}-{filled}", account_id=ACCOUNT, source="gateway_bridge",
                           symbol=symbol, order_update=event_pb2.OrderUpdate(order=order))


def quote_event(symbol: str, bid: str, ask: str, last: str):
    quote = market_data_pb2.Quote(instrument=instrument_pb2.Instrument(symbol=symbol),
                                  bid_price=decimal_to_proto(Decimal(bid)), ask_price=decimal_to_proto(Decimal(ask)),
                                  last_price=decimal_to_proto(Decimal(last)))
    quote.quote_time.GetCurrentTime()
    return event_pb2.Event(event_id=f"q-{symbol}-{last}", source="gateway_bridge", symbol=symbol,
                           quote_update=event_pb2.QuoteUpdate(quote=quote))


def policy_pb(*rules: risk_policy_pb2.RiskRule, quote_max_age_seconds: int = 10) -> risk_policy_pb2.RiskPolicy:
    pb = risk_policy_pb2.RiskPolicy(currency="USD", rules=rules)
    pb.quote_max_age.seconds = quote_max_age_seconds
    return pb


def rule(rule_id: str, kind: str, **params) -> risk_policy_pb2.RiskRule:
    """A RiskRule of `kind` (the oneof field) with decimal parameters given as strings."""
    r = risk_policy_pb2.RiskRule(rule_id=rule_id)
    target = getattr(r, kind)
    target.SetInParent()
    for name, value in params.items():
        if name in ("account_id", "symbol"):
            setattr(r, name, value)
        elif isinstance(value, str):
            getattr(target, name).CopyFrom(decimal_to_proto(Decimal(value)))
        elif isinstance(value, list):
            getattr(target, name).extend(value)
        elif name == "window":
            target.window.seconds = value
        else:
            setattr(target, name, value)
    return r


async def install(risk: RiskUnderTest, *rules: risk_policy_pb2.RiskRule, slot: int = 1, **kw):
    """Install a policy through the API (live slot by default); returns the installed policy."""
    reply = await risk.stub.UpdateRiskPolicy(risk_pb2.UpdateRiskPolicyRequest(
        policy=policy_pb(*rules, **kw), slot=slot, change_reason="test", principal="tester"))
    return reply.policy
