"""Runs a real Prometheus (Debian's `prometheus` package) against metrics endpoints and evaluates the
Grafana dashboards' queries through its HTTP API, reporting which return no data.

The e2e tier calls it against the running suite::

    from tests.e2e import prometheus_check as pc

    report = pc.check_dashboards(
        {"edge": "http://127.0.0.1:9101/metrics", "risk": ..., "gateway_bridge": ..., "ledger": ...,
         "ib_gateway_sim": ...},
        workdir=tmp_path,
    )
    assert report.ok, report.describe()

`check_dashboards` starts Prometheus (1 s scrape interval, exemplar storage on, the repository's alert
rules loaded), waits until every target has been scraped a few times, evaluates every `expr` of every
panel of every dashboard under `deploy/observability/grafana/dashboards/`, and also reports alert rules
Prometheus could not evaluate. For finer control use `PrometheusServer` and `evaluate_queries` directly.

Nothing here is fetched from the network: the binary comes from the Debian package
(`make prometheus-bin` installs it when missing and we are root); `prometheus_binary()` returns None when
it is absent so callers can `pytest.skip`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY_DIR = REPO_ROOT / "deploy" / "observability"
DASHBOARDS_DIR = OBSERVABILITY_DIR / "grafana" / "dashboards"
RULES_FILES = (OBSERVABILITY_DIR / "prometheus" / "alerts.yml",)

# What Grafana would put in place of its built-in variables, for a 1 s scrape interval and a short run.
DEFAULT_VARIABLES: dict[str, str] = {
    "__rate_interval": "15s",
    "__interval": "5s",
    "__interval_ms": "5000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}
# Dashboard variables left at "All": match every value.
ALL_VALUE = ".+"


def prometheus_binary() -> str | None:
    """The `prometheus` executable on PATH (or $IBKR_PROMETHEUS_BIN), or None when not installed."""
    explicit = os.environ.get("IBKR_PROMETHEUS_BIN")
    if explicit and Path(explicit).is_file():
        return explicit
    return shutil.which("prometheus")


def promtool_binary() -> str | None:
    return shutil.which("promtool")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _split_url(url: str) -> tuple[str, str, str]:
    """(scheme, host:port, path) of a metrics URL; path defaults to /metrics."""
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    return parts.scheme or "http", parts.netloc, parts.path or "/metrics"


def scrape_config(targets: Mapping[str, str | Iterable[str]], scrape_interval: str = "1s") -> dict[str, Any]:
    """A prometheus.yml (as a dict) with one job per name, each scraping its URL(s)."""
    jobs = []
    for job, urls in targets.items():
        urls = [urls] if isinstance(urls, str) else list(urls)
        by_path: dict[tuple[str, str], list[str]] = {}
        for url in urls:
            scheme, hostport, path = _split_url(url)
            by_path.setdefault((scheme, path), []).append(hostport)
        for (scheme, path), hosts in by_path.items():
            jobs.append({
                "job_name": job,
                "scheme": scheme,
                "metrics_path": path,
                "scrape_interval": scrape_interval,
                "scrape_timeout": scrape_interval,
                "static_configs": [{"targets": hosts, "labels": {"service": job}}],
            })
    return {"global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
            "scrape_configs": jobs}


class PromQueryError(RuntimeError):
    """Prometheus answered a query with an error (bad PromQL, unknown function, ...)."""


class PrometheusServer:
    """A real Prometheus process on a free loopback port, with its TSDB under `workdir`."""

    def __init__(self, targets: Mapping[str, str | Iterable[str]], workdir: Path | str, *,
                 scrape_interval: str = "1s", rule_files: Iterable[Path | str] = (),
                 binary: str | None = None, extra_args: Iterable[str] = ()) -> None:
        self.targets = dict(targets)
        self.workdir = Path(workdir)
        self.scrape_interval = scrape_interval
        self.rule_files = [str(Path(p).resolve()) for p in rule_files]
        self.binary = binary or prometheus_binary()
        self.extra_args = list(extra_args)
        self.port: int | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "prometheus.log"

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("prometheus not started")
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        config = scrape_config(self.targets, self.scrape_interval)
        if self.rule_files:
            config["rule_files"] = self.rule_files
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        if not self.binary:
            raise FileNotFoundError("prometheus is not installed (apt-get install prometheus)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.write_config()
        self.port = _free_port()
        args = [self.binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--enable-feature=exemplar-storage",
                "--storage.tsdb.retention.time=1h", "--log.level=warn", *self.extra_args]
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"prometheus not ready after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self, grace: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # -- HTTP API -----------------------------------------------------------------------------------------

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/<path>; returns `data`, raises PromQueryError on an error status."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.url}/api/v1/{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as reply:
                body = json.load(reply)
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
        if body.get("status") != "success":
            raise PromQueryError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query's result list (vector/matrix results; a scalar becomes a one-element list)."""
        data = self.api("query", query=expr, time=at)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def query_range(self, expr: str, start: float, end: float, step: str = "1s") -> list[dict[str, Any]]:
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]

    def exemplars(self, expr: str, start: float, end: float) -> list[dict[str, Any]]:
        return self.api("query_exemplars", query=expr, start=start, end=end)

    def active_targets(self) -> list[dict[str, Any]]:
        return self.api("targets", state="active")["activeTargets"]

    def rule_groups(self) -> list[dict[str, Any]]:
        return self.api("rules")["groups"]

    def wait_for_scrapes(self, scrapes: int = 3, timeout: float = 30.0) -> None:
        """Until every target is up and has `scrapes` samples of `up` (enough for rate() over 15 s)."""
        expected = sum(len([u] if isinstance(u, str) else list(u)) for u in self.targets.values())
        expr = f"count(count_over_time(up[1m]) >= {scrapes}) and count(up == 1) == {expected}"
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(f"count(count_over_time(up[1m]) >= {scrapes})")
            up = self.query("count(up == 1)")
            if result and up and int(float(result[0]["value"][1])) >= expected \
                    and int(float(up[0]["value"][1])) >= expected:
                return
            if time.monotonic() > deadline:
                down = [(t["labels"].get("job"), t["scrapeUrl"], t.get("lastError"))
                        for t in self.active_targets() if t["health"] != "up"]
                raise TimeoutError(f"targets not scraped {scrapes} times after {timeout}s ({expr}); "
                                   f"down: {down}")
            time.sleep(0.25)


