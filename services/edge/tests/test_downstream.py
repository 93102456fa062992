"""Downstream calls carry what the shared client interceptors used to add: the internal token, the caller's
trace context and a CLIENT span — checked against a real gRPC server that enforces the token."""

from __future__ import annotations

import grpc
import pytest
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceState
from opentelemetry.trace import StatusCode as SpanStatus

from services.common.channels import InternalAuthServerInterceptor
from services.common.errors import DomainError
from services.common.telemetry import UnrecordedSpans
from services.edge.downstream import Downstream

TOKEN = "suite-secret"


class _Risk(risk_pb2_grpc.RiskServiceServicer):
    def __init__(self) -> None:
        self.metadata: list[dict[str, str]] = []

    async def GetTradingState(self, request, context):  # type: ignore[no-untyped-def]
        self.metadata.append({k: v for k, v in context.invocation_metadata() if isinstance(v, str)})
        if request.account_id == "missing":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such account")
        return risk_pb2.GetTradingStateResponse()


@pytest.fixture
async def risk():
    servicer = _Risk()
    server = grpc.aio.server(interceptors=[InternalAuthServerInterceptor(TOKEN)])
    risk_pb2_grpc.add_RiskServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield servicer, channel
    finally:
        await channel.close()
        await server.stop(0)


def _traced() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_a_call_carries_the_token_and_the_trace_context_of_its_client_span(risk):
    servicer, channel = risk
    provider, exporter = _traced()
    down = Downstream.from_channels(channel, channel, channel, 5.0, tracer=provider.get_tracer("t"), token=TOKEN)
    with provider.get_tracer("t").start_as_current_span("server") as parent:
        await down.call(down.risk.GetTradingState, risk_pb2.GetTradingStateRequest(account_id="DU1"), None)

    client = next(s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT)
    assert client.name == "ibkr.risk.v1.RiskService/GetTradingState"
    assert client.parent.span_id == parent.get_span_context().span_id
    assert client.attributes["rpc.method"] == "GetTradingState" and client.attributes["rpc.grpc.status_code"] == 0
    seen = servicer.metadata[-1]
    assert seen["x-ibkr-internal-token"] == TOKEN
    assert seen["traceparent"].split("-")[1:3] == [f"{client.context.trace_id:032x}", f"{client.context.span_id:016x}"]


async def test_a_failed_call_is_relayed_and_marks_its_client_span_as_an_error(risk):
    _, channel = risk
    provider, exporter = _traced()
    down = Downstream.from_channels(channel, channel, channel, 5.0, tracer=provider.get_tracer("t"), token=TOKEN)
    with pytest.raises(DomainError) as caught:
        await down.call(down.risk.GetTradingState, risk_pb2.GetTradingStateRequest(account_id="missing"), None)
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    (client,) = exporter.get_finished_spans()
    assert client.status.status_code is SpanStatus.ERROR and client.attributes["rpc.grpc.status_code"] == 5


async def test_without_the_token_the_refusal_is_the_suites_fault_not_the_callers(risk):
    _, channel = risk
    down = Downstream.from_channels(channel, channel, channel, 5.0, tracer=trace.NoOpTracer())
    with pytest.raises(DomainError) as caught:
        await down.call(down.risk.GetTradingState, risk_pb2.GetTradingStateRequest(), None)
    assert caught.value.reason == "DOWNSTREAM_AUTH_FAILED" and caught.value.code == grpc.StatusCode.INTERNAL


def _unrecorded_parent(provider: TracerProvider, state: str | None) -> otel_context.Context:
    """A current SERVER span as the shared wrapper makes it when nothing is recorded."""
    parent = UnrecordedSpans(provider).child(otel_context.Context())
    ctx = parent.get_span_context()
    if state is not None:
        ctx = SpanContext(ctx.trace_id, ctx.span_id, False, ctx.trace_flags, TraceState.from_header([state]))
    return trace.set_span_in_context(NonRecordingSpan(ctx))


@pytest.mark.parametrize("state", [None, "vendor=abc,other=1"])
async def test_an_unrecorded_call_carries_the_context_the_sdk_span_would(risk, state):
    servicer, channel = risk
    provider = TracerProvider(sampler=ALWAYS_OFF)
    tracer = provider.get_tracer("t")
    sdk = Downstream.from_channels(channel, channel, channel, 5.0, tracer=tracer, token=TOKEN)
    fast = Downstream.from_channels(channel, channel, channel, 5.0, tracer=tracer, token=TOKEN,
                                    unrecorded=UnrecordedSpans(provider))
    token = otel_context.attach(_unrecorded_parent(provider, state))
    try:
        for down in (sdk, fast):
            await down.call(down.risk.GetTradingState, risk_pb2.GetTradingStateRequest(account_id="DU1"), None)
    finally:
        otel_context.detach(token)
    via_sdk, via_fast = servicer.metadata[-2:]
    assert via_fast["x-ibkr-internal-token"] == TOKEN
    assert via_fast.get("tracestate") == via_sdk.get("tracestate")
    sdk_parts, fast_parts = via_sdk["traceparent"].split("-"), via_fast["traceparent"].split("-")
    assert [fast_parts[0], fast_parts[1], fast_parts[3]] == [sdk_parts[0], sdk_parts[1], sdk_parts[3]]
    assert len(fast_parts[2]) == 16 and fast_parts[2] != "0" * 16 and fast_parts[2] != sdk_parts[2]


async def test_an_unrecorded_failed_call_is_relayed_alike(risk):
    _, channel = risk
    provider = TracerProvider(sampler=ALWAYS_OFF)
    down = Downstream.from_channels(channel, channel, channel, 5.0, tracer=provider.get_tracer("t"), token=TOKEN,
                                    unrecorded=UnrecordedSpans(provider))
    with pytest.raises(DomainError) as caught:
        await down.call(down.risk.GetTradingState, risk_pb2.GetTradingStateRequest(account_id="missing"), None)
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    bare = Downstream.from_channels(channel, channel, channel, 5.0, tracer=provider.get_tracer("t"),
                                    unrecorded=UnrecordedSpans(provider))
    with pytest.raises(DomainError) as caught:
        await bare.call(bare.risk.GetTradingState, risk_pb2.GetTradingStateRequest(), None)
    assert caught.value.reason == "DOWNSTREAM_AUTH_FAILED" and caught.value.code == grpc.StatusCode.INTERNAL
