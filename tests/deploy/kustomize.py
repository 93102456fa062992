"""`kustomize build` for the checks: `kubectl kustomize` when kubectl is installed, else a small
equivalent (resources, components, configMapGenerator, namespace, JSON6902 patches on ConfigMap data)
that covers what deploy/k8s uses. Both yield the list of rendered objects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.deploylib import load_yaml_docs

KUSTOMIZATION = "kustomization.yaml"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
                  "PersistentVolume", "StorageClass"}


def kubectl() -> str | None:
    return shutil.which("kubectl")


def load_kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / KUSTOMIZATION).read_text())


def referenced_paths(directory: Path) -> list[tuple[str, Path]]:
    """(field, path) for every file or directory a kustomization names."""
    k = load_kustomization(directory)
    out = [("resources", directory / r) for r in k.get("resources", [])]
    out += [("components", directory / c) for c in k.get("components", [])]
    for gen in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        for f in gen.get("files", []):
            out.append(("configMapGenerator", directory / f.split("=", 1)[-1]))
    for p in k.get("patches", []):
        if "path" in p:
            out.append(("patches", directory / p["path"]))
    return out


def build(directory: Path) -> list[dict[str, Any]]:
    """The rendered objects of the kustomization in `directory`."""
    binary = kubectl()
    if binary:
        result = subprocess.run([binary, "kustomize", str(directory)], capture_output=True, text=True,
                                check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl kustomize {directory} failed:\n{result.stderr}")
        return [d for d in yaml.safe_load_all(result.stdout) if d]
    return python_build(directory)


def python_build(directory: Path) -> list[dict[str, Any]]:
    k = load_kustomization(directory)
    docs: list[dict[str, Any]] = []
    for r in k.get("resources", []):
        path = directory / r
        docs += python_build(path) if path.is_dir() else load_yaml_docs(path)
    for gen in k.get("configMapGenerator", []):
        data = {}
        for f in gen.get("files", []):
            key, _, src = f.rpartition("=")
            data[key or Path(src).name] = (directory / src).read_text()
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    for c in k.get("components", []):
        component = directory / c
        docs += python_build(component)
        _apply_patches(docs, load_kustomization(component).get("patches", []))
    if k.get("kind") != "Component":
        _apply_patches(docs, k.get("patches", []))
    if k.get("namespace"):
        for d in docs:
            if d["kind"] not in CLUSTER_SCOPED:
                d.setdefault("metadata", {})["namespace"] = k["namespace"]
    return docs


def _apply_patches(docs: list[dict[str, Any]], patches: list[dict[str, Any]]) -> None:
    for p in patches:
        target = p.get("target", {})
        ops = yaml.safe_load(p.get("patch", "[]")) or []
        for d in docs:
            if d["kind"] != target.get("kind") or d["metadata"]["name"] != target.get("name"):
                continue
            for op in ops:
                parts = op["path"].strip("/").split("/")
                node = d
                for part in parts[:-1]:
                    node = node.setdefault(part, {})
                if op["op"] in ("add", "replace"):
                    node[parts[-1]] = op["value"]
                elif op["op"] == "remove":
                    node.pop(parts[-1], None)
