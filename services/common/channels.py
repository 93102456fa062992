"""Channels between suite services, and the shared-token check internal services put in front of them."""

from __future__ import annotations

import hmac
from typing import Any

import grpc
from opentelemetry.trace import TracerProvider
from pydantic import SecretStr

from services.common._grpc_util import is_infrastructure, metadata_get, with_metadata, wrap_handler
from services.common.config import CommonSettings
from services.common.errors import Unauthenticated, to_rpc_status
from services.common.telemetry import tracing_client_interceptors

INTERNAL_TOKEN_KEY = "x-ibkr-internal-token"

# Ping every 20 s even when idle so a dead peer (or a NAT dropping the flow) is noticed in ~30 s rather
# than on the next call; servers built by `build_server` accept this rate.
CLIENT_KEEPALIVE_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
)


def _token_value(token: SecretStr | str | None) -> str | None:
    if isinstance(token, SecretStr):
        token = token.get_secret_value()
    return token or None


class _TokenMetadata:
    def __init__(self, token: str) -> None:
        self._pair = ((INTERNAL_TOKEN_KEY, token),)


# One class per call shape: grpc.aio files each interceptor under the FIRST interface it implements, so a
# single class implementing all four would only ever see unary-unary calls.
class _TokenUnaryUnary(_TokenMetadata, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(with_metadata(client_call_details, self._pair), request)


class _TokenUnaryStream(_TokenMetadata, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(with_metadata(client_call_details, self._pair), request)


class _TokenStreamUnary(_TokenMetadata, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(with_metadata(client_call_details, self._pair), request_iterator)


class _TokenStreamStream(_TokenMetadata, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(with_metadata(client_call_details, self._pair), request_iterator)


def internal_token_client_interceptors(token: SecretStr | str | None) -> list[grpc.aio.ClientInterceptor]:
    """Interceptors that attach `x-ibkr-internal-token` to every call shape; none when no token is set."""
    value = _token_value(token)
    if value is None:
        return []
    return [
        cls(value) for cls in (_TokenUnaryUnary, _TokenUnaryStream, _TokenStreamUnary, _TokenStreamStream)
    ]


def make_internal_channel(
    address: str,
    tracer_provider: TracerProvider,
    settings: CommonSettings,
    *,
    options: tuple[tuple[str, Any], ...] = (),
) -> grpc.aio.Channel:
    """An insecure grpc.aio channel to a peer (`host:port`) with tracing, keepalive and the internal token.

    Close it on shutdown: `on_shutdown=[channel.close]`. Put a deadline on every call made with it.
    """
    interceptors = [
        *tracing_client_interceptors(tracer_provider),
        *internal_token_client_interceptors(settings.internal_token),
    ]
    return grpc.aio.insecure_channel(
        address, options=[*CLIENT_KEEPALIVE_OPTIONS, *options], interceptors=interceptors
    )


class InternalAuthServerInterceptor(grpc.aio.ServerInterceptor):
    """Rejects calls without the shared internal token: UNAUTHENTICATED, reason INTERNAL_TOKEN_MISSING/_INVALID.

    Health and reflection stay open (probes carry no token). With no token configured it lets everything
    through, so a developer's single-process setup needs no secret.
    """

    def __init__(self, token: SecretStr | str | None) -> None:
        value = _token_value(token)
        self._expected = None if value is None else value.encode()

    async def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        reason = self.reject_reason(handler_call_details)
        if reason is None:
            return handler
        # Keep the handler's shape (unary/streaming) so the caller sees a clean status, not a protocol error.
        return wrap_handler(handler, lambda context: _Reject(context, reason))

    def reject_reason(self, handler_call_details: grpc.HandlerCallDetails) -> str | None:
        """Why the call must be refused (the ErrorInfo reason), or None when it may proceed."""
        if self._expected is None or is_infrastructure(handler_call_details.method):
            return None
        return self.metadata_reject_reason(handler_call_details.invocation_metadata)

    def metadata_reject_reason(self, metadata: Any) -> str | None:
        """`reject_reason` for a call already known not to be health or reflection, from its metadata."""
        if self._expected is None:
            return None
        return self.token_reject_reason(metadata_get(metadata, INTERNAL_TOKEN_KEY))

    def token_reject_reason(self, presented: str | bytes | None) -> str | None:
        """`metadata_reject_reason` given the first value the call sent under `INTERNAL_TOKEN_KEY` (None: none)."""
        if self._expected is None:
            return None
        if isinstance(presented, str) and hmac.compare_digest(presented.encode(), self._expected):
            return None
        return "INTERNAL_TOKEN_MISSING" if presented is None else "INTERNAL_TOKEN_INVALID"


class _Reject:
    """A scope that aborts before the handler body runs."""

    def __init__(self, context: grpc.aio.ServicerContext, reason: str) -> None:
        self._context = context
        self._reason = reason

    async def __aenter__(self) -> None:
        await reject(self._context, self._reason)

    async def __aexit__(self, *exc: object) -> None:
        return None


async def reject(context: grpc.aio.ServicerContext, reason: str) -> None:
    """Abort with UNAUTHENTICATED and `reason` (raises `grpc.aio.AbortError`)."""
    err = Unauthenticated(reason, "missing or invalid internal token")
    await context.abort_with_status(to_rpc_status(err))
