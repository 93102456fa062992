"""The data farms of the current IB session, as their notices reported them (see `ib.farms`).

Readiness follows from them by kind: while every security-definition farm reported is broken, a new
instrument cannot be qualified, so requests needing one fail fast UNAVAILABLE instead of waiting for a
contract-details deadline; likewise quotes while every market-data farm is broken. A kind no notice has
mentioned yet counts as up (IB only reports farms it has touched).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from ibkr.gateway.v1 import gateway_pb2

from services.common.errors import Unavailable
from services.gateway_bridge.ib.farms import FARM_NOTICES, farm_name

Kind = gateway_pb2.DataFarmKind
_REASONS = {Kind.DATA_FARM_KIND_SECURITY_DEFINITION: ("SECDEF_FARM_UNAVAILABLE", "qualify a new instrument"),
            Kind.DATA_FARM_KIND_MARKET_DATA: ("MARKET_DATA_FARM_UNAVAILABLE", "get market data")}


@dataclasses.dataclass(frozen=True)
class Farm:
    name: str
    kind: int
    connected: bool
    code: int
    time: dt.datetime


class FarmBook:
    """Latest notice per farm name; cleared at the start of every IB session."""

    def __init__(self) -> None:
        self.farms: dict[str, Farm] = {}

    def clear(self) -> None:
        self.farms.clear()

    def on_notice(self, code: int, message: str) -> Farm | None:
        """Record a farm notice; None when `code` is not one."""
        known = FARM_NOTICES.get(code)
        if known is None:
            return None
        kind, connected = known
        farm = Farm(farm_name(message), kind, connected, code, dt.datetime.now(dt.UTC))
        self.farms[farm.name] = farm
        return farm

    def usable(self, kind: int) -> bool:
        """False only when farms of this kind were reported and every one of them is broken."""
        of_kind = [f for f in self.farms.values() if f.kind == kind]
        return not of_kind or any(f.connected for f in of_kind)

    def require(self, kind: int) -> None:
        """UNAVAILABLE (retryable) naming the farm while the kind is unusable."""
        if self.usable(kind):
            return
        reason, what = _REASONS[kind]
        names = ",".join(sorted(f.name for f in self.farms.values() if f.kind == kind))
        raise Unavailable(reason, f"IB reports its data farm connection broken ({names}): cannot {what} now",
                          metadata={"farm": names})
