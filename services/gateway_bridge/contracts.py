"""Instrument → qualified IB contract, cached (qualification is one paced, deadlined IB request)."""

from __future__ import annotations

from ib_async import Contract
from ibkr.trading.v1 import instrument_pb2

from services.common.errors import NotFound, ResourceExhausted
from services.gateway_bridge.domain.farms import FarmBook, Kind
from services.gateway_bridge.domain.pacing import PacingRejected
from services.gateway_bridge.ib.orders import build_contract, instrument_from_contract
from services.gateway_bridge.ib.session import IbSession


class ContractResolver:
    """Qualifies instruments through the session; unknown ones are NOT_FOUND (IB error 200)."""

    def __init__(self, session: IbSession, farms: FarmBook | None = None) -> None:
        self._session = session
        self.farms = farms or FarmBook()
        self._cache: dict[tuple[str, int, str, str, int], Contract] = {}

    async def resolve(self, inst: instrument_pb2.Instrument, timeout: float | None = None,
                      field: str = "instrument.symbol") -> Contract:
        key = (inst.symbol.upper(), inst.security_type, inst.exchange, inst.currency, inst.con_id)
        if key not in self._cache:
            self.farms.require(Kind.DATA_FARM_KIND_SECURITY_DEFINITION)  # fail fast, not at the deadline
            try:
                contract = await self._session.qualify(build_contract(inst), timeout)
            except PacingRejected as err:
                raise ResourceExhausted("PACING_LIMIT", str(err)) from None
            if contract is None:
                symbol = inst.symbol or str(inst.con_id)
                raise NotFound("UNKNOWN_SYMBOL", f"unknown instrument: {symbol}",
                               metadata={"symbol": symbol, "field": field})
            self._cache[key] = contract
        return self._cache[key]

    @staticmethod
    def instrument(contract: Contract) -> instrument_pb2.Instrument:
        return instrument_from_contract(contract)
