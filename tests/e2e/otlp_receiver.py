"""A real OTLP/gRPC trace receiver for tests: collects the spans the suite exports and lets tests wait on them.

It is a grpc.aio server on a free loopback port implementing
`opentelemetry.proto.collector.trace.v1.TraceService/Export` (plus accept-and-count Metrics and Logs
services, so a process that also exports those does not log errors). Point the suite at it with
``IBKR_OTEL_EXPORTER_OTLP_ENDPOINT=<receiver.endpoint>``.

Two ways to run it:

* inside a running event loop (an async test)::

      async with OtlpTraceReceiver() as rx:
          ...  # export to rx.endpoint
          span = await rx.wait_for(lambda spans: find_span(spans, name="PlaceOrder"), timeout=10)

* on its own thread, for a synchronous (session-scoped) fixture that outlives any one test's loop::

      with ThreadedOtlpTraceReceiver() as rx:
          suite = Suite(SuiteSettings(..., extra_env={"IBKR_OTEL_EXPORTER_OTLP_ENDPOINT": rx.endpoint}))
          ...
          trace = rx.wait_for(lambda spans: ..., timeout=20)            # blocking
          trace = await rx.wait_for_async(lambda spans: ..., timeout=20)  # from an async test

A predicate receives the list of all spans received so far (oldest first) and returns something truthy
when satisfied; `wait_for` returns that value, or raises `TimeoutError` describing what was received.

Span-graph helpers (`spans_by_trace`, `span_edges`, `service_edges`, `missing_edges`) turn a trace into
parent→child edges, following span links too (a bus consumer may link to the producer instead of
parenting), in the style of the opentelemetry-demo telemetry tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Self, TypeVar

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

T = TypeVar("T")
Predicate = Callable[[list["ReceivedSpan"]], T]

_KINDS = {value: name.removeprefix("SPAN_KIND_") for name, value in trace_pb2.Span.SpanKind.items()}
_STATUS = {value: name.removeprefix("STATUS_CODE_") for name, value in trace_pb2.Status.StatusCode.items()}


@dataclasses.dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, flattened for assertions. Ids are lowercase hex; kind is SERVER, CLIENT, ..."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    service_name: str
    kind: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str
    status_code: str
    status_message: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    links: tuple[tuple[str, str], ...] = ()
    events: tuple[str, ...] = ()

    @property
    def duration_seconds(self) -> float:
        return (self.end_time_unix_nano - self.start_time_unix_nano) / 1e9

    def __str__(self) -> str:
        parent = self.parent_span_id or "-"
        return f"{self.service_name}:{self.name} [{self.kind}] {self.trace_id[:8]}/{self.span_id} <- {parent}"


def any_value(value: common_pb2.AnyValue) -> Any:
    """An OTLP AnyValue as a plain Python value."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return attributes_dict(value.kvlist_value.values)
    return getattr(value, which)


def attributes_dict(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in pairs}


