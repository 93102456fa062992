"""Prometheus metrics: one registry per service, the conventional gRPC server metrics, the HTTP endpoint.

`grpc_server_handling_seconds` carries a `trace_id` exemplar when a sampled span is active. Exemplars only
appear in the OpenMetrics exposition, which the endpoint serves when the scraper asks for it
(`Accept: application/openmetrics-text`), as Prometheus does with exemplar storage enabled.
"""

from __future__ import annotations

from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

# Finer at the low end than prometheus' defaults: a loopback hop costs well under a millisecond.
HANDLING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def new_registry() -> CollectorRegistry:
    """A fresh registry for one service (never the process-wide default one)."""
    return CollectorRegistry(auto_describe=True)


class GrpcServerMetrics:
    """`grpc_server_handled_total` and `grpc_server_handling_seconds`, registered on `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by final status code.",
            ["grpc_service", "grpc_method", "grpc_type", "grpc_code"],
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from the handler's start to its final status.",
            ["grpc_service", "grpc_method", "grpc_type"],
            buckets=HANDLING_BUCKETS,
            registry=registry,
        )
        # Bounded by the server's methods × rpc types × status codes.
        self._children: dict[tuple[str, str, str, grpc.StatusCode], tuple[Any, Any]] = {}

    def observe(
        self,
        service: str,
        method: str,
        rpc_type: str,
        code: grpc.StatusCode,
        seconds: float,
        *,
        exemplar: bool = True,
    ) -> None:
        """Record one finished RPC; the exemplar links the histogram sample to the active sampled trace.

        `exemplar=False` skips looking for one (the caller knows no span is ever sampled)."""
        # The labelled children, looked up once per label set: `labels()` validates and locks on every
        # call, a measurable part of a loopback hop (see bench_risk). It returns these same objects.
        children = self._children.get((service, method, rpc_type, code))
        if children is None:
            children = self._children[(service, method, rpc_type, code)] = (
                self.handled.labels(service, method, rpc_type, code.name),
                self.handling_seconds.labels(service, method, rpc_type),
            )
        children[0].inc()
        children[1].observe(seconds, exemplar=_trace_exemplar() if exemplar else None)

    def method(self, service: str, method: str, rpc_type: str) -> MethodMetrics:
        """One method's series, to observe its calls without looking up labels on each (see `MethodMetrics`)."""
        return MethodMetrics(self, service, method, rpc_type)


_OK = grpc.StatusCode.OK


class MethodMetrics:
    """`GrpcServerMetrics.observe` for one method: each status code's series resolved once, on its first call
    (so a code never seen exports nothing, as before), OK found without hashing the code."""

    __slots__ = ("_by_code", "_labels", "_metrics", "_ok", "_seconds")

    def __init__(self, metrics: GrpcServerMetrics, service: str, method: str, rpc_type: str) -> None:
        self._metrics = metrics
        self._labels = (service, method, rpc_type)
        self._ok: Any = None
        self._seconds: Any = None
        self._by_code: dict[grpc.StatusCode, Any] = {}

    def observe(self, code: grpc.StatusCode, seconds: float, exemplar: bool = True) -> None:
        """Record one finished call, as `GrpcServerMetrics.observe` with this method's labels (`exemplar` may be
        passed by position, so the call can be scheduled with `loop.call_soon`)."""
        handled = self._ok if code is _OK else self._by_code.get(code)
        if handled is None:
            handled = self._resolve(code)
        handled.inc()
        self._seconds.observe(seconds, exemplar=_trace_exemplar() if exemplar else None)

    def _resolve(self, code: grpc.StatusCode) -> Any:
        handled = self._metrics.handled.labels(*self._labels, code.name)
        self._seconds = self._metrics.handling_seconds.labels(*self._labels)
        if code is _OK:
            self._ok = handled
        else:
            self._by_code[code] = handled
        return handled


def _trace_exemplar() -> dict[str, str] | None:
    """The active span's trace id as an exemplar when that span is sampled, else None."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid and span_context.trace_flags.sampled:
        return {"trace_id": trace.format_trace_id(span_context.trace_id)}
    return None


def start_metrics_http_server(registry: CollectorRegistry, host: str, port: int) -> tuple[WSGIServer, int]:
    """Serve `registry` on http://host:port/metrics in a daemon thread; port 0 picks a free one.

    Returns the server (stop it with `server.shutdown(); server.server_close()`) and the bound port.
    Text or OpenMetrics is chosen from the request's Accept header.
    """
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, server.server_port


def stop_metrics_http_server(server: WSGIServer) -> None:
    """Stop serving and close the listening socket."""
    server.shutdown()
    server.server_close()
