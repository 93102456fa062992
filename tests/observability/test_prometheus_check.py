"""The dashboard-query checker against a real Prometheus scraping a real metrics endpoint."""

from __future__ import annotations

import json

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from tests.e2e import prometheus_check as pc

needs_prometheus = pytest.mark.skipif(pc.prometheus_binary() is None,
                                      reason="prometheus not installed (make prometheus-bin)")


def write_dashboard(path, exprs: list[str]) -> None:
    path.write_text(json.dumps({
        "title": "Sample",
        "templating": {"list": [{"name": "job", "type": "query", "allValue": ".+"},
                                {"name": "ds", "type": "datasource"}]},
        "panels": [
            {"title": "Row", "type": "row", "panels": [
                {"title": f"p{i}", "targets": [{"refId": "A", "expr": e}]} for i, e in enumerate(exprs)]},
            {"title": "hidden", "targets": [{"refId": "B", "expr": "nothing_here", "hide": True}]},
        ],
    }))


def test_render_replaces_grafana_variables_in_every_syntax():
    rendered = pc.render('rate(x{job=~"$job",a="${acct}",b="${acct:raw}",c="[[job]]"}[$__rate_interval])',
                         {"job": ".+", "acct": "DU1", "__rate_interval": "15s"})
    assert rendered == 'rate(x{job=~".+",a="DU1",b="DU1",c=".+"}[15s])'
    assert pc.render("$unknown", {}) == "$unknown"


def test_dashboard_queries_walk_rows_and_skip_hidden_targets(tmp_path):
    write_dashboard(tmp_path / "d.json", ["up", "sum(up)"])
    assert [q.expr for q in pc.dashboard_queries(tmp_path)] == ["up", "sum(up)"]
    assert pc.dashboard_variables(tmp_path) == {"job": ".+"}


def test_planned_metrics_come_from_the_registry():
    assert {"ibkr_bridge_pnl", "ibkr_ledger_position_quantity"} <= pc.planned_metrics()


def test_scrape_config_groups_urls_by_job_and_path():
    config = pc.scrape_config({"edge": "http://127.0.0.1:9101/metrics", "sim": ["127.0.0.1:9105"]})
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert jobs["edge"]["static_configs"][0]["targets"] == ["127.0.0.1:9101"]
    assert jobs["sim"]["metrics_path"] == "/metrics" and jobs["sim"]["scheme"] == "http"


@pytest.fixture
def metrics_url():
    registry = CollectorRegistry()
    Counter("ibkr_sample_orders_total", "orders", ["status"], registry=registry).labels("FILLED").inc(3)
    Gauge("ibkr_sample_connected", "connected", registry=registry).set(1)
    server, _ = start_http_server(0, addr="127.0.0.1", registry=registry)
    yield f"http://127.0.0.1:{server.server_port}/metrics"
    server.shutdown()
    server.server_close()


@needs_prometheus
def test_check_dashboards_reports_queries_without_data_errors_and_broken_rules(tmp_path, metrics_url):
    dashboards = tmp_path / "dashboards"
    dashboards.mkdir()
    write_dashboard(dashboards / "d.json", [
        'sum by (status) (rate(ibkr_sample_orders_total{job=~"$job"}[$__rate_interval]))',
        "ibkr_sample_connected",
        "ibkr_sample_absent",
        "sum(rate(ibkr_sample_orders_total[",
        "histogram_quantile(0.9, sum by (le) (rate(ibkr_sample_planned_bucket[5m])))",
        'ibkr_sample_orders_total{job="edge",service="edge",status="FILLED"} == 3',
    ])
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: g\n  interval: 1s\n  rules:\n"
        "  - alert: Disconnected\n    expr: ibkr_sample_connected == 0\n"
        "  - alert: Broken\n    expr: sum({__name__=~'ibkr_sample_.*'}) + on() {__name__=~'ibkr_sample_.*'}\n")
    report = pc.check_dashboards({"edge": metrics_url}, tmp_path / "prom", dashboards_dir=dashboards,
                                 rule_files=[rules], scrapes=2, timeout=60, allow_empty={"ibkr_sample_planned"})
    assert not report.ok
    assert [k for k, n in report.counts.items() if n] == [
        'Sample / p0 [A]: sum by (status) (rate(ibkr_sample_orders_total{job=~".+"}[15s]))',
        "Sample / p1 [A]: ibkr_sample_connected",
        'Sample / p5 [A]: ibkr_sample_orders_total{job="edge",service="edge",status="FILLED"} == 3',
    ]
    assert report.empty == ["Sample / p2 [A]: ibkr_sample_absent"]
    assert report.tolerated == [
        "Sample / p4 [A]: histogram_quantile(0.9, sum by (le) (rate(ibkr_sample_planned_bucket[5m])))"]
    assert list(report.errors) == ["Sample / p3 [A]: sum(rate(ibkr_sample_orders_total["]
    assert list(report.rule_errors) == ["g/Broken"] and "many-to-many" in report.rule_errors["g/Broken"]
    assert "NO DATA" in report.describe()
