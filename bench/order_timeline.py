"""Why the slowest orders are slow: PlaceOrder at 10/s through the whole suite with every suite process
recording a debug timeline (`bench/timeline/sitecustomize.py`: garbage collections and asyncio callbacks
longer than a threshold, CLOCK_MONOTONIC timestamps), then, for the slowest ~2% of orders, what each process
was doing while the order was in flight, beside how often the same things overlap an ordinary order.

Run: `python -m bench.order_timeline [orders] [--traces]` (default 400 orders, about a minute); with `--traces`
every process exports its spans to a receiver in a child process and each slow order's spans are listed too. A diagnostic, not a
figure: the timeline's wrapper around every asyncio callback costs a little CPU in every process.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from ibkr.edge.v1 import trading_service_pb2_grpc

from bench.bench_order_latency import RATE_PER_SECOND, SYMBOLS, request
from bench.stats import line, percentile, summary_ms
from bench.suite_runner import running_suite

TIMELINE = Path(__file__).resolve().parent / "timeline"
SLOWEST_SHARE = 0.02


Order = tuple[float, float, str, int]  # start, end (CLOCK_MONOTONIC s), trace id (hex), start (unix ns)


async def place_orders(address: str, key: str, orders: int) -> list[Order]:
    """Each PlaceOrder at RATE_PER_SECOND after a warm-up, sent as the child of a trace of its own."""
    auth = (("authorization", f"Bearer {key}"),)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = trading_service_pb2_grpc.TradingServiceStub(channel)
        symbols = itertools.cycle(SYMBOLS)
        for n in range(10):
            await stub.PlaceOrder(request(n, next(symbols)), metadata=auth, timeout=15)
        spans, interval, next_at = [], 1.0 / RATE_PER_SECOND, time.perf_counter()
        for n in range(orders):
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
            trace_id = os.urandom(16).hex()
            metadata = (*auth, ("traceparent", f"00-{trace_id}-{os.urandom(8).hex()}-01"))
            wall, t0 = time.time_ns(), time.perf_counter()
            await stub.PlaceOrder(request(n, next(symbols)), metadata=metadata, timeout=15)
            spans.append((t0, time.perf_counter(), trace_id, wall))
        return spans


def load(directory: Path) -> list[dict]:
    events = []
    for path in directory.glob("[0-9]*.jsonl"):
        for raw in path.read_text().splitlines():
            event = json.loads(raw)
            event["p"] = short_name(event["p"])
            events.append(event)
    return sorted(events, key=lambda e: e["t"])


def short_name(argv0: str) -> str:
    parts = Path(argv0).parts
    return parts[-2] if len(parts) >= 2 and parts[-1] == "__main__.py" else argv0


def overlapping(events: list[dict], start: float, end: float) -> list[dict]:
    return [e for e in events if e["t"] < end and e["t"] + e["d"] > start]


def kind(event: dict) -> str:
    return f"{event['p']} gc gen{event['gen']}" if event["k"] == "gc" else f"{event['p']} slow callback"


def describe(event: dict, start: float) -> str:
    at = (event["t"] - start) * 1e3
    if event["k"] == "gc":
        return (f"    {event['p']:16} +{at:6.2f} ms  gc gen{event['gen']} {event['d'] * 1e3:6.2f} ms "
                f"({event['collected']} collected)")
    return (f"    {event['p']:16} +{at:6.2f} ms  callback {event['d'] * 1e3:6.2f} ms wall, "
            f"{event['cpu'] * 1e3:6.2f} ms cpu: {event['what'][:150]}")


def report(orders: list[Order], events: list[dict], traces: dict[str, list[dict]]) -> list[str]:
    spans = [(start, end) for start, end, _, _ in orders]
    durations = [end - start for start, end in spans]
    cut = percentile(durations, 100 * (1 - SLOWEST_SHARE))
    slow = [(s, e) for s, e in spans if e - s >= cut]
    trace_of = {start: (trace_id, wall) for start, _, trace_id, wall in orders}
    rows = [line(f"PlaceOrder→ack @{RATE_PER_SECOND}/s (timeline on)", summary_ms(durations)),
            f"slowest {len(slow)} orders (≥ {cut * 1e3:.2f} ms) and what overlapped each:"]
    for start, end in sorted(slow, key=lambda s: s[0] - s[1]):
        rows.append(f"  order at {start:.3f}: {(end - start) * 1e3:.2f} ms")
        trace_id, wall = trace_of[start]
        rows += [f"    span {s['service']:10} {s['name'][:44]:44} +{(s['start'] - wall) / 1e6:6.2f} ms "
                 f"{(s['end'] - s['start']) / 1e6:6.2f} ms" for s in traces.get(trace_id, [])]
        rows += [describe(e, start) for e in overlapping(events, start, end)] or ["    (nothing recorded)"]
    rows.append("how often each kind overlaps an order (share of slow orders vs all orders; mean ms of it "
                "inside the order's window):")
    kinds: dict[str, list[list[float]]] = collections.defaultdict(lambda: [[], []])
    for index, group in ((0, slow), (1, spans)):
        for start, end in group:
            seen: dict[str, float] = collections.defaultdict(float)
            for e in overlapping(events, start, end):
                seen[kind(e)] += min(end, e["t"] + e["d"]) - max(start, e["t"])
            for name, inside in seen.items():
                kinds[name][index].append(inside)
    for name, (in_slow, in_all) in sorted(kinds.items()):
        rows.append(f"  {name:32} slow {len(in_slow) / len(slow):6.1%} "
                    f"({sum(in_slow) / max(1, len(in_slow)) * 1e3:5.2f} ms)   all {len(in_all) / len(spans):6.1%} "
                    f"({sum(in_all) / max(1, len(in_all)) * 1e3:5.2f} ms)")
    if traces:
        rows += typical_spans(orders, traces, cut) + segment_rows(orders, traces, cut)
    rows.append("inside an order's window, per process (slow orders vs all; callbacks above the threshold only): "
                "mean CPU ms, and mean ms its callbacks were on the clock but not on a CPU (preempted or blocked):")
    for name in sorted({e["p"] for e in events}):
        cells = []
        for group in (slow, spans):
            used = lost = 0.0
            for start, end in group:
                for e in overlapping(events, start, end):
                    if e["p"] == name and e["k"] == "slow":
                        share = (min(end, e["t"] + e["d"]) - max(start, e["t"])) / e["d"]
                        used, lost = used + e["cpu"] * share, lost + (e["d"] - e["cpu"]) * share
            cells.append(f"cpu {used / len(group) * 1e3:5.2f} off-cpu {lost / len(group) * 1e3:5.2f}")
        rows.append(f"  {name:16} slow: {cells[0]}   all: {cells[1]}")
    return rows


# The order path's spans, in the order a call meets them: (service, span name, the span's edge of interest).
SEGMENT_MARKS = (("edge", "ibkr.edge.v1.TradingService/PlaceOrder", "start"),
                 ("edge", "ibkr.risk.v1.RiskService/SubmitOrder", "start"),
                 ("risk", "ibkr.risk.v1.RiskService/SubmitOrder", "start"),
                 ("risk", "ibkr.gateway.v1.GatewayService/PlaceOrder", "start"),
                 ("gateway_bridge", "ibkr.gateway.v1.GatewayService/PlaceOrder", "start"),
                 ("gateway_bridge", "ib.place_order", "start"),
                 ("gateway_bridge", "ib.place_order", "end"),
                 ("gateway_bridge", "ibkr.gateway.v1.GatewayService/PlaceOrder", "end"),
                 ("risk", "ibkr.gateway.v1.GatewayService/PlaceOrder", "end"),
                 ("risk", "ibkr.risk.v1.RiskService/SubmitOrder", "end"),
                 ("edge", "ibkr.risk.v1.RiskService/SubmitOrder", "end"),
                 ("edge", "ibkr.edge.v1.TradingService/PlaceOrder", "end"))
SEGMENTS = ("client→edge hop", "edge before its call", "edge→risk hop", "risk before its call (quote?)",
            "risk→bridge hop", "bridge before sending (intent INSERT)", "bridge sending to IB",
            "IB ack → bridge answers", "bridge→risk hop back", "risk after the bridge answered",
            "risk→edge hop back", "edge after risk answered", "edge→client hop back")


def segments(order: Order, spans: list[dict]) -> list[float] | None:
    """The order's time (ms) in each of SEGMENTS, from its spans; None when a span is missing."""
    start, end, _, wall = order
    marks = [0.0]
    for service, name, edge in SEGMENT_MARKS:
        span = next((s for s in spans if s["service"] == service and s["name"] == name), None)
        if span is None:
            return None
        marks.append((span[edge] - wall) / 1e6)
    marks.append((end - start) * 1e3)
    return [b - a for a, b in itertools.pairwise(marks)]


