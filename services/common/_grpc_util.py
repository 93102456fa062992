"""gRPC plumbing shared by the interceptors: method names, metadata, wrapping handler behaviours."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

import grpc
from opentelemetry import trace

STATUS_DETAILS_KEY = "grpc-status-details-bin"
HEALTH_SERVICE = "grpc.health.v1.Health"
REFLECTION_SERVICES = frozenset(
    {"grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"}
)
INFRASTRUCTURE_SERVICES = frozenset({HEALTH_SERVICE, *REFLECTION_SERVICES})

Scope = Callable[[grpc.aio.ServicerContext], AbstractAsyncContextManager[None]]


def split_method(method: str | bytes) -> tuple[str, str]:
    """`/pkg.Service/Method` → (`pkg.Service`, `Method`)."""
    if isinstance(method, bytes):
        method = method.decode()
    service, _, name = method.lstrip("/").rpartition("/")
    return service, name


def is_infrastructure(method: str | bytes) -> bool:
    """Health and reflection: not traced, never behind auth."""
    return split_method(method)[0] in INFRASTRUCTURE_SERVICES


def rpc_type(handler: grpc.RpcMethodHandler) -> str:
    """The go-grpc-prometheus `grpc_type` label value."""
    if handler.request_streaming and handler.response_streaming:
        return "bidi_stream"
    if handler.request_streaming:
        return "client_stream"
    if handler.response_streaming:
        return "server_stream"
    return "unary"


def metadata_get(metadata: Iterable[Any] | None, key: str) -> str | bytes | None:
    """The first value for `key` in gRPC metadata of any shape (tuples of pairs, aio.Metadata)."""
    for item in metadata or ():
        k, v = item[0], item[1]
        if k == key:
            return v
    return None


def caller_metadata(metadata: Iterable[Any] | None, token_key: str) -> tuple[str | bytes | None, str | None, str | None]:
    """What a server reads from a caller's metadata, in one pass: (token, traceparent, tracestate).

    The token is the first value under `token_key` (as `metadata_get`); traceparent and tracestate are the
    last text values under those keys (as an OTel carrier dict built from them would hold); None for what the
    caller did not send.
    """
    token = traceparent = tracestate = None
    for key, value in metadata or ():
        if key == "traceparent":
            if isinstance(value, str):
                traceparent = value
        elif key == token_key:
            if token is None:
                token = value
        elif key == "tracestate" and isinstance(value, str):
            tracestate = value
    return token, traceparent, tracestate


def with_metadata(details: grpc.aio.ClientCallDetails, pairs: Iterable[tuple[str, str]]) -> Any:
    """A copy of client call details with `pairs` appended to its metadata."""
    metadata = grpc.aio.Metadata(*(tuple(item) for item in details.metadata or ()))
    for key, value in pairs:
        metadata.add(key, value)
    return details._replace(metadata=metadata)


def current_trace_id() -> str | None:
    """The active span's trace id in hex, or None when there is no valid span."""
    ctx = trace.get_current_span().get_span_context()
    return trace.format_trace_id(ctx.trace_id) if ctx.is_valid else None


def final_code(context: grpc.aio.ServicerContext, exc: BaseException | None) -> grpc.StatusCode:
    """The status an RPC ended with, as seen from a wrapper around its handler."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code
    if exc is None:
        return grpc.StatusCode.OK
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
        remaining = context.time_remaining()
        # The server cancels the handler when the deadline passes; report that, not a client cancel.
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        return grpc.StatusCode.CANCELLED
    # What grpc itself answers for an exception that escapes every interceptor.
    return grpc.StatusCode.UNKNOWN


def wrap_handler(handler: grpc.RpcMethodHandler, scope: Scope) -> grpc.RpcMethodHandler:
    """The same handler with every behaviour run inside `async with scope(context)`.

    Works for all four RPC shapes, and for streaming handlers written as async generators or as
    coroutines that call `context.write`.
    """
    if handler.unary_unary is not None:
        return handler._replace(unary_unary=_wrap_call(handler.unary_unary, scope))
    if handler.stream_unary is not None:
        return handler._replace(stream_unary=_wrap_call(handler.stream_unary, scope))
    if handler.unary_stream is not None:
        return handler._replace(unary_stream=_wrap_stream(handler.unary_stream, scope))
    if handler.stream_stream is not None:
        return handler._replace(stream_stream=_wrap_stream(handler.stream_stream, scope))
    return handler


def _wrap_call(behavior: Callable[..., Any], scope: Scope) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with scope(context):
            result = behavior(request, context)
            if inspect.isawaitable(result):
                result = await result
            return result

    return call


def _wrap_stream(behavior: Callable[..., Any], scope: Scope) -> Callable[..., Any]:
    if not inspect.isasyncgenfunction(behavior):
        # A coroutine that writes with context.write: grpc forbids mixing that with yielding.
        return _wrap_call(behavior, scope)

    async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async with scope(context):
            async for response in behavior(request, context):
                yield response

    return stream
