"""The risk service's domain metrics (registered in docs/telemetry.md), on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Rule evaluation takes microseconds; the default buckets would put everything in the first one.
EVALUATION_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005)


class RiskMetrics:
    """Counters and gauges of decisions, shadow denials, trading states, reservations and the feed."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "ibkr_risk_decisions_total",
            "Risk decisions on orders, by deciding rule (`none` when accepted) and outcome.",
            ["rule_id", "outcome"], registry=registry)
        self.shadow_denials = Counter(
            "ibkr_risk_shadow_denials_total",
            "Orders the shadow policy would have denied (never enforced), by rule.",
            ["rule_id"], registry=registry)
        self.evaluation_seconds = Histogram(
            "ibkr_risk_evaluation_seconds",
            "Time to evaluate the live policy on one order (pure rule evaluation, no I/O).",
            buckets=EVALUATION_BUCKETS, registry=registry)
        self.trading_state = Gauge(
            "ibkr_risk_trading_state",
            "Trading state per scope (`global` or an account): 1 ACTIVE, 2 REDUCING, 3 HALTED.",
            ["scope"], registry=registry)
        self.open_reservations = Gauge(
            "ibkr_risk_open_reservations",
            "Working orders reserved against the limits, across accounts.", registry=registry)
        self.bus_events = Counter(
            "ibkr_risk_bus_events_total",
            "Bus events applied to the exposure state, by payload type.", ["type"], registry=registry)
        self.publish_dropped = Counter(
            "ibkr_risk_decision_publish_dropped_total",
            "Decisions not published or recorded because the outbound queue was full or the bus failed.",
            registry=registry)
        self.ledger_available = Gauge(
            "ibkr_risk_ledger_rebuild_ok",
            "1 when the last start rebuilt positions and open orders from the ledger, 0 when it could not.",
            registry=registry)
