"""deploy/compose: schema-valid, complete .env, coherent startup order, healthchecks, pinned images."""

from __future__ import annotations

import json
import shutil
import subprocess

import jsonschema
import pytest
import yaml

from tests.deploy.deploylib import (
    COMPOSE_DIR,
    OBSERVABILITY_DIR,
    REPO_ROOT,
    SCHEMAS,
    SUITE,
    interpolate,
    parse_env_file,
    settings_classes,
    settings_env_vars,
)

COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return parse_env_file(COMPOSE_DIR / ".env")


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose(raw, env) -> dict:
    """The file as Compose sees it: .env substituted, extension fields dropped."""
    return {k: v for k, v in interpolate(raw, env).items() if not k.startswith("x-")}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def errors(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_and_its_interpolated_form_match_the_compose_spec_schema(validator, raw, compose):
    assert errors(validator, raw) == []
    assert errors(validator, compose) == []


def test_schema_check_catches_a_misspelled_key(validator, compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["edge"]["helthcheck"] = broken["services"]["edge"].pop("healthcheck")
    assert any("helthcheck" in e for e in errors(validator, broken))


def test_every_variable_a_service_reads_is_listed_in_the_env_file(env):
    missing = {pkg: sorted(names - set(env)) for pkg, names in settings_env_vars().items()}
    missing = {pkg: names for pkg, names in missing.items() if names}
    assert not missing, f"add these to deploy/compose/.env (DESIGN §3): {missing}"


def test_every_service_accepts_the_env_file_as_its_configuration(env, monkeypatch):
    """The values in .env pass each service's own validation (types, ranges, patterns)."""
    import os

    for name in [k for k in os.environ if k.startswith(("IBKR_", "OTEL_"))]:
        monkeypatch.delenv(name)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for pkg, classes in settings_classes().items():
        for cls in classes:
            settings = cls()
            assert settings.bind_host == "0.0.0.0", (pkg, cls.__name__)


def test_env_file_names_are_prefixed_and_suite_containers_load_it(env, compose):
    ours = [k for k in env if k.startswith("IBKR_")]
    assert len(ours) > 40
    for name in SUITE:
        assert compose["services"][name]["env_file"] == [".env"], name


def test_suite_services_have_grpc_healthchecks_on_their_own_port(compose):
    for name, (_, _, grpc_port, _, _) in SUITE.items():
        test = compose["services"][name]["healthcheck"]["test"]
        assert test == ["CMD", "python", "/app/healthcheck.py", f"127.0.0.1:{grpc_port}"], name


def test_startup_order_waits_for_healthy_dependencies_that_exist(compose):
    services = compose["services"]
    for name, service in services.items():
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond.get("condition") == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep} to be healthy; it has no check"
    order = {"ledger": {"postgres", "redis"}, "gateway-bridge": {"postgres", "redis"},
             "risk": {"ledger", "gateway-bridge"}, "edge": {"risk", "ledger", "gateway-bridge"}}
    for name, deps in order.items():
        assert deps <= set(services[name]["depends_on"]), name
    bridge_deps = services["gateway-bridge"]["depends_on"]
    assert bridge_deps["ib-gateway"] == bridge_deps["ib-gateway-sim"] == {"condition": "service_healthy",
                                                                          "required": False}


def test_ib_gateway_and_simulator_are_alternative_profiles_in_paper_mode(compose, env):
    gw, sim = compose["services"]["ib-gateway"], compose["services"]["ib-gateway-sim"]
    assert gw["profiles"] == ["gateway"] and sim["profiles"] == ["sim"]
    assert gw["image"].startswith("ghcr.io/gnzsnz/ib-gateway:")
    assert gw["environment"]["TRADING_MODE"] == "paper"
    assert "127.0.0.1:4002:4004" in gw["ports"]
    assert env["COMPOSE_PROFILES"] == "gateway"
    # The IB login reaches the gateway container only, never the suite's containers (which load .env).
    assert gw["env_file"] == [{"path": "ib-gateway.env", "required": False}]
    assert not {"TWS_USERID", "TWS_PASSWORD"} & set(env)
    assert (COMPOSE_DIR / "ib-gateway.env.example").is_file()
    assert "ib-gateway.env" in (COMPOSE_DIR / ".gitignore").read_text().split()
    assert compose["services"]["gateway-bridge"]["environment"] == {"IBKR_IB_HOST": "ib-gateway",
                                                                    "IBKR_IB_PORT": "4004"}


def test_redis_keeps_an_append_only_file_on_a_volume(compose):
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_images_are_pinned_and_suite_images_are_built_from_their_dockerfiles(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest", f"{name}: {image} is not pinned"
        if name in SUITE:
            build = service["build"]
            assert (COMPOSE_DIR / build["context"] / build["dockerfile"]).resolve().is_file(), name


def test_only_the_edge_and_grafana_are_published_beyond_loopback(compose):
    public = {}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                public.setdefault(name, []).append(port)
    assert public == {"edge": ["50051:50051"], "grafana": ["3000:3000"]}


def test_suite_containers_run_locked_down(compose):
    for name in SUITE:
        service = compose["services"][name]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert service["user"] == "10001:10001", name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_mounted_config_files_exist_and_named_volumes_are_declared(compose):
    declared = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (COMPOSE_DIR / source).resolve().exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: undeclared volume {source}"


def test_prometheus_scrapes_each_suite_service_by_its_compose_name_and_metrics_port(compose):
    config = yaml.safe_load((OBSERVABILITY_DIR / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in config["scrape_configs"]}
    for name, (_, _, _, metrics_port, job) in SUITE.items():
        assert jobs[job] == [f"{name}:{metrics_port}"]
        assert name in compose["services"]


def test_telemetry_endpoint_points_at_the_collector(compose, env):
    assert env["IBKR_OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert "otel-collector" in compose["services"]
    assert "--enable-feature=exemplar-storage" in compose["services"]["prometheus"]["command"]


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "compose", "version"], check=False, capture_output=True).returncode != 0,
    reason="docker compose plugin not installed")
def test_docker_compose_config_accepts_the_file():
    result = subprocess.run(["docker", "compose", "--project-directory", str(COMPOSE_DIR), "-f", str(COMPOSE_FILE),
                             "config", "--quiet"], check=False, capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
