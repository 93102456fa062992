"""Where the client finds the edge and its API key: arguments first, then the environment, then `.run/`.

`IBKR_API_URL` (default 127.0.0.1:50051), `IBKR_API_KEY`, or `IBKR_API_KEY_FILE`, else `.run/api-key` in
the working directory when present (what `make run` writes). TLS: `IBKR_TLS_CA`, `IBKR_TLS_CERT`,
`IBKR_TLS_KEY` (PEM file paths; a CA or a client pair turns TLS on).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ibkr.client.channel import TlsConfig

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_KEY_FILE = Path(".run") / "api-key"


@dataclass(frozen=True)
class ClientSettings:
    """Resolved connection settings."""

    target: str
    api_key: str | None
    tls: TlsConfig | None


def _strip_scheme(target: str) -> str:
    # Accept what people paste (http://host:port, grpc://host:port); gRPC targets have no scheme here.
    for scheme in ("http://", "https://", "grpc://", "grpcs://"):
        if target.startswith(scheme):
            return target[len(scheme):].rstrip("/")
    return target


def resolve_settings(
    target: str | None = None,
    api_key: str | None = None,
    api_key_file: str | Path | None = None,
    *,
    tls_ca: str | Path | None = None,
    tls_cert: str | Path | None = None,
    tls_key: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ClientSettings:
    """Settings from explicit values, falling back to the environment and `.run/api-key`."""
    env = os.environ if env is None else env
    resolved_target = _strip_scheme(target or env.get("IBKR_API_URL") or DEFAULT_TARGET)
    key = api_key or env.get("IBKR_API_KEY") or None
    if key is None:
        key_file = api_key_file or env.get("IBKR_API_KEY_FILE")
        if key_file:
            key = Path(key_file).read_text().strip()
        else:
            default = (cwd or Path.cwd()) / DEFAULT_KEY_FILE
            if default.is_file():
                key = default.read_text().strip()
    ca = tls_ca or env.get("IBKR_TLS_CA")
    cert = tls_cert or env.get("IBKR_TLS_CERT")
    private_key = tls_key or env.get("IBKR_TLS_KEY")
    if (cert is None) != (private_key is None):
        raise ValueError("a client certificate and its key go together (IBKR_TLS_CERT and IBKR_TLS_KEY)")
    tls = TlsConfig.from_files(ca, cert, private_key) if (ca or cert) else None
    return ClientSettings(resolved_target, key, tls)
