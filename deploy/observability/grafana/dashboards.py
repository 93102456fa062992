"""Grafana dashboards as code: `python deploy/observability/grafana/dashboards.py` rewrites dashboards/*.json.

The JSON files are committed (Grafana provisions them from disk); a test checks they equal what this
script generates, so edit here and regenerate. Metric names come from docs/telemetry.md; a test checks
every name used here is registered there.

Data sources are referenced by the fixed uids of provisioning/datasources/datasources.yaml:
`prometheus` and `tempo`. Latency panels show exemplars, whose `trace_id` links to the Tempo trace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
TEMPO = {"type": "tempo", "uid": "tempo"}
RATE = "$__rate_interval"

# gRPC codes that mean the server failed (a caller's bad input is not an error of the service).
SERVER_ERROR_CODES = "UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"

# service key (the Prometheus job) → (title, grpc_service regex selecting its RPCs)
SERVICES = {
    "edge": ("Edge", "ibkr[.]edge[.].+"),
    "risk": ("Risk", "ibkr[.]risk[.].+"),
    "gateway_bridge": ("Gateway bridge", "ibkr[.]gateway[.].+"),
    "ledger": ("Ledger", "ibkr[.]ledger[.].+"),
}

PLACE_ORDER_SPAN = "ibkr.edge.v1.TradingService/PlaceOrder"
TRADING_STATES = {"1": ("ACTIVE", "green"), "2": ("REDUCING", "orange"), "3": ("HALTED", "red")}
# ibkr_bridge_connection_state: the ibkr.trading.v1.BrokerConnectionState number.
CONNECTION_STATES = {"1": ("DISCONNECTED", "red"), "2": ("CONNECTING", "orange"), "3": ("RECONCILING", "yellow"),
                     "4": ("CONNECTED", "green"), "5": ("CONNECTIVITY_LOST", "red"), "6": ("STANDBY", "blue")}


class Layout:
    """Places panels left to right on Grafana's 24-column grid, wrapping rows."""

    def __init__(self) -> None:
        self.x = self.y = self.row_h = 0
        self.next_id = 1

    def place(self, panel: dict, w: int, h: int) -> dict:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        panel["id"] = self.next_id
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)
        return panel

    def row(self, title: str) -> dict:
        self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel = self.place({"type": "row", "title": title, "collapsed": False, "panels": []}, 24, 1)
        self.x, self.y, self.row_h = 0, self.y + 1, 0
        return panel


def target(expr: str, legend: str = "__auto", ref: str = "A", *, exemplar: bool = False,
           instant: bool = False) -> dict:
    out = {"datasource": PROMETHEUS, "refId": ref, "expr": expr, "legendFormat": legend, "range": not instant,
           "instant": instant}
    if exemplar:
        out["exemplar"] = True
    return out