def flatten_request(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Every span of one Export request, with its resource's `service.name`."""
    out: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = attributes_dict(resource_spans.resource.attributes)
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(ReceivedSpan(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex() or None,
                    name=span.name,
                    service_name=service,
                    kind=_KINDS.get(span.kind, str(span.kind)),
                    attributes=attributes_dict(span.attributes),
                    resource=resource,
                    scope=scope_spans.scope.name,
                    status_code=_STATUS.get(span.status.code, str(span.status.code)),
                    status_message=span.status.message,
                    start_time_unix_nano=span.start_time_unix_nano,
                    end_time_unix_nano=span.end_time_unix_nano,
                    links=tuple((link.trace_id.hex(), link.span_id.hex()) for link in span.links),
                    events=tuple(event.name for event in span.events),
                ))
    return out


class SpanStore:
    """Thread-safe, append-only collection of received spans with blocking and async waits."""

    def __init__(self) -> None:
        self._spans: list[ReceivedSpan] = []
        self._cond = threading.Condition()
        self.export_calls = 0
        self.metric_exports = 0
        self.log_exports = 0

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._cond:
            self._spans.extend(spans)
            self.export_calls += 1
            self._cond.notify_all()

    @property
    def spans(self) -> list[ReceivedSpan]:
        """A snapshot of every span received so far, oldest first."""
        with self._cond:
            return list(self._spans)

    def clear(self) -> None:
        with self._cond:
            self._spans.clear()

    def wait_for(self, predicate: Predicate[T], timeout: float = 10.0) -> T:
        """Block until `predicate(spans)` is truthy; return its value. Raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = predicate(list(self._spans))
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                self._cond.wait(min(remaining, 0.5))

    async def wait_for_async(self, predicate: Predicate[T], timeout: float = 10.0,
                             poll: float = 0.05) -> T:
        """Like `wait_for`, without blocking the calling event loop."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate(self.spans)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(timeout))
            await asyncio.sleep(poll)

    def _timeout_message(self, timeout: float) -> str:
        spans = self.spans
        listing = "\n  ".join(str(s) for s in spans[-40:]) or "(none)"
        return f"predicate not satisfied after {timeout}s; {len(spans)} span(s) received, last ones:\n  {listing}"


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, store: SpanStore) -> None:
        self._store = store

    async def Export(self, request, context):
        self._store.add(flatten_request(request))
        return trace_service_pb2.ExportTraceServiceResponse()


class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, store: SpanStore) -> None:
        self._store = store

    async def Export(self, request, context):
        self._store.metric_exports += 1
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, store: SpanStore) -> None:
        self._store = store

    async def Export(self, request, context):
        self._store.log_exports += 1
        return logs_service_pb2.ExportLogsServiceResponse()


class OtlpTraceReceiver:
    """The OTLP/gRPC receiver on the current event loop. Use as `async with OtlpTraceReceiver() as rx`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, store: SpanStore | None = None) -> None:
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self.store = store or SpanStore()
        self._server: grpc.aio.Server | None = None

    async def start(self) -> OtlpTraceReceiver:
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceServicer(self.store), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_MetricsServicer(self.store), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsServicer(self.store), server)
        self.port = server.add_insecure_port(f"{self.host}:{self._requested_port}")
        await server.start()
        self._server = server
        return self

    async def stop(self, grace: float | None = 0.5) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def address(self) -> str:
        """host:port, for a gRPC channel."""
        if self.port is None:
            raise RuntimeError("receiver not started")
        return f"{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """The value for IBKR_OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT (plaintext)."""
        return f"http://{self.address}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        return self.store.spans

    def clear(self) -> None:
        self.store.clear()

    async def wait_for(self, predicate: Predicate[T], timeout: float = 10.0) -> T:
        return await self.store.wait_for_async(predicate, timeout)

    async def wait_for_trace(self, predicate: Callable[[list[ReceivedSpan]], bool],
                             timeout: float = 10.0) -> list[ReceivedSpan]:
        """The first trace (its spans) for which `predicate(trace_spans)` holds."""
        return await self.wait_for(lambda spans: first_trace(spans, predicate), timeout)


class ThreadedOtlpTraceReceiver:
    """The same receiver on a private event loop in a daemon thread; usable from sync and async code."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = SpanStore()
        self._receiver = OtlpTraceReceiver(host, port, self.store)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ThreadedOtlpTraceReceiver:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="otlp-receiver", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._receiver.start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._receiver.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        return self._receiver.address

    @property
    def endpoint(self) -> str:
        return self._receiver.endpoint

    @property
    def spans(self) -> list[ReceivedSpan]:
        return self.store.spans

    def clear(self) -> None:
        self.store.clear()

    def wait_for(self, predicate: Predicate[T], timeout: float = 10.0) -> T:
        return self.store.wait_for(predicate, timeout)

    async def wait_for_async(self, predicate: Predicate[T], timeout: float = 10.0) -> T:
        return await self.store.wait_for_async(predicate, timeout)

    def wait_for_trace(self, predicate: Callable[[list[ReceivedSpan]], bool],
                       timeout: float = 10.0) -> list[ReceivedSpan]:
        return self.wait_for(lambda spans: first_trace(spans, predicate), timeout)

    async def wait_for_trace_async(self, predicate: Callable[[list[ReceivedSpan]], bool],
                                   timeout: float = 10.0) -> list[ReceivedSpan]:
        return await self.wait_for_async(lambda spans: first_trace(spans, predicate), timeout)


