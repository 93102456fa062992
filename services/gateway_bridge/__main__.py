"""`python -m services.gateway_bridge`: settings → logging → tracing → dependencies → server → supervisor.

Health turns SERVING only once IB is connected and reconciled; SIGTERM drains and stops cleanly.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from services.common.config import load_settings
from services.common.logging import configure_logging
from services.common.metrics import new_registry, start_metrics_http_server, stop_metrics_http_server
from services.common.server import run_until_signal
from services.common.telemetry import build_tracer_provider, shutdown_tracing
from services.gateway_bridge.app import BridgeApp, build_server
from services.gateway_bridge.config import BridgeSettings
from services.gateway_bridge.domain.guard import LiveTradingRefused, check_port

SERVICE = "gateway_bridge"


async def main() -> None:
    settings = load_settings(BridgeSettings)
    configure_logging(SERVICE, settings.log_level)
    log = logging.getLogger("services.gateway_bridge")
    log.info("starting", extra={"settings": settings.log_safe_dump()})
    try:
        check_port(settings.ib_port, allow_live=settings.allow_live_trading)  # refuse before touching anything
    except LiveTradingRefused as exc:
        raise SystemExit(str(exc)) from None
    tracer_provider = build_tracer_provider(SERVICE, settings)
    registry = new_registry()
    metrics_server, _ = start_metrics_http_server(registry, settings.bind_host, settings.bridge_metrics_port)
    app = await BridgeApp.create(settings, tracer_provider, registry)
    server, port = await build_server(app, settings.bridge_grpc_port)
    await app.start(server)
    # What start built (ib_async, protobuf descriptors, stubs, pools) lives as long as the process: out of the
    # collector's reach, a full collection no longer rescans it in the middle of an order.
    gc.collect()
    gc.freeze()
    log.info("serving", extra={"grpc_port": port})
    assert app.health is not None
    await run_until_signal(server, app.health, grace=settings.shutdown_grace_seconds, stop=app.fatal,
                           on_shutdown=[app.stop, lambda: stop_metrics_http_server(metrics_server),
                                        lambda: shutdown_tracing(tracer_provider)])
    if app.supervisor_failed():
        try:
            app.raise_supervisor_failure()
        except LiveTradingRefused as exc:
            raise SystemExit(f"gateway_bridge: {exc}") from None


if __name__ == "__main__":
    asyncio.run(main())
