"""OpenTelemetry tracing: the provider, explicit grpc.aio interceptors and W3C context helpers.

Written on the OTel API rather than opentelemetry-instrumentation-grpc so the span shape is ours: health
and reflection are never traced, span names are `<package.Service>/<Method>`, and attributes follow the
RPC semantic conventions (rpc.system, rpc.service, rpc.method, rpc.grpc.status_code).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import DEFAULT_TRACE_STATE

from services.common._grpc_util import (
    split_method,
    with_metadata,
)
from services.common.config import CommonSettings

INSTRUMENTATION_NAME = "services.common"
_PROPAGATOR = TraceContextTextMapPropagator()  # stateless and immutable: W3C traceparent/tracestate only
# What a W3C traceparent of version 00 is, exactly (no surrounding whitespace, nothing after the flags).
_CANONICAL_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE_ID, _ZERO_SPAN_ID = "0" * 32, "0" * 16
# An unrecorded child keeps only its parent's random-trace-id bit: its flags, made once, by that bit (a
# parent's flags & RANDOM_TRACE_ID) and by a canonical parent's flags field.
_KEPT_FLAGS = {bit: TraceFlags(bit) for bit in (TraceFlags.DEFAULT, TraceFlags.RANDOM_TRACE_ID)}
_CHILD_FLAGS = {f"{i:02x}": _KEPT_FLAGS[i & TraceFlags.RANDOM_TRACE_ID] for i in range(256)}
_NO_PARENT = otel_context.Context()


def _local_context(trace_id: int, span_id: int, flags: TraceFlags, state: TraceState | None) -> SpanContext:
    """`SpanContext(trace_id, span_id, is_remote=False, trace_flags=flags, trace_state=state)` for ids already known
    valid (a parent's, a parsed non-zero one, a generated one): the tuple that constructor builds, without its
    Python-level defaults and range checks, on every traced call. It relies on opentelemetry-api's tuple layout
    (trace_id, span_id, is_remote, trace_flags, trace_state, is_valid), which test_telemetry holds equal to the
    constructor's result, so an upgrade that changes it fails there."""
    return tuple.__new__(SpanContext, (trace_id, span_id, False, flags, state or DEFAULT_TRACE_STATE, True))

# Server spans are errors only for codes that mean the server failed (OTel RPC semantic conventions);
# a caller's bad input is not a server error. Client spans are errors for every non-OK code.
SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def build_tracer_provider(
    service_name: str, settings: CommonSettings, exporter: SpanExporter | None = None
) -> TracerProvider:
    """An SDK provider: ParentBased(TraceIdRatio(settings ratio)) sampling, resource `service.name`.

    With `exporter` (tests: `InMemorySpanExporter`) spans go to it synchronously; else with an OTLP
    endpoint configured they are batched to it over gRPC; else nothing would ever read a span, so none is
    recorded (ALWAYS_OFF): trace and span ids are still made and propagated, so logs and peers keep the
    trace context, but the per-call cost of recording (about a tenth of the edge's CPU per call) is gone.
    """
    exporting = exporter is not None or bool(settings.otel_exporter_otlp_endpoint)
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.otel_traces_sampler_ratio))
        if exporting
        else ALWAYS_OFF,
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.otel_exporter_otlp_endpoint:
        # Imported lazily: the exporter pulls in its own grpc channel machinery we don't need otherwise.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=not endpoint.startswith("https")))
        )
    return provider


async def shutdown_tracing(provider: TracerProvider, timeout_millis: int = 5000) -> None:
    """Flush pending spans and shut the provider down, off the event loop (export can block)."""

    def flush_and_close() -> None:
        provider.force_flush(timeout_millis)
        provider.shutdown()

    await asyncio.to_thread(flush_and_close)


