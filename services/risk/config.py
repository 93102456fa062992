"""Configuration of the risk service, from `IBKR_*` environment variables (typed, validated at start).

Variables (the README copies this table):

| Variable | Default | Meaning |
|---|---|---|
| `IBKR_RISK_GRPC_PORT` | 50052 | gRPC port (0 = ephemeral) |
| `IBKR_RISK_METRICS_PORT` | 9102 | Prometheus port (0 = ephemeral) |
| `IBKR_BRIDGE_ADDRESS` | 127.0.0.1:50053 | the gateway bridge; a comma list for its active/standby pair |
| `IBKR_LEDGER_ADDRESS` | 127.0.0.1:50054 | the ledger, read at start to rebuild positions and open orders |
| `IBKR_DATABASE_URL` | (required) | Postgres; risk owns schema `IBKR_RISK_DB_SCHEMA` |
| `IBKR_REDIS_URL` | redis://127.0.0.1:6379/0 | the bus |
| `IBKR_BUS_STREAM` | ibkr:events | the bus stream risk tails and publishes to |
| `IBKR_BUS_MAXLEN` | 100000 | approximate stream length cap for what risk publishes |
| `IBKR_ACCOUNT_ID` | (none) | the paper account whose state is rebuilt from the ledger at start |
| `IBKR_RISK_DB_SCHEMA` | risk | the Postgres schema (tests use a unique one) |
| `IBKR_RISK_ALLOWED_SYMBOLS` | * | seed policy: comma list of tradable symbols, `*` for all |
| `IBKR_RISK_DENIED_SYMBOLS` | (empty) | seed policy: comma list of restricted symbols |
| `IBKR_RISK_MAX_ORDER_NOTIONAL` | 100000 | seed policy: maximum order notional (USD) |
| `IBKR_RISK_MAX_ORDER_QUANTITY` | (none) | seed policy: maximum order quantity |
| `IBKR_RISK_MAX_WORKING_ORDERS_PER_SIDE` | 20 | seed policy: working orders per contract and side (IB's cap; 0 leaves the rule out) |
| `IBKR_RISK_POLICY_FILE` | (none) | seed policy from a YAML or JSON file (RiskPolicy in proto-JSON form); wins over the two above |
| `IBKR_RISK_REFERENCE_PRICES` | (empty) | `SYM=price,...`: prices for market orders when no fresh quote exists |
| `IBKR_RISK_QUOTE_MAX_AGE_SECONDS` | 10 | seed policy: a quote older than this is never used |
| `IBKR_RISK_QUOTE_LOOKUP` | true | on a market order without a fresh bus quote, ask the bridge's GetQuote |
| `IBKR_RISK_QUOTE_LOOKUP_TIMEOUT_SECONDS` | 1.0 | deadline of that lookup |
| `IBKR_RISK_QUOTE_KEEP_FRESH_SYMBOLS` | 8 | with the lookup on: how many recently traded symbols have their quote looked up again in the background before it goes stale, so their next market order does not wait for a lookup (0: none) |
| `IBKR_RISK_QUOTE_KEEP_FRESH_SECONDS` | 60 | how long after its last market-priced order a symbol's quote is kept fresh |
| `IBKR_RISK_DOWNSTREAM_TIMEOUT_SECONDS` | 5.0 | deadline of calls to the bridge (shortened by the caller's) |
| `IBKR_RISK_LEDGER_TIMEOUT_SECONDS` | 3.0 | deadline of each ledger call at start |

The seed policy (env or file) becomes a new live policy version only when it differs from the seed last
installed; updates through the API are kept across restarts otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from services.common.config import CommonSettings, Port


class RiskSettings(CommonSettings):
    """Settings of `python -m services.risk`."""

    risk_grpc_port: Port = 50052
    risk_metrics_port: Port = 9102
    bridge_address: str = "127.0.0.1:50053"
    ledger_address: str | None = "127.0.0.1:50054"
    database_url: SecretStr | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_stream: str = "ibkr:events"
    bus_maxlen: int = Field(default=100_000, gt=0)
    account_id: str | None = None
    risk_db_schema: str = Field(default="risk", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    risk_allowed_symbols: str = "*"
    risk_denied_symbols: str = ""
    risk_max_order_notional: Decimal = Field(default=Decimal(100000), gt=0)
    risk_max_order_quantity: Decimal | None = Field(default=None, gt=0)
    risk_max_working_orders_per_side: int = Field(default=20, ge=0)
    risk_policy_file: Path | None = None
    risk_reference_prices: str = ""
    risk_quote_max_age_seconds: Decimal = Field(default=Decimal(10), gt=0)
    risk_quote_lookup: bool = True
    risk_quote_lookup_timeout_seconds: float = Field(default=1.0, gt=0)
    risk_quote_keep_fresh_symbols: int = Field(default=8, ge=0)
    risk_quote_keep_fresh_seconds: float = Field(default=60.0, gt=0)
    risk_downstream_timeout_seconds: float = Field(default=5.0, gt=0)
    risk_ledger_timeout_seconds: float = Field(default=3.0, gt=0)

    @field_validator("risk_reference_prices")
    @classmethod
    def _check_reference_prices(cls, value: str) -> str:
        parse_reference_prices(value)
        return value

    @field_validator("risk_policy_file")
    @classmethod
    def _check_policy_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    def allowed_symbols(self) -> frozenset[str]:
        """The allow-list; empty means every symbol (`*`)."""
        return _symbols(self.risk_allowed_symbols, star_means_all=True)

    def denied_symbols(self) -> frozenset[str]:
        return _symbols(self.risk_denied_symbols, star_means_all=False)

    def reference_prices(self) -> dict[str, Decimal]:
        return parse_reference_prices(self.risk_reference_prices)


def _symbols(text: str, *, star_means_all: bool) -> frozenset[str]:
    items = {s.strip().upper() for s in text.split(",") if s.strip()}
    if star_means_all and "*" in items:
        return frozenset()
    return frozenset(items)


def parse_reference_prices(text: str) -> dict[str, Decimal]:
    """`AAPL=190.5, MSFT=410` → {"AAPL": Decimal("190.5"), ...}; a bad entry raises ValueError."""
    prices: dict[str, Decimal] = {}
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        symbol, sep, price = item.partition("=")
        try:
            value = Decimal(price.strip())
        except ArithmeticError:
            value = Decimal(-1)
        if not sep or not symbol.strip() or not value.is_finite() or value <= 0:
            raise ValueError(f"expected SYMBOL=positive price, got {item!r}")
        prices[symbol.strip().upper()] = value
    return prices