# ---------------------------------------------------------------------------------------------------------
# Span-graph helpers
# ---------------------------------------------------------------------------------------------------------

def find_spans(spans: Iterable[ReceivedSpan], *, name: str | None = None, service: str | None = None,
               kind: str | None = None, trace_id: str | None = None,
               attributes: dict[str, Any] | None = None,
               name_contains: str | None = None) -> list[ReceivedSpan]:
    """Spans matching every given filter (attributes: each key present with that value)."""
    out = []
    for s in spans:
        if name is not None and s.name != name:
            continue
        if name_contains is not None and name_contains not in s.name:
            continue
        if service is not None and s.service_name != service:
            continue
        if kind is not None and s.kind != kind:
            continue
        if trace_id is not None and s.trace_id != trace_id:
            continue
        if attributes and any(s.attributes.get(k) != v for k, v in attributes.items()):
            continue
        out.append(s)
    return out


def find_span(spans: Iterable[ReceivedSpan], **filters: Any) -> ReceivedSpan | None:
    """The first span matching `find_spans` filters, or None."""
    found = find_spans(spans, **filters)
    return found[0] if found else None


def spans_by_trace(spans: Iterable[ReceivedSpan]) -> dict[str, list[ReceivedSpan]]:
    out: dict[str, list[ReceivedSpan]] = {}
    for s in spans:
        out.setdefault(s.trace_id, []).append(s)
    return out


def first_trace(spans: Iterable[ReceivedSpan],
                predicate: Callable[[list[ReceivedSpan]], bool]) -> list[ReceivedSpan] | None:
    """The spans of the first trace satisfying `predicate`, or None (for `wait_for`)."""
    for trace in spans_by_trace(spans).values():
        if predicate(trace):
            return trace
    return None


def span_edges(spans: Iterable[ReceivedSpan], *, follow_links: bool = True,
               ) -> set[tuple[str, str, str, str]]:
    """(parent service, parent name, child service, child name) for every parent/child pair among `spans`.

    With `follow_links`, a span linking to another received span counts as its child too (a consumer of a
    bus event may start a new span linked to the producer's context instead of parented by it).
    """
    spans = list(spans)
    by_id = {s.span_id: s for s in spans}
    edges = set()
    for child in spans:
        parents = [child.parent_span_id] if child.parent_span_id else []
        if follow_links:
            parents += [span_id for _, span_id in child.links]
        for pid in parents:
            parent = by_id.get(pid)
            if parent is not None:
                edges.add((parent.service_name, parent.name, child.service_name, child.name))
    return edges


def service_edges(spans: Iterable[ReceivedSpan], *, follow_links: bool = True) -> set[tuple[str, str]]:
    """(parent service, child service) pairs across service boundaries, e.g. ("edge", "risk")."""
    return {(ps, cs) for ps, _, cs, _ in span_edges(spans, follow_links=follow_links) if ps != cs}


def descendants(spans: Iterable[ReceivedSpan], root: ReceivedSpan, *,
                follow_links: bool = True) -> list[ReceivedSpan]:
    """Every span below `root` (transitively), by parent id and optionally by link."""
    spans = list(spans)
    children: dict[str, list[ReceivedSpan]] = {}
    for s in spans:
        parents = [s.parent_span_id] if s.parent_span_id else []
        if follow_links:
            parents += [sid for _, sid in s.links]
        for pid in parents:
            children.setdefault(pid, []).append(s)
    out, seen, todo = [], {root.span_id}, [root.span_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.span_id not in seen:
                seen.add(child.span_id)
                out.append(child)
                todo.append(child.span_id)
    return out


def missing_edges(spans: Iterable[ReceivedSpan], expected: Iterable[tuple[str, str]], *,
                  follow_links: bool = True) -> set[tuple[str, str]]:
    """Which expected (parent service, child service) edges the spans do not show (empty = all there)."""
    return set(expected) - service_edges(spans, follow_links=follow_links)
