"""The registry check on sample registries and sample expositions (text and OpenMetrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from tests.e2e import telemetry_check as tc

REGISTRY_MD = """\
# Telemetry registry

## Metrics

### Every server

| Metric | Type | Labels | Unit | Service | Meaning |
|---|---|---|---|---|---|
| `grpc_server_handled_total` | counter | `grpc_service`, `grpc_method`, `grpc_type`, `grpc_code` | 1 | all | RPCs |
| `grpc_server_handling_seconds` | histogram | `grpc_service`, `grpc_method`, `grpc_type` | s | all | time |

### gateway_bridge

| Name | Type | Labels | Unit | Exposed by | Meaning |
|:--|:--|:--|:--|:--|:--|
| `ibkr_ib_connected` | gauge | — | 1 | bridge | 1 when connected |
| `ibkr_orders_total` | counter | `status` | 1 | gateway_bridge | order status changes (a `a|b` pipe) |

### Planned (not yet exposed)

| Metric | Type | Labels | Unit | Service | Meaning |
|---|---|---|---|---|---|
| `ibkr_ledger_lag_seconds` | gauge | — | s | ledger | age of the newest consumed event |

## Spans

| Span | Kind | Attributes |
|---|---|---|
| `ibkr.edge.v1.TradingService/PlaceOrder` | SERVER | `rpc.system` |

## Counters written without the suffix

| Metric | Type | Labels |
|---|---|---|
| `ibkr_fills` | counter | side |
"""


def test_parse_registry_reads_metric_tables_and_skips_span_tables():
    registry = tc.parse_registry(REGISTRY_MD)
    assert set(registry) == {"grpc_server_handled_total", "grpc_server_handling_seconds", "ibkr_ib_connected",
                             "ibkr_orders_total", "ibkr_ledger_lag_seconds", "ibkr_fills_total"}
    handled = registry["grpc_server_handled_total"]
    assert handled.type == "counter" and handled.services == {tc.ALL_SERVICES}
    assert handled.labels == {"grpc_service", "grpc_method", "grpc_type", "grpc_code"}
    assert registry["ibkr_ib_connected"].labels == frozenset()
    assert registry["ibkr_ib_connected"].services == {"gateway_bridge"}
    assert registry["ibkr_orders_total"].description.endswith("(a a|b pipe)")
    assert registry["ibkr_ledger_lag_seconds"].planned and not registry["ibkr_orders_total"].planned
    assert not registry["ibkr_fills_total"].planned  # a later heading of the same level ends "planned"


def test_notes_in_parentheses_are_not_labels_and_common_means_every_service():
    registry = tc.parse_registry("""
