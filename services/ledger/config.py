"""The ledger's settings, from `IBKR_*` environment variables (see `services.common.config`).

| Variable | Type | Default | Meaning |
|---|---|---|---|
| `IBKR_LEDGER_GRPC_PORT` | port | 50054 | gRPC port (0: ephemeral) |
| `IBKR_LEDGER_METRICS_PORT` | port | 9104 | Prometheus `/metrics` port (0: ephemeral) |
| `IBKR_DATABASE_URL` | secret DSN | required | Postgres; the ledger owns one schema in it |
| `IBKR_REDIS_URL` | URL | `redis://127.0.0.1:6379/0` | Redis holding the bus stream |
| `IBKR_BUS_STREAM` | str | `ibkr:events` | the bus stream consumed (dead letters go to `<stream>:dead`) |
| `IBKR_BUS_MAXLEN` | int | 1000000 | approximate length cap of the stream when the ledger publishes (drift events); as the bridge's |
| `IBKR_LEDGER_DB_SCHEMA` | str | `ledger` | the Postgres schema migrated and used |
| `IBKR_LEDGER_DB_POOL_SIZE` | int | 4 | Postgres connections (ingest + queries) |
| `IBKR_LEDGER_CONSUMER_GROUP` | str | `ledger` | the Redis consumer group |
| `IBKR_LEDGER_CONSUMER_NAME` | str | `ledger-<hostname>` | this consumer; stable across restarts so its unacked entries come back to it |
| `IBKR_LEDGER_BATCH_SIZE` | int | 500 | most bus entries booked per Postgres transaction |
| `IBKR_LEDGER_BATCH_WAIT_MS` | int | 100 | how long a read blocks waiting for entries |
| `IBKR_LEDGER_CLAIM_IDLE_MS` | int | 30000 | a pending entry idle this long is claimed from its (dead) consumer |
| `IBKR_LEDGER_CLAIM_INTERVAL_SECONDS` | float | 5 | how often to look for such entries |
| `IBKR_LEDGER_MAX_DELIVERIES` | int | 5 | deliveries after which an entry that cannot be booked is dead-lettered |
| `IBKR_LEDGER_LAG_INTERVAL_SECONDS` | float | 5 | how often the lag gauges are refreshed |
| `IBKR_LEDGER_PAGE_TOKEN_SECRET` | secret | `IBKR_INTERNAL_TOKEN`, else random per process | HMAC key of page tokens |
| `IBKR_RISK_ADDRESS` | host:port | `127.0.0.1:50052` | risk, whose read relay of the bridge answers the broker's positions and cash (only risk reaches the bridge) |
| `IBKR_ACCOUNT_ID` | str | unset | the account reconciled periodically (none: only on request) |
| `IBKR_LEDGER_RECONCILE_INTERVAL_SECONDS` | float | 60 | periodic reconciliation (0: only on request) |
| `IBKR_LEDGER_BRIDGE_DEADLINE_SECONDS` | float | 5 | deadline of each call for the broker's figures (through risk to the bridge) |
| `IBKR_LEDGER_FAILPOINT_KILL_AFTER_COMMITS` | int | 0 (off) | fault drills only: SIGKILL the ledger after N batch commits, before their ack |
"""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr

from services.common.config import CommonSettings, Port


class LedgerSettings(CommonSettings):
    """Settings of `python -m services.ledger` (table in the module docstring)."""

    def consumer_name(self) -> str:
        """This process's consumer in the group: configured, else `ledger-<hostname>` (stable across restarts)."""
        return self.ledger_consumer_name or f"ledger-{socket.gethostname()}"

    ledger_grpc_port: Port = 50054
    ledger_metrics_port: Port = 9104
    database_url: SecretStr
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_stream: str = "ibkr:events"
    bus_maxlen: int = Field(default=1_000_000, gt=0)
    ledger_db_schema: str = Field(default="ledger", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    ledger_db_pool_size: int = Field(default=4, ge=2, le=64)
    ledger_consumer_group: str = "ledger"
    ledger_consumer_name: str | None = Field(default=None, min_length=1)
    ledger_batch_size: int = Field(default=500, ge=1, le=10_000)
    ledger_batch_wait_ms: int = Field(default=100, ge=1, le=60_000)
    ledger_claim_idle_ms: int = Field(default=30_000, ge=1)
    ledger_claim_interval_seconds: float = Field(default=5.0, gt=0)
    ledger_max_deliveries: int = Field(default=5, ge=1)
    ledger_lag_interval_seconds: float = Field(default=5.0, gt=0)
    ledger_page_token_secret: SecretStr | None = None
    risk_address: str = "127.0.0.1:50052"
    account_id: str | None = None
    ledger_reconcile_interval_seconds: float = Field(default=60.0, ge=0)
    ledger_bridge_deadline_seconds: float = Field(default=5.0, gt=0)
    ledger_failpoint_kill_after_commits: int = Field(default=0, ge=0)
