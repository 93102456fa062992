"""The ledger's domain metrics (registered in docs/telemetry.md), on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class LedgerMetrics:
    """Ingest, lag and reconciliation metrics."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._positions: set[tuple[str, str]] = set()
        self.events = Counter("ibkr_ledger_events_total",
                              "Bus entries processed by the ledger, by payload type and outcome "
                              "(booked, duplicate, dead_lettered, failed).",
                              ["type", "outcome"], registry=registry)
        self.fills = Counter("ibkr_ledger_fills_booked_total", "Executions booked into the journal.",
                             registry=registry)
        self.batch_seconds = Histogram("ibkr_ledger_batch_seconds",
                                       "Time to book one micro-batch in Postgres (transaction included).",
                                       buckets=LATENCY_BUCKETS, registry=registry)
        self.batch_size = Histogram("ibkr_ledger_batch_size", "Bus entries per booked micro-batch.",
                                    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000), registry=registry)
        self.commit_latency = Histogram("ibkr_ledger_fill_commit_latency_seconds",
                                        "From a fill event's publication time to its commit in the ledger.",
                                        buckets=LATENCY_BUCKETS, registry=registry)
        self.lag = Gauge("ibkr_ledger_lag_events",
                         "Bus entries not yet delivered to the ledger's consumer group (XINFO GROUPS lag).",
                         registry=registry)
        self.pending = Gauge("ibkr_ledger_pending_events",
                             "Bus entries delivered to the ledger but not yet acked (XINFO GROUPS pending).",
                             registry=registry)
        self.dead_lettered = Counter("ibkr_ledger_dead_lettered_total",
                                     "Bus entries moved to the dead-letter stream.", registry=registry)
        self.claimed = Counter("ibkr_ledger_claimed_total",
                               "Pending entries claimed from idle consumers (XAUTOCLAIM).", registry=registry)
        self.ingest_errors = Counter("ibkr_ledger_ingest_errors_total",
                                     "Ingest loop failures (Redis or Postgres unavailable), by dependency.",
                                     ["dependency"], registry=registry)
        self.drift = Gauge("ibkr_ledger_reconciliation_drift",
                           "Items where the ledger differs from the broker, by account and kind (position, cash).",
                           ["account_id", "kind"], registry=registry)
        self.drift_age = Gauge("ibkr_ledger_reconciliation_drift_age_seconds",
                               "Age of the oldest unresolved drift of an account (0 when in sync).",
                               ["account_id"], registry=registry)
        self.position_quantity = Gauge("ibkr_ledger_position_quantity",
                                       "Quantity per instrument in the ledger's books (flat positions dropped).",
                                       ["account_id", "symbol"], registry=registry)
        self.reconciliations = Counter("ibkr_ledger_reconciliations_total",
                                       "Reconciliation runs, by outcome (in_sync, drift, error).",
                                       ["outcome"], registry=registry)

    def set_positions(self, quantities: dict[tuple[str, str], float]) -> None:
        """Replace the position gauges with the current books (children of closed positions removed)."""
        for labels in set(self._positions) - set(quantities):
            self.position_quantity.remove(*labels)
        for labels, quantity in quantities.items():
            self.position_quantity.labels(*labels).set(quantity)
        self._positions = set(quantities)
