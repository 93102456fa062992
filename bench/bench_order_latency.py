"""PlaceOrder → acknowledged latency through edge → risk → bridge → simulator (real processes), beside a raw
gRPC unary echo measured in the same run.

Orders are 1-share market orders alternating buy and sell across a few symbols, paced at 10 orders/s so
neither the bridge's IB pacing (45 msg/s) nor risk's rate rules shape the figure.

The edge's own cost, isolated, with three callers taking turns at the same pace: SubmitOrder straight to an
instant stand-in risk (one hop with the real messages), PlaceOrder through a bare forwarding process (grpc.aio,
raw bytes relayed to the stand-in, nothing else: the price of one more process and hop at this pace), and
PlaceOrder through a real edge process to that stand-in. Edge minus forwarder is the edge's own work (auth,
validation, interceptors, protobuf); forwarder minus direct is the extra hop. At 10 orders/s every process sleeps between calls, so a
hop costs far more than the back-to-back echo: the paced echo is printed beside it.

Where the time goes in the suite: each service's `grpc_server_handling_seconds` histogram is scraped before and after the
measured orders, so the run also prints, per hop, the mean handling time (sum/count of the difference) and
p50/p99 estimated from the histogram buckets. A hop's own share is its handling time minus the next hop's:
edge = edge PlaceOrder − risk SubmitOrder (the edge's work plus one gRPC hop), and so on down to the bridge,
whose PlaceOrder includes the IB round trip to the simulator.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import grpc
from google.type import decimal_pb2
from ibkr.edge.v1 import trading_service_pb2, trading_service_pb2_grpc
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, order_pb2
from prometheus_client.parser import text_string_to_metric_families

from bench.echo import measure_unary_echo
from bench.order_floor import measure_with_floor
from bench.stats import line, percentile, summary_ms
from bench.suite_runner import running_suite
from tools import infra
from tools.suite import health_status as suite_health

ORDERS = 150
EDGE_ALONE_CALLS = 100  # per caller; three callers take turns
RATE_PER_SECOND = 10
SYMBOLS = ("AAPL", "MSFT", "IBM", "SPY")
ACCOUNT = "DU1234567"
# (process, grpc_service, grpc_method) of each hop on the order path, outermost first.
HOPS = (("edge", "ibkr.edge.v1.TradingService", "PlaceOrder"),
        ("risk", "ibkr.risk.v1.RiskService", "SubmitOrder"),
        ("bridge", "ibkr.gateway.v1.GatewayService", "PlaceOrder"))
Histogram = dict[str, float]  # bucket upper bound ("le") → cumulative count, plus "sum" and "count"


def request(n: int, symbol: str) -> trading_service_pb2.PlaceOrderRequest:
    side = order_pb2.ORDER_SIDE_BUY if n % 2 == 0 else order_pb2.ORDER_SIDE_SELL
    return trading_service_pb2.PlaceOrderRequest(
        client_order_id=f"bench-{uuid.uuid4().hex[:12]}",
        order=order_pb2.OrderSpec(
            instrument=instrument_pb2.Instrument(symbol=symbol, security_type=instrument_pb2.SECURITY_TYPE_STOCK),
            side=side, quantity=decimal_pb2.Decimal(value="1"), order_type=order_pb2.ORDER_TYPE_MARKET,
            time_in_force=order_pb2.TIME_IN_FORCE_DAY))


async def place(stub: trading_service_pb2_grpc.TradingServiceStub, n: int,
                metadata: tuple[tuple[str, str], ...]) -> None:
    """The suite's n-th order (symbols in turn)."""
    await stub.PlaceOrder(request(n, SYMBOLS[n % len(SYMBOLS)]), metadata=metadata, timeout=15)


