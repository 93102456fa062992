"""deploy/k8s: every manifest valid against the Kubernetes schemas (offline, strict), references and selectors
consistent, pods locked down, probes and the network-policy graph as the cross-service contract says."""

from __future__ import annotations

import functools
from pathlib import Path

import kubernetes_validate
import pytest

from tests.deploy import kustomize
from tests.deploy.deploylib import K8S_DIR, OBSERVABILITY_DIR, SUITE, load_yaml_docs, settings_classes

K8S_VERSION = "1.32"
OVERLAYS = ["base", "overlays/paper", "overlays/sim"]
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}
SUITE_APPS = {"edge", "risk", "gateway-bridge", "ledger"}
# Containers allowed a writable root filesystem, and why: IB Gateway (Java + Xvfb) writes under its home.
WRITABLE_ROOT = {"ib-gateway"}
NEEDS_API_TOKEN = {"prometheus"}  # pod discovery


@functools.cache
def built(overlay: str) -> tuple[dict, ...]:
    return tuple(kustomize.build(K8S_DIR / overlay))


def by_kind(docs, kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def named(docs, kind: str, name: str) -> dict:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def pod_templates(docs) -> dict[str, dict]:
    """Workload name → its pod template."""
    return {d["metadata"]["name"]: d["spec"]["template"] for d in docs if d["kind"] in WORKLOADS}


def selector_matches(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        value, op = labels.get(expr["key"]), expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


# -- the kustomizations themselves ----------------------------------------------------------------------

def all_kustomizations() -> list[Path]:
    return sorted(p.parent for p in [*K8S_DIR.rglob("kustomization.yaml"), OBSERVABILITY_DIR / "kustomization.yaml"])


def test_every_path_a_kustomization_references_exists():
    for directory in all_kustomizations():
        for field, path in kustomize.referenced_paths(directory):
            assert path.exists(), f"{directory}/kustomization.yaml {field}: {path} does not exist"
            if field == "components":
                assert kustomize.load_kustomization(path)["kind"] == "Component", path


def test_every_manifest_file_is_used_by_some_kustomization():
    used = {p.resolve() for d in all_kustomizations() for _, p in kustomize.referenced_paths(d)}
    manifests = [p for p in K8S_DIR.rglob("*.yaml") if p.name != "kustomization.yaml"]
    manifests += list((OBSERVABILITY_DIR / "k8s").glob("*.yaml"))
    assert manifests
    assert [str(p) for p in manifests if p.resolve() not in used] == []


# -- schema ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid_against_the_strict_kubernetes_schema(overlay):
    problems = []
    for doc in built(overlay):
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {getattr(error, 'message', error)}")
    assert problems == []


def test_the_schema_check_rejects_a_misspelled_field():
    deployment = dict(named(built("base"), "Deployment", "edge"))
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_raw_manifest_files_are_valid_too():
    for path in [*K8S_DIR.rglob("*.yaml"), *(OBSERVABILITY_DIR / "k8s").glob("*.yaml")]:
        if path.name == "kustomization.yaml":
            continue
        for doc in load_yaml_docs(path):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


# -- references and selectors ----------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_names_are_unique_and_everything_referenced_exists(overlay):
    docs = built(overlay)
    keys = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(keys) == len(set(keys))
    names = {kind: {n for k, n in keys if k == kind} for kind in {k for k, _ in keys}}
    claims = {d["metadata"]["name"]: {c["metadata"]["name"] for c in d["spec"].get("volumeClaimTemplates", [])}
              for d in docs if d["kind"] in WORKLOADS}
    for name, template in pod_templates(docs).items():
        spec = template["spec"]
        assert spec["serviceAccountName"] in names.get("ServiceAccount", set()), name
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in names["ConfigMap"], (name, volume)
            if "secret" in volume:
                assert volume["secret"]["secretName"] in names["Secret"], (name, volume)
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in names["ConfigMap"], name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in names["Secret"], name
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in names["Secret"], (name, var)
            mounts = {m["name"] for m in container.get("volumeMounts", [])}
            assert mounts <= {v["name"] for v in spec.get("volumes", [])} | claims[name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_match_the_pods_they_mean(overlay):
    docs = built(overlay)
    templates = pod_templates(docs)
    for workload in (d for d in docs if d["kind"] in WORKLOADS):
        assert selector_matches(workload["spec"]["selector"], workload["spec"]["template"]["metadata"]["labels"])
    for service in by_kind(docs, "Service"):
        targets = [t for t in templates.values()
                   if selector_matches({"matchLabels": service["spec"]["selector"]}, t["metadata"]["labels"])]
        assert len(targets) == 1, f"Service {service['metadata']['name']} selects {len(targets)} workloads"
        port_names = {p["name"] for c in targets[0]["spec"]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, (service["metadata"]["name"], port)
    for pdb in by_kind(docs, "PodDisruptionBudget"):
        assert any(selector_matches(pdb["spec"]["selector"], t["metadata"]["labels"]) for t in templates.values())
    for policy in by_kind(docs, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]
        if selector:
            assert any(selector_matches(selector, t["metadata"]["labels"]) for t in templates.values()), \
                f"NetworkPolicy {policy['metadata']['name']} selects no pod"


# -- pods ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", ["overlays/paper", "overlays/sim"])
def test_every_pod_is_locked_down_with_resources_and_pinned_images(overlay):
    for name, template in pod_templates(built(overlay)).items():
        spec = template["spec"]
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True and pod_sc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec.get("automountServiceAccountToken") is (name in NEEDS_API_TOKEN), name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], name
            assert sc.get("privileged", False) is False, name
            assert sc["readOnlyRootFilesystem"] is (name not in WRITABLE_ROOT), name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), (name, bound)
            image = c["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), (name, image)


@pytest.mark.parametrize("app", sorted(SUITE_APPS))
def test_suite_services_use_native_grpc_readiness_on_their_port(app):
    grpc_port = SUITE[app][2]
    template = pod_templates(built("base"))[app]
    [container] = template["spec"]["containers"]
    assert container["readinessProbe"]["grpc"]["port"] == grpc_port
    assert "livenessProbe" in container and "startupProbe" in container
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": grpc_port, "metrics": SUITE[app][3]}
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(SUITE[app][3])
    assert annotations["prometheus.io/job"] == SUITE[app][4]


def test_bridge_is_an_active_standby_pair_that_never_restarts_its_standby():
    docs = built("base")
    bridge = named(docs, "Deployment", "gateway-bridge")
    assert bridge["spec"]["replicas"] == 2
    assert bridge["spec"]["strategy"] == {"type": "Recreate"}
    [container] = bridge["spec"]["template"]["spec"]["containers"]
    # Only the lease holder is SERVING, hence Ready; the standby must not fail startup or liveness for it.
    assert "grpc" in container["readinessProbe"]
    assert "grpc" not in container["livenessProbe"] and "grpc" not in container["startupProbe"]
    assert {p["app.kubernetes.io/name"] for p in
            [pdb["spec"]["selector"]["matchLabels"] for pdb in by_kind(docs, "PodDisruptionBudget")]} == {"edge"}
    assert named(docs, "Deployment", "edge")["spec"]["replicas"] == 2


def test_credentials_come_from_secrets_not_the_config_map():
    docs = built("overlays/paper")
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "ibkr-config")
    assert not {"IBKR_DATABASE_URL", "IBKR_INTERNAL_TOKEN", "IBKR_REDIS_URL"} & set(config["data"])
    secrets = {d["metadata"]["name"] for d in by_kind(docs, "Secret")}
    assert {"ibkr-credentials", "ibkr-edge-api-keys", "ib-gateway-credentials", "postgres-credentials",
            "grafana-admin"} <= secrets
    assert config["data"]["IBKR_OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert config["data"]["IBKR_IB_HOST"] == "ib-gateway"
    sim_config = named(built("overlays/sim"), "ConfigMap", "ibkr-config")
    assert (sim_config["data"]["IBKR_IB_HOST"], sim_config["data"]["IBKR_IB_PORT"]) == ("ib-gateway-sim", "4002")


@pytest.mark.parametrize("overlay", ["overlays/paper", "overlays/sim"])
def test_each_service_accepts_the_environment_its_pod_gets(overlay, monkeypatch):
    """ConfigMap + Secret + the container's own env pass the service's settings validation."""
    import os

    docs = built(overlay)
    data = {d["metadata"]["name"]: {**d.get("data", {}), **d.get("stringData", {})}
            for d in docs if d["kind"] in ("ConfigMap", "Secret")}
    classes = settings_classes()
    for app, template in pod_templates(docs).items():
        if app not in SUITE or SUITE[app][0] not in classes:
            continue
        for name in [k for k in os.environ if k.startswith(("IBKR_", "OTEL_"))]:
            monkeypatch.delenv(name)
        [container] = template["spec"]["containers"]
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            for key, value in data[ref["name"]].items():
                monkeypatch.setenv(key, value)
        for var in container.get("env", []):
            if "value" in var:
                monkeypatch.setenv(var["name"], var["value"])
        for cls in classes[SUITE[app][0]]:
            settings = cls()
            assert settings.bind_host == "0.0.0.0", app


# -- the network-policy graph ----------------------------------------------------------------------------

EXTERNAL = {"app.kubernetes.io/name": "<outside>"}


def _peer_matches(peer: dict, labels: dict) -> bool:
    if labels is EXTERNAL:
        return "ipBlock" in peer
    if "namespaceSelector" in peer or "ipBlock" in peer:
        return False  # other namespaces (kube-dns) or addresses: never a pod of this namespace
    return selector_matches(peer.get("podSelector", {}), labels)


def _port_matches(rule_ports: list | None, port: int) -> bool:
    if not rule_ports:
        return True
    return any(p.get("port") is None or p["port"] == port or (p["port"] <= port <= p.get("endPort", p["port"]))
               for p in rule_ports)


def _direction_allows(policies, pod: dict, peer: dict, port: int, direction: str) -> bool:
    field, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [p for p in policies if pod is not EXTERNAL and selector_matches(p["spec"]["podSelector"], pod)
                 and direction in p["spec"].get("policyTypes", ["Ingress"])]
    if pod is EXTERNAL or not selecting:
        return True  # not isolated
    for policy in selecting:
        for rule in policy["spec"].get(field) or []:
            peers = rule.get(peers_key)
            if (peers is None or any(_peer_matches(x, peer) for x in peers)) and _port_matches(rule.get("ports"), port):
                return True
    return False


def allowed(docs, src: str, dst: str, port: int) -> bool:
    """Would a connection from app `src` (or "<outside>") to app `dst` on `port` pass every policy?"""
    labels = {name: t["metadata"]["labels"] for name, t in pod_templates(docs).items()}
    source = EXTERNAL if src == "<outside>" else labels[src]
    policies = by_kind(docs, "NetworkPolicy")
    return (_direction_allows(policies, source, labels[dst], port, "Egress")
            and _direction_allows(policies, labels[dst], source, port, "Ingress"))


CONTRACT = [
    ("<outside>", "edge", 50051),
    ("edge", "risk", 50052), ("edge", "ledger", 50054),
    ("risk", "gateway-bridge", 50053), ("risk", "ledger", 50054),
    ("ledger", "risk", 50052),
    ("edge", "redis", 6379), ("risk", "redis", 6379), ("ledger", "redis", 6379), ("gateway-bridge", "redis", 6379),
    ("risk", "postgres", 5432), ("ledger", "postgres", 5432), ("gateway-bridge", "postgres", 5432),
    ("prometheus", "edge", 9101), ("prometheus", "gateway-bridge", 9103), ("prometheus", "ledger", 9104),
    ("edge", "otel-collector", 4317), ("gateway-bridge", "otel-collector", 4317),
    ("otel-collector", "tempo", 4317), ("grafana", "prometheus", 9090), ("grafana", "tempo", 3200),
]
FORBIDDEN = [
    ("<outside>", "risk", 50052), ("<outside>", "gateway-bridge", 50053), ("<outside>", "ledger", 50054),
    ("<outside>", "grafana", 3000), ("<outside>", "postgres", 5432), ("<outside>", "redis", 6379),
    ("edge", "postgres", 5432), ("edge", "ib-gateway", 4004), ("risk", "ib-gateway", 4004),
    ("edge", "gateway-bridge", 50053), ("ledger", "gateway-bridge", 50053),
    ("gateway-bridge", "risk", 50052), ("grafana", "gateway-bridge", 50053),
    ("prometheus", "gateway-bridge", 50053), ("otel-collector", "gateway-bridge", 50053),
    ("tempo", "gateway-bridge", 50053), ("postgres", "gateway-bridge", 50053), ("edge", "risk", 9999),
]


def test_network_policies_allow_exactly_the_contract_calls():
    docs = built("overlays/paper")
    assert [c for c in CONTRACT if not allowed(docs, *c)] == []
    assert allowed(docs, "gateway-bridge", "ib-gateway", 4004)
    assert [c for c in FORBIDDEN if allowed(docs, *c)] == []


def test_only_risk_can_open_the_bridge_and_only_the_edge_is_public():
    docs = built("overlays/paper")
    apps = sorted(pod_templates(docs))
    assert [a for a in apps if a != "gateway-bridge" and allowed(docs, a, "gateway-bridge", 50053)] == ["risk"]
    public = [(a, p) for a in apps for p in (50051, 50052, 50053, 50054, 3000, 9090, 4004, 5432, 6379)
              if allowed(docs, "<outside>", a, p)]
    assert public == [("edge", 50051)]


def test_the_simulator_overlay_lets_only_the_bridge_reach_the_simulator():
    docs = built("overlays/sim")
    apps = [a for a in pod_templates(docs) if a != "ib-gateway-sim"]
    assert [a for a in apps if allowed(docs, a, "ib-gateway-sim", 4002)] == ["gateway-bridge"]


def test_python_build_agrees_with_kubectl_on_kinds_and_names():
    if kustomize.kubectl() is None:
        pytest.skip("kubectl not installed: the python build is the only one")
    for overlay in OVERLAYS:
        ours = sorted((d["kind"], d["metadata"]["name"]) for d in kustomize.python_build(K8S_DIR / overlay))
        theirs = sorted((d["kind"], d["metadata"]["name"].rsplit("-", 1)[0]
                         if d["kind"] == "ConfigMap" and d["metadata"]["name"] != "ibkr-config"
                         else d["metadata"]["name"]) for d in built(overlay))
        assert ours == theirs, overlay