def inject_context(context: otel_context.Context | None = None) -> dict[str, str]:
    """The current (or given) trace context as W3C `traceparent`/`tracestate` entries; empty if none."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return carrier


def w3c_carrier(traceparent: str | None, tracestate: str | None) -> dict[str, str]:
    """The carrier `extract_context` reads, from the two values a caller sent (None: not sent)."""
    carrier = {}
    if traceparent is not None:
        carrier["traceparent"] = traceparent
    if tracestate is not None:
        carrier["tracestate"] = tracestate
    return carrier


def extract_context(carrier: Mapping[str, str]) -> otel_context.Context:
    """An OTel context whose parent is the span described by `carrier` (a bus entry, gRPC metadata).

    The common case, a canonical version-00 `traceparent` and no `tracestate`, is read directly (the
    propagator's generic getters and checks were the largest part of a server span's cost); anything else
    goes to the W3C propagator. Both give the same context.
    """
    header = carrier.get("traceparent")
    if header.__class__ is str and "tracestate" not in carrier:
        match = _CANONICAL_TRACEPARENT.fullmatch(header)
        if match is not None:
            trace_id, span_id, flags = match.groups()
            if trace_id != _ZERO_TRACE_ID and span_id != _ZERO_SPAN_ID:
                parent = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True,
                                     trace_flags=TraceFlags(int(flags, 16)))
                return trace.set_span_in_context(NonRecordingSpan(parent), otel_context.Context())
    return _PROPAGATOR.extract(dict(carrier))


def _status_attrs(
    span: trace.Span, code: grpc.StatusCode, error_codes: frozenset[grpc.StatusCode] | None
) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    is_error = code != grpc.StatusCode.OK if error_codes is None else code in error_codes
    if is_error:
        span.set_status(Status(StatusCode.ERROR, code.name))


def _rpc_attributes(method: str | bytes) -> tuple[str, dict[str, Any]]:
    service, name = split_method(method)
    return f"{service}/{name}", {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


def start_server_span(
    tracer: trace.Tracer, name: str, attributes: dict[str, Any], parent: otel_context.Context
) -> tuple[trace.Span, object]:
    """Start a SERVER span and make it current; returns it and the token for `end_server_span`.

    `start_as_current_span` without its generator-based context managers (a measurable share of a loopback
    hop's cost).
    """
    span = tracer.start_span(
        name,
        context=parent,
        kind=SpanKind.SERVER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    )
    return span, otel_context.attach(trace.set_span_in_context(span))


def never_records(provider: trace.TracerProvider) -> bool:
    """True for a provider that samples nothing (`build_tracer_provider` with no exporter configured)."""
    return getattr(provider, "sampler", None) is ALWAYS_OFF


class UnrecordedSpans:
    """Spans for a provider that records none, made without the SDK's per-span machinery (sampler call,
    span object, self-metrics): about half the price of the tracing on a loopback hop.

    A span gets exactly the context the SDK would give it under ALWAYS_OFF: the parent's trace id and trace
    state and its random-trace-id flag (a fresh random trace id, flagged so, without a valid parent), a
    fresh span id, not sampled. So logs, bus records and peers carry the same trace context as before.
    """

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._ids = getattr(provider, "id_generator", None) or RandomIdGenerator()

    def child(self, parent: otel_context.Context | None = None) -> trace.Span:
        """A non-recording span whose parent is the current span of `parent` (default: the current context)."""
        p = trace.get_current_span(parent).get_span_context()
        if p.is_valid:
            trace_id, state = p.trace_id, p.trace_state
            flags = _KEPT_FLAGS[p.trace_flags & TraceFlags.RANDOM_TRACE_ID]
        else:
            trace_id, state = self._ids.generate_trace_id(), None
            flags = _KEPT_FLAGS[TraceFlags.RANDOM_TRACE_ID if self._ids.is_trace_id_random() else TraceFlags.DEFAULT]
        return NonRecordingSpan(_local_context(trace_id, self._ids.generate_span_id(), flags, state))

    def caller_child(self, traceparent: str | None, tracestate: str | None) -> trace.Span:
        """`child(extract_context(carrier))` for a caller that sent these W3C `traceparent`/`tracestate` values.

        For a canonical traceparent without tracestate (what suite peers send), only what the child takes
        from its parent is read: the trace id and the flags; no parent span context is built.
        """
        if tracestate is None and traceparent.__class__ is str:
            match = _CANONICAL_TRACEPARENT.fullmatch(traceparent)
            if match is not None:
                trace_id, span_id, flags = match.groups()
                if trace_id != _ZERO_TRACE_ID and span_id != _ZERO_SPAN_ID:
                    return NonRecordingSpan(_local_context(int(trace_id, 16), self._ids.generate_span_id(),
                                                           _CHILD_FLAGS[flags], None))
        if traceparent is None:
            return self.child(_NO_PARENT)
        return self.child(extract_context(w3c_carrier(traceparent, tracestate)))



def end_server_span(span: trace.Span, token: object, code: grpc.StatusCode) -> None:
    """Record the final status on a span from `start_server_span`, restore the previous context, end it."""
    _status_attrs(span, code, SERVER_ERROR_CODES)
    otel_context.detach(token)  # type: ignore[arg-type]
    span.end()


def rpc_span_name_and_attributes(method: str | bytes) -> tuple[str, dict[str, Any]]:
    """`<package.Service>/<Method>` and the RPC semantic-convention attributes of a server span."""
    return _rpc_attributes(method)


class _ClientTracing:
    def __init__(self, tracer_provider: trace.TracerProvider) -> None:
        self._tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME)

    def _start(self, details: grpc.aio.ClientCallDetails) -> tuple[trace.Span, Any]:
        name, attributes = _rpc_attributes(details.method)
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        carrier = inject_context(trace.set_span_in_context(span))
        return span, with_metadata(details, carrier.items())

    @staticmethod
    def _end(span: trace.Span, code: grpc.StatusCode) -> None:
        _status_attrs(span, code, None)
        span.end()


class TracingUnaryUnaryClientInterceptor(_ClientTracing, grpc.aio.UnaryUnaryClientInterceptor):
    """CLIENT span around a unary call; injects `traceparent` into its metadata."""

    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        span, details = self._start(client_call_details)
        try:
            call = await continuation(details, request)
            code = await call.code()
        except BaseException:
            self._end(span, grpc.StatusCode.CANCELLED)
            raise
        self._end(span, code)
        return call


class TracingUnaryStreamClientInterceptor(_ClientTracing, grpc.aio.UnaryStreamClientInterceptor):
    """CLIENT span covering a server stream until it ends, however the caller consumes it."""

    def __init__(self, tracer_provider: trace.TracerProvider) -> None:
        super().__init__(tracer_provider)
        # Strong references: the event loop only keeps weak ones to running tasks.
        self._finishers: set[asyncio.Task[None]] = set()

    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        span, details = self._start(client_call_details)
        try:
            call = await continuation(details, request)
        except BaseException:
            self._end(span, grpc.StatusCode.CANCELLED)
            raise
        task = asyncio.get_running_loop().create_task(self._finish(span, call))
        self._finishers.add(task)
        task.add_done_callback(self._finishers.discard)
        return call

    async def _finish(self, span: trace.Span, call: Any) -> None:
        code = grpc.StatusCode.CANCELLED
        try:
            code = await call.code()
        finally:
            # Also on cancellation (event loop closing): a span must always end.
            self._end(span, code)


def tracing_client_interceptors(tracer_provider: trace.TracerProvider) -> list[grpc.aio.ClientInterceptor]:
    """The client interceptors for a grpc.aio channel: `grpc.aio.insecure_channel(a, interceptors=...)`."""
    return [
        TracingUnaryUnaryClientInterceptor(tracer_provider),
        TracingUnaryStreamClientInterceptor(tracer_provider),
    ]