def scrape(port: int, service: str, method: str) -> Histogram:
    """One method's `grpc_server_handling_seconds` histogram from a service's /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    found: Histogram = {}
    for family in text_string_to_metric_families(text):
        if family.name != "grpc_server_handling_seconds":
            continue
        for sample in family.samples:
            if sample.labels.get("grpc_service") != service or sample.labels.get("grpc_method") != method:
                continue
            if sample.name.endswith("_bucket"):
                found[sample.labels["le"]] = sample.value
            elif sample.name.endswith("_sum"):
                found["sum"] = sample.value
            elif sample.name.endswith("_count"):
                found["count"] = sample.value
    return found


def bucket_percentile(delta: Histogram, q: float) -> float:
    """The q-th percentile (seconds) of a histogram difference, interpolated linearly inside its bucket."""
    bounds = sorted((float(le), n) for le, n in delta.items() if le not in ("sum", "count"))
    rank, lower, below = q / 100 * delta["count"], 0.0, 0.0
    for upper, cumulative in bounds:
        if cumulative >= rank:
            if upper == float("inf"):
                return lower
            inside = cumulative - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, cumulative
    return lower


def breakdown(before: dict[str, Histogram], after: dict[str, Histogram]) -> list[str]:
    """Per hop: handling time during the measured orders, and each hop's own share (minus the next hop)."""
    means, rows = [], []
    for name, service, method in HOPS:
        delta = {k: after[name].get(k, 0.0) - before[name].get(k, 0.0) for k in after[name]}
        if not delta.get("count"):
            rows.append(f"  {name} {method}: no samples")
            means.append(None)
            continue
        means.append(delta["sum"] / delta["count"] * 1e3)
        rows.append(f"  {name + ' ' + method + ' handling':46} mean {means[-1]:8.3f} ms   p50 ≈ "
                    f"{bucket_percentile(delta, 50) * 1e3:6.2f} ms   p99 ≈ {bucket_percentile(delta, 99) * 1e3:6.2f} ms"
                    f"   (n={int(delta['count'])}, from histogram buckets)")
    for (name, _, _), mine, inner in zip(HOPS, means, [*means[1:], None], strict=True):
        if mine is not None and inner is not None:
            rows.append(f"  {name}'s own share (its work + one hop)          mean {mine - inner:8.3f} ms")
    return rows


# -- the edge alone, in front of an instant risk --------------------------------------------------------------

