"""The instrument universe: which contracts exist, and how a client's contract query resolves to them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

STOCK_EXCHANGES = "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,LTSE,PEARL,MEMX"
STOCK_ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,DAY,DEACT,DEACTDIS,DIS,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,LOC,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH,POSTONLY,PREOPGRTH,REL,RPI,RTH,SCALE,SNAPMID,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
FX_ORDER_TYPES = "ACTIVETIM,AD,ADJUST,ALERT,ALGO,AVGCOST,BASKET,DAY,DEACT,DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,RELPCTOFS,RTH,SCALE,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"


@dataclass(frozen=True)
class Instrument:
    """One tradable contract."""

    con_id: int
    symbol: str
    sec_type: str
    primary_exchange: str
    currency: str
    min_tick: Decimal
    start_price: Decimal
    long_name: str
    industry: str = ""
    category: str = ""
    stock_type: str = ""
    trading_class: str = ""
    local_symbol: str = ""

    @property
    def is_fx(self) -> bool:
        return self.sec_type == "CASH"

    @property
    def default_exchange(self) -> str:
        return "IDEALPRO" if self.is_fx else "SMART"

    @property
    def valid_exchanges(self) -> str:
        return "IDEALPRO" if self.is_fx else STOCK_EXCHANGES

    @property
    def order_types(self) -> str:
        return FX_ORDER_TYPES if self.is_fx else STOCK_ORDER_TYPES

    @property
    def size_increment(self) -> Decimal:
        return Decimal(1)

    def accepts_exchange(self, exchange: str) -> bool:
        if not exchange:
            return True
        if exchange in ("SMART", self.primary_exchange):
            return True
        return exchange in self.valid_exchanges.split(",") or (
            exchange == "ISLAND" and self.primary_exchange == "NASDAQ"
        )


class Universe:
    """All instruments, indexed by conId and symbol."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self._by_con_id = {i.con_id: i for i in instruments}
        self._by_symbol: dict[str, list[Instrument]] = {}
        for inst in instruments:
            self._by_symbol.setdefault(inst.symbol.upper(), []).append(inst)
            if inst.local_symbol:
                self._by_symbol.setdefault(inst.local_symbol.upper(), []).append(inst)

    @classmethod
    def load(cls, path: Path) -> Universe:
        data = json.loads(Path(path).read_text())
        items = []
        for raw in data["instruments"]:
            items.append(
                Instrument(
                    con_id=int(raw["conId"]),
                    symbol=raw["symbol"],
                    sec_type=raw.get("secType", "STK"),
                    primary_exchange=raw["primaryExchange"],
                    currency=raw.get("currency", "USD"),
                    min_tick=Decimal(raw["minTick"]),
                    start_price=Decimal(raw["price"]),
                    long_name=raw.get("longName", raw["symbol"]).replace("\\", "/"),
                    industry=raw.get("industry", ""),
                    category=raw.get("category", ""),
                    stock_type=raw.get("stockType", ""),
                    trading_class=raw.get("tradingClass", raw["symbol"]),
                    local_symbol=raw.get("localSymbol", raw["symbol"]),
                )
            )
        return cls(items)

    def __iter__(self):
        return iter(self._by_con_id.values())

    def __len__(self) -> int:
        return len(self._by_con_id)

    def by_con_id(self, con_id: int) -> Instrument | None:
        return self._by_con_id.get(con_id)

    def by_symbol(self, symbol: str) -> Instrument | None:
        found = self._by_symbol.get(symbol.upper())
        return found[0] if found else None

    def resolve(
        self,
        *,
        con_id: int = 0,
        symbol: str = "",
        sec_type: str = "",
        exchange: str = "",
        primary_exchange: str = "",
        currency: str = "",
        local_symbol: str = "",
    ) -> list[Instrument]:
        """Instruments matching a client's contract fields (empty fields match anything)."""
        if con_id:
            inst = self._by_con_id.get(con_id)
            candidates = [inst] if inst else []
        elif symbol or local_symbol:
            candidates = list(self._by_symbol.get((symbol or local_symbol).upper(), []))
        else:
            return []
        out = []
        for inst in candidates:
            if symbol and inst.symbol.upper() != symbol.upper() and inst.local_symbol.upper() != symbol.upper():
                continue
            if sec_type and sec_type != inst.sec_type:
                continue
            if currency and currency.upper() != inst.currency:
                continue
            if primary_exchange and primary_exchange not in (inst.primary_exchange, "ISLAND"):
                continue
            if local_symbol and local_symbol.upper() != inst.local_symbol.upper():
                continue
            if not inst.accepts_exchange(exchange):
                continue
            if inst not in out:
                out.append(inst)
        return out
