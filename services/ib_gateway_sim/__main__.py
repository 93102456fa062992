"""`python -m services.ib_gateway_sim`: the TWS API socket (IBKR_SIM_TWS_PORT, default 4002), the control
gRPC service (IBKR_SIM_GRPC_PORT, 50055) and Prometheus metrics (IBKR_SIM_METRICS_PORT, 9105)."""

from __future__ import annotations

import asyncio
import gc
import logging

from services.common.logging import configure_logging
from services.common.metrics import new_registry, start_metrics_http_server, stop_metrics_http_server
from services.common.server import run_until_signal
from services.common.telemetry import build_tracer_provider, shutdown_tracing

from .config import load
from .grpc_server import serve_control
from .simulator import Simulator

log = logging.getLogger("ibkr.sim")


async def main() -> None:
    settings = load()
    configure_logging("ib_gateway_sim", settings.log_level)
    log.info("starting", extra={"settings": settings.log_safe_dump()})
    tracer = build_tracer_provider("ib_gateway_sim", settings)
    registry = new_registry()
    sim = Simulator(settings)
    await sim.start()
    control = await serve_control(sim, settings=settings, port=settings.sim_grpc_port, tracer_provider=tracer,
                                  registry=registry)
    metrics_server, metrics_port = start_metrics_http_server(registry, settings.bind_host,
                                                             settings.sim_metrics_port)
    # What start built lives as long as the process; frozen, full collections stop rescanning it between
    # an order and its acknowledgement (the simulator is on every measured order path).
    gc.collect()
    gc.freeze()
    log.info("ready", extra={"tws_port": sim.tws_port, "grpc_port": control.port, "metrics_port": metrics_port,
                             "seed": sim.seed, "account": settings.sim_account_id})
    await run_until_signal(
        control.server, control.health, grace=settings.shutdown_grace_seconds,
        on_shutdown=[sim.stop, lambda: stop_metrics_http_server(metrics_server),
                     lambda: shutdown_tracing(tracer)],
        logger=log,
    )


if __name__ == "__main__":
    asyncio.run(main())
