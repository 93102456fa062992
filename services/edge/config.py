"""Edge configuration: every `IBKR_EDGE_*` variable, typed, with its default and why it exists.

| variable | default | meaning |
|---|---|---|
| `IBKR_EDGE_GRPC_PORT` | 50051 | public gRPC port (0 = ephemeral, tests) |
| `IBKR_EDGE_METRICS_PORT` | 9101 | Prometheus `/metrics` port (0 = ephemeral) |
| `IBKR_EDGE_API_KEYS_FILE` | `.run/api-keys.json` | hashed API keys (`python -m services.edge.keys`); its pepper is `<file>.pepper` |
| `IBKR_EDGE_TLS_CERT_FILE` | unset | PEM server certificate chain; with `_KEY_FILE`, turns TLS on |
| `IBKR_EDGE_TLS_KEY_FILE` | unset | PEM private key of that certificate |
| `IBKR_EDGE_TLS_CLIENT_CA_FILE` | unset | PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS) |
| `IBKR_EDGE_RATE_LIMIT_PER_SECOND` | 50 | sustained RPCs per second per API key (token bucket); 0 disables |
| `IBKR_EDGE_RATE_LIMIT_BURST` | 100 | token bucket size per key |
| `IBKR_EDGE_MAX_STREAMS_PER_KEY` | 16 | concurrent server streams (events + quotes) per API key |
| `IBKR_EDGE_MAX_MESSAGE_BYTES` | 4194304 | largest request or response message |
| `IBKR_EDGE_DOWNSTREAM_TIMEOUT_SECONDS` | 5 | deadline on every call to risk, ledger, bridge (a shorter client deadline wins) |
| `IBKR_EDGE_HEARTBEAT_SECONDS` | 5 | idle time after which an event stream sends a heartbeat frame |
| `IBKR_EDGE_SUBSCRIBER_QUEUE_SIZE` | 1024 | events buffered per stream subscriber; a subscriber whose queue overflows is cut |
| `IBKR_EDGE_BUS_READ_COUNT` | 500 | entries per XREAD of the one bus reader |
| `IBKR_EDGE_BUS_BLOCK_MS` | 1000 | how long the bus reader blocks waiting for new entries |
| `IBKR_EDGE_QUOTE_CONFLATE_MS` | 0 | minimum interval between quote frames per instrument per subscriber (0: latest-wins only) |

Common ones (`IBKR_LOG_LEVEL`, `IBKR_BIND_HOST`, …), `IBKR_REDIS_URL`, `IBKR_BUS_STREAM`, the peer addresses
and `IBKR_INTERNAL_TOKEN` come from `CommonSettings` and the team brief.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from services.common.config import CommonSettings, Port


class EdgeSettings(CommonSettings):
    """The edge's settings; field `foo` is read from `IBKR_FOO`."""

    edge_grpc_port: Port = 50051
    edge_metrics_port: Port = 9101
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_stream: str = "ibkr:events"
    risk_address: str = "127.0.0.1:50052"
    ledger_address: str = "127.0.0.1:50054"

    edge_api_keys_file: Path = Path(".run/api-keys.json")
    edge_tls_cert_file: Path | None = None
    edge_tls_key_file: Path | None = None
    edge_tls_client_ca_file: Path | None = None

    edge_rate_limit_per_second: float = Field(default=50.0, ge=0.0)
    edge_rate_limit_burst: int = Field(default=100, ge=1)
    edge_max_streams_per_key: int = Field(default=16, ge=1)
    edge_max_message_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    edge_downstream_timeout_seconds: float = Field(default=5.0, gt=0.0)
    edge_heartbeat_seconds: float = Field(default=5.0, gt=0.0)
    edge_subscriber_queue_size: int = Field(default=1024, ge=1)
    edge_bus_read_count: int = Field(default=500, ge=1)
    edge_bus_block_ms: int = Field(default=1000, ge=1)
    edge_quote_conflate_ms: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _tls_pair(self) -> EdgeSettings:
        if (self.edge_tls_cert_file is None) != (self.edge_tls_key_file is None):
            raise ValueError("IBKR_EDGE_TLS_CERT_FILE and IBKR_EDGE_TLS_KEY_FILE must be set together")
        if self.edge_tls_client_ca_file is not None and self.edge_tls_cert_file is None:
            raise ValueError("IBKR_EDGE_TLS_CLIENT_CA_FILE needs IBKR_EDGE_TLS_CERT_FILE and _KEY_FILE")
        return self

    @property
    def tls_enabled(self) -> bool:
        """Whether the public port speaks TLS."""
        return self.edge_tls_cert_file is not None