| name | type | labels | unit | meaning | owner |
|---|---|---|---|---|---|
| `ibkr_x_total` | counter | `outcome` (`accepted`, `rejected`), `kind` | 1 | x | common (`Interceptor`) |
| `ibkr_y` | gauge | `reason` (ErrorInfo reason: `A`, `B`, ...) | 1 | y | ledger (`refresh_lag`) |
""")
    assert registry["ibkr_x_total"].labels == {"outcome", "kind"}
    assert registry["ibkr_x_total"].services == {tc.ALL_SERVICES}
    assert registry["ibkr_y"].labels == {"reason"} and registry["ibkr_y"].services == {"ledger"}


def test_the_repository_registry_parses():
    registry = tc.load_registry()
    handled = registry["grpc_server_handled_total"]
    assert handled.type == "counter" and handled.services == {tc.ALL_SERVICES}
    assert handled.labels == {"grpc_service", "grpc_method", "grpc_type", "grpc_code"}
    for spec in registry.values():
        assert spec.type in {"counter", "gauge", "histogram", "summary", "info"}, spec
        assert all(tc._NAME.match(label) for label in spec.labels or ()), spec


def bridge_registry() -> CollectorRegistry:
    r = CollectorRegistry()
    Counter("grpc_server_handled_total", "h", ["grpc_service", "grpc_method", "grpc_type", "grpc_code"],
            registry=r).labels("s", "m", "unary", "OK").inc()
    Histogram("grpc_server_handling_seconds", "h", ["grpc_service", "grpc_method", "grpc_type"],
              registry=r).labels("s", "m", "unary").observe(0.01, exemplar={"trace_id": "ab" * 16})
    Gauge("ibkr_ib_connected", "c", registry=r).set(1)
    Counter("ibkr_orders_total", "o", ["status"], registry=r)  # no child yet: TYPE line only
    return r


def test_parse_exposition_canonicalizes_counters_and_drops_created_series():
    text = generate_latest(bridge_registry()).decode()
    assert "ibkr_orders_created" not in text and "grpc_server_handled_created" in text
    exposed = tc.parse_exposition(text)
    assert set(exposed) == {"grpc_server_handled_total", "grpc_server_handling_seconds", "ibkr_ib_connected",
                            "ibkr_orders_total"}
    assert exposed["grpc_server_handling_seconds"].labels == {"grpc_service", "grpc_method", "grpc_type"}
    assert exposed["ibkr_orders_total"].labels is None
    openmetrics = tc.parse_exposition(generate_openmetrics(bridge_registry()).decode())
    assert {n: m.type for n, m in openmetrics.items()} == {n: m.type for n, m in exposed.items()}


def test_a_matching_service_passes_both_directions():
    registry = tc.parse_registry(REGISTRY_MD)
    result = tc.check_exposed(tc.parse_exposition(generate_latest(bridge_registry()).decode()), registry,
                              "gateway_bridge")
    assert result.ok, result.describe()


def test_unregistered_metric_wrong_type_and_wrong_labels_are_reported():
    r = bridge_registry()
    Gauge("ibkr_secret_sauce", "x", registry=r).set(1)
    Counter("ibkr_fills_total", "x", ["side", "symbol"], registry=r).labels("BUY", "AAPL").inc()
    result = tc.check_exposed(tc.parse_exposition(generate_latest(r).decode()),
                              {**tc.parse_registry(REGISTRY_MD),
                               "ibkr_ib_connected": tc.MetricSpec("ibkr_ib_connected", "counter", None)},
                              "bridge")
    assert result.unregistered == ["ibkr_secret_sauce"]
    assert result.wrong_type == {"ibkr_ib_connected": ("counter", "gauge")}
    assert result.wrong_labels == {"ibkr_fills_total": (frozenset({"side"}), frozenset({"side", "symbol"}))}
    text = result.describe()
    assert "exposes ibkr_secret_sauce, which docs/telemetry.md does not list" in text


def test_registered_metric_no_service_exposes_is_reported_unless_planned_or_ignored():
    registry = tc.parse_registry(REGISTRY_MD)
    edge = CollectorRegistry()
    Counter("grpc_server_handled_total", "h", ["grpc_service", "grpc_method", "grpc_type", "grpc_code"],
            registry=edge)
    Histogram("grpc_server_handling_seconds", "h", ["grpc_service", "grpc_method", "grpc_type"], registry=edge)
    result = tc.check_expositions({"edge": generate_latest(edge).decode()}, registry)
    assert not result.ok
    assert result.never_exposed == ["ibkr_fills_total", "ibkr_ib_connected", "ibkr_orders_total"]
    assert result.endpoints["edge"].ok  # nothing registered for the edge alone is missing
    ignored = tc.check_expositions({"edge": generate_latest(edge).decode()}, registry,
                                   ignore=["ibkr_fills_total", "ibkr_ib_connected", "ibkr_orders_total"])
    assert ignored.ok, ignored.describe()


def test_service_missing_a_metric_registered_for_it_is_reported():
    r = CollectorRegistry()
    Gauge("ibkr_ib_connected", "c", registry=r)
    result = tc.check_exposed(tc.parse_exposition(generate_latest(r).decode()),
                              tc.parse_registry(REGISTRY_MD), "bridge")
    assert result.not_exposed == ["grpc_server_handled_total", "grpc_server_handling_seconds",
                                  "ibkr_orders_total"]


def test_check_suite_scrapes_real_endpoints():
    server, _ = start_http_server(0, addr="127.0.0.1", registry=bridge_registry())
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        result = tc.check_suite({"gateway_bridge": url}, tc.parse_registry(REGISTRY_MD),
                                ignore=["ibkr_fills_total"])
        assert "# EOF" in tc.fetch_metrics(url, openmetrics=True)
    finally:
        server.shutdown()
        server.server_close()
    assert result.ok, result.describe()


def test_command_line_reports_an_unregistered_metric(capsys):
    r = CollectorRegistry()
    Gauge("ibkr_not_in_the_registry", "x", registry=r).set(1)
    server, _ = start_http_server(0, addr="127.0.0.1", registry=r)
    try:
        code = tc.main([f"edge=http://127.0.0.1:{server.server_port}/metrics"])
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1
    assert "edge: exposes ibkr_not_in_the_registry" in capsys.readouterr().out


def test_metrics_urls_use_the_canonical_service_names():
    assert tc.metrics_urls({"bridge": 9103, "sim": 9105, "edge": 9101}) == {
        "gateway_bridge": "http://127.0.0.1:9103/metrics", "ib_gateway_sim": "http://127.0.0.1:9105/metrics",
        "edge": "http://127.0.0.1:9101/metrics"}
