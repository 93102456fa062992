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
from services.common.telemetry import inject_context, rpc_span_name_and_attributes

R = TypeVar("R")

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
    _spans: dict[Any, tuple[str, dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Span name and attributes per stub method, worked out once (calls name the stub's method object).
        for stub, module, service in ((self.risk, risk_pb2, "RiskService"), (self.ledger, ledger_pb2, "LedgerService"),
                                      (self.bridge, gateway_pb2, "GatewayService")):
            full = module.DESCRIPTOR.services_by_name[service]
            for method in full.methods:
                self._spans[getattr(stub, method.name)] = rpc_span_name_and_attributes(
                    f"/{full.full_name}/{method.name}")

    @classmethod
    def from_channels(cls, risk: grpc.aio.Channel, ledger: grpc.aio.Channel, bridge: grpc.aio.Channel,
                      timeout: float, *, tracer: trace.Tracer | None = None, token: str | None = None) -> Downstream:
        """Stubs over channels without client interceptors; `call` adds the span, trace context and token."""
        return cls(risk_pb2_grpc.RiskServiceStub(risk), ledger_pb2_grpc.LedgerServiceStub(ledger),
                   gateway_pb2_grpc.GatewayServiceStub(bridge), timeout, tracer or trace.NoOpTracer(), token)

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
