"""The bridge's domain metrics (listed in docs/telemetry.md), on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class BridgeMetrics:
    """`ibkr_bridge_*` metrics. Labels are bounded enums (status names, event types), never ids."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.connection_state = Gauge(
            "ibkr_bridge_connection_state", "The IB session state (ibkr.trading.v1.BrokerConnectionState number).",
            registry=registry)
        self.connected = Gauge("ibkr_bridge_ib_connected", "1 when connected to IB and reconciled, else 0.",
                               registry=registry)
        self.order_updates = Counter("ibkr_bridge_order_updates_total", "Order status changes published, by status.",
                                     ["status"], registry=registry)
        self.fills = Counter("ibkr_bridge_fills_total", "Executions published as fills.", registry=registry)
        self.pacing_queue = Gauge("ibkr_bridge_pacing_queue_depth", "IB requests waiting for a pacing token.",
                                  registry=registry)
        self.pacing_rejected = Counter("ibkr_bridge_pacing_rejected_total",
                                       "Requests refused at once because the pacing queue was full.",
                                       registry=registry)
        # Prometheus samples are floats by nature; the P&L itself stays Decimal everywhere else.
        self.pnl = Gauge("ibkr_bridge_pnl", "The account's P&L as IB reports it.", ["account_id", "kind"],
                         registry=registry)
        self.data_farm_connected = Gauge(
            "ibkr_bridge_data_farm_connected", "1 while IB reports the data farm's connection OK, 0 while broken.",
            ["farm", "kind"], registry=registry)
        self.reconciliations = Counter("ibkr_bridge_reconciliations_total", "Reconciliations completed.",
                                       registry=registry)
