"""An order's later IB callbacks continue the trace of the request that placed it, onto the bus."""

import redis.asyncio as aioredis
from ibkr.trading.v1 import event_pb2, order_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.bus import EventBus
from services.gateway_bridge.order_traces import OrderTraces
from services.gateway_bridge.publisher import Publisher


def tracing() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_event_published_for_an_order_joins_the_placing_trace_on_the_bus(redis_url, unique_name):
    provider, exporter = tracing()
    tracer = provider.get_tracer("test")
    traces = OrderTraces()
    with tracer.start_as_current_span("GatewayService/PlaceOrder") as placing:
        traces.remember("ord-1")
    placing_trace = placing.get_span_context().trace_id

    client = aioredis.from_url(redis_url)
    try:
        bus = EventBus(client, f"{unique_name}:events", maxlen=None)
        publisher = Publisher(bus, tracer)
        update = event_pb2.OrderUpdate(order=order_pb2.Order(order_id="ord-1"))
        assert await publisher.publish("order_update", update, account_id="DU1", trace_carrier=traces.get("ord-1"),
                                       span_name="ib.order_status")
        [entry] = await bus.read_after("0")
    finally:
        await client.aclose()

    [published] = [s for s in exporter.get_finished_spans() if s.name == "ib.order_status"]
    assert published.context.trace_id == placing_trace
    assert published.parent.span_id == placing.get_span_context().span_id
    assert entry.trace_context["traceparent"].split("-")[1] == f"{placing_trace:032x}"


def test_the_oldest_orders_are_forgotten_first_and_untraced_calls_bind_nothing():
    provider, _ = tracing()
    traces = OrderTraces(capacity=2)
    traces.remember("untraced")
    assert traces.get("untraced") is None
    with provider.get_tracer("test").start_as_current_span("place"):
        for order_id in ("a", "b", "c"):
            traces.remember(order_id)
    assert traces.get("a") is None
    assert traces.get("b") is not None and traces.get("c") is not None
