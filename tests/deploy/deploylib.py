"""Shared helpers for the offline deployment checks: YAML loading, compose interpolation, env var discovery."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S_DIR = DEPLOY / "k8s"
OBSERVABILITY_DIR = DEPLOY / "observability"
DOCKER_DIR = DEPLOY / "docker"
SCHEMAS = Path(__file__).resolve().parent / "schemas"

# Compose service / k8s app name → (python package, env prefix, gRPC port, metrics port, Prometheus job).
SUITE = {
    "edge": ("edge", "EDGE", 50051, 9101, "edge"),
    "risk": ("risk", "RISK", 50052, 9102, "risk"),
    "gateway-bridge": ("gateway_bridge", "BRIDGE", 50053, 9103, "gateway_bridge"),
    "ledger": ("ledger", "LEDGER", 50054, 9104, "ledger"),
    "ib-gateway-sim": ("ib_gateway_sim", "SIM", 50055, 9105, "ib_gateway_sim"),
}


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d]


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose .env file (comments and blanks skipped); duplicate keys raise."""
    out: dict[str, str] = {}
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"{path}:{n}: not KEY=VALUE: {raw!r}")
        if key in out:
            raise ValueError(f"{path}:{n}: {key} is set twice")
        out[key] = value
    return out


_INTERP = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose-style ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR:+alt}, $VAR and $$."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        current = env.get(name)
        if op in (":-", "-"):
            unset = current is None or (op == ":-" and current == "")
            return interpolate(arg, env) if unset else current
        if op in (":?", "?"):
            if current is None or (op == ":?" and current == ""):
                raise KeyError(f"required variable {name} is not set: {arg}")
            return current
        if op in (":+", "+"):
            return interpolate(arg, env) if current else ""
        return current or ""
    return _INTERP.sub(sub, value)


def settings_classes() -> dict[str, list[type]]:
    """Each service's settings classes: {service package: [BaseSettings subclasses defined in its config]}."""
    from pydantic_settings import BaseSettings

    out: dict[str, list[type]] = {}
    for pkg in (v[0] for v in SUITE.values()):
        if not (REPO_ROOT / "services" / pkg / "config.py").exists():
            continue
        module = importlib.import_module(f"services.{pkg}.config")
        out[pkg] = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                    if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__]
    return out


def settings_env_vars() -> dict[str, set[str]]:
    """Every environment variable each service's settings class reads: {service package: {IBKR_...}}."""
    from pydantic_settings import BaseSettings

    from services.common.config import CommonSettings, env_var_name

    out: dict[str, set[str]] = {}
    for pkg in ["common", *(v[0] for v in SUITE.values())]:
        if not (REPO_ROOT / "services" / pkg / "config.py").exists():
            continue
        module = importlib.import_module(f"services.{pkg}.config")
        names: set[str] = set()
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__:
                names |= {env_var_name(cls, field) for field in cls.model_fields}
        if pkg == "common":
            names |= {env_var_name(CommonSettings, f) for f in CommonSettings.model_fields}
        out[pkg] = names
    return out


def walk(obj: Any) -> Iterator[Any]:
    yield obj
    if isinstance(obj, dict):
        for v in obj.values():
            yield from walk(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from walk(v)
