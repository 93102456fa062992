"""Typed configuration of the simulator, read from `IBKR_SIM_*` environment variables.

Every value has a default, so `python -m services.ib_gateway_sim` runs with no environment at all.
Tests build `SimConfig(...)` directly (port 0 everywhere) instead of touching the environment.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.common.config import CommonSettings, Port, load_settings

DEFAULT_UNIVERSE = Path(__file__).with_name("universe.json")

Session = Literal["rth", "extended", "closed"]


class SimConfig(CommonSettings):
    """Settings of one simulator instance.

    Commission schedule (IB "fixed" pricing for US stocks, documented in the README):
    `commission_per_share` per share, at least `commission_min` per order, at most
    `commission_max_pct` of the order's traded value. FX uses `fx_commission_bps` of the traded value with
    the same minimum.
    """

    model_config = SettingsConfigDict(**CommonSettings.model_config, populate_by_name=True)

    sim_tws_port: Port = 4002
    """TWS API socket of the simulator (IB Gateway's paper port); 0 = ephemeral."""
    sim_grpc_port: Port = 50055
    """gRPC port of the simulator's control service (ibkr.sim.v1.SimulatorControlService)."""
    sim_metrics_port: Port = 9105
    """Prometheus metrics port of the simulator."""
    sim_seed: int = 42
    """Seed of every random choice (prices, sizes, ids): the same seed and actions reproduce a run."""
    sim_account_id: str = Field(
        default="DU1234567",
        validation_alias=AliasChoices("IBKR_SIM_ACCOUNT_ID", "IBKR_ACCOUNT_ID"),
        pattern=r"^[A-Z]{1,3}[0-9]{1,12}$",
    )
    """Paper account the simulator serves (falls back to IBKR_ACCOUNT_ID)."""
    sim_starting_cash: Decimal = Field(default=Decimal(1000000), ge=0)
    """Starting cash of the simulated account, in the base currency."""
    sim_base_currency: str = "USD"
    """Base currency of the simulated account."""
    sim_universe_path: Path | None = None
    """Instrument file (JSON); unset = the universe.json shipped with the simulator."""
    sim_tick_interval_ms: int = Field(default=250, ge=0)
    """Random-walk period; 0 disables automatic ticks (prices move only through the control service)."""
    sim_volatility_bps: Decimal = Field(default=Decimal(5), ge=0)
    """Standard deviation of one random-walk step, in basis points of the price."""
    sim_commission_per_share: Decimal = Field(default=Decimal("0.005"), ge=0)
    """Stock commission per share (IB fixed pricing), in USD."""
    sim_commission_min: Decimal = Field(default=Decimal("1.00"), ge=0)
    """Minimum commission per order, in USD (later partial fills pay only the difference)."""
    sim_commission_max_pct: Decimal = Field(default=Decimal("1.0"), ge=0)
    """Maximum stock commission, in percent of the order's traded value."""
    sim_fx_commission_bps: Decimal = Field(default=Decimal("0.2"), ge=0)
    """FX commission in basis points of the traded value (same per-order minimum)."""
    sim_margin_multiplier: Decimal = Field(default=Decimal(4), gt=0)
    """Buying power = available funds x multiplier; initial margin = gross position value / multiplier."""
    sim_session: Session = "rth"
    """Trading session at start: rth (everything trades), extended (only outsideRth limit orders), closed."""
    sim_server_version: int = Field(default=178, ge=157, le=178)
    """Highest TWS API server version offered (clients get min(their max, this))."""
    sim_first_order_id: int = Field(default=1, ge=1)
    """First nextValidId handed to clients."""
    sim_account_push_interval_ms: int = Field(default=1000, ge=0)
    """How often price-driven portfolio / P&L updates are pushed (fills push at once); 0 disables them."""

    @field_validator("sim_session", mode="before")
    @classmethod
    def _lower_session(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @classmethod
    def for_tests(cls, **overrides: object) -> SimConfig:
        """Ports 0 (ephemeral), no automatic ticks (prices move only when told), fast P&L pushes."""
        values: dict[str, object] = {
            "sim_tws_port": 0,
            "sim_grpc_port": 0,
            "sim_metrics_port": 0,
            "sim_tick_interval_ms": 0,
            "sim_account_push_interval_ms": 100,
        }
        values.update(overrides)
        return cls.model_validate(values)


def load() -> SimConfig:
    """Read and validate the environment (exit status 1 naming the bad variable on error)."""
    return load_settings(SimConfig)