def segment_rows(orders: list[Order], traces: dict[str, list[dict]], cut: float) -> list[str]:
    """Per segment of the path: p50 and p98 over all orders, and the mean over the slowest ones."""
    every, slow = [], []
    for order in orders:
        got = segments(order, traces.get(order[2], []))
        if got is not None:
            every.append(got)
            if order[1] - order[0] >= cut:
                slow.append(got)
    if not every or not slow:
        return []
    rows = [f"the order path in segments (ms; from the spans; {len(every)} orders, {len(slow)} slowest):"]
    for index, name in enumerate(SEGMENTS):
        column = [row[index] for row in every]
        rows.append(f"  {name:40} p50 {percentile(column, 50):6.2f}  p98 {percentile(column, 98):6.2f}   slowest: "
                    + " ".join(f"{row[index]:5.1f}" for row in slow))
    return rows


def typical_spans(orders: list[Order], traces: dict[str, list[dict]], cut: float) -> list[str]:
    """Each span's median start (from the client's send) and duration over the orders faster than `cut`."""
    by_name: dict[tuple[str, str], list[tuple[float, float]]] = collections.defaultdict(list)
    for start, end, trace_id, wall in orders:
        if end - start < cut:
            for s in traces.get(trace_id, []):
                by_name[(s["service"], s["name"])].append(((s["start"] - wall) / 1e6, (s["end"] - s["start"]) / 1e6))
    rows = ["  the other orders' spans (median start after the client's send, median duration):"]
    for (service, name), got in sorted(by_name.items(), key=lambda kv: percentile([a for a, _ in kv[1]], 50)):
        rows.append(f"    span {service:10} {name[:44]:44} +{percentile([a for a, _ in got], 50):6.2f} ms "
                    f"{percentile([d for _, d in got], 50):6.2f} ms  (n={len(got)})")
    return rows


