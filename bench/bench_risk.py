"""Risk benchmark: (1) in-process rule evaluation over the full rule set with realistic account state;
(2) build_server's observability alone (tracing, metrics, errors and the token check wrapped around each
handler: an echo served by `build_server` against a bare one, calls alternated, one process); (3) the risk
hop, every server in its own process as in production. Goals (issue 6): evaluation p99 <= 50 us; the risk
hop adds at most 20 % over a raw echo hop.

The goal's measure is the issue's: the SubmitOrder handler time excluding the bridge beside a raw echo — a hop
through risk is an echo hop plus that handling. It is timed inside risk from the request's bytes arriving at
its deserializer to the response's bytes leaving its serializer (parsing, build_server's wrapper, the servicer,
the gate, encoding; everything risk's process does for the call in Python) minus the bridge call. Stricter
figures are printed as context: the SubmitOrder round trip minus risk's bridge call, which also carries
grpc.aio's own cost of a server that makes a call of its own (a bare proxy already pays 100-115 % of an echo
there), and the round trip added over calling the bridge directly.

    python -m bench.bench_risk        (well under 2 minutes; uses the local Postgres/Redis or embedded ones)

(3) runs risk (`RiskApp` with the internal token, as `python -m services.risk` runs it), an instant bridge (a
trivial GatewayService that accepts every order at once), a bare grpc.aio forwarding proxy to that bridge, a
RiskService built like risk that only forwards (the framework's share: build_server's handler wrapper, the
request parsed, `Bridge`) and the raw echo, each in a spawned process of its own, and one client calling them
in turn so all see the same machine. Measured in one process, the client's CPU and the servers' shared one
interpreter and one event loop, so every figure carried both. Inside risk, the handling (as above), the gate's
submit and the bridge call within them are timed; the bare proxy's floor and each server process's CPU time
per call are printed with them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import statistics
import tempfile
import time
import timeit
import uuid
from decimal import Decimal as D
from pathlib import Path

import asyncpg
import grpc
import redis.asyncio as aioredis
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, order_pb2

from bench.echo import Served, ServerProcess, echo_call, serve_echo, start_echo_server
from bench.stats import line, percentile, summary_ms
from services.common.money import decimal_to_proto
from services.common.server import SERVER_KEEPALIVE_OPTIONS
from services.common.telemetry import build_tracer_provider
from services.risk import app as app_module
from services.risk.app import RiskApp
from services.risk.config import RiskSettings
from services.risk.core import policy as p
from services.risk.core.book import Books, OpenOrder, PositionState
from services.risk.core.evaluate import evaluate
from services.risk.core.model import OrderIntent, OrderType, Quote, Side, TradingState
from tools import infra

ACCOUNT = "DU1234567"
SYMBOLS = [f"S{i:02d}" for i in range(30)]
EVALUATIONS = 20_000
SUBMITS = 2000
ECHOES = 1500


def full_policy() -> p.Policy:
    """Every rule kind, with a few per-symbol and per-account overrides, limits that realistic orders pass."""
    rules = [
        p.RuleSpec("restricted-list", p.RestrictedList(frozenset(SYMBOLS), frozenset({"GME"}))),
        p.RuleSpec("max-order-quantity", p.MaxOrderQuantity(D(10_000))),
        p.RuleSpec("max-order-quantity-s00", p.MaxOrderQuantity(D(500)), symbol="S00"),
        p.RuleSpec("max-order-notional", p.MaxOrderNotional(D(1_000_000))),
        p.RuleSpec("max-order-notional-acct", p.MaxOrderNotional(D(900_000)), account_id=ACCOUNT),
        p.RuleSpec("price-collar", p.PriceCollar(D(10))),
        p.RuleSpec("duplicate-order", p.DuplicateOrder(D(5))),
        p.RuleSpec("order-rate-1s", p.OrderRate(D(1), D(1_000_000), None)),
        p.RuleSpec("order-rate-60s", p.OrderRate(D(60), D(10_000_000), D(10**12))),
        p.RuleSpec("max-open-orders", p.MaxOpenOrders(1_000_000)),
        p.RuleSpec("ib-working-orders", p.MaxWorkingOrdersPerSide(1_000_000)),
        p.RuleSpec("max-position", p.MaxPosition(D(10**9), D(10**12))),
        p.RuleSpec("max-gross", p.MaxGrossExposure(D(10**13), D(10**6))),
        p.RuleSpec("buying-power", p.BuyingPower(D(100))),
        p.RuleSpec("daily-loss", p.DailyLossLimit(D(10**9))),
    ]
    return p.Policy(1, tuple(rules), quote_max_age_seconds=D(10**9))


def realistic_books(now: float) -> Books:
    """30 quoted symbols, 25 positions, 40 working orders, 300 recent orders, account values, P&L."""
    books = Books()
    book = books.account(ACCOUNT)
    for i, symbol in enumerate(SYMBOLS):
        px = D(50 + i * 7)
        books.market.update(symbol, Quote(now, px - D("0.01"), px + D("0.01"), px, px))
        if i < 25:
            book.positions[symbol] = PositionState(D((i + 1) * 10 * (1 if i % 3 else -1)), px, px)
    for i in range(40):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        book.reserve(OpenOrder(f"open-{i}", ACCOUNT, symbol, Side.BUY if i % 2 else Side.SELL, D(10 + i),
                               D(50 + (i % len(SYMBOLS)) * 7)))
    for i in range(300):
        book.add_activity(now - 50 + i / 10, D(1000 + i))
    book.net_liquidation, book.buying_power, book.daily_pnl = D(10_000_000), D(40_000_000), D("-1234.5")
    return books


def bench_evaluation(churn: bool = False) -> list[float]:
    """Evaluation time per order. With `churn`, the book and the market change before every evaluation as
    they do in the server (the previous order's reservation, a new quote), so the exposure memo has to
    re-price what changed instead of answering from its cache; only `evaluate` is timed."""
    now = time.time()
    books, policy = realistic_books(now), full_policy()
    book = books.account(ACCOUNT)
    intents = [OrderIntent(ACCOUNT, SYMBOLS[i % len(SYMBOLS)], Side.BUY if i % 2 else Side.SELL, D(10 + i % 7),
                           OrderType.LIMIT, D(50 + (i % len(SYMBOLS)) * 7), None, f"c{i}") for i in range(64)]
    quotes = [books.market.quotes[s] for s in SYMBOLS]

    def change(i: int) -> None:
        symbol = SYMBOLS[i % len(SYMBOLS)]
        book.release(f"churn-{i - 1}")
        book.reserve(OpenOrder(f"churn-{i}", ACCOUNT, symbol, Side.BUY, D(5), D(60)))
        q = quotes[(i * 7) % len(SYMBOLS)]
        books.market.update(SYMBOLS[(i * 7) % len(SYMBOLS)], Quote(now, q.bid, q.ask, q.last, q.close))

    for i in range(2000):  # warm-up: policy resolution cache, Decimal contexts
        if churn:
            change(i)
        evaluate(intents[i % 64], book, books.market, policy, TradingState.ACTIVE, now, {})
    gc.collect()
    gc.freeze()  # as `python -m services.risk` does once started; the collector stays enabled
    collections = sum(g["collections"] for g in gc.get_stats())
    samples = []
    clock = time.perf_counter_ns
    for i in range(2000, 2000 + EVALUATIONS):
        intent = intents[i % 64]
        if churn:
            change(i)
        t0 = clock()
        decision = evaluate(intent, book, books.market, policy, TradingState.ACTIVE, now, {})
        samples.append((clock() - t0) / 1e9)
        assert decision.accepted, decision.denied_by
    GC_DURING[churn] = sum(g["collections"] for g in gc.get_stats()) - collections
    return samples


GC_DURING: dict[bool, int] = {}  # collector runs while evaluations were being timed (allocation pressure)


class InstantGateway(gateway_pb2_grpc.GatewayServiceServicer):
    """A bridge that accepts every order at once."""

    async def PlaceOrder(self, request, context):
        return gateway_pb2.PlaceOrderResponse(order=order_pb2.Order(
            order_id=f"ord_{request.client_order_id}", client_order_id=request.client_order_id,
            account_id=request.account_id, spec=request.order, status=order_pb2.ORDER_STATUS_SUBMITTED))


def order(i: int) -> order_pb2.OrderSpec:
    """A limit buy in S05 (quoted at 85), varied so no two are duplicates."""
    return order_pb2.OrderSpec(
        instrument=instrument_pb2.Instrument(symbol="S05", security_type=instrument_pb2.SECURITY_TYPE_STOCK),
        side=order_pb2.ORDER_SIDE_BUY, quantity=decimal_to_proto(D(1 + i % 50)),
        order_type=order_pb2.ORDER_TYPE_LIMIT, limit_price=decimal_to_proto(D(85) + D(i % 97) / 100),
        time_in_force=order_pb2.TIME_IN_FORCE_DAY)


WARMUP = 100
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def serve_instant_bridge() -> Served:
    """`InstantGateway` on its own server (a `ServerProcess` target)."""
    gateway = grpc.aio.server(options=SERVER_KEEPALIVE_OPTIONS)
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(InstantGateway(), gateway)
    port = gateway.add_insecure_port("127.0.0.1:0")
    await gateway.start()

    async def finish() -> dict:
        await gateway.stop(0)
        return {}

    return Served(port, finish)


def _forwarder_served(server: grpc.aio.Server, port: int, channel: grpc.aio.Channel, forwarded: list[float]) -> Served:
    """A started forwarding server as a `ServerProcess` target: its bridge calls since the mark, then stop."""

    async def finish() -> dict:
        await server.stop(0)
        await channel.close()
        return {"bridge": forwarded[:]}

    return Served(port, finish, forwarded.clear)


async def serve_bare_proxy(gw_port: int) -> Served:
    """The floor of any forwarding hop in grpc.aio: a server with no interceptors and no protobuf that
    passes PlaceOrder's bytes to the bridge and its answer back (a `ServerProcess` target). Returns its
    bridge calls since the mark (seconds)."""
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{gw_port}")
    method = "/ibkr.gateway.v1.GatewayService/PlaceOrder"
    forward = channel.unary_unary(method, _identity, _identity)

    forwarded: list[float] = []

    async def place(request: bytes, context) -> bytes:
        t0 = time.perf_counter()
        try:
            return await forward(request, timeout=10)
        finally:
            forwarded.append(time.perf_counter() - t0)

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(place, _identity, _identity)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "ibkr.gateway.v1.GatewayService", {"PlaceOrder": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return _forwarder_served(server, port, channel, forwarded)


async def serve_forwarding_risk(gw_port: int) -> Served:
    """A RiskService built as risk is (`build_server`: tracing, metrics, errors, the internal token; the request
    parsed, PlaceOrder encoded and the bridge's answer relayed as bytes, as risk does; `Bridge` over the lean
    order channel) whose SubmitOrder only forwards to the bridge: what the framework costs before any gate work
    (a `ServerProcess` target). Returns its bridge calls since the mark."""
    from services.common.channels import InternalAuthServerInterceptor
    from services.common.config import CommonSettings
    from services.common.metrics import GrpcServerMetrics, new_registry
    from services.common.server import ServiceSpec, build_server
    from services.risk.bridge import Bridge, order_channel, place_order_request_bytes
    from services.risk.servicer import add_risk_service_to_server

    settings = CommonSettings(internal_token=TOKEN)
    tracer_provider = build_tracer_provider("risk", settings)
    channel = order_channel(f"127.0.0.1:{gw_port}")
    bridge = Bridge(channel, 5.0, time.time, orders=channel, tracer_provider=tracer_provider, token=TOKEN)
    forwarded: list[float] = []

    class Forwarding(risk_pb2_grpc.RiskServiceServicer):
        async def SubmitOrder(self, request, context):
            encoded = place_order_request_bytes(request.account_id, request.client_order_id,
                                                request.order.SerializeToString(), "")
            t0 = time.perf_counter()
            _, answer = await bridge.place_encoded(encoded, context.time_remaining())
            forwarded.append(time.perf_counter() - t0)
            return answer  # relayed as risk relays it

    server, port, _ = await build_server(
        services=[ServiceSpec(add_risk_service_to_server, Forwarding(), "ibkr.risk.v1.RiskService")],
        settings=settings, port=0, tracer_provider=tracer_provider, metrics=GrpcServerMetrics(new_registry()),
        extra_interceptors=[InternalAuthServerInterceptor(TOKEN)])
    await server.start()
    return _forwarder_served(server, port, channel, forwarded)


async def serve_risk(dsn: str, redis_url: str, gw_port: int) -> Served:
    """The risk service as `python -m services.risk` runs it (its own process, internal token, collector
    frozen after start), the full rule set and realistic state installed, the instant bridge downstream.
    Returns since the mark (seconds): per SubmitOrder, the bridge call; the handler minus it (`whole`, orders not
    timed inside) and the gate's submit minus it (`own`, the other orders)."""
    logging.basicConfig(level=logging.WARNING)
    schema = f"bench_risk_{uuid.uuid4().hex[:8]}"
    settings = RiskSettings(database_url=dsn, redis_url=redis_url, bus_stream=f"{schema}:events",
                            risk_db_schema=schema, bridge_address=f"127.0.0.1:{gw_port}", ledger_address=None,
                            risk_grpc_port=0, risk_metrics_port=0, account_id=ACCOUNT, risk_quote_lookup=False,
                            risk_max_order_notional=D(10**9), risk_max_working_orders_per_side=0,
                            internal_token=TOKEN)
    app = RiskApp(settings, tracer_provider=build_tracer_provider("risk", settings))
    handled: list[float] = []  # per SubmitOrder: request bytes in -> response bytes out, inside risk
    app_module.add_risk_service_to_server = _timing_registration(app_module.add_risk_service_to_server, handled)
    _, port = await app.build_server()
    realistic = realistic_books(time.time())
    app.gate.books.market.quotes.update(realistic.market.quotes)
    app.gate.books.accounts.update(realistic.accounts)
    app.gate.policies.live = full_policy()
    gc.collect()
    gc.freeze()  # as `python -m services.risk` does once started
    await app.start()
    bridge_time: list[float] = []  # every SubmitOrder's bridge call
    timed: list[bool] = []  # whether that SubmitOrder went through `timed_submit`
    handler_time: list[float] = []  # the gate's submit, of the timed SubmitOrders
    installed = set(app.gate.books.account(ACCOUNT).open_orders)  # the realistic book's own working orders
    # Split the handler into risk's own work and the wait on the bridge: time the bridge call of every order and,
    # on every other order, the gate's submit (all of the handler but request parsing, validation and response
    # mapping). Timing the gate takes a wrapper of its own inside the handler, so the handler time is taken from
    # the orders that do not go through it: the bench does not measure itself.
    original_place, original_submit = app.bridge.place_encoded, app.gate.submit

    async def timed_place(request, remaining=None, while_waiting=None):
        t0 = time.perf_counter()
        try:
            return await original_place(request, remaining, while_waiting)
        finally:
            # Which kind this order was, and the next; timed with the bridge call, so no figure counts the bench.
            gated = app.gate.submit is timed_submit
            timed.append(gated)
            app.gate.submit = original_submit if gated else timed_submit
            if len(timed) % 20 == 0:
                # Keep the book near its size, as fills and cancels would: on a later loop turn, after this order's
                # response has left, so in no figure.
                asyncio.get_running_loop().call_soon(release_placed)
            bridge_time.append(time.perf_counter() - t0)

    async def timed_submit(intent, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await original_submit(intent, *args, **kwargs)
        finally:
            handler_time.append(time.perf_counter() - t0)

    def release_placed() -> None:
        for key in [k for k in app.gate.books.account(ACCOUNT).open_orders if k not in installed]:
            app.gate.release(ACCOUNT, key)

    app.bridge.place_encoded = timed_place

    def mark() -> None:
        bridge_time.clear()
        timed.clear()
        handler_time.clear()
        handled.clear()

    async def finish() -> dict:
        try:
            await app.stop(0)
        finally:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()
            await app_redis_cleanup(redis_url, settings.bus_stream)
        gated = [b for b, t in zip(bridge_time, timed, strict=True) if t]
        own = [h - b for h, b in zip(handler_time, gated, strict=True)]
        whole = [h - b for h, b, t in zip(handled, bridge_time, timed, strict=True) if not t]
        return {"own": own, "whole": whole, "bridge": bridge_time[:], "handler": handler_time[:]}

    return Served(port, finish, mark)


async def serve_timed_echo() -> Served:
    """The raw echo with its request's deserializer and response's serializer timed, as `_TimedRegistration` times
    risk's: what an echo server's own process does for a call between those two points (grpc.aio's per-call
    glue around the handler, which risk's window contains too). A process apart from the baseline's, whose round
    trips stay untimed."""
    windows: list[float] = []
    clock, started = time.perf_counter, [0.0]

    def timed_parse(data: bytes) -> bytes:
        started[0] = clock()
        return data

    def timed_serialize(response: bytes) -> bytes:
        try:
            return response
        finally:
            windows.append(clock() - started[0])

    server, port = await start_echo_server(timed_parse, timed_serialize)

    async def finish() -> dict:
        await server.stop(0)
        return {"window": windows[:]}

    return Served(port, finish, windows.clear)


class _TimedRegistration:
    """Stands in for the server risk registers on, so SubmitOrder's deserializer and serializer mark when the
    request's bytes arrive and when the response's bytes leave: between them runs everything risk's process
    does for the call in Python (parsing, build_server's wrapper, the servicer, the gate, encoding)."""

    def __init__(self, server, handled: list[float]) -> None:
        self._server = server
        self._handled = handled

    def add_generic_rpc_handlers(self, generic_handlers) -> None:
        self._server.add_generic_rpc_handlers(generic_handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict) -> None:
        handled, clock, started = self._handled, time.perf_counter, [0.0]
        submit = handlers["SubmitOrder"]
        parse, serialize = submit.request_deserializer, submit.response_serializer

        def timed_parse(data: bytes):
            started[0] = clock()
            return parse(data)

        def timed_serialize(response) -> bytes:
            try:
                return serialize(response)
            finally:
                handled.append(clock() - started[0])

        handlers = {**handlers, "SubmitOrder": submit._replace(request_deserializer=timed_parse,
                                                               response_serializer=timed_serialize)}
        self._server.add_registered_method_handlers(service, handlers)


def _timing_registration(register, handled: list[float]):
    def timed(servicer, server) -> None:
        register(servicer, _TimedRegistration(server, handled))
    return timed


def bench_hop(dsn: str, redis_url: str) -> dict[str, object]:
    """Every server in its own process (the raw echo too), called in turn by one client so all see the same
    machine: SubmitOrder through risk to the instant bridge, the bridge directly, the bridge through a bare
    proxy, the raw echo, and the timed echo. Returns the client's round trips and what the servers measured."""
    with ServerProcess(serve_instant_bridge) as gw, ServerProcess(serve_echo) as echo, \
            ServerProcess(serve_timed_echo) as timed_echo, ServerProcess(serve_bare_proxy, gw.port) as proxy, \
            ServerProcess(serve_forwarding_risk, gw.port) as thin, ServerProcess(serve_risk, dsn, redis_url, gw.port) as risk:
        rtt = asyncio.run(_call_in_turn(risk, gw, proxy, thin, echo, timed_echo))
        return {**rtt, "risk": risk.stop(), "echo_server": echo.stop(), "timed_echo": timed_echo.stop(),
                "proxy": proxy.stop(), "thin_server": thin.stop()}


async def _call_in_turn(risk: ServerProcess, gw: ServerProcess, proxy: ServerProcess, thin: ServerProcess,
                        echo: ServerProcess, timed_echo: ServerProcess) -> dict[str, list[float]]:
    # What the edge sends risk: the internal token and a sampled W3C parent.
    metadata = (("x-ibkr-internal-token", TOKEN), ("traceparent", TRACEPARENT))
    samples: dict[str, list[float]] = {"rtt": [], "direct": [], "proxied": [], "thin": [], "echo": []}
    async with grpc.aio.insecure_channel(f"127.0.0.1:{risk.port}") as channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as gw_channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{proxy.port}") as via_channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{thin.port}") as thin_channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{echo.port}") as echo_channel, \
            grpc.aio.insecure_channel(f"127.0.0.1:{timed_echo.port}") as timed_echo_channel:
        stub = risk_pb2_grpc.RiskServiceStub(channel)
        thin_stub = risk_pb2_grpc.RiskServiceStub(thin_channel)
        gw_stub = gateway_pb2_grpc.GatewayServiceStub(gw_channel)
        via = gateway_pb2_grpc.GatewayServiceStub(via_channel)
        raw, timed_raw = echo_call(echo_channel), echo_call(timed_echo_channel)
        payload = b"x" * 200
        clock = time.perf_counter
        for i in range(SUBMITS + WARMUP):
            if i == WARMUP:
                for server in (risk, echo, timed_echo, proxy, thin):
                    server.mark()
            request = risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id=f"b{i}", order=order(i))
            t0 = clock()
            await stub.SubmitOrder(request, timeout=10, metadata=metadata)
            t1 = clock()
            await gw_stub.PlaceOrder(gateway_pb2.PlaceOrderRequest(account_id=ACCOUNT, client_order_id=f"d{i}",
                                                                   order=order(i)), timeout=10)
            t2 = clock()
            await via.PlaceOrder(gateway_pb2.PlaceOrderRequest(account_id=ACCOUNT, client_order_id=f"p{i}",
                                                               order=order(i)), timeout=10)
            t3 = clock()
            await thin_stub.SubmitOrder(risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id=f"t{i}",
                                                                    order=order(i)), timeout=10, metadata=metadata)
            t4 = clock()
            await raw(payload, timeout=10)
            t5 = clock()
            await timed_raw(payload, timeout=10)
            if i >= WARMUP:
                for key, elapsed in (("rtt", t1 - t0), ("direct", t2 - t1), ("proxied", t3 - t2), ("thin", t4 - t3),
                                     ("echo", t5 - t4)):
                    samples[key].append(elapsed)
    return samples


