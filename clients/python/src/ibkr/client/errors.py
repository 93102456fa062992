"""Typed errors: every failed call raises an `IbkrError` subclass chosen by its status code.

The server sends a `google.rpc.Status` in the `grpc-status-details-bin` trailer with an `ErrorInfo`
(reason, domain `ibkr.local`, metadata) and, for bad input, a `BadRequest` with field violations. They are
parsed here with `grpc_status.rpc_status.from_call`, so callers branch on types and `reason`, never on text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

RISK_RULE_VIOLATION = "RISK_RULE_VIOLATION"
RESUME_TOKEN_EXPIRED = "RESUME_TOKEN_EXPIRED"


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field: a dotted path such as `order.limit_price`, why, and a machine reason."""

    field: str
    description: str
    reason: str = ""


class IbkrError(Exception):
    """A failed call: the gRPC `code`, the server's `message`, and the `ErrorInfo` reason and metadata.

    `reason` falls back to the code's name when the server sent no `ErrorInfo` (e.g. a transport error).
    """

    code_: ClassVar[grpc.StatusCode | None] = None

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
    ) -> None:
        super().__init__(f"{code.name}: {reason + ': ' if reason else ''}{message}")
        self.code = code
        self.message = message
        self.reason = reason or code.name
        self.domain = domain
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations = field_violations


class InvalidArgument(IbkrError):
    """Bad input; `field_violations` say which fields."""

    code_ = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(IbkrError):
    """Unknown order, symbol or account."""

    code_ = grpc.StatusCode.NOT_FOUND


class AlreadyExists(IbkrError):
    """The same `client_order_id` with other parameters."""

    code_ = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(IbkrError):
    """The system is not in a state to do this (e.g. trading HALTED)."""

    code_ = grpc.StatusCode.FAILED_PRECONDITION


class RiskRejected(FailedPrecondition):
    """A risk rule denied the order; `rule_id` names it (from the ErrorInfo metadata)."""

    @property
    def rule_id(self) -> str:
        """The denying rule, as the risk service names it; empty when the server did not say."""
        return self.metadata.get("rule_id", "")


class ResumeTokenExpired(FailedPrecondition):
    """The resume token is beyond the server's retention: start a new stream (with a fresh snapshot)."""


class Unauthenticated(IbkrError):
    """No API key, or an invalid one."""

    code_ = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(IbkrError):
    """The key lacks the role or the account scope."""

    code_ = grpc.StatusCode.PERMISSION_DENIED


class Unavailable(IbkrError):
    """Transient: the edge or the broker is unreachable. Already retried by the channel."""

    code_ = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(IbkrError):
    """Rate limit, pacing, stream cap, or a stream cut for reading too slowly."""

    code_ = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceeded(IbkrError):
    """The call ran out of time."""

    code_ = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(IbkrError):
    """The call was cancelled (usually by this side)."""

    code_ = grpc.StatusCode.CANCELLED


def _by_code() -> dict[grpc.StatusCode, type[IbkrError]]:
    classes: tuple[type[IbkrError], ...] = (
        InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, Unauthenticated, PermissionDenied,
        Unavailable, ResourceExhausted, DeadlineExceeded, Cancelled,
    )
    return {cls.code_: cls for cls in classes if cls.code_ is not None}


def _error_class(code: grpc.StatusCode, reason: str) -> type[IbkrError]:
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        if reason == RISK_RULE_VIOLATION:
            return RiskRejected
        if reason == RESUME_TOKEN_EXPIRED:
            return ResumeTokenExpired
    return _by_code().get(code, IbkrError)


def _rich_status(error: grpc.RpcError) -> status_pb2.Status | None:
    try:
        return rpc_status.from_call(error)  # type: ignore[arg-type]  # RpcError subclasses are also Calls
    except (ValueError, AttributeError, TypeError):
        # A status whose code disagrees with the trailer, or a non-call error: use the plain code and text.
        return None


def error_from_rpc_error(error: grpc.RpcError) -> IbkrError:
    """The typed `IbkrError` for a failed call (sync `grpc.RpcError` or `grpc.aio.AioRpcError`)."""
    code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
    message: str = error.details() or ""  # type: ignore[attr-defined]
    reason, domain, metadata = "", "", {}
    violations: tuple[FieldViolation, ...] = ()
    status = _rich_status(error)
    if status is not None:
        message = status.message or message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations = tuple(
                    FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations
                )
    cls = _error_class(code, reason)
    return cls(code, message, reason=reason, domain=domain, metadata=metadata, field_violations=violations)
