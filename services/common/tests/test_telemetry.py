"""Tracing: provider construction, client→server parenting, context helpers, stream client spans."""

from __future__ import annotations

import grpc
import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, SpanKind, StatusCode, TraceFlags, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from services.common.channels import make_internal_channel
from services.common.config import CommonSettings
from services.common.telemetry import (
    UnrecordedSpans,
    _local_context,
    build_tracer_provider,
    extract_context,
    inject_context,
    never_records,
    shutdown_tracing,
    tracing_client_interceptors,
)
from services.common.tests.probe import SERVICE, STREAM, UNARY, ProbeServer, finished_spans


def test_provider_samples_by_ratio_and_names_the_service() -> None:
    exporter = InMemorySpanExporter()
    never = build_tracer_provider("risk", CommonSettings(otel_traces_sampler_ratio=0.0), exporter=exporter)
    with never.get_tracer("t").start_as_current_span("dropped"):
        pass
    assert exporter.get_finished_spans() == ()

    always = build_tracer_provider("risk", CommonSettings(), exporter=exporter)
    with always.get_tracer("t").start_as_current_span("kept"):
        pass
    [span] = exporter.get_finished_spans()
    assert span.resource.attributes["service.name"] == "risk"


def test_provider_without_endpoint_or_exporter_records_nothing_but_still_propagates() -> None:
    provider = build_tracer_provider("risk", CommonSettings())
    assert provider._active_span_processor._span_processors == ()
    with provider.get_tracer("t").start_as_current_span("unrecorded") as span:
        assert not span.is_recording()
        carrier = inject_context()
    assert span.get_span_context().is_valid
    assert carrier["traceparent"].split("-")[1] == format(span.get_span_context().trace_id, "032x")


