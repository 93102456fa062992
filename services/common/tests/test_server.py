"""build_server end to end on port 0: health, reflection, tracing, metrics and error mapping together."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from opentelemetry.trace import SpanKind, StatusCode

from services.common.errors import InvalidArgument, domain_error_from_rpc_error
from services.common.server import set_serving
from services.common.tests.probe import SECRET_DETAIL, SERVICE, STREAM, UNARY, ProbeServer, finished_spans


def unary(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(UNARY)


async def check(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)).status


async def test_health_starts_not_serving_then_serves_after_set_serving(probe: ProbeServer, channel) -> None:
    assert await check(channel, "") == health_pb2.HealthCheckResponse.NOT_SERVING
    assert await check(channel, SERVICE) == health_pb2.HealthCheckResponse.NOT_SERVING

    await set_serving(probe.health, [SERVICE], True)

    assert await check(channel, "") == health_pb2.HealthCheckResponse.SERVING
    assert await check(channel, SERVICE) == health_pb2.HealthCheckResponse.SERVING


async def test_reflection_lists_the_service_health_and_reflection(channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        yield reflection_pb2.ServerReflectionRequest(file_containing_symbol="grpc.health.v1.Health")

    responses = [r async for r in stub.ServerReflectionInfo(requests(), timeout=5)]

    listed = {s.name for s in responses[0].list_services_response.service}
    assert listed == {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}
    assert responses[1].file_descriptor_response.file_descriptor_proto  # health is describable


async def test_health_checks_and_reflection_are_not_traced(probe: ProbeServer, channel) -> None:
    await check(channel, "")
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    [_ async for _ in stub.ServerReflectionInfo(requests(), timeout=5)]

    assert probe.exporter.get_finished_spans() == ()


async def test_unary_ok_is_a_server_span_with_rpc_attributes(probe: ProbeServer, channel) -> None:
    assert await unary(channel)(b"ok", timeout=5) == b"ok"

    [span] = probe.exporter.get_finished_spans()
    assert span.name == f"{SERVICE}/Unary"
    assert span.kind == SpanKind.SERVER
    assert span.attributes["rpc.system"] == "grpc"
    assert span.attributes["rpc.service"] == SERVICE
    assert span.attributes["rpc.method"] == "Unary"
    assert span.attributes["rpc.grpc.status_code"] == 0
    assert span.status.status_code == StatusCode.UNSET


async def test_domain_error_reaches_the_caller_as_rich_status_and_round_trips(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel)(b"invalid", timeout=5)

    rpc_error = caught.value
    assert rpc_error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_error.details() == "quantity must be positive"
    err = domain_error_from_rpc_error(rpc_error)
    assert isinstance(err, InvalidArgument)
    assert err.reason == "INVALID_FIELD"
    assert err.metadata == {"field": "order.quantity"}
    assert [(v.field, v.description, v.reason) for v in err.field_violations] == [
        ("order.quantity", "must be positive", "NOT_POSITIVE")
    ]
    raw = dict(rpc_error.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(raw)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.domain == "ibkr.local"


async def test_unhandled_exception_is_internal_without_leaking_and_logged_with_trace_id(
    probe: ProbeServer, channel, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unary(channel)(b"boom", timeout=5)

    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert SECRET_DETAIL not in caught.value.details()
    assert "RuntimeError" not in caught.value.details()
    [span] = await finished_spans(probe, 1)
    trace_id = format(span.context.trace_id, "032x")
    assert trace_id in caught.value.details()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]
    [record] = [r for r in caplog.records if r.name == "services.common.errors"]
    assert SECRET_DETAIL in record.exc_text or SECRET_DETAIL in str(record.exc_info[1])


async def test_server_stream_is_traced_and_counted_once_with_its_final_code(
    probe: ProbeServer, channel
) -> None:
    stream = channel.unary_stream(STREAM)
    assert [m async for m in stream(b"stream:3", timeout=5)] == [b"0", b"1", b"2"]

    call = stream(b"stream-invalid", timeout=5)
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for message in call:
            received.append(message)
    assert received == [b"first"]
    assert domain_error_from_rpc_error(caught.value).reason == "RESUME_TOKEN_EXPIRED"

    spans = await finished_spans(probe, 2)
    assert [s.attributes["rpc.grpc.status_code"] for s in spans] == [0, 3]
    value = probe.registry.get_sample_value
    labels = {"grpc_service": SERVICE, "grpc_method": "Stream", "grpc_type": "server_stream"}
    assert value("grpc_server_handled_total", {**labels, "grpc_code": "OK"}) == 1
    assert value("grpc_server_handled_total", {**labels, "grpc_code": "INVALID_ARGUMENT"}) == 1
    assert value("grpc_server_handling_seconds_count", labels) == 2


async def test_metrics_count_ok_invalid_argument_and_internal(probe: ProbeServer, channel) -> None:
    await unary(channel)(b"ok", timeout=5)
    for request in (b"invalid", b"boom", b"boom"):
        with pytest.raises(grpc.aio.AioRpcError):
            await unary(channel)(request, timeout=5)

    await finished_spans(probe, 4)
    value = probe.registry.get_sample_value
    labels = {"grpc_service": SERVICE, "grpc_method": "Unary", "grpc_type": "unary"}
    assert value("grpc_server_handled_total", {**labels, "grpc_code": "OK"}) == 1
    assert value("grpc_server_handled_total", {**labels, "grpc_code": "INVALID_ARGUMENT"}) == 1
    assert value("grpc_server_handled_total", {**labels, "grpc_code": "INTERNAL"}) == 2
    assert value("grpc_server_handling_seconds_count", labels) == 4


async def test_unknown_method_is_unimplemented(channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary(f"/{SERVICE}/Nope")(b"", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
