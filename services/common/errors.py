"""Errors are data: `DomainError`s become `google.rpc.Status` with `ErrorInfo` (and `BadRequest`).

Handlers raise a `DomainError` subclass; `ErrorMappingServerInterceptor` turns it into a rich status, and
turns anything else into a generic INTERNAL so internals never leak. `domain_error_from_rpc_error` rebuilds
the same `DomainError` on the caller's side, so a service can relay a downstream error unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry import trace

from services.common._grpc_util import (
    STATUS_DETAILS_KEY,
    current_trace_id,
    metadata_get,
    wrap_handler,
)

ERROR_DOMAIN = "ibkr.local"
_REASON = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
INTERNAL_MESSAGE = "internal error"


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field. `field` is a dotted path, e.g. `order.limit_price`."""

    field: str
    description: str
    reason: str = ""


class DomainError(Exception):
    """An error a caller can act on: a canonical code, an UPPER_SNAKE reason and a message.

    Raise a subclass (`InvalidArgument`, `NotFound`, ...); the base class is for codes with no subclass,
    e.g. one relayed from a downstream service.
    """

    default_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        metadata: Mapping[str, object] | None = None,
        field_violations: Iterable[FieldViolation] = (),
        code: grpc.StatusCode | None = None,
    ) -> None:
        if not _REASON.match(reason):
            raise ValueError(f"error reason must be UPPER_SNAKE, got {reason!r}")
        super().__init__(message)
        self.code: grpc.StatusCode = code or self.default_code
        self.reason = reason
        self.message = message
        # ErrorInfo.metadata is map<string, string>; stringify here so callers can pass ids and Decimals.
        self.metadata: dict[str, str] = {str(k): str(v) for k, v in (metadata or {}).items()}
        self.field_violations: tuple[FieldViolation, ...] = tuple(field_violations)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code.name}, reason={self.reason!r}, "
            f"message={self.message!r}, metadata={self.metadata!r}, "
            f"field_violations={list(self.field_violations)!r})"
        )


class InvalidArgument(DomainError):
    """Bad input; carry `field_violations` so the caller knows which field."""

    default_code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DomainError):
    """An unknown symbol, order, account..."""

    default_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    """E.g. the same client_order_id with other parameters."""

    default_code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    """The system is not in a state to do this (risk denial, HALTED, expired resume token)."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(DomainError):
    """Transient: a dependency (the broker) is down. The only code clients retry."""

    default_code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(DomainError):
    """Pacing limit or full queue; a slow stream subscriber is cut with it."""

    default_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unauthenticated(DomainError):
    """No or invalid credentials."""

    default_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(DomainError):
    """Valid credentials lacking the scope or role."""

    default_code = grpc.StatusCode.PERMISSION_DENIED


class DeadlineExceeded(DomainError):
    """A call into IB or a peer ran out of time."""

    default_code = grpc.StatusCode.DEADLINE_EXCEEDED


class Aborted(DomainError):
    """A concurrency conflict; the caller may retry the whole read-modify-write."""

    default_code = grpc.StatusCode.ABORTED


_BY_CODE: dict[grpc.StatusCode, type[DomainError]] = {
    cls.default_code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        Unavailable,
        ResourceExhausted,
        Unauthenticated,
        PermissionDenied,
        DeadlineExceeded,
        Aborted,
    )
}
_CODE_BY_VALUE: dict[int, grpc.StatusCode] = {c.value[0]: c for c in grpc.StatusCode}


def to_status_proto(err: DomainError) -> status_pb2.Status:
    """The `google.rpc.Status` for an error: ErrorInfo always, BadRequest when there are violations."""
    status = status_pb2.Status(code=err.code.value[0], message=err.message)
    info = error_details_pb2.ErrorInfo(reason=err.reason, domain=ERROR_DOMAIN, metadata=err.metadata)
    status.details.add().Pack(info)
    if err.field_violations:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description, reason=v.reason
                )
                for v in err.field_violations
            ]
        )
        status.details.add().Pack(bad)
    return status


def to_rpc_status(err: DomainError) -> grpc.Status:
    """The `grpc.Status` to abort with: `await context.abort_with_status(to_rpc_status(err))`."""
    return rpc_status.to_status(to_status_proto(err))


def domain_error_from_status_proto(status: status_pb2.Status) -> DomainError:
    """Rebuild a `DomainError` from a `google.rpc.Status` (the inverse of `to_status_proto`)."""
    code = _CODE_BY_VALUE.get(status.code, grpc.StatusCode.UNKNOWN)
    reason, metadata, violations = code.name, {}, []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason or reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations]
    if not _REASON.match(reason):
        # A foreign server's free-form reason: keep the error usable rather than failing to decode it.
        metadata.setdefault("original_reason", reason)
        reason = code.name
    cls = _BY_CODE.get(code, DomainError)
    return cls(reason, status.message, metadata=metadata, field_violations=violations, code=code)


def domain_error_from_rpc_error(err: grpc.aio.AioRpcError | grpc.RpcError) -> DomainError:
    """The `DomainError` a downstream call failed with, read from `grpc-status-details-bin`.

    Without rich details (e.g. a plain deadline), the reason is the code's name and the message the details.
    Relay it with `raise domain_error_from_rpc_error(e) from e`.
    """
    code = err.code()
    blob = metadata_get(err.trailing_metadata(), STATUS_DETAILS_KEY)
    if isinstance(blob, bytes):
        status = status_pb2.Status.FromString(blob)
        if status.code == code.value[0]:
            return domain_error_from_status_proto(status)
    status = status_pb2.Status(code=code.value[0], message=err.details() or "")
    return domain_error_from_status_proto(status)


class ErrorMappingServerInterceptor(grpc.aio.ServerInterceptor):
    """Maps handler exceptions to statuses, for unary and streaming handlers alike.

    `DomainError` → its rich status. `context.abort` and cancellation pass through. Anything else is logged
    with its trace id and answered INTERNAL with a generic message: the exception text never reaches the
    caller.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("services.common.errors")

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return wrap_handler(handler, lambda context: self._scope(context, handler_call_details.method))

    @asynccontextmanager
    async def _scope(self, context: grpc.aio.ServicerContext, method: str) -> AsyncIterator[None]:
        try:
            yield
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - the whole point: nothing unhandled leaks to the caller
            await self.abort_for(context, method, exc)

    async def abort_for(self, context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
        """Abort the RPC with the status for `exc` (never an AbortError); call it inside the `except` block.

        Always raises (`grpc.aio.AbortError`). Shared with the fused server interceptor (`server.py`).
        """
        span = trace.get_current_span()
        if isinstance(exc, DomainError):
            span.set_attribute("ibkr.error.reason", exc.reason)
            await context.abort_with_status(to_rpc_status(exc))
        span.record_exception(exc)
        trace_id = current_trace_id()
        self._log.exception("unhandled error in %s", method, extra={"grpc_method": method})
        internal = DomainError(
            "INTERNAL_ERROR",
            INTERNAL_MESSAGE if trace_id is None else f"{INTERNAL_MESSAGE} (trace_id={trace_id})",
            metadata={} if trace_id is None else {"trace_id": trace_id},
            code=grpc.StatusCode.INTERNAL,
        )
        await context.abort_with_status(to_rpc_status(internal))


__all__ = [
    "ERROR_DOMAIN",
    "Aborted",
    "AlreadyExists",
    "DeadlineExceeded",
    "DomainError",
    "ErrorMappingServerInterceptor",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "domain_error_from_rpc_error",
    "domain_error_from_status_proto",
    "to_rpc_status",
    "to_status_proto",
]
