"""The telemetry registry check: every metric a service exposes is in `docs/telemetry.md`, and vice versa.

The registry is read from the Markdown tables of `docs/telemetry.md`: any table whose header has a metric
column (`Metric` or `Name`) and a `Type` column; optional columns `Labels`, `Unit`, `Service` (or
`Exposed by`, `Services`) and a description. Names may be written in backticks and as `name{a,b}`.
Metrics listed under a heading containing "planned" are registered but not yet required to be exposed.

The e2e tier calls it against the running suite::

    from tests.e2e import telemetry_check as tc

    registry = tc.load_registry()
    result = tc.check_suite({"edge": "http://127.0.0.1:9101/metrics", "risk": ..., ...}, registry)
    assert result.ok, result.describe()

`check_suite` scrapes each URL, reports per service the exposed metrics missing from the registry, with
another type, or with other label names, and then the registered metrics (not planned) that no service
exposes (or, when the registry names the service, that this service does not expose).

Label names are compared only when the metric has samples; a labelled metric that has not been touched
yet shows only its `# TYPE` line, so it counts as exposed with unknown labels.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY_PATH = REPO_ROOT / "docs" / "telemetry.md"

# Labels the exposition format itself adds (histogram buckets, summary quantiles).
STRUCTURAL_LABELS = frozenset({"le", "quantile"})
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_NONE = {"", "-", "—", "–", "none", "(none)", "n/a"}
# An owner of "common" (the shared runtime) means every server exposes the metric.
_ALL = {"all", "every", "each", "*", "all services", "every service", "each service", "all servers",
        "every server", "common"}
ALL_SERVICES = "*"
SERVICE_ALIASES = {"bridge": "gateway_bridge", "gateway-bridge": "gateway_bridge", "sim": "ib_gateway_sim",
                   "simulator": "ib_gateway_sim", "ib-gateway-sim": "ib_gateway_sim"}


def service_key(name: str) -> str:
    """The canonical service name (`bridge` → `gateway_bridge`, `sim` → `ib_gateway_sim`)."""
    name = name.strip().lower()
    return SERVICE_ALIASES.get(name, name)


def metrics_urls(ports: Mapping[str, int], host: str = "127.0.0.1") -> dict[str, str]:
    """{canonical service: metrics URL} from {name: metrics port}, e.g. `suite.settings.ports.metrics`
    (whose keys `bridge` and `sim` become `gateway_bridge` and `ib_gateway_sim`, the Prometheus job names)."""
    return {service_key(name): f"http://{host}:{port}/metrics" for name, port in ports.items()}


@dataclasses.dataclass(frozen=True)
class MetricSpec:
    """One registered metric."""

    name: str
    type: str
    labels: frozenset[str] | None  # None: the registry does not say
    unit: str = ""
    services: frozenset[str] = frozenset()  # empty: not said
    description: str = ""
    planned: bool = False


@dataclasses.dataclass(frozen=True)
class ExposedMetric:
    name: str
    type: str
    labels: frozenset[str] | None  # None: no samples yet
    samples: int


def canonical_name(name: str, metric_type: str) -> str:
    """Counters are registered and compared with their `_total` suffix (the name you query in PromQL)."""
    if metric_type == "counter" and not name.endswith("_total"):
        return f"{name}_total"
    return name


# -- the registry ----------------------------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line.removeprefix("|")
    line = line.removesuffix("|")
    # A pipe inside backticks (rare, e.g. a PromQL example) must not split the cell.
    cells, buf, in_code = [], [], False
    for ch in line:
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
    cells.append("".join(buf).strip())
    return cells


def _strip(cell: str) -> str:
    return cell.replace("`", "").replace("*", "").strip()


def _column(header: list[str], *names: str) -> int | None:
    lowered = [_strip(h).lower() for h in header]
    for name in names:
        for i, h in enumerate(lowered):
            if h == name or h.startswith((name + " ", name + "(")):
                return i
    return None


def _drop_parenthesized(text: str) -> str:
    """`outcome` (`accepted`, `rejected`) → `outcome`: examples and notes in parentheses are not names."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)", "", text)
    return text


def _split_list(cell: str) -> frozenset[str]:
    text = _drop_parenthesized(_strip(cell))
    if text.lower() in _NONE:
        return frozenset()
    return frozenset(p.strip() for p in re.split(r"[,\s/]+", text) if p.strip() and p.strip().lower() not in _NONE)


