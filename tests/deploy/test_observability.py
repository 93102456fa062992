"""deploy/observability: dashboards generated and well-formed, every metric they and the alert rules use is in
docs/telemetry.md, Prometheus config and rules pass promtool (with rule unit tests), collector/Tempo/Grafana
provisioning consistent."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.deploylib import OBSERVABILITY_DIR, REPO_ROOT
from tests.e2e import prometheus_check, telemetry_check

GRAFANA = OBSERVABILITY_DIR / "grafana"
PROMETHEUS = OBSERVABILITY_DIR / "prometheus"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool not installed (make prometheus-bin)")


def load_generator():
    spec = importlib.util.spec_from_file_location("ibkr_dashboards", GRAFANA / "dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def test_committed_dashboards_are_what_the_generator_writes():
    generator = load_generator()
    expected = {name: generator.render(d) for name, d in generator.all_dashboards().items()}
    actual = {p.name: p.read_text() for p in (GRAFANA / "dashboards").glob("*.json")}
    assert actual == expected, "run: python deploy/observability/grafana/dashboards.py"


def test_dashboards_are_well_formed_and_use_the_provisioned_datasources():
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text())
    uids = {d["uid"]: d["type"] for d in provisioned["datasources"]}
    assert set(uids) == {"prometheus", "tempo"}
    assert set(dashboards()) == {"overview.json", "edge.json", "risk.json", "gateway-bridge.json", "ledger.json"}
    all_uids = []
    for name, dash in dashboards().items():
        all_uids.append(dash["uid"])
        ids = []
        for panel in prometheus_check._panels(dash["panels"]):
            ids.append(panel["id"])
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, (name, panel["title"])
            for target in panel.get("targets", []):
                ds = target["datasource"]
                assert uids.get(ds["uid"]) == ds["type"], (name, panel["title"])
                assert ("expr" in target) == (ds["type"] == "prometheus"), (name, panel["title"])
        assert len(ids) == len(set(ids)), name
    assert len(all_uids) == len(set(all_uids))


def test_latency_panels_link_exemplars_to_tempo_traces():
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "datasources.yaml").read_text())
    prom = next(d for d in provisioned["datasources"] if d["uid"] == "prometheus")
    assert prom["jsonData"]["exemplarTraceIdDestinations"] == [
        {"name": "trace_id", "datasourceUid": "tempo", "urlDisplayLabel": "Open trace in Tempo"}]
    for name, dash in dashboards().items():
        latency = [t for p in prometheus_check._panels(dash["panels"]) for t in p.get("targets", [])
                   if "grpc_server_handling_seconds_bucket" in t.get("expr", "")]
        if name != "overview.json" or latency:
            assert latency and all(t.get("exemplar") is True for t in latency), name


def test_overview_has_every_panel_the_issue_asks_for():
    titles = " | ".join(p["title"] for p in prometheus_check._panels(dashboards()["overview.json"]["panels"]))
    for needle in ["Orders/s by status", "Risk denials/s by rule", "Fills/s", "P&L", "Positions", "IB connection",
                   "Reconciliation drift", "Ledger lag", "Stream subscribers", "pacing queue", "Trading state",
                   "Slow orders", "Rejected or failed orders"]:
        assert needle.lower() in titles.lower(), needle


METRIC = re.compile(r"\b((?:ibkr|grpc_server)_[a-z0-9_]+)\b")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def used_metric_names() -> dict[str, set[str]]:
    """Metric names used by the dashboards and the alert rules: {name: {where}}."""
    used: dict[str, set[str]] = {}
    for q in prometheus_check.dashboard_queries():
        for name in METRIC.findall(q.expr):
            used.setdefault(name, set()).add(q.label)
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in METRIC.findall(rule["expr"]):
                used.setdefault(name, set()).add(f"alert {rule['alert']}")
    return used


def test_every_metric_the_dashboards_and_alerts_use_is_registered():
    registry = telemetry_check.load_registry()
    missing = {}
    for name, where in used_metric_names().items():
        base = next((name.removesuffix(s) for s in HISTOGRAM_SUFFIXES
                     if name.endswith(s) and registry.get(name.removesuffix(s), None)
                     and registry[name.removesuffix(s)].type == "histogram"), name)
        if base not in registry:
            missing[name] = sorted(where)
    assert not missing, f"register these in docs/telemetry.md (or fix the query): {missing}"


@needs_promtool
def test_promtool_accepts_the_prometheus_config_and_rules():
    for args in (["check", "config", str(PROMETHEUS / "prometheus.yml")],
                 ["check", "rules", str(PROMETHEUS / "alerts.yml")]):
        result = subprocess.run(["promtool", *args], capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_alert_rule_unit_tests_pass():
    result = subprocess.run(["promtool", "test", "rules", "alerts.test.yml"], cwd=PROMETHEUS, capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_severity_and_summary():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())
    tested = {case["alertname"] for t in tests["tests"] for case in t["alert_rule_test"]}
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert {a["alert"] for a in alerts} == tested
    for alert in alerts:
        assert alert["labels"]["severity"] in {"critical", "warning"} and alert["annotations"]["summary"]
    expected = {"IbkrIbDisconnected", "IbkrReconciliationDrift", "IbkrLedgerLag", "IbkrHighErrorRate",
                "IbkrTradingHalted"}
    assert expected <= tested


def test_kubernetes_prometheus_config_keeps_the_same_jobs_and_rules():
    config = yaml.safe_load((OBSERVABILITY_DIR / "k8s" / "prometheus-k8s.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    [pods] = [j for j in config["scrape_configs"] if j["job_name"] == "ibkr-pods"]
    relabels = {r.get("target_label"): r for r in pods["relabel_configs"]}
    assert relabels["job"]["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_job"]


def test_collector_pipelines_use_only_defined_components_and_export_to_tempo():
    config = yaml.safe_load((OBSERVABILITY_DIR / "otel-collector" / "config.yaml").read_text())
    for name, pipeline in config["service"]["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"{name}: {kind} {component} is not defined"
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert "otlp/tempo" in config["service"]["pipelines"]["traces"]["exporters"]
    assert set(config["service"]["extensions"]) <= set(config["extensions"])


def test_tempo_receives_otlp_and_writes_span_metrics_with_exemplars_to_prometheus():
    config = yaml.safe_load((OBSERVABILITY_DIR / "tempo" / "tempo.yaml").read_text())
    assert config["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    [remote] = config["metrics_generator"]["storage"]["remote_write"]
    assert remote["url"] == "http://prometheus:9090/api/v1/write" and remote["send_exemplars"] is True
    assert config["server"]["http_listen_port"] == 3200


def test_grafana_provisioning_paths_match_where_compose_mounts_the_dashboards():
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "dashboards.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((REPO_ROOT / "deploy" / "compose" / "docker-compose.yml").read_text())
    assert f"../observability/grafana/dashboards:{path}:ro" in compose["services"]["grafana"]["volumes"]
