"""Configuration of the gateway bridge, from `IBKR_*` environment variables (typed, frozen, validated).

Variables (besides the common ones in `services.common.config`):

- `IBKR_BRIDGE_GRPC_PORT` (50053): the GatewayService port; 0 picks a free one.
- `IBKR_BRIDGE_METRICS_PORT` (9103): the Prometheus endpoint; 0 picks a free one.
- `IBKR_DATABASE_URL` (required): Postgres DSN; the bridge owns schema `bridge`.
- `IBKR_REDIS_URL` (redis://127.0.0.1:6379/0): the bus and the active/standby lease.
- `IBKR_BUS_STREAM` (ibkr:events), `IBKR_BUS_MAXLEN` (1000000): the Redis stream events go to.
- `IBKR_IB_HOST` (127.0.0.1), `IBKR_IB_PORT` (4002), `IBKR_IB_CLIENT_ID` (1): the IB Gateway/TWS API socket.
- `IBKR_ACCOUNT_ID` (DU1234567): the account orders go to when a request leaves it empty.
- `IBKR_ALLOW_LIVE_TRADING` (false): allow live ports (4001/7496) and non-DU accounts. Paper only otherwise.
- `IBKR_BRIDGE_PACING_RATE` (38) and `IBKR_BRIDGE_PACING_BURST` (4): the token bucket in front of every IB
  request; any one second of sending sees at most rate + burst = 42 messages, which leaves room for network
  jitter bunching them on arrival while staying under 45 there (IB's limit is 50; ib_async throttles at 45).
- `IBKR_BRIDGE_PACING_QUEUE` (50): requests allowed to wait for a token; beyond it RESOURCE_EXHAUSTED at once.
- `IBKR_BRIDGE_IB_REQUEST_TIMEOUT_SECONDS` (5): deadline of every IB request (contract details, snapshots,
  executions...) when the caller's deadline is not shorter; expiry is DEADLINE_EXCEEDED.
- `IBKR_BRIDGE_ACK_TIMEOUT_SECONDS` (5): how long PlaceOrder waits for the broker's acknowledgement before
  returning the order as PENDING_SUBMIT (it is not an error: the order is in flight).
- `IBKR_BRIDGE_CONNECT_TIMEOUT_SECONDS` (10): connect + API start-up sync deadline.
- `IBKR_BRIDGE_RECONNECT_INITIAL_SECONDS` (0.5), `IBKR_BRIDGE_RECONNECT_MAX_SECONDS` (15): reconnect backoff
  (exponential, with jitter).
- `IBKR_BRIDGE_STALENESS_SECONDS` (30): no message from IB for this long → probe with reqCurrentTime; no
  answer within the request timeout → the socket is treated as dead and reconnected.
- `IBKR_BRIDGE_COMMISSION_WAIT_SECONDS` (2): how long a fill waits for its commission report before it is
  published without it (the commission then follows as its own event).
- `IBKR_BRIDGE_MARKET_DATA_LINES` (100): the market-data line budget.
- `IBKR_BRIDGE_LEASE_KEY` (`<IBKR_BUS_STREAM>:bridge-lease`), `IBKR_BRIDGE_LEASE_TTL_SECONDS` (5): the
  active/standby lease in Redis; only its holder connects to IB and reports SERVING. The default follows the
  bus stream, so two suites sharing one Redis (each with its own stream) never share a lease.
- `IBKR_BRIDGE_INTENT_SYNCHRONOUS_COMMIT` (true): the order intent is committed with a WAL flush before the
  order is sent, so it survives even a Postgres crash. `false` saves the flush on the order path (a few ms
  on a busy disk) and still survives any crash of the bridge itself, but a Postgres crash in the ~200 ms
  after the commit could lose an intent whose order was sent (reconciliation then adopts it as EXTERNAL).
- `IBKR_BRIDGE_INSTANCE_ID` (hostname:pid): this replica's name in the lease and in events.
"""

from __future__ import annotations

import os
import socket

from pydantic import Field, SecretStr

from services.common.config import CommonSettings, Port


def _default_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class BridgeSettings(CommonSettings):
    """Settings of one bridge replica (see the module docstring for each variable)."""

    bridge_grpc_port: Port = 50053
    bridge_metrics_port: Port = 9103
    database_url: SecretStr
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_stream: str = "ibkr:events"
    bus_maxlen: int = Field(default=1_000_000, gt=0)
    ib_host: str = "127.0.0.1"
    ib_port: Port = 4002
    ib_client_id: int = Field(default=1, ge=0)
    account_id: str = Field(default="DU1234567", pattern=r"^[A-Z]{1,3}[0-9]{1,12}$")
    allow_live_trading: bool = False
    bridge_pacing_rate: float = Field(default=38.0, gt=0, le=50)
    bridge_pacing_burst: float = Field(default=4.0, ge=1, le=50)
    bridge_pacing_queue: int = Field(default=50, ge=0)
    bridge_ib_request_timeout_seconds: float = Field(default=5.0, gt=0)
    bridge_ack_timeout_seconds: float = Field(default=5.0, gt=0)
    bridge_connect_timeout_seconds: float = Field(default=10.0, gt=0)
    bridge_reconnect_initial_seconds: float = Field(default=0.5, gt=0)
    bridge_reconnect_max_seconds: float = Field(default=15.0, gt=0)
    bridge_staleness_seconds: float = Field(default=30.0, gt=0)
    bridge_commission_wait_seconds: float = Field(default=2.0, ge=0)
    bridge_market_data_lines: int = Field(default=100, ge=1)
    bridge_lease_key: str = ""
    bridge_lease_ttl_seconds: float = Field(default=5.0, gt=0)
    bridge_intent_synchronous_commit: bool = True
    bridge_instance_id: str = Field(default_factory=_default_instance_id)

    @property
    def lease_key(self) -> str:
        """The lease key in use (IBKR_BRIDGE_LEASE_KEY, else derived from the bus stream)."""
        return self.bridge_lease_key or f"{self.bus_stream}:bridge-lease"
