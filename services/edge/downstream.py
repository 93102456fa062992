"""Calls from the edge to risk, ledger and bridge: one deadline rule and one error rule for all of them.

Deadline: the configured default (`IBKR_EDGE_DOWNSTREAM_TIMEOUT_SECONDS`), or the caller's remaining
deadline when that is shorter, so no request hangs and none outlives its caller.

Errors: a downstream status is relayed with its code, reason and details (the team contract), except a
refusal of the edge's own internal credential, which is the suite's misconfiguration and must not look like
the caller's key was refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from ibkr.gateway.v1 import gateway_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2_grpc
from ibkr.risk.v1 import risk_pb2_grpc

from services.common.errors import DeadlineExceeded, DomainError, domain_error_from_rpc_error

R = TypeVar("R")

_SUITE_FAULTS = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
_TRANSPORT_CODES = {
    grpc.StatusCode.UNAVAILABLE: "a suite service is unavailable; retry later",
    grpc.StatusCode.DEADLINE_EXCEEDED: "a suite service did not answer in time",
}


@dataclass(frozen=True)
class Downstream:
    """The stubs the edge calls and the default deadline for every call."""

    risk: risk_pb2_grpc.RiskServiceStub
    ledger: ledger_pb2_grpc.LedgerServiceStub
    bridge: gateway_pb2_grpc.GatewayServiceStub
    timeout: float

    @classmethod
    def from_channels(cls, risk: grpc.aio.Channel, ledger: grpc.aio.Channel, bridge: grpc.aio.Channel,
                      timeout: float) -> Downstream:
        """Stubs over already-built channels (which carry tracing and the internal token)."""
        return cls(risk_pb2_grpc.RiskServiceStub(risk), ledger_pb2_grpc.LedgerServiceStub(ledger),
                   gateway_pb2_grpc.GatewayServiceStub(bridge), timeout)

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
        """`await method(request)` with the deadline; a failure becomes the relayed `DomainError`."""
        try:
            return await method(request, timeout=self.deadline(context))
        except grpc.aio.AioRpcError as err:
            raise relay(err) from None


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