async def receive_spans(directory: Path) -> None:
    """An OTLP/gRPC trace receiver writing each span (service, name, trace id, start/end unix ns) to
    `<directory>/spans.jsonl`; prints its port."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    out = (directory / "spans.jsonl").open("a")

    class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
        async def Export(self, request, context):
            for resource_spans in request.resource_spans:
                service = next((a.value.string_value for a in resource_spans.resource.attributes
                                if a.key == "service.name"), "?")
                for scope in resource_spans.scope_spans:
                    out.writelines(json.dumps({"service": service, "name": s.name, "trace": s.trace_id.hex(),
                                               "start": s.start_time_unix_nano, "end": s.end_time_unix_nano})
                                   + "\n" for s in scope.spans)
            out.flush()
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Receiver(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


def load_traces(directory: Path) -> dict[str, list[dict]]:
    traces: dict[str, list[dict]] = collections.defaultdict(list)
    path = directory / "spans.jsonl"
    if path.exists():
        for raw in path.read_text().splitlines():
            span = json.loads(raw)
            traces[span["trace"]].append(span)
    for spans in traces.values():
        spans.sort(key=lambda s: s["start"])
    return traces


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) summed over a process's threads."""
    running = waiting = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            on_cpu, queued, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue  # a thread that ended meanwhile
        running, waiting = running + int(on_cpu) / 1e9, waiting + int(queued) / 1e9
    return running, waiting