async def _instant_risk() -> tuple[grpc.aio.Server, int]:
    """A stand-in RiskService whose SubmitOrder answers a fixed order at once (no protobuf work per call)."""
    reply = risk_pb2.SubmitOrderResponse(order=order_pb2.Order(
        order_id="instant", account_id=ACCOUNT, status=order_pb2.ORDER_STATUS_SUBMITTED)).SerializeToString()

    async def submit(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return reply

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(submit, lambda b: b, lambda b: b)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("ibkr.risk.v1.RiskService",
                                                                          {"SubmitOrder": handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def measure_interleaved(risk_port: int, forwarder: str, edge: str, key: str,
                              orders: int) -> tuple[list[float], list[float], list[float]]:
    """(SubmitOrder straight to the instant risk, PlaceOrder via the forwarder, PlaceOrder via the edge), in
    round trips (seconds): the three take turns, one call every 1/RATE_PER_SECOND, so machine load and the
    idle time before each call are the same for all three."""
    auth = (("authorization", f"Bearer {key}"),)
    async with (grpc.aio.insecure_channel(f"127.0.0.1:{risk_port}") as risk_channel,
                grpc.aio.insecure_channel(forwarder) as forwarder_channel,
                grpc.aio.insecure_channel(edge) as edge_channel):
        risk = risk_pb2_grpc.RiskServiceStub(risk_channel)
        places = [trading_service_pb2_grpc.TradingServiceStub(c).PlaceOrder
                  for c in (forwarder_channel, edge_channel)]

        def direct(placed: trading_service_pb2.PlaceOrderRequest) -> Any:
            return risk.SubmitOrder(risk_pb2.SubmitOrderRequest(
                account_id=ACCOUNT, order=placed.order, client_order_id=placed.client_order_id), timeout=15)

        calls = [direct, *(lambda placed, place=place: place(placed, metadata=auth, timeout=15) for place in places)]
        samples: list[list[float]] = [[] for _ in calls]
        interval, next_at = 1.0 / RATE_PER_SECOND, time.perf_counter()
        symbols = itertools.cycle(SYMBOLS)
        for n in range(10 + orders):  # the first 10 rounds warm up connections and caches
            for call, got in zip(calls, samples, strict=True):
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
                placed = request(n, next(symbols))
                t0 = time.perf_counter()
                await call(placed)
                got.append(time.perf_counter() - t0)
        return samples[0][10:], samples[1][10:], samples[2][10:]


def _raw(payload: bytes) -> bytes:
    return payload


async def serve_forwarder(listen_port: int, risk_port: int) -> None:
    """Relay PlaceOrder's bytes to the stand-in risk's SubmitOrder and its answer back: a hop with no work."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{risk_port}") as channel:
        submit = channel.unary_unary("/ibkr.risk.v1.RiskService/SubmitOrder", _raw, _raw)

        async def place(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            return await submit(request, timeout=15)

        server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(place, _raw, _raw)
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "ibkr.edge.v1.TradingService", {"PlaceOrder": handler}),))
        server.add_insecure_port(f"127.0.0.1:{listen_port}")
        await server.start()
        await server.wait_for_termination()


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _wait_serving(address: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while suite_health(address) != 1:  # SERVING
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become SERVING")
        await asyncio.sleep(0.1)


async def _wait_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start listening") from None
            await asyncio.sleep(0.1)
        else:
            writer.close()
            await writer.wait_closed()
            return


async def measure_edge_alone(orders: int) -> tuple[list[float], list[float], list[float]]:
    """(SubmitOrder straight to an instant risk, PlaceOrder through a bare forwarder to it, PlaceOrder through
    a real edge process to it)."""
    from services.edge.keys import ApiKeyStore

    risk, risk_port = await _instant_risk()
    run_dir = Path(tempfile.mkdtemp(prefix="ibkr-bench-edge-"))
    key = ApiKeyStore(run_dir / "keys.json").create(name="bench", role="trader", accounts=[ACCOUNT])
    edge_port = infra.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBKR_")} | {
        "IBKR_EDGE_GRPC_PORT": str(edge_port), "IBKR_EDGE_METRICS_PORT": "0", "IBKR_REDIS_URL": infra.LOCAL_REDIS_URL,
        "IBKR_BUS_STREAM": f"bench:{uuid.uuid4().hex[:8]}:events", "IBKR_EDGE_API_KEYS_FILE": str(run_dir / "keys.json"),
        "IBKR_RISK_ADDRESS": f"127.0.0.1:{risk_port}", "IBKR_EDGE_RATE_LIMIT_PER_SECOND": "0",
        "IBKR_LOG_LEVEL": "WARNING"}
    forwarder_port = infra.free_port()
    # One-off spawns before anything is measured; blocking the loop for them costs nothing here.
    edge = _spawn(["-m", "services.edge"], env)
    forwarder = _spawn(["-m", "bench.bench_order_latency", "--forwarder", str(forwarder_port), str(risk_port)],
                       env)
    try:
        await _wait_serving(f"127.0.0.1:{edge_port}", edge, "edge")
        await _wait_port(forwarder_port, forwarder, "forwarder")
        return await measure_interleaved(risk_port, f"127.0.0.1:{forwarder_port}", f"127.0.0.1:{edge_port}", key,
                                         orders)
    finally:
        _stop(edge)
        _stop(forwarder)
        await risk.stop(0)
        shutil.rmtree(run_dir, ignore_errors=True)


def floor_rows(floor: dict[str, list[float]]) -> list[str]:
    """The suite's PlaceOrder→ack beside the sum of what the path cannot avoid, and the goal's verdict."""
    p50 = {name: percentile(samples, 50) * 1e3 for name, samples in floor.items()}
    suite_p99 = percentile(floor["suite"], 99) * 1e3
    least = 3 * p50["hop"] + p50["insert"] + p50["raw_ib"]
    verdict = {True: "met", False: "NOT met"}
    return [
        line(f"raw gRPC unary echo, two processes @{RATE_PER_SECOND}/s", summary_ms(floor["hop"])),
        line(f"intent INSERT alone, synchronous commit @{RATE_PER_SECOND}/s", summary_ms(floor["insert"])),
        line(f"raw ib_async MARKET placeOrder→Submitted @{RATE_PER_SECOND}/s", summary_ms(floor["raw_ib"])),
        line(f"PlaceOrder→ack edge→risk→bridge→sim @{RATE_PER_SECOND}/s", summary_ms(floor["suite"])),
        (f"goal p50 ≤ 5 ms: {verdict[p50['suite'] <= 5]} ({p50['suite']:.2f} ms); "
        f"goal p99 ≤ 15 ms: {verdict[suite_p99 <= 15]} ({suite_p99:.2f} ms)"),
        (f"floor at {RATE_PER_SECOND}/s (p50s, same run): 3 hops {3 * p50['hop']:.2f} + intent INSERT "
        f"{p50['insert']:.2f} + raw IB {p50['raw_ib']:.2f} = {least:.2f} ms; the suite's p50 {p50['suite']:.2f} ms "
        f"adds {p50['suite'] - least:+.2f} ms above the floor"),
    ]


def main() -> None:
    if sys.argv[1:2] == ["--forwarder"]:
        asyncio.run(serve_forwarder(int(sys.argv[2]), int(sys.argv[3])))
        return
    echo = asyncio.run(measure_unary_echo())
    direct, forwarded, through = asyncio.run(measure_edge_alone(EDGE_ALONE_CALLS))
    before: dict[str, Histogram] = {}

    def snapshot() -> None:
        before.update({name: scrape(ports[name], service, method) for name, service, method in HOPS})

    with running_suite() as (suite, key):
        ports = suite.metrics_ports()
        floor = asyncio.run(measure_with_floor(suite.address("edge"), key, suite.settings.database_url,
                                               suite.settings.ports.sim_tws, ORDERS, place, snapshot))
        after = {name: scrape(ports[name], service, method) for name, service, method in HOPS}
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min; {os.cpu_count()} cores shared with others)")
    print(line("raw gRPC unary echo (1 hop, back to back)", summary_ms(echo)))
    print(f"the edge alone, in front of an instant stand-in risk ({RATE_PER_SECOND} calls/s, the three rows "
          "below taking turns):")
    print(line("SubmitOrder straight to an instant risk", summary_ms(direct)))
    print(line("PlaceOrder via a bare forwarder to that risk", summary_ms(forwarded))
          + f"   → one more hop adds p50 {(percentile(forwarded, 50) - percentile(direct, 50)) * 1e3:.3f} ms")
    print(line("PlaceOrder via the edge to that instant risk", summary_ms(through))
          + f"   → the edge adds p50 {(percentile(through, 50) - percentile(direct, 50)) * 1e3:.3f} ms "
            f"(its work + one more hop); its work alone p50 "
            f"{(percentile(through, 50) - percentile(forwarded, 50)) * 1e3:.3f} ms over the forwarder")
    print(f"the whole suite, its orders taking turns with the floor's measurements ({RATE_PER_SECOND}/s each, "
          "same machine load):")
    print("where the time goes (server-side handling, measured orders only; warm-up excluded):")
    for row in breakdown(before, after):
        print(row)
    for row in floor_rows(floor):
        print(row)


if __name__ == "__main__":
    main()
