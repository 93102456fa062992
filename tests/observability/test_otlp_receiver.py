"""The test OTLP receiver, fed by the real OpenTelemetry SDK exporter over real gRPC."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

from tests.e2e.otlp_receiver import (
    OtlpTraceReceiver,
    ThreadedOtlpTraceReceiver,
    find_span,
    first_trace,
    missing_edges,
    service_edges,
    span_edges,
)


def provider_for(service: str, endpoint: str, *, batch: bool) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=endpoint, insecure=True, timeout=5)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=50) if batch
                                else SimpleSpanProcessor(exporter))
    return provider


def emit_order_trace(edge: TracerProvider, risk: TracerProvider, ledger: TracerProvider) -> str:
    """edge SERVER → risk SERVER (child) ; ledger CONSUMER linked to risk's span (bus hop)."""
    with (
        edge.get_tracer("t").start_as_current_span(
            "ibkr.edge.v1.TradingService/PlaceOrder", kind=trace.SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "ibkr.client_order_id": "c-1", "ibkr.qty": 3}) as root,
        risk.get_tracer("t").start_as_current_span("ibkr.risk.v1.RiskService/SubmitOrder",
                                                   kind=trace.SpanKind.SERVER) as hop,
    ):
        hop.add_event("risk.checked")
        link = trace.Link(hop.get_span_context())
    ledger.get_tracer("t").start_span("ledger.write_fill", kind=trace.SpanKind.CONSUMER, links=[link]).end()
    return format(root.get_span_context().trace_id, "032x")


def test_threaded_receiver_collects_spans_exported_by_the_sdk_with_resource_kind_parent_and_attributes():
    with ThreadedOtlpTraceReceiver() as rx:
        assert rx.endpoint.startswith("http://127.0.0.1:")
        providers = [provider_for(s, rx.endpoint, batch=False) for s in ("edge", "risk", "ledger")]
        trace_id = emit_order_trace(*providers)
        spans = rx.wait_for(lambda s: len(s) >= 3 and s, timeout=15)
        order_trace = rx.wait_for_trace(lambda t: find_span(t, service="risk") is not None, timeout=1)
        for p in providers:
            p.shutdown()

    assert {s.service_name for s in order_trace} == {"edge", "risk"}  # the consumer started its own trace

    root = find_span(spans, service="edge")
    hop = find_span(spans, service="risk")
    consumer = find_span(spans, service="ledger")
    assert root.trace_id == trace_id == hop.trace_id
    assert root.parent_span_id is None and hop.parent_span_id == root.span_id
    assert root.kind == "SERVER" and consumer.kind == "CONSUMER"
    assert root.attributes == {"rpc.system": "grpc", "ibkr.client_order_id": "c-1", "ibkr.qty": 3}
    assert root.resource["service.name"] == "edge"
    assert hop.events == ("risk.checked",)
    assert consumer.links == ((hop.trace_id, hop.span_id),)
    assert len(root.span_id) == 16 and len(root.trace_id) == 32


def test_span_edges_follow_parents_and_links_across_services():
    with ThreadedOtlpTraceReceiver() as rx:
        providers = [provider_for(s, rx.endpoint, batch=False) for s in ("edge", "risk", "ledger")]
        emit_order_trace(*providers)
        spans = rx.wait_for(lambda s: len(s) >= 3 and s, timeout=15)
        for p in providers:
            p.shutdown()

    assert service_edges(spans) == {("edge", "risk"), ("risk", "ledger")}
    assert service_edges(spans, follow_links=False) == {("edge", "risk")}
    assert ("risk", "ibkr.risk.v1.RiskService/SubmitOrder", "ledger", "ledger.write_fill") in span_edges(spans)
    assert missing_edges(spans, [("edge", "risk"), ("risk", "bridge")]) == {("risk", "bridge")}


async def test_async_receiver_on_the_test_loop_receives_batched_exports():
    async with OtlpTraceReceiver() as rx:
        provider = provider_for("bridge", rx.endpoint, batch=True)
        with provider.get_tracer("t").start_as_current_span("ib.placeOrder", kind=trace.SpanKind.CLIENT):
            pass
        # The SDK exporter is synchronous: flush off the loop that serves the receiver.
        await asyncio.to_thread(provider.force_flush)
        span = await rx.wait_for(lambda s: find_span(s, name="ib.placeOrder"), timeout=15)
        await asyncio.to_thread(provider.shutdown)
    assert span.service_name == "bridge" and span.kind == "CLIENT" and span.status_code == "UNSET"


async def test_wait_for_times_out_with_a_listing_of_what_arrived():
    async with OtlpTraceReceiver() as rx:
        with pytest.raises(TimeoutError, match="0 span"):
            await rx.wait_for(lambda s: find_span(s, name="never"), timeout=0.2)


def test_first_trace_picks_the_trace_satisfying_the_predicate():
    assert first_trace([], lambda t: True) is None


async def test_threaded_receiver_works_beside_grpc_aio_on_the_test_loop():
    """The e2e tier's shape: a session-long receiver thread while each test runs grpc.aio on its own loop."""
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    with ThreadedOtlpTraceReceiver() as rx:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        provider = provider_for("edge", rx.endpoint, batch=True)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                for i in range(20):
                    with provider.get_tracer("t").start_as_current_span(f"call-{i}"):
                        await stub.Check(health_pb2.HealthCheckRequest())
            await asyncio.to_thread(provider.force_flush)
            spans = await rx.wait_for_async(lambda s: len(s) >= 20 and s, timeout=15)
        finally:
            await asyncio.to_thread(provider.shutdown)
            await server.stop(None)
    assert sorted(s.name for s in spans) == sorted(f"call-{i}" for i in range(20))