def _identity(payload: bytes) -> bytes:
    return payload


INTERCEPTED = 1500
TOKEN = "bench-token"


async def bench_interceptors() -> tuple[list[float], list[float]]:
    """build_server's observability alone (wrapped around each handler): a bytes echo served by `build_server` (tracing, metrics, errors and
    the internal token check, as every service has them) and the same echo on a bare server, called in turn
    so both see the same machine. Returns (bare, intercepted) round trips in seconds."""
    from services.common.channels import INTERNAL_TOKEN_KEY, InternalAuthServerInterceptor
    from services.common.config import CommonSettings
    from services.common.metrics import GrpcServerMetrics, new_registry
    from services.common.server import ServiceSpec, build_server

    async def echo(request: bytes, context) -> bytes:
        return request

    def add_echo(servicer, server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Echo", {
            "Unary": grpc.unary_unary_rpc_method_handler(servicer, _identity, _identity)}),))

    settings = CommonSettings()
    full, full_port, _ = await build_server(
        services=[ServiceSpec(add_echo, echo, "bench.Echo")], settings=settings, port=0,
        tracer_provider=build_tracer_provider("risk", settings), metrics=GrpcServerMetrics(new_registry()),
        extra_interceptors=[InternalAuthServerInterceptor(TOKEN)])
    await full.start()
    bare = grpc.aio.server()
    add_echo(echo, bare)
    bare_port = bare.add_insecure_port("127.0.0.1:0")
    await bare.start()
    # What risk's callers send: the token and a sampled W3C parent.
    metadata = ((INTERNAL_TOKEN_KEY, TOKEN), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{full_port}") as a, \
                grpc.aio.insecure_channel(f"127.0.0.1:{bare_port}") as b:
            calls = [b.unary_unary("/bench.Echo/Unary", _identity, _identity),
                     a.unary_unary("/bench.Echo/Unary", _identity, _identity)]
            samples: tuple[list[float], list[float]] = ([], [])
            for i in range(INTERCEPTED + 100):
                for k, call in enumerate(calls):
                    t0 = time.perf_counter()
                    await call(b"x" * 200, metadata=metadata, timeout=10)
                    if i >= 100:
                        samples[k].append(time.perf_counter() - t0)
            return samples
    finally:
        await full.stop(0)
        await bare.stop(0)


async def app_redis_cleanup(url: str, stream: str) -> None:
    client = aioredis.from_url(url)
    try:
        await client.delete(stream)
    finally:
        await client.aclose()


def us(samples: list[float]) -> str:
    return (f"p50 {percentile(samples, 50) * 1e6:8.2f} us   p99 {percentile(samples, 99) * 1e6:8.2f} us"
            f"   mean {statistics.fmean(samples) * 1e6:8.2f} us   (n={len(samples)})")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.3f} ms"


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    print(f"{'load average (1, 5, 15 min)':48} {'  '.join(f'{x:.2f}' for x in os.getloadavg())}")
    run_dir = Path(tempfile.mkdtemp(prefix="bench-risk-"))
    pg = infra.resolve_postgres(run_dir, prefer_local=True)
    rd = infra.resolve_redis(run_dir, prefer_local=True)
    try:
        speed = min(timeit.repeat("sum(range(100))", number=100_000, repeat=5)) / 100_000
        print(f"{'machine speed: sum(range(100))':48} {speed * 1e6:8.2f} us   (field notes 4.4 reference: 0.84 us)")
        n_rules = len(full_policy().rules_for(ACCOUNT, "S00")) + 1
        print(f"{'rule evaluation, full rule set (' + str(n_rules) + ' rules), in-process':48} {us(bench_evaluation())}"
              f"   gc runs: {GC_DURING[False]}")
        print(f"{'  same, book and a quote changed before each':48} {us(bench_evaluation(churn=True))}"
              f"   gc runs: {GC_DURING[True]}")

        print("-- build_server's observability alone (one process, calls alternated)")
        bare, intercepted = asyncio.run(bench_interceptors())
        print(line("echo served by build_server", summary_ms(intercepted)))
        print(line("  same echo on a bare server", summary_ms(bare)))
        stack = statistics.median(intercepted) - statistics.median(bare)
        print(f"{'observability (tracing, metrics, errors, auth)':48} p50 {stack * 1e6:8.1f} us per call"
              f"   = {stack / statistics.median(bare) * 100:.0f} % of a bare echo")

        print("-- the risk hop: every server in its own process, one client calling each in turn")
        result = bench_hop(pg.url, rd.url)
        risk, echo = result["risk"], result["echo"]
        n = len(result["rtt"])
        print(f"{'SubmitOrder handler time excluding the bridge':48} {us(risk['whole'])}")
        print(f"{'  of which the gate (excluding the bridge call)':48} {us(risk['own'])}")
        print(line("  risk's call to the bridge (inside the handler)", summary_ms(risk["bridge"])))
        print(line("SubmitOrder round trip (risk + instant bridge)", summary_ms(result["rtt"])))
        print(line("  same bridge called directly (one hop)", summary_ms(result["direct"])))
        print(line("  same bridge through a bare grpc.aio proxy", summary_ms(result["proxied"])))
        print(line("  baseline: raw gRPC unary echo (own process)", summary_ms(echo)))
        print(f"{'process CPU per call (grpc threads too): risk':48} {risk['cpu_seconds'] / n * 1e6:8.1f} us"
              f"   echo server process: {result['echo_server']['cpu_seconds'] / n * 1e6:.1f} us")
        raw = statistics.median(echo)

        def of_echo(label: str, samples: list[float], note: str) -> float:
            p50 = statistics.median(samples)
            print(f"{label:48} p50 {ms(p50)}   = {p50 / raw * 100:.0f} % of a raw echo hop ({note})")
            return p50 / raw

        def minus(total: list[float], part: list[float]) -> list[float]:
            return [t - p for t, p in zip(total, part, strict=True)]

        of_echo("bare proxy hop added over a direct bridge call", minus(result["proxied"], result["direct"]),
                "context: the grpc.aio floor")
        floor = of_echo("bare proxy round trip minus its bridge call",
                        minus(result["proxied"], result["proxy"]["bridge"]), "the floor of the round trip below")
        of_echo("forwarding-only RiskService, same measure", minus(result["thin"], result["thin_server"]["bridge"]),
                "build_server, protobuf, Bridge; no gate")
        print(f"{'  gate work excluding the bridge call, p50':48} {statistics.median(risk['own']) * 1e6:8.1f} us"
              f"   = {statistics.median(risk['own']) / raw * 100:.0f} % of a raw echo hop")
        of_echo("risk hop added over a direct bridge call", minus(result["rtt"], result["direct"]),
                "context: strictest")
        strict = of_echo("SubmitOrder round trip minus its bridge call", minus(result["rtt"], risk["bridge"]),
                         "context: grpc.aio's proxying included")
        print(f"{'  same, over the bare proxy floor':48} {(strict - floor) * 100:+.0f} points of a raw echo hop")
        whole = statistics.median(risk["whole"])
        glue = statistics.median(result["timed_echo"]["window"])
        print(f"{'  an echo server between the same two points':48} p50 {glue * 1e6:8.1f} us   (grpc.aio's per-call "
              f"work around a handler, which an echo hop already contains)")
        print(f"{'  the handler time below minus that':48} p50 {ms(whole - glue)}   = {(whole - glue) / raw * 100:.1f} % "
              f"of a raw echo hop (context: only what risk's process does beyond an echo server's)")
        print(f"{'SubmitOrder handler time excluding the bridge':48} p50 {ms(whole)}   = {whole / raw * 100:.1f} % "
              f"of a raw echo hop (the goal's measure: what a hop through risk adds to an echo hop)")
        print(f"{'goal: risk hop adds <= 20 % over a raw echo hop':48} {'met' if whole <= 0.2 * raw else 'NOT met'}")
        print(f"{'load average (1, 5, 15 min)':48} {'  '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        rd.stop()
        pg.stop()


if __name__ == "__main__":
    main()