@pytest.mark.parametrize("carrier", [
    {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "x-other": "1"},
    {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", "tracestate": "vendor=a"},
    {"traceparent": " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    {"traceparent": "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"},
    {"traceparent": "00-00000000000000000000000000000000-b7ad6b7169203331-01"},
    {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"},
    {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"},
    {"traceparent": "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"},
    {"traceparent": "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"},
    {"traceparent": ""},
    {},
])
def test_extract_gives_what_the_w3c_propagator_gives(carrier) -> None:
    expected = trace.get_current_span(TraceContextTextMapPropagator().extract(dict(carrier))).get_span_context()
    got = trace.get_current_span(extract_context(carrier)).get_span_context()
    assert (got.trace_id, got.span_id, got.trace_flags, got.trace_state, got.is_remote, got.is_valid) == (
        expected.trace_id, expected.span_id, expected.trace_flags, expected.trace_state, expected.is_remote,
        expected.is_valid)


@pytest.mark.parametrize("traceparent, tracestate", [
    ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", None),  # sampled caller
    ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02", "vendor=a,other=b"),  # random-trace-id flag
    (None, None),  # no caller context: a new root
])
def test_unrecorded_spans_carry_the_context_the_sdk_gives_under_always_off(traceparent, tracestate) -> None:
    provider = build_tracer_provider("risk", CommonSettings())
    assert never_records(provider)
    carrier = {k: v for k, v in (("traceparent", traceparent), ("tracestate", tracestate)) if v}
    parent = extract_context(carrier)
    sdk = provider.get_tracer("t").start_span("s", context=parent, kind=SpanKind.SERVER).get_span_context()
    span = UnrecordedSpans(provider).child(parent)
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        assert trace.get_current_span() is span
        fast = span.get_span_context()
    finally:
        otel_context.detach(token)
    assert not span.is_recording()
    assert (fast.trace_flags, fast.trace_state, fast.is_remote, fast.is_valid) == (
        sdk.trace_flags, sdk.trace_state, sdk.is_remote, sdk.is_valid)
    assert fast.span_id != sdk.span_id
    if traceparent:
        assert fast.trace_id == sdk.trace_id == int(traceparent.split("-")[1], 16)
    assert not never_records(build_tracer_provider("risk", CommonSettings(), exporter=InMemorySpanExporter()))


@pytest.mark.parametrize("flags, state", [
    (TraceFlags(0), None), (TraceFlags(TraceFlags.RANDOM_TRACE_ID), TraceState([("vendor", "a")])),
])
def test_local_span_context_is_the_one_the_api_constructor_builds(flags, state) -> None:
    built = _local_context(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, flags, state)
    expected = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, is_remote=False,
                           trace_flags=flags, trace_state=state)
    assert type(built) is SpanContext
    assert tuple(built) == tuple(expected)
    assert (built.trace_id, built.span_id, built.is_remote, built.trace_flags, built.trace_state, built.is_valid) == (
        expected.trace_id, expected.span_id, expected.is_remote, expected.trace_flags, expected.trace_state,
        expected.is_valid)


@pytest.mark.parametrize("traceparent", [
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # invalid: a new root, as extract gives
    "not a traceparent",
])
def test_caller_child_is_the_child_of_the_extracted_caller(traceparent) -> None:
    spans = UnrecordedSpans(build_tracer_provider("risk", CommonSettings()))
    fast = spans.caller_child(traceparent, None).get_span_context()
    slow = spans.child(extract_context({"traceparent": traceparent})).get_span_context()
    assert (fast.trace_flags, fast.trace_state, fast.is_remote, fast.is_valid) == (
        slow.trace_flags, slow.trace_state, slow.is_remote, slow.is_valid)
    if traceparent.startswith("00-0af7"):  # a valid caller: its trace continues; otherwise each is a new root
        assert fast.trace_id == slow.trace_id == 0x0AF7651916CD43DD8448EB211C80319C


def test_provider_with_endpoint_batches_to_otlp() -> None:
    provider = build_tracer_provider("risk", CommonSettings(otel_exporter_otlp_endpoint="http://127.0.0.1:1"))
    [processor] = provider._active_span_processor._span_processors
    assert type(processor).__name__ == "BatchSpanProcessor"
    provider.shutdown()


def test_inject_then_extract_round_trips_the_current_span() -> None:
    provider = build_tracer_provider("t", CommonSettings(), exporter=InMemorySpanExporter())
    assert inject_context() == {}
    with provider.get_tracer("t").start_as_current_span("s") as span:
        carrier = inject_context()
    parent = trace.get_current_span(extract_context(carrier)).get_span_context()
    assert parent.trace_id == span.get_span_context().trace_id
    assert parent.span_id == span.get_span_context().span_id
    assert parent.is_remote


async def test_client_and_server_spans_are_parented_across_the_hop(probe: ProbeServer) -> None:
    client_exporter = InMemorySpanExporter()
    client_provider = build_tracer_provider("caller", CommonSettings(), exporter=client_exporter)
    channel = make_internal_channel(probe.address, client_provider, CommonSettings())
    async with channel:
        with client_provider.get_tracer("t").start_as_current_span("caller work") as root:
            assert await channel.unary_unary(UNARY)(b"ok", timeout=5) == b"ok"

    client_span = next(s for s in client_exporter.get_finished_spans() if s.kind == SpanKind.CLIENT)
    [server_span] = probe.exporter.get_finished_spans()
    trace_id = root.get_span_context().trace_id
    assert client_span.name == server_span.name == f"{SERVICE}/Unary"
    assert client_span.parent.span_id == root.get_span_context().span_id
    assert server_span.parent.span_id == client_span.context.span_id
    assert client_span.context.trace_id == server_span.context.trace_id == trace_id
    assert client_span.attributes["rpc.grpc.status_code"] == 0


async def test_client_spans_mark_errors_and_cover_server_streams(probe: ProbeServer) -> None:
    exporter = InMemorySpanExporter()
    provider = build_tracer_provider("caller", CommonSettings(), exporter=exporter)
    async with grpc.aio.insecure_channel(
        probe.address, interceptors=tracing_client_interceptors(provider)
    ) as ch:
        try:
            await ch.unary_unary(UNARY)(b"invalid", timeout=5)
        except grpc.aio.AioRpcError:
            pass
        call = ch.unary_stream(STREAM)(b"stream:2", timeout=5)
        assert [m async for m in call] == [b"0", b"1"]
        await call.code()
    # The stream's client span ends in a task that sees the status after the caller does.
    spans = {s.name: s for s in await finished_spans(exporter, 2)}
    await shutdown_tracing(provider)
    failed = spans[f"{SERVICE}/Unary"]
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    streamed = spans[f"{SERVICE}/Stream"]
    assert streamed.kind == SpanKind.CLIENT
    assert streamed.attributes["rpc.grpc.status_code"] == 0
    # The server does not count a caller's bad input as its own error.
    server_failed = next(s for s in await finished_spans(probe, 2) if s.name.endswith("/Unary"))
    assert server_failed.status.status_code == StatusCode.UNSET
