"""How peers (risk, the edge) build their channel to the bridge replicas.

    channel = gateway_channel(settings.bridge_address, tracer_provider, settings)
    stub = gateway_pb2_grpc.GatewayServiceStub(channel)

`addresses` is one `host:port` or a comma-separated list (active and standby replicas). The channel uses
round_robin with gRPC client-side health checking on `ibkr.gateway.v1.GatewayService`, so calls only go to
the replica that reports SERVING (the lease holder, connected to IB and reconciled). While no replica is
SERVING, calls fail fast with UNAVAILABLE (they are not queued: wait_for_ready stays off).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Any

import grpc
from opentelemetry.trace import TracerProvider

from services.common.channels import make_internal_channel
from services.common.config import CommonSettings

HEALTH_SERVICE_NAME = "ibkr.gateway.v1.GatewayService"
SERVICE_CONFIG: dict[str, Any] = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": HEALTH_SERVICE_NAME},
}


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"bridge address must be host:port, got {address!r}")
    return host.strip("[]"), int(port)


def _resolve(host: str, port: int) -> list[str]:
    """IPv4 literals for a host (the `ipv4:` target scheme takes literals only)."""
    try:
        return [str(ipaddress.IPv4Address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, family=socket.AF_INET, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def gateway_target(addresses: str) -> str:
    """The gRPC target for a comma-separated address list: `ipv4:a:p1,b:p2` (one subchannel per replica)."""
    endpoints: list[str] = []
    for address in filter(None, (a.strip() for a in addresses.split(","))):
        host, port = _split(address)
        endpoints.extend(f"{ip}:{port}" for ip in _resolve(host, port))
    if not endpoints:
        raise ValueError("no bridge address given")
    return "ipv4:" + ",".join(dict.fromkeys(endpoints))


def gateway_channel(addresses: str, tracer_provider: TracerProvider, settings: CommonSettings) -> grpc.aio.Channel:
    """A channel to the bridge replica(s) in `addresses` that only ever calls the SERVING one.

    Built on `services.common.channels.make_internal_channel` (tracing, keepalive, internal token). Close it
    on shutdown; put a deadline on every call.
    """
    options = (("grpc.service_config", json.dumps(SERVICE_CONFIG)),)
    return make_internal_channel(gateway_target(addresses), tracer_provider, settings, options=options)
