"""gRPC health check for container healthchecks: exit 0 when the server reports SERVING, else 1.

    python /app/healthcheck.py [ADDRESS] [--service NAME] [--timeout SECONDS]

ADDRESS defaults to 127.0.0.1:$IBKR_HEALTH_PORT. Used by the images' HEALTHCHECK and the compose
healthchecks (Kubernetes uses its native gRPC probe instead). Only grpcio and grpcio-health-checking.
"""

from __future__ import annotations

import argparse
import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, service: str = "", timeout: float = 2.0) -> bool:
    """True when `address` answers grpc.health.v1 Check(service) with SERVING."""
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError:
        return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", nargs="?",
                        default=f"127.0.0.1:{os.environ.get('IBKR_HEALTH_PORT', '50051')}")
    parser.add_argument("--service", default="")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    ok = check(args.address, args.service, args.timeout)
    if not ok:
        print(f"{args.address} {args.service or '(overall)'}: not SERVING", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
