"""The per-call shortcuts of build_server's wrapper give what the general helpers they replace give.

One pass over the caller's metadata, a server span made straight from the caller's traceparent, metric
series resolved once per method and code, and the token check on the value already picked out: each is
checked here against the slower path it stands in for, and the unrecorded (no exporter) server end to end.
"""

from __future__ import annotations

import itertools

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.common._grpc_util import caller_metadata, metadata_get
from services.common.channels import INTERNAL_TOKEN_KEY, InternalAuthServerInterceptor
from services.common.config import CommonSettings
from services.common.errors import Unauthenticated, domain_error_from_rpc_error
from services.common.metrics import GrpcServerMetrics, new_registry
from services.common.server import ServiceSpec, build_server
from services.common.telemetry import UnrecordedSpans, build_tracer_provider, extract_context, inject_context

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TOKEN = "s3cr3t-token"


def metadata_to_carrier(metadata) -> dict:
    """The carrier the server built before `caller_metadata`: the text metadata as a dict (last value wins)."""
    return {item[0]: item[1] for item in metadata or () if isinstance(item[1], str)}


@pytest.mark.parametrize("metadata", [
    (),
    None,
    (("user-agent", "grpc"), ("traceparent", PARENT), (INTERNAL_TOKEN_KEY, TOKEN)),
    ((INTERNAL_TOKEN_KEY, "first"), (INTERNAL_TOKEN_KEY, "second")),  # the first token counts
    ((INTERNAL_TOKEN_KEY, b"bytes"), (INTERNAL_TOKEN_KEY, TOKEN)),
    (("traceparent", "a"), ("tracestate", "x=1"), ("traceparent", "b"), ("tracestate", "y=2")),  # last wins
    (("traceparent", b"not text"), ("tracestate", b"not text")),
    (("traceparent", "a"), ("trace-bin", b"\x00"), ("other", "1")),
    (("tracestate", "only=state"),),
])
def test_caller_metadata_reads_what_metadata_get_and_the_carrier_read(metadata) -> None:
    carrier = metadata_to_carrier(metadata)
    assert caller_metadata(metadata, INTERNAL_TOKEN_KEY) == (
        metadata_get(metadata, INTERNAL_TOKEN_KEY), carrier.get("traceparent"), carrier.get("tracestate"))


def test_caller_metadata_reads_grpc_aio_metadata() -> None:
    metadata = grpc.aio.Metadata(("traceparent", PARENT), (INTERNAL_TOKEN_KEY, TOKEN), ("tracestate", "v=1"))
    assert caller_metadata(metadata, INTERNAL_TOKEN_KEY) == (TOKEN, PARENT, "v=1")


class _CountingIds(IdGenerator):
    """Ids from a counter, so two generators made alike give the same sequence."""

    def __init__(self) -> None:
        self._next = itertools.count(0x1000)

    def generate_span_id(self) -> int:
        return next(self._next)

    def generate_trace_id(self) -> int:
        return next(self._next) << 64


@pytest.mark.parametrize("traceparent", [
    PARENT,
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff",
    " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-extra",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
    "",
    None,
])
@pytest.mark.parametrize("tracestate", [None, "vendor=a,other=b", ""])
def test_caller_child_is_the_child_of_the_extracted_parent(traceparent, tracestate) -> None:
    def spans() -> UnrecordedSpans:
        return UnrecordedSpans(TracerProvider(sampler=ALWAYS_OFF, id_generator=_CountingIds()))

    carrier = {k: v for k, v in (("traceparent", traceparent), ("tracestate", tracestate)) if v is not None}
    expected = spans().child(extract_context(carrier)).get_span_context()
    got = spans().caller_child(traceparent, tracestate).get_span_context()
    assert got == expected
    assert (got.trace_flags, got.trace_state, got.is_remote, got.is_valid) == (
        expected.trace_flags, expected.trace_state, expected.is_remote, expected.is_valid)
    assert type(got.trace_flags) is type(expected.trace_flags)


def _samples(registry: CollectorRegistry) -> list[tuple[str, dict[str, str], float]]:
    """Every sample but the creation timestamps (which differ between two registries)."""
    return [(s.name, s.labels, s.value) for family in registry.collect() for s in family.samples
            if not s.name.endswith("_created")]


def test_method_series_export_what_observe_exports_and_nothing_before_a_call() -> None:
    by_labels, by_method = GrpcServerMetrics(new_registry()), GrpcServerMetrics(new_registry())
    unary = by_method.method("pkg.S", "M", "unary")
    by_method.method("pkg.S", "Never", "server_stream")
    assert _samples(by_method.registry) == _samples(by_labels.registry) == []

    calls = [("M", "unary", grpc.StatusCode.OK, 0.0003), ("M", "unary", grpc.StatusCode.INVALID_ARGUMENT, 0.002),
             ("M", "unary", grpc.StatusCode.OK, 0.7), ("M", "unary", grpc.StatusCode.INTERNAL, 20.0),
             ("M", "unary", grpc.StatusCode.INVALID_ARGUMENT, 0.001)]
    for method, kind, code, seconds in calls:
        by_labels.observe("pkg.S", method, kind, code, seconds)
        unary.observe(code, seconds)
    assert _samples(by_method.registry) == _samples(by_labels.registry)


