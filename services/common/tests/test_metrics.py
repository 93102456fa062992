"""The metrics endpoint: text by default, OpenMetrics with trace-id exemplars when asked."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client import REGISTRY

from services.common.metrics import (
    GrpcServerMetrics,
    new_registry,
    start_metrics_http_server,
    stop_metrics_http_server,
)
from services.common.tests.probe import SERVICE, UNARY, ProbeServer

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def scrape(port: int, accept: str | None = None) -> tuple[str, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


@pytest.fixture
def metrics_port(probe: ProbeServer):
    server, port = start_metrics_http_server(probe.registry, "127.0.0.1", 0)
    yield port
    stop_metrics_http_server(server)


async def test_openmetrics_scrape_carries_the_trace_id_exemplar(
    probe: ProbeServer, channel, metrics_port
) -> None:
    await channel.unary_unary(UNARY)(b"ok", timeout=5)
    [span] = probe.exporter.get_finished_spans()
    trace_id = format(span.context.trace_id, "032x")

    content_type, body = await asyncio.to_thread(scrape, metrics_port, OPENMETRICS)

    assert content_type.startswith("application/openmetrics-text")
    bucket_lines = [
        line for line in body.splitlines() if line.startswith("grpc_server_handling_seconds_bucket")
    ]
    assert any(f'# {{trace_id="{trace_id}"}}' in line for line in bucket_lines)
    assert f'grpc_server_handled_total{{grpc_code="OK",grpc_method="Unary",grpc_service="{SERVICE}"' in body


async def test_plain_scrape_is_prometheus_text_without_exemplars(channel, metrics_port) -> None:
    await channel.unary_unary(UNARY)(b"ok", timeout=5)

    content_type, body = await asyncio.to_thread(scrape, metrics_port)

    assert content_type.startswith("text/plain")
    assert "grpc_server_handled_total{" in body
    assert "trace_id" not in body


def test_registries_are_per_service_and_never_the_global_one() -> None:
    first, second = new_registry(), new_registry()
    GrpcServerMetrics(first)
    GrpcServerMetrics(second)  # same names on another registry: no "Duplicated timeseries"
    assert REGISTRY.get_sample_value("grpc_server_handled_total", {}) is None


def test_no_exemplar_without_a_sampled_span() -> None:
    import grpc

    registry = new_registry()
    GrpcServerMetrics(registry).observe("s", "m", "unary", grpc.StatusCode.OK, 0.01)
    from prometheus_client.openmetrics.exposition import generate_latest

    assert b"trace_id" not in generate_latest(registry)


def test_metrics_server_binds_an_ephemeral_port() -> None:
    server, port = start_metrics_http_server(new_registry(), "127.0.0.1", 0)
    try:
        assert port > 0
        assert scrape(port)[0].startswith("text/plain")
    finally:
        stop_metrics_http_server(server)
