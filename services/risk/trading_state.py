"""The kill switch: ACTIVE / REDUCING / HALTED per account and globally, persisted in Postgres and
announced on the bus (TradingStateChange). The effective state of an account is the stricter of its own
and the global one. Reads are synchronous dict lookups (they sit on the order path); writes persist first,
then take effect, then publish.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from ibkr.trading.v1 import event_pb2, risk_types_pb2

from services.risk.core.model import TradingState
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher, envelope
from services.risk.store import RiskStore, StoredState

GLOBAL = ""


@dataclass(frozen=True, slots=True)
class StateChange:
    """The outcome of a `set`: the new stored state and the one it replaced."""

    current: StoredState
    previous: TradingState


class TradingStates:
    """Per-scope states ('' = global) with their persistence."""

    def __init__(self, store: RiskStore | None, publisher: Publisher, metrics: RiskMetrics) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._states: dict[str, StoredState] = {}
        self._lock = asyncio.Lock()  # serializes writers so history rows follow the order of changes

    async def load(self, accounts: tuple[str, ...] = ()) -> None:
        """Read the persisted states; the gauge starts with the global scope and `accounts` (ACTIVE unless
        stored otherwise), so dashboards see the kill switch before anyone touches it."""
        if self._store is not None:
            for s in await self._store.trading_states():
                self._states[s.scope] = s
        for scope in {GLOBAL, *accounts, *self._states}:
            self._metrics.trading_state.labels(scope or "global").set(int(self.own(scope)))

    def own(self, scope: str) -> TradingState:
        s = self._states.get(scope)
        return s.state if s is not None else TradingState.ACTIVE

    def effective(self, account_id: str) -> TradingState:
        """The stricter of the account's state and the global one."""
        g, a = self._states.get(GLOBAL), self._states.get(account_id)
        gs = g.state if g is not None else TradingState.ACTIVE
        if a is None:
            return gs
        return max(gs, a.state)

    def stored(self, scope: str) -> StoredState:
        return self._states.get(scope) or StoredState(scope, TradingState.ACTIVE, "default", "", False,
                                                      datetime.fromtimestamp(0, UTC))

    async def set(self, scope: str, state: TradingState, *, reason: str, changed_by: str, automatic: bool = False,
                  cancel_open_orders: bool = False) -> StateChange:
        async with self._lock:
            previous = self.own(scope)
            when = datetime.now(UTC)
            if self._store is not None:
                when = await self._store.set_trading_state(scope, previous, state, reason, changed_by, automatic,
                                                           cancel_open_orders)
            current = StoredState(scope, state, reason, changed_by, automatic, when)
            self._states[scope] = current
            self._metrics.trading_state.labels(scope or "global").set(int(state))
        pb = self.to_proto(scope)
        change = event_pb2.TradingStateChange(trading_state=pb, previous_state=int(previous),
                                              cancel_open_orders=cancel_open_orders)
        self._publisher.event(envelope(scope, "", trading_state_change=change), "trading_state_change")
        return StateChange(current, previous)

    def to_proto(self, scope: str) -> risk_types_pb2.AccountTradingState:
        s = self.stored(scope)
        ts = timestamp_pb2.Timestamp()
        ts.FromDatetime(s.change_time)
        effective = self.effective(scope) if scope else s.state
        return risk_types_pb2.AccountTradingState(
            account_id=scope, state=int(s.state), effective_state=int(effective), reason=s.reason,
            changed_by=s.changed_by, automatic=s.automatic, change_time=ts)