def timeseries(title: str, targets: list[dict], *, unit: str = "short", description: str = "",
               stack: bool = False, min_zero: bool = True) -> dict:
    return {
        "type": "timeseries", "title": title, "description": description, "datasource": PROMETHEUS,
        "targets": targets,
        "fieldConfig": {"defaults": {
            "unit": unit, **({"min": 0} if min_zero else {}),
            "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                       "stacking": {"mode": "normal" if stack else "none", "group": "A"}},
        }, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
    }


def stat(title: str, expr: str, *, unit: str = "short", legend: str = "__auto", description: str = "",
         mappings: list | None = None, thresholds: list | None = None) -> dict:
    return {
        "type": "stat", "title": title, "description": description, "datasource": PROMETHEUS,
        "targets": [target(expr, legend, instant=True)],
        "fieldConfig": {"defaults": {
            "unit": unit, "mappings": mappings or [],
            "thresholds": {"mode": "absolute",
                           "steps": thresholds or [{"color": "green", "value": None}]},
        }, "overrides": []},
        "options": {"colorMode": "background", "graphMode": "none", "justifyMode": "auto",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "textMode": "value_and_name"},
    }


def state_timeline(title: str, expr: str, legend: str, mappings: list, description: str = "") -> dict:
    return {
        "type": "state-timeline", "title": title, "description": description, "datasource": PROMETHEUS,
        "targets": [target(expr, legend)],
        "fieldConfig": {"defaults": {"mappings": mappings, "color": {"mode": "thresholds"},
                                     "thresholds": {"mode": "absolute",
                                                    "steps": [{"color": "green", "value": None}]}},
                        "overrides": []},
        "options": {"showValue": "auto", "mergeValues": True, "rowHeight": 0.9,
                    "legend": {"showLegend": False}},
    }


def table(title: str, expr: str, description: str = "") -> dict:
    return {
        "type": "table", "title": title, "description": description, "datasource": PROMETHEUS,
        "targets": [{**target(expr, instant=True), "format": "table"}],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "transformations": [{"id": "organize", "options": {
            "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True, "service": True}}}],
        "options": {"showHeader": True},
    }


def traces_table(title: str, traceql: str, description: str) -> dict:
    """A Tempo search panel: each row is a trace; its trace id opens the trace in one click."""
    return {
        "type": "table", "title": title, "description": description, "datasource": TEMPO,
        "targets": [{"datasource": TEMPO, "refId": "A", "queryType": "traceql", "query": traceql,
                     "limit": 20, "tableType": "traces"}],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {"showHeader": True, "sortBy": [{"displayName": "Start time", "desc": True}]},
    }


def value_mappings(states: dict[str, tuple[str, str]]) -> list:
    return [{"type": "value", "options": {v: {"text": text, "color": color, "index": i}
                                          for i, (v, (text, color)) in enumerate(states.items())}}]


def dashboard(uid: str, title: str, panels: list[dict], *, tags: list[str], description: str,
              links: list[dict] | None = None) -> dict:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["ibkr", *tags],
        "timezone": "utc", "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
        "refresh": "10s", "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": []}, "annotations": {"list": []},
        "links": links or [{"title": "IBKR dashboards", "type": "dashboards", "tags": ["ibkr"],
                            "asDropdown": True, "includeVars": False, "keepTime": True}],
        "panels": panels,
    }


def grpc_selector(service_regex: str, extra: str = "") -> str:
    return f'grpc_service=~"{service_regex}"' + (f",{extra}" if extra else "")


def errors_by(service_regex: str, by: str) -> str:
    """Server-error rate by `by`; `or … * 0` keeps a 0 line per method when there are no errors."""
    sel = grpc_selector(service_regex)
    errs = grpc_selector(service_regex, f'grpc_code=~"{SERVER_ERROR_CODES}"')
    return (f"sum by ({by}) (rate(grpc_server_handled_total{{{errs}}}[{RATE}])"
            f" or 0 * rate(grpc_server_handled_total{{{sel}}}[{RATE}]))")


def red_panels(layout: Layout, service_regex: str) -> list[dict]:
    sel = grpc_selector(service_regex)
    bucket = f"grpc_server_handling_seconds_bucket{{{sel}}}"
    latency = [
        target(f"histogram_quantile({q}, sum by (le, grpc_method) (rate({bucket}[{RATE}])))",
               f"p{int(q * 100)} {{{{grpc_method}}}}", ref, exemplar=True)
        for q, ref in ((0.5, "A"), (0.99, "B"))
    ]
    return [
        layout.place(timeseries("Rate: requests/s by method", [
            target(f"sum by (grpc_method) (rate(grpc_server_handled_total{{{sel}}}[{RATE}]))", "{{grpc_method}}")],
            unit="reqps"), 8, 8),
        layout.place(timeseries("Errors: server-error ratio by method", [
            target(f"{errors_by(service_regex, 'grpc_method')} / sum by (grpc_method) "
                   f"(rate(grpc_server_handled_total{{{sel}}}[{RATE}]))", "{{grpc_method}}")],
            unit="percentunit",
            description=f"Share of calls ending in {SERVER_ERROR_CODES.replace('|', ', ')}. Caller errors "
                        "(INVALID_ARGUMENT, FAILED_PRECONDITION, …) are in the next panel."), 8, 8),
        layout.place(timeseries("Duration: p50 / p99 by method (click an exemplar for its trace)", latency,
                                unit="s", description="Diamonds are exemplars: each links to the trace of one "
                                                      "slow call in Tempo."), 8, 8),
        layout.place(timeseries("Responses/s by status code", [
            target(f"sum by (grpc_code) (rate(grpc_server_handled_total{{{sel}}}[{RATE}]))", "{{grpc_code}}")],
            unit="reqps", stack=True), 12, 8),
        layout.place(timeseries("Average duration by method", [
            target(f"sum by (grpc_method) (rate(grpc_server_handling_seconds_sum{{{sel}}}[{RATE}])) / "
                   f"sum by (grpc_method) (rate(grpc_server_handling_seconds_count{{{sel}}}[{RATE}]))",
                   "{{grpc_method}}")], unit="s"), 12, 8),
    ]


def domain_panels(layout: Layout, service: str) -> list[dict]:
    """Each service's own metrics below its RED panels."""
    if service == "edge":
        return [
            layout.place(timeseries("Stream subscribers", [target("sum(ibkr_edge_subscribers)", "subscribers")]),
                         8, 8),
            layout.place(timeseries("Auth failures/s by reason", [
                target(f"sum by (reason) (rate(ibkr_edge_auth_failures_total[{RATE}]))", "{{reason}}")],
                unit="reqps"), 8, 8),
            layout.place(timeseries("Bus entries read/s and subscribers cut", [
                target(f"sum(rate(ibkr_edge_bus_events_total[{RATE}]))", "read", "A"),
                target(f"sum(rate(ibkr_edge_stream_cut_total[{RATE}]))", "cut", "B")], unit="ops"), 8, 8),
        ]
    if service == "risk":
        return [
            layout.place(timeseries("Decisions/s by outcome", [
                target(f"sum by (outcome) (rate(ibkr_risk_decisions_total[{RATE}]))", "{{outcome}}")],
                unit="ops"), 8, 8),
            layout.place(timeseries("Rule evaluation p99", [
                target(f"histogram_quantile(0.99, sum by (le) (rate(ibkr_risk_evaluation_seconds_bucket[{RATE}])))",
                       "p99")], unit="s"), 8, 8),
            layout.place(state_timeline("Trading state", "max by (scope) (ibkr_risk_trading_state)", "{{scope}}",
                                        value_mappings(TRADING_STATES)), 8, 8),
        ]
    if service == "gateway_bridge":
        return [
            layout.place(state_timeline("IB connection", "max by (instance) (ibkr_bridge_ib_connected)",
                                        "{{instance}}",
                                        value_mappings({"0": ("DISCONNECTED", "red"), "1": ("CONNECTED", "green")})),
                         8, 8),
            layout.place(timeseries("Pacing queue depth", [
                target("max by (instance) (ibkr_bridge_pacing_queue_depth)", "{{instance}}")]), 8, 8),
            layout.place(state_timeline("Session state per replica (STANDBY = waiting for the lease)",
                                        "max by (instance) (ibkr_bridge_connection_state)", "{{instance}}",
                                        value_mappings(CONNECTION_STATES)), 8, 8),
            layout.place(timeseries("Order updates/s by status", [
                target(f"sum by (status) (rate(ibkr_bridge_order_updates_total[{RATE}]))", "{{status}}")],
                unit="ops", stack=True), 8, 8),
            layout.place(timeseries("Fills/s and pacing rejections/s", [
                target(f"sum(rate(ibkr_bridge_fills_total[{RATE}]))", "fills", "A"),
                target(f"sum(rate(ibkr_bridge_pacing_rejected_total[{RATE}]))", "pacing rejected", "B")],
                unit="ops"), 8, 8),
            layout.place(timeseries("Reconciliations/s", [
                target(f"sum(rate(ibkr_bridge_reconciliations_total[{RATE}]))", "reconciliations")],
                unit="ops"), 8, 8),
        ]
    if service == "ledger":
        return [
            layout.place(timeseries("Bus lag (entries not yet delivered to the ledger group)", [
                target("max(ibkr_ledger_lag_events)", "lag", "A"),
                target("max(ibkr_ledger_pending_events)", "pending (delivered, not acked)", "B")]), 8, 8),
            layout.place(timeseries("Reconciliation drift by account and kind", [
                target("max by (account_id, kind) (ibkr_ledger_reconciliation_drift)", "{{account_id}} {{kind}}")]),
                8, 8),
            layout.place(timeseries("Fill: published → committed, p50 / p99", [
                target("histogram_quantile(0.5, sum by (le) "
                       f"(rate(ibkr_ledger_fill_commit_latency_seconds_bucket[{RATE}])))", "p50", "A"),
                target("histogram_quantile(0.99, sum by (le) "
                       f"(rate(ibkr_ledger_fill_commit_latency_seconds_bucket[{RATE}])))", "p99", "B")], unit="s"),
                8, 8),
            layout.place(timeseries("Bus entries booked/s by type and outcome", [
                target(f"sum by (type, outcome) (rate(ibkr_ledger_events_total[{RATE}]))", "{{type}} {{outcome}}")],
                unit="ops", stack=True), 12, 8),
            layout.place(timeseries("Batch duration p99", [
                target(f"histogram_quantile(0.99, sum by (le) (rate(ibkr_ledger_batch_seconds_bucket[{RATE}])))",
                       "p99")], unit="s"), 12, 8),
        ]
    return []


def service_dashboard(service: str) -> dict:
    title, regex = SERVICES[service]
    layout = Layout()
    panels = [layout.row("RED: rate, errors, duration")]
    panels += red_panels(layout, regex)
    panels.append(layout.row(f"{title} internals"))
    panels += domain_panels(layout, service)
    return dashboard(f"ibkr-{service.replace('_', '-')}", f"IBKR / {title} (RED)", panels,
                     tags=["red", service],
                     description=f"Rate, errors and duration of the {title.lower()}'s gRPC API, and its own "
                                 "metrics.")


def overview_dashboard() -> dict:
    layout = Layout()
    trading_state = value_mappings(TRADING_STATES)
    connected = value_mappings({"0": ("DISCONNECTED", "red"), "1": ("CONNECTED", "green")})
    panels = [
        layout.row("Health at a glance"),
        layout.place(stat("Services up", 'up{job=~"edge|risk|gateway_bridge|ledger|ib_gateway_sim"}',
                          legend="{{job}}",
                          mappings=value_mappings({"0": ("DOWN", "red"), "1": ("UP", "green")})), 8, 5),
        layout.place(stat("IB connection", "max(ibkr_bridge_ib_connected)", legend="IB",
                          mappings=connected), 4, 5),
        layout.place(stat("Trading state", "max(ibkr_risk_trading_state)", legend="state",
                          mappings=trading_state), 4, 5),
        layout.place(stat("Reconciliation drift", "max(ibkr_ledger_reconciliation_drift)", legend="drift items",
                          thresholds=[{"color": "green", "value": None}, {"color": "red", "value": 1}]), 4, 5),
        layout.place(stat("Ledger lag (entries)", "max(ibkr_ledger_lag_events)", legend="lag",
                          thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 10},
                                      {"color": "red", "value": 100}]), 4, 5),

        layout.row("Trading"),
        layout.place(timeseries("Orders/s by status", [
            target(f"sum by (status) (rate(ibkr_bridge_order_updates_total[{RATE}]))", "{{status}}")],
            unit="ops", stack=True,
            description="Normalized order status changes reported by IB, per second."), 8, 8),
        layout.place(timeseries("Risk denials/s by rule", [
            target(f'sum by (rule_id) (rate(ibkr_risk_decisions_total{{outcome="denied"}}[{RATE}]))',
                   "{{rule_id}}")], unit="ops", stack=True), 8, 8),
        layout.place(timeseries("Fills/s", [
            target(f"sum(rate(ibkr_bridge_fills_total[{RATE}]))", "fills")], unit="ops"), 8, 8),
        layout.place(timeseries("P&L by account", [
            target("sum by (account_id, kind) (ibkr_bridge_pnl)", "{{account_id}} {{kind}}")], unit="currencyUSD",
            min_zero=False, description="Daily, unrealized and realized P&L as IB reports it (account currency)."),
            12, 8),
        layout.place(table("Positions (ledger)", "sum by (account_id, symbol) (ibkr_ledger_position_quantity)",
                           description="Quantity per instrument in the ledger's books."), 12, 8),

        layout.row("Pipeline"),
        layout.place(state_timeline("IB connection state", "max by (instance) (ibkr_bridge_ib_connected)",
                                    "{{instance}}", connected), 8, 6),
        layout.place(state_timeline("Trading state by scope", "max by (scope) (ibkr_risk_trading_state)",
                                    "{{scope}}", trading_state), 8, 6),
        layout.place(timeseries("Reconciliation drift by account", [
            target("sum by (account_id) (ibkr_ledger_reconciliation_drift)", "{{account_id}}")]), 8, 6),
        layout.place(timeseries("Ledger lag", [
            target("max(ibkr_ledger_lag_events)", "not yet delivered", "A"),
            target("max(ibkr_ledger_pending_events)", "delivered, not acked", "B")]), 8, 8),
        layout.place(timeseries("Stream subscribers", [
            target("sum(ibkr_edge_subscribers)", "subscribers")]), 8, 8),
        layout.place(timeseries("IB pacing queue", [
            target("max(ibkr_bridge_pacing_queue_depth)", "queued requests")]), 8, 8),

        layout.row("Find the trace of an order"),
        layout.place(timeseries("PlaceOrder latency at the edge (click an exemplar for its trace)", [
            target(f'histogram_quantile(0.99, sum by (le) (rate(grpc_server_handling_seconds_bucket'
                   f'{{grpc_service="ibkr.edge.v1.TradingService",grpc_method="PlaceOrder"}}[{RATE}])))',
                   "p99", exemplar=True)], unit="s"), 8, 9),
        layout.place(traces_table(
            "Slow orders (PlaceOrder > 250 ms)",
            f'{{ name = "{PLACE_ORDER_SPAN}" && kind = server && duration > 250ms }}',
            "Recent PlaceOrder traces slower than 250 ms; click a trace id to open it."), 8, 9),
        layout.place(traces_table(
            "Rejected or failed orders",
            f'{{ name = "{PLACE_ORDER_SPAN}" && kind = server && span.rpc.grpc.status_code != 0 }}',
            "Recent PlaceOrder traces that did not end OK (risk denials are FAILED_PRECONDITION = 9); "
            "click a trace id to open it."), 8, 9),
    ]
    return dashboard("ibkr-overview", "IBKR / Overview", panels, tags=["overview"],
                     description="Is the suite healthy and trading? Orders, denials, fills, P&L, positions, "
                                 "IB connection, drift, lag, subscribers, pacing.")


def all_dashboards() -> dict[str, dict]:
    out = {"overview.json": overview_dashboard()}
    for service in SERVICES:
        out[f"{service.replace('_', '-')}.json"] = service_dashboard(service)
    return out


def render(dash: dict) -> str:
    return json.dumps(dash, indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1]) if len(argv) > 1 else OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, dash in all_dashboards().items():
        (out_dir / name).write_text(render(dash))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