def test_method_series_carry_the_sampled_trace_exemplar_as_observe_does() -> None:
    unsampled = build_tracer_provider("t", CommonSettings())
    sampled = TracerProvider()  # the SDK default samples every root span
    by_labels, by_method = GrpcServerMetrics(new_registry()), GrpcServerMetrics(new_registry())
    unary = by_method.method("pkg.S", "M", "unary")
    for tracer_provider in (unsampled, sampled):
        with tracer_provider.get_tracer("t").start_as_current_span("s"):
            by_labels.observe("pkg.S", "M", "unary", grpc.StatusCode.OK, 0.01)
            unary.observe(grpc.StatusCode.OK, 0.01)
            by_labels.observe("pkg.S", "M", "unary", grpc.StatusCode.OK, 0.02, exemplar=False)
            unary.observe(grpc.StatusCode.OK, 0.02, exemplar=False)

    def exemplars(registry: CollectorRegistry) -> list:
        return [(s.labels, s.exemplar.labels, s.exemplar.value)
                for family in registry.collect() for s in family.samples if s.exemplar]

    assert exemplars(by_method.registry) == exemplars(by_labels.registry) != []


@pytest.mark.parametrize("configured", [TOKEN, None])
@pytest.mark.parametrize("metadata", [
    ((INTERNAL_TOKEN_KEY, TOKEN),),
    ((INTERNAL_TOKEN_KEY, "wrong"),),
    ((INTERNAL_TOKEN_KEY, TOKEN.encode()),),
    ((INTERNAL_TOKEN_KEY, "wrong"), (INTERNAL_TOKEN_KEY, TOKEN)),
    (("other", "1"),),
])
def test_token_reject_reason_agrees_with_the_metadata_check(configured, metadata) -> None:
    auth = InternalAuthServerInterceptor(configured)
    presented = caller_metadata(metadata, INTERNAL_TOKEN_KEY)[0]
    assert auth.token_reject_reason(presented) == auth.metadata_reject_reason(metadata)


SERVICE = "ibkr.test.v1.Wrapped"


def _add_seen(servicer, server) -> None:
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(servicer)}),))


async def test_unrecorded_server_span_carries_the_callers_trace_downstream() -> None:
    """No exporter (ALWAYS_OFF): the handler's span continues the caller's trace, as the SDK would."""
    seen: list[tuple[trace.SpanContext, dict[str, str]]] = []

    async def handler(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        seen.append((trace.get_current_span().get_span_context(), inject_context()))
        return request

    settings = CommonSettings(internal_token=SecretStr(TOKEN))
    registry = new_registry()
    server, port, _ = await build_server(
        services=[ServiceSpec(_add_seen, handler, SERVICE)], settings=settings, port=0,
        tracer_provider=build_tracer_provider("wrapped", settings), metrics=GrpcServerMetrics(registry),
        extra_interceptors=[InternalAuthServerInterceptor(settings.internal_token)])
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(f"/{SERVICE}/Unary")
            for state in (None, "vendor=a"):
                metadata = [(INTERNAL_TOKEN_KEY, TOKEN), ("traceparent", PARENT)]
                if state:
                    metadata.append(("tracestate", state))
                assert await call(b"x", metadata=tuple(metadata), timeout=5) == b"x"
            assert await call(b"x", metadata=((INTERNAL_TOKEN_KEY, TOKEN),), timeout=5) == b"x"
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(b"x", metadata=(("traceparent", PARENT),), timeout=5)
    finally:
        await server.stop(None)

    err = domain_error_from_rpc_error(refused.value)
    assert isinstance(err, Unauthenticated) and err.reason == "INTERNAL_TOKEN_MISSING"
    (plain, plain_out), (stated, stated_out), (root, root_out) = seen
    for span, out in ((plain, plain_out), (stated, stated_out)):
        assert span.trace_id == int(PARENT.split("-")[1], 16)
        assert span.span_id not in (0, int(PARENT.split("-")[2], 16))
        assert not span.is_remote and not span.trace_flags.sampled
        assert out["traceparent"] == f"00-{span.trace_id:032x}-{span.span_id:016x}-00"
    assert "tracestate" not in plain_out and stated_out["tracestate"] == "vendor=a"
    assert root.is_valid and root.trace_id != plain.trace_id and "traceparent" in root_out
    handled = {s.labels["grpc_code"]: s.value for f in registry.collect() for s in f.samples
               if s.name == "grpc_server_handled_total" and s.labels["grpc_method"] == "Unary"}
    assert handled == {"OK": 3.0, "UNAUTHENTICATED": 1.0}