def _services(cell: str) -> frozenset[str]:
    text = _drop_parenthesized(_strip(cell)).strip().lower()
    if text in _ALL or text.startswith(("all ", "every ")) or text == "common":
        return frozenset({ALL_SERVICES})
    return frozenset(service_key(s) for s in re.split(r"[,;/]+|\s+and\s+|\s+", text)
                     if s.strip() and s.strip() not in _NONE)


def parse_registry(markdown: str) -> dict[str, MetricSpec]:
    """Every metric in the Markdown tables of the registry, by canonical name."""
    metrics: dict[str, MetricSpec] = {}
    planned_level: int | None = None
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if planned_level is not None and level <= planned_level:
                planned_level = None
            if "planned" in heading.group(2).lower():
                planned_level = level
            i += 1
            continue
        is_table = (line.lstrip().startswith("|") and i + 1 < len(lines)
                    and re.match(r"^\s*\|?\s*:?-{2,}", lines[i + 1]))
        if not is_table:
            i += 1
            continue
        header = _cells(line)
        name_col = _column(header, "metric", "name")
        type_col = _column(header, "type", "kind")
        i += 2
        rows = []
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            rows.append(_cells(lines[i]))
            i += 1
        if name_col is None or type_col is None:
            continue  # a span or attribute table
        labels_col = _column(header, "labels", "label")
        unit_col = _column(header, "unit")
        service_col = _column(header, "service", "services", "exposed by", "emitted by", "owner")
        desc_col = _column(header, "meaning", "description", "help", "what")
        for row in rows:
            if len(row) <= max(name_col, type_col):
                continue
            raw = _strip(row[name_col])
            name, _, label_part = raw.partition("{")
            name = name.strip()
            if not _NAME.match(name):
                continue
            mtype = _strip(row[type_col]).lower().split(" ")[0] if _strip(row[type_col]) else "unknown"
            labels: frozenset[str] | None = None
            if labels_col is not None and labels_col < len(row):
                labels = _split_list(row[labels_col])
            elif label_part:
                labels = _split_list(label_part.rstrip("}"))
            spec = MetricSpec(
                name=canonical_name(name, mtype),
                type=mtype,
                labels=labels,
                unit=_strip(row[unit_col]) if unit_col is not None and unit_col < len(row) else "",
                services=(_services(row[service_col])
                          if service_col is not None and service_col < len(row) else frozenset()),
                description=_strip(row[desc_col]) if desc_col is not None and desc_col < len(row) else "",
                planned=planned_level is not None,
            )
            previous = metrics.get(spec.name)
            if previous is not None:  # listed again (e.g. per service): merge the services
                spec = dataclasses.replace(spec, services=previous.services | spec.services,
                                           planned=previous.planned and spec.planned)
            metrics[spec.name] = spec
    return metrics


def load_registry(path: Path | str = REGISTRY_PATH) -> dict[str, MetricSpec]:
    return parse_registry(Path(path).read_text())


# -- the exposition --------------------------------------------------------------------------------------

def fetch_metrics(url: str, timeout: float = 5.0, *, openmetrics: bool = False) -> str:
    """The exposition text of a metrics endpoint (OpenMetrics when asked, which carries exemplars)."""
    accept = "application/openmetrics-text; version=1.0.0" if openmetrics else "text/plain; version=0.0.4"
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return reply.read().decode()


def parse_exposition(text: str) -> dict[str, ExposedMetric]:
    """Metric families of a Prometheus text or OpenMetrics exposition, by canonical name.

    The `<name>_created` gauges prometheus_client writes beside counters and histograms in the text
    format are part of their family, not metrics of their own.
    """
    parse = parse_openmetrics if text.rstrip().endswith("# EOF") else parse_text
    families = list(parse(text))
    typed = {f.name: f.type for f in families}
    out: dict[str, ExposedMetric] = {}
    for family in families:
        if family.name.endswith("_created") and family.type in ("gauge", "unknown"):
            base = family.name.removesuffix("_created")
            if typed.get(base) in ("counter", "histogram", "summary", "gaugehistogram"):
                continue
        labels: set[str] = set()
        for sample in family.samples:
            labels |= set(sample.labels)
        name = canonical_name(family.name, family.type)
        out[name] = ExposedMetric(name, family.type,
                                  frozenset(labels - STRUCTURAL_LABELS) if family.samples else None,
                                  len(family.samples))
    return out


# -- the check -------------------------------------------------------------------------------------------