# -- dashboards ------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DashboardQuery:
    dashboard: str
    panel: str
    ref_id: str
    expr: str

    @property
    def label(self) -> str:
        return f"{self.dashboard} / {self.panel} [{self.ref_id}]"


def _panels(panels: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def dashboard_queries(dashboards_dir: Path | str = DASHBOARDS_DIR) -> list[DashboardQuery]:
    """Every Prometheus `expr` of every panel target in every dashboard JSON under `dashboards_dir`."""
    out = []
    for path in sorted(Path(dashboards_dir).rglob("*.json")):
        dashboard = json.loads(path.read_text())
        title = dashboard.get("title", path.stem)
        for panel in _panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                expr = target.get("expr")
                if expr and not target.get("hide"):
                    out.append(DashboardQuery(title, panel.get("title", "?"), target.get("refId", "?"), expr))
    return out


def dashboard_variables(dashboards_dir: Path | str = DASHBOARDS_DIR) -> dict[str, str]:
    """Each templating variable of every dashboard, set to what "All" means (a match-everything regex)."""
    out: dict[str, str] = {}
    for path in sorted(Path(dashboards_dir).rglob("*.json")):
        for var in json.loads(path.read_text()).get("templating", {}).get("list", []):
            if var.get("type") in ("datasource",):
                continue
            out[var["name"]] = var.get("allValue") or ALL_VALUE
    return out


_VAR = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def render(expr: str, variables: Mapping[str, str]) -> str:
    """`expr` with Grafana's `$var`, `${var}`, `${var:fmt}` and `[[var]]` replaced; unknown ones left."""
    def sub(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return variables.get(name, match.group(0))
    return _VAR.sub(sub, expr)


@dataclasses.dataclass
class QueryReport:
    """Per query: the number of series it returned; which returned nothing; which failed; broken rules.

    `tolerated` holds the empty queries that use a metric the caller allowed to be absent (by default the
    ones registered as planned in docs/telemetry.md); they do not make the report fail.
    """

    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    empty: list[str] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    rule_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    tolerated: list[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.empty or self.errors or self.rule_errors)

    def describe(self) -> str:
        lines = [(f"{len(self.counts)} queries evaluated, {len(self.empty)} without data, "
                 f"{len(self.errors)} failed, {len(self.rule_errors)} broken rules")]
        lines += [f"  NO DATA  {q}" for q in self.empty]
        lines += [f"  (no data, tolerated) {q}" for q in self.tolerated]
        lines += [f"  ERROR    {q}: {e}" for q, e in self.errors.items()]
        lines += [f"  RULE     {r}: {e}" for r, e in self.rule_errors.items()]
        return "\n".join(lines)


_METRIC_NAME = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b")


def _uses(expr: str, metrics: set[str]) -> bool:
    names = set(_METRIC_NAME.findall(expr))
    names |= {n.removesuffix(suffix) for n in names for suffix in ("_bucket", "_sum", "_count")}
    return bool(names & metrics)


def planned_metrics() -> set[str]:
    """Names registered under a "planned" heading of docs/telemetry.md (not required to be exposed yet)."""
    from tests.e2e import telemetry_check

    if not telemetry_check.REGISTRY_PATH.exists():
        return set()
    return {name for name, spec in telemetry_check.load_registry().items() if spec.planned}


def evaluate_queries(prometheus: PrometheusServer, queries: Iterable[DashboardQuery],
                     variables: Mapping[str, str] | None = None,
                     allow_empty: Iterable[str] = ()) -> QueryReport:
    """Evaluate each query (variables rendered) as an instant query now.

    An empty result of a query that uses a metric in `allow_empty` goes to `report.tolerated`.
    """
    values = {**DEFAULT_VARIABLES, **(variables or {})}
    tolerated_metrics = set(allow_empty)
    report = QueryReport()
    for q in queries:
        expr = render(q.expr, values)
        key = f"{q.label}: {expr}"
        try:
            n = len(prometheus.query(expr))
        except PromQueryError as error:
            report.errors[key] = str(error)
            continue
        report.counts[key] = n
        if n == 0:
            (report.tolerated if _uses(expr, tolerated_metrics) else report.empty).append(key)
    return report


def rule_health(prometheus: PrometheusServer) -> dict[str, str]:
    """Alerting/recording rules whose last evaluation failed: {group/rule: error}."""
    broken = {}
    for group in prometheus.rule_groups():
        for rule in group.get("rules", []):
            if rule.get("health") == "err":
                broken[f"{group['name']}/{rule['name']}"] = rule.get("lastError", "")
    return broken


def check_dashboards(metrics_urls: Mapping[str, str | Iterable[str]], workdir: Path | str, *,
                     dashboards_dir: Path | str = DASHBOARDS_DIR,
                     rule_files: Iterable[Path | str] = RULES_FILES,
                     variables: Mapping[str, str] | None = None,
                     allow_empty: Iterable[str] | None = None,
                     scrapes: int = 3, timeout: float = 60.0) -> QueryReport:
    """Start Prometheus scraping `metrics_urls` ({job: url}), evaluate every dashboard query, stop.

    Job names are the service names the dashboards use (`edge`, `risk`, `gateway_bridge`, `ledger`,
    `ib_gateway_sim`; `bridge` and `sim`, the keys of `tools.suite`, are mapped to them). `report.ok` is True when every query returned at least one series, none failed, and
    every alert rule evaluated without error. Queries on the metrics in `allow_empty` (default: those
    registered as planned in docs/telemetry.md) may be empty; pass `allow_empty=()` to require them too.
    """
    from tests.e2e.telemetry_check import service_key

    metrics_urls = {service_key(job): url for job, url in metrics_urls.items()}  # bridge → gateway_bridge, ...
    allow = planned_metrics() if allow_empty is None else set(allow_empty)
    queries = dashboard_queries(dashboards_dir)
    all_vars = {**dashboard_variables(dashboards_dir), **(variables or {})}
    rules = [p for p in rule_files if Path(p).exists()]
    with PrometheusServer(metrics_urls, workdir, rule_files=rules) as prometheus:
        prometheus.wait_for_scrapes(scrapes, timeout)
        report = evaluate_queries(prometheus, queries, all_vars, allow)
        report.rule_errors = rule_health(prometheus)
    return report


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.e2e.prometheus_check edge=http://127.0.0.1:9101/metrics risk=... [--workdir DIR]`:
    the dashboard-query check against a running suite (e.g. `make run`), printed."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("targets", nargs="+", help="job=url")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    targets = dict(t.split("=", 1) for t in args.targets)
    with tempfile.TemporaryDirectory() as tmp:
        report = check_dashboards(targets, args.workdir or tmp)
    print(report.describe())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
