"""Calls from the edge to risk, ledger and bridge: one deadline rule and one error rule for all of them.

Deadline: the configured default (`IBKR_EDGE_DOWNSTREAM_TIMEOUT_SECONDS`), or the caller's remaining
deadline when that is shorter, so no request hangs and none outlives its caller.

Errors: a downstream status is relayed with its code, reason and details (the team contract), except a
refusal of the edge's own internal credential, which is the suite's misconfiguration and must not look like
the caller's key was refused.

Each call carries the internal token and the W3C trace context of a CLIENT span (the same span and metadata
the shared client interceptors make), attached here rather than by channel interceptors: grpc.aio runs
client interceptors in an extra task with copied call details per call, which was about a quarter of the
edge's own CPU per PlaceOrder (see README, "PlaceOrder cost").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from ibkr.risk.v1 import risk_pb2, risk_pb2_grpc
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.common.channels import INTERNAL_TOKEN_KEY
from services.common.errors import DeadlineExceeded, DomainError, domain_error_from_rpc_error
from services.common.telemetry import UnrecordedSpans, inject_context, rpc_span_name_and_attributes

R = TypeVar("R")

SUBMIT_ORDER = "/ibkr.risk.v1.RiskService/SubmitOrder"
_SUITE_FAULTS = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
_TRANSPORT_CODES = {
    grpc.StatusCode.UNAVAILABLE: "a suite service is unavailable; retry later",
    grpc.StatusCode.DEADLINE_EXCEEDED: "a suite service did not answer in time",
}


@dataclass(frozen=True)
class Downstream:
    """The stubs the edge calls, the default deadline for every call, and what each call carries."""

    risk: risk_pb2_grpc.RiskServiceStub
    ledger: ledger_pb2_grpc.LedgerServiceStub
    bridge: gateway_pb2_grpc.GatewayServiceStub
    timeout: float
    tracer: trace.Tracer = field(default_factory=trace.NoOpTracer)
    token: str | None = None
    submit_order_bytes: Callable[..., Awaitable[bytes]] | None = None
    """risk's SubmitOrder answering its reply's bytes unparsed (PlaceOrder relays them, see `place_order_reply`)."""
    unrecorded: UnrecordedSpans | None = None
    """Set when the tracer records nothing: CLIENT spans are then only the trace context they propagate."""
    _spans: dict[Any, tuple[str, dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Span name and attributes per stub method, worked out once (calls name the stub's method object).
        for stub, module, service in ((self.risk, risk_pb2, "RiskService"), (self.ledger, ledger_pb2, "LedgerService"),
                                      (self.bridge, gateway_pb2, "GatewayService")):
            full = module.DESCRIPTOR.services_by_name[service]
            for method in full.methods:
                self._spans[getattr(stub, method.name)] = rpc_span_name_and_attributes(
                    f"/{full.full_name}/{method.name}")
        if self.submit_order_bytes is not None:
            self._spans[self.submit_order_bytes] = self._spans[self.risk.SubmitOrder]

    @classmethod
    def from_channels(cls, risk: grpc.aio.Channel, ledger: grpc.aio.Channel, bridge: grpc.aio.Channel,
                      timeout: float, *, tracer: trace.Tracer | None = None, token: str | None = None,
                      unrecorded: UnrecordedSpans | None = None) -> Downstream:
        """Stubs over channels without client interceptors; `call` adds the span, trace context and token.

        `unrecorded`: the spans of a tracer provider that records none (`never_records`), made without the
        SDK span machinery; their trace context is the same."""
        submit_order_bytes = risk.unary_unary(SUBMIT_ORDER, request_serializer=risk_pb2.SubmitOrderRequest.SerializeToString,
                                              response_deserializer=None, _registered_method=True)
        return cls(risk_pb2_grpc.RiskServiceStub(risk), ledger_pb2_grpc.LedgerServiceStub(ledger),
                   gateway_pb2_grpc.GatewayServiceStub(bridge), timeout, tracer or trace.NoOpTracer(), token,
                   submit_order_bytes, unrecorded)

    def deadline(self, context: grpc.aio.ServicerContext | None) -> float:
        """Seconds the next downstream call may take."""
        remaining = context.time_remaining() if context is not None else None
        if remaining is None:
            return self.timeout
        if remaining <= 0:
            raise DeadlineExceeded("DEADLINE_EXCEEDED", "the request's deadline has passed")
        return min(self.timeout, remaining)

    async def call(self, method: Callable[..., Awaitable[R]], request: Any,
                   context: grpc.aio.ServicerContext | None) -> R:
        """`await method(request)` with the deadline, a CLIENT span, its trace context and the internal token;
        a failure becomes the relayed `DomainError`."""
        timeout = self.deadline(context)
        if self.unrecorded is not None:
            return await self._call_unrecorded(method, request, timeout)
        name, attributes = self._spans.get(method) or ("downstream", {"rpc.system": "grpc"})
        span = self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        metadata = [*inject_context(trace.set_span_in_context(span)).items()]
        if self.token is not None:
            metadata.append((INTERNAL_TOKEN_KEY, self.token))
        code = grpc.StatusCode.CANCELLED
        try:
            reply = await method(request, timeout=timeout, metadata=metadata)
            code = grpc.StatusCode.OK
            return reply
        except grpc.aio.AioRpcError as err:
            code = err.code()
            raise relay(err) from None
        finally:
            _end_client_span(span, code)

    async def _call_unrecorded(self, method: Callable[..., Awaitable[R]], request: Any, timeout: float) -> R:
        # A span that records nothing has no attributes, status or end worth setting: only its context
        # matters, written as the W3C propagator writes it (a child span always has valid ids).
        ctx = self.unrecorded.child().get_span_context()  # type: ignore[union-attr]
        metadata = [("traceparent", f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}")]
        if ctx.trace_state:
            metadata.append(("tracestate", ctx.trace_state.to_header()))
        if self.token is not None:
            metadata.append((INTERNAL_TOKEN_KEY, self.token))
        try:
            return await method(request, timeout=timeout, metadata=metadata)
        except grpc.aio.AioRpcError as err:
            raise relay(err) from None


def _end_client_span(span: trace.Span, code: grpc.StatusCode) -> None:
    # As the shared client interceptor does: every non-OK code is an error on a CLIENT span.
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code != grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, code.name))
    span.end()


def relay(err: grpc.aio.AioRpcError) -> DomainError:
    """The error to answer the caller with for a failed downstream call."""
    if err.code() in _SUITE_FAULTS:
        return DomainError("DOWNSTREAM_AUTH_FAILED", "an internal service refused the edge's credentials",
                           code=grpc.StatusCode.INTERNAL)
    relayed = domain_error_from_rpc_error(err)
    if relayed.reason == err.code().name and err.code() in _TRANSPORT_CODES:
        # A transport failure (no rich status from the peer): its text names internal addresses; hide them.
        return DomainError(relayed.reason, _TRANSPORT_CODES[err.code()], code=err.code())
    return relayed


# Top-level tags of risk's SubmitOrderResponse that PlaceOrderResponse shares, field for field (1 `order`, 2
# `child_orders`, both length-delimited `ibkr.trading.v1.Order`); field 3 (`decision`) is risk's own.
_ORDER_TAG, _CHILD_TAG = 0x0A, 0x12
_MAX_FIELD_NUMBER = 2**29 - 1


def place_order_reply(raw: bytes) -> bytes | None:
    """The bytes of the PlaceOrderResponse for risk's SubmitOrderResponse bytes `raw`, or None to parse instead.

    Keeps fields 1 and 2 byte for byte and drops every other top-level field, which is what parsing `raw` and
    building `PlaceOrderResponse(order=..., child_orders=...)` gives a client, without parsing or copying the
    orders. None (the caller takes the parsing way) when `raw` has no `order` (the constructor would have set
    an empty one) or is not a well-formed message.
    """
    kept: list[tuple[int, int]] = []
    has_order = False
    pos, end = 0, len(raw)
    while pos < end:
        start = pos
        tag = raw[pos]
        # One-byte varints (every tag of fields 1-15) inline: a call each costs more than the rest of the loop.
        tag, pos = (tag, pos + 1) if tag < 0x80 else _varint(raw, pos)
        wire_type = tag & 7
        if pos < 0 or not 0 < tag >> 3 <= _MAX_FIELD_NUMBER:
            return None
        if wire_type == 0:
            _, pos = _varint(raw, pos)
        elif wire_type == 1:
            pos += 8
        elif wire_type == 2:
            size = raw[pos] if pos < end else 0x80
            size, pos = (size, pos + 1) if size < 0x80 else _varint(raw, pos)
            if pos < 0:
                return None
            pos += size
        elif wire_type == 5:
            pos += 4
        else:
            return None  # groups: not in this message; let the parser judge
        if pos > end or pos < 0:
            return None
        if tag == _ORDER_TAG or tag == _CHILD_TAG:
            has_order = has_order or tag == _ORDER_TAG
            if kept and kept[-1][1] == start:
                kept[-1] = (kept[-1][0], pos)
            else:
                kept.append((start, pos))
        elif tag >> 3 in (1, 2):
            return None  # a shared field with the wrong wire type: malformed
    if not has_order:
        return None
    if len(kept) == 1:
        first, last = kept[0]
        return raw if first == 0 and last == end else raw[first:last]
    return b"".join(raw[first:last] for first, last in kept)


def _varint(raw: bytes, pos: int) -> tuple[int, int]:
    # -1 as the position marks a varint that runs past the end (or beyond 64 bits).
    value, shift = 0, 0
    while pos < len(raw) and shift < 64:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return 0, -1