@dataclasses.dataclass
class EndpointResult:
    """Differences between one endpoint's exposition and the registry."""

    service: str
    exposed: dict[str, ExposedMetric]
    unregistered: list[str] = dataclasses.field(default_factory=list)
    wrong_type: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)  # name: (registry, exposed)
    wrong_labels: dict[str, tuple[frozenset[str], frozenset[str]]] = dataclasses.field(default_factory=dict)
    not_exposed: list[str] = dataclasses.field(default_factory=list)  # registered for this service

    @property
    def ok(self) -> bool:
        return not (self.unregistered or self.wrong_type or self.wrong_labels or self.not_exposed)

    def describe(self) -> str:
        lines = []
        lines += [f"{self.service}: exposes {n}, which docs/telemetry.md does not list" for n in self.unregistered]
        lines += [f"{self.service}: {n} is a {e}, registered as a {r}" for n, (r, e) in self.wrong_type.items()]
        lines += [f"{self.service}: {n} has labels {sorted(e)}, registered {sorted(r)}"
                  for n, (r, e) in self.wrong_labels.items()]
        lines += [f"{self.service}: does not expose {n}, registered for it" for n in self.not_exposed]
        return "\n".join(lines)


def check_exposed(exposed: Mapping[str, ExposedMetric], registry: Mapping[str, MetricSpec],
                  service: str = "") -> EndpointResult:
    """Compare one service's exposed metrics with the registry (both directions for that service)."""
    result = EndpointResult(service, dict(exposed))
    for name, metric in sorted(exposed.items()):
        spec = registry.get(name)
        if spec is None:
            result.unregistered.append(name)
            continue
        if spec.type not in ("unknown", metric.type):
            result.wrong_type[name] = (spec.type, metric.type)
        if spec.labels is not None and metric.labels is not None and spec.labels != metric.labels:
            result.wrong_labels[name] = (spec.labels, metric.labels)
    if service:
        key = service_key(service)
        result.not_exposed = sorted(
            n for n, s in registry.items()
            if (key in s.services or ALL_SERVICES in s.services) and not s.planned and n not in exposed)
    return result


def check_endpoint(url: str, registry: Mapping[str, MetricSpec], service: str = "",
                   timeout: float = 5.0) -> EndpointResult:
    """Scrape `url` and compare it with the registry."""
    return check_exposed(parse_exposition(fetch_metrics(url, timeout)), registry, service)


@dataclasses.dataclass
class SuiteResult:
    endpoints: dict[str, EndpointResult]
    never_exposed: list[str]  # registered (not planned) metrics no endpoint exposes

    @property
    def ok(self) -> bool:
        return not self.never_exposed and all(r.ok for r in self.endpoints.values())

    def describe(self) -> str:
        lines = [r.describe() for r in self.endpoints.values() if not r.ok]
        lines += [f"registered but exposed by no service: {n}" for n in self.never_exposed]
        return "\n".join(lines) or "registry and expositions agree"


def check_suite(urls: Mapping[str, str], registry: Mapping[str, MetricSpec] | None = None, *,
                timeout: float = 5.0, ignore: Iterable[str] = ()) -> SuiteResult:
    """Scrape every service's metrics URL ({service: url}) and check both directions.

    `ignore` lists registered names not to require (e.g. metrics only a fault test makes appear).
    """
    registry = load_registry() if registry is None else registry
    return check_expositions({svc: fetch_metrics(url, timeout) for svc, url in urls.items()}, registry,
                             ignore=ignore)


def check_expositions(texts: Mapping[str, str], registry: Mapping[str, MetricSpec], *,
                      ignore: Iterable[str] = ()) -> SuiteResult:
    """`check_suite` on exposition texts already fetched ({service: text})."""
    skip = set(ignore)
    endpoints = {svc: check_exposed(parse_exposition(text), registry, svc) for svc, text in texts.items()}
    for result in endpoints.values():
        result.not_exposed = [n for n in result.not_exposed if n not in skip]
    seen = set().union(*(r.exposed for r in endpoints.values())) if endpoints else set()
    never = sorted(n for n, s in registry.items() if not s.planned and n not in seen and n not in skip)
    return SuiteResult(endpoints, never)


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.e2e.telemetry_check edge=http://127.0.0.1:9101/metrics risk=...`: the registry check
    against a running suite (e.g. `make run`), printed."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("targets", nargs="+", help="service=url")
    args = parser.parse_args(argv)
    result = check_suite(dict(t.split("=", 1) for t in args.targets))
    print(result.describe())
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