def per_process(events: list[dict], start: float, end: float,
                cpu: dict[str, tuple[float, float]]) -> list[str]:
    """Each process over the measured window: CPU used, time it was runnable but not running, collections,
    and the callbacks that were slow most often."""
    rows = [(f"each process over the measured {end - start:.1f} s (CPU and run-queue wait from /proc schedstat, "
            "all threads):")]
    inside = [e for e in events if start <= e["t"] <= end]
    for name, (on_cpu, queued) in sorted(cpu.items()):
        mine = [e for e in inside if e["p"] == name]
        collections_ = collections.Counter(e["gen"] for e in mine if e["k"] == "gc")
        longest = max((e["d"] for e in mine if e["k"] == "gc"), default=0.0)
        rows.append(f"  {name:16} cpu {on_cpu * 1e3:7.0f} ms  waiting for a cpu {queued * 1e3:7.0f} ms   gc "
                    + ", ".join(f"gen{g}×{n}" for g, n in sorted(collections_.items()))
                    + f" (longest {longest * 1e3:.2f} ms)")
        slow = collections.defaultdict(list)
        for e in mine:
            if e["k"] == "slow":
                slow[e["what"].split(" at 0x")[0][:90]].append(e)
        for what, group in sorted(slow.items(), key=lambda kv: -sum(e["d"] for e in kv[1]))[:4]:
            rows.append(f"      slow callbacks {len(group):4}× wall {sum(e['d'] for e in group) * 1e3:7.1f} ms "
                        f"cpu {sum(e['cpu'] for e in group) * 1e3:6.1f} ms (max {max(e['d'] for e in group) * 1e3:5.1f}"
                        f" ms): {what}")
    return rows


def main() -> None:
    if sys.argv[1:2] == ["--receiver"]:
        asyncio.run(receive_spans(Path(sys.argv[2])))
        return
    if sys.argv[1:2] == ["--again"]:
        analyse(Path(sys.argv[2]))
        return
    traced = "--traces" in sys.argv
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    orders = int(numbers[0]) if numbers else 400
    directory = Path(tempfile.mkdtemp(prefix="ibkr-timeline-"))
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(TIMELINE), os.environ.get("PYTHONPATH")])),
           "IBKR_BENCH_TIMELINE_DIR": str(directory),
           "IBKR_BENCH_TIMELINE_SLOW_MS": os.environ.get("IBKR_BENCH_TIMELINE_SLOW_MS", "0.5")}
    receiver = None
    if traced:
        receiver = subprocess.Popen([sys.executable, "-m", "bench.order_timeline", "--receiver", str(directory)],
                                    stdout=subprocess.PIPE)
        assert receiver.stdout is not None
        env |= {"IBKR_OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{int(receiver.stdout.readline())}",
                "OTEL_BSP_SCHEDULE_DELAY": "1000"}
    try:
        run(directory, env, orders)
    finally:
        if receiver is not None:
            receiver.terminate()
            receiver.wait()
    print(f"timeline files: {directory}")


def run(directory: Path, env: dict[str, str], orders: int) -> None:
    with running_suite(env) as (suite, key):
        pids = {process.module.rsplit(".", 1)[-1]: process.pid
                for process in suite.processes.values()}
        before = {name: schedstat(pid) for name, pid in pids.items()}
        spans = asyncio.run(place_orders(suite.address("edge"), key, orders))
        cpu = {name: tuple(b - a for a, b in zip(before[name], schedstat(pid), strict=True))
               for name, pid in pids.items()}
        time.sleep(2.5)  # the last timeline flush and span export
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min; {os.cpu_count()} cores shared with others)")
    (directory / "orders.json").write_text(json.dumps({"orders": spans, "cpu": cpu}))
    analyse(directory)


def analyse(directory: Path) -> None:
    """Print the report of a run kept in `directory` (`--again <directory>` prints it again)."""
    saved = json.loads((directory / "orders.json").read_text())
    spans, cpu = [tuple(o) for o in saved["orders"]], {k: tuple(v) for k, v in saved["cpu"].items()}
    events = load(directory)
    for row in [*report(spans, events, load_traces(directory)), *per_process(events, spans[0][0], spans[-1][1], cpu)]:
        print(row)


if __name__ == "__main__":
    main()
