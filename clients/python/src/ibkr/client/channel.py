"""The client's channel: TLS or plaintext, the API key on every call, and retries on UNAVAILABLE only.

Retries are the channel's job, declared in its service config (gRPC's built-in retry), so they apply to
every public method the same way and never to another code: a DEADLINE_EXCEEDED or a risk denial is an
answer, not a glitch. PlaceOrder is safe to retry because it is idempotent by `client_order_id`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc import aio

PUBLIC_SERVICES: tuple[str, ...] = (
    "ibkr.edge.v1.TradingService",
    "ibkr.edge.v1.PortfolioService",
    "ibkr.edge.v1.MarketDataService",
    "ibkr.edge.v1.EventService",
    "ibkr.edge.v1.AdminService",
)


@dataclass(frozen=True)
class RetryPolicy:
    """gRPC retryPolicy parameters; only UNAVAILABLE is ever retryable."""

    max_attempts: int = 5
    initial_backoff_seconds: float = 0.1
    max_backoff_seconds: float = 2.0
    backoff_multiplier: float = 2.0


@dataclass(frozen=True)
class TlsConfig:
    """TLS settings: `root_certificates` verifies the server (system roots when None); a client
    certificate and key together turn on mutual TLS. Values are PEM bytes."""

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name_override: str | None = None

    @classmethod
    def from_files(
        cls,
        root_certificates: str | Path | None = None,
        certificate_chain: str | Path | None = None,
        private_key: str | Path | None = None,
        server_name_override: str | None = None,
    ) -> TlsConfig:
        """Read the PEM files that are given."""

        def read(path: str | Path | None) -> bytes | None:
            return None if path is None else Path(path).read_bytes()

        return cls(read(root_certificates), read(certificate_chain), read(private_key), server_name_override)


def service_config(policy: RetryPolicy = RetryPolicy()) -> str:
    """The channel's service config JSON: one method config covering every public service."""

    def seconds(value: float) -> str:
        return f"{value:.3f}s"

    config = {
        "methodConfig": [
            {
                "name": [{"service": service} for service in PUBLIC_SERVICES],
                "retryPolicy": {
                    "maxAttempts": policy.max_attempts,
                    "initialBackoff": seconds(policy.initial_backoff_seconds),
                    "maxBackoff": seconds(policy.max_backoff_seconds),
                    "backoffMultiplier": policy.backoff_multiplier,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
    return json.dumps(config)


def channel_options(
    policy: RetryPolicy = RetryPolicy(),
    tls: TlsConfig | None = None,
    max_receive_message_bytes: int = 16 * 1024 * 1024,
) -> list[tuple[str, Any]]:
    """Channel arguments: retries on, our service config, keepalive so a dead edge is noticed on streams."""
    options: list[tuple[str, Any]] = [
        ("grpc.enable_retries", 1),
        ("grpc.service_config", service_config(policy)),
        ("grpc.max_receive_message_length", max_receive_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
    ]
    if tls is not None and tls.server_name_override:
        options.append(("grpc.ssl_target_name_override", tls.server_name_override))
    return options


def _with_key(metadata: Sequence[tuple[str, str | bytes]] | None, api_key: str) -> aio.Metadata:
    merged = aio.Metadata(*(metadata or ()))
    merged["authorization"] = f"Bearer {api_key}"
    return merged


class _BearerKey:
    """Adds `authorization: Bearer <key>` to a call (works over plaintext, unlike call credentials)."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def _details(self, details: aio.ClientCallDetails) -> aio.ClientCallDetails:
        return aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout,
            metadata=_with_key(details.metadata, self._api_key),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


# One class per call shape: grpc.aio files an interceptor under the first interface it implements only,
# so a single class implementing both would never see streaming calls.
class _UnaryUnaryBearerKey(_BearerKey, aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[override]
        return await continuation(self._details(client_call_details), request)


class _UnaryStreamBearerKey(_BearerKey, aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):  # type: ignore[override]
        return await continuation(self._details(client_call_details), request)


def open_channel(
    target: str,
    api_key: str | None,
    *,
    tls: TlsConfig | None = None,
    retry: RetryPolicy = RetryPolicy(),
) -> aio.Channel:
    """An asyncio channel to the edge; plaintext unless `tls` is given. Must be created inside a loop."""
    interceptors: list[aio.ClientInterceptor] = (
        [_UnaryUnaryBearerKey(api_key), _UnaryStreamBearerKey(api_key)] if api_key else []
    )
    options = channel_options(retry, tls)
    if tls is None:
        return aio.insecure_channel(target, options=options, interceptors=interceptors)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.root_certificates,
        private_key=tls.private_key,
        certificate_chain=tls.certificate_chain,
    )
    return aio.secure_channel(target, credentials, options=options, interceptors=interceptors)
