"""Quotes for every instrument: a seeded random walk by default, prices and paths settable from outside.

Pure state, no I/O and no timers: the simulator calls `step()` on its tick interval and `set_price()` /
`set_quote()` / `set_path()` from the control service. Every instrument has its own `random.Random`
seeded from (seed, conId), so one instrument's walk does not depend on how often another one moved.
Prices are Decimal multiples of the instrument's minimum tick; the randomness only chooses how many ticks.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from .instruments import Instrument, Universe

SPREAD_BPS = Decimal(1)  # one basis point of the price, at least one tick


def round_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    return (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick


def on_tick(price: Decimal, tick: Decimal) -> bool:
    return (price / tick) == (price / tick).to_integral_value()


@dataclass
class Quote:
    """Top of book and session statistics of one instrument."""

    con_id: int
    bid: Decimal
    ask: Decimal
    last: Decimal
    bid_size: Decimal
    ask_size: Decimal
    last_size: Decimal
    volume: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal  # the prior session's close
    seq: int = 0  # bumps on every change

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


class Market:
    """Every instrument's quote and its price generator."""

    def __init__(self, universe: Universe, seed: int, volatility_bps: Decimal = Decimal(5)) -> None:
        self.universe = universe
        self.seed = seed
        self.volatility_bps = volatility_bps
        self._rngs: dict[int, random.Random] = {}
        self._paths: dict[int, deque[Decimal]] = {}
        self.quotes: dict[int, Quote] = {}
        for inst in universe:
            self._rngs[inst.con_id] = random.Random(f"{seed}:{inst.con_id}")
            self.quotes[inst.con_id] = self._initial_quote(inst)

    def _sizes(self, inst: Instrument) -> tuple[Decimal, Decimal, Decimal]:
        rng = self._rngs[inst.con_id]
        lot = Decimal(100000) if inst.is_fx else Decimal(100)
        return (Decimal(rng.randint(1, 20)) * lot, Decimal(rng.randint(1, 20)) * lot,
                Decimal(rng.randint(1, 5)) * lot)

    def _initial_quote(self, inst: Instrument) -> Quote:
        price = round_to_tick(inst.start_price, inst.min_tick)
        bid, ask = self._spread(inst, price)
        bs, as_, ls = self._sizes(inst)
        return Quote(inst.con_id, bid, ask, price, bs, as_, ls, Decimal(0), price, price, price, price)

    @staticmethod
    def _spread(inst: Instrument, last: Decimal) -> tuple[Decimal, Decimal]:
        tick = inst.min_tick
        ticks = max(1, int(last * SPREAD_BPS / Decimal(10000) / tick))
        below = (ticks + 1) // 2
        bid = max(tick, last - below * tick)
        return bid, bid + ticks * tick

    def quote(self, con_id: int) -> Quote:
        return self.quotes[con_id]

    def _apply_last(self, inst: Instrument, price: Decimal, *, trade: bool = True) -> Quote:
        q = self.quotes[inst.con_id]
        price = max(inst.min_tick, round_to_tick(price, inst.min_tick))
        q.bid, q.ask = self._spread(inst, price)
        q.bid_size, q.ask_size, q.last_size = self._sizes(inst)
        q.last = price
        if trade:
            q.volume += q.last_size
        q.high = max(q.high, price)
        q.low = min(q.low, price)
        q.seq += 1
        return q

    def step(self, con_ids: list[int] | None = None) -> list[int]:
        """Advance the given instruments (all by default) one step; returns those that changed."""
        changed = []
        for con_id in con_ids if con_ids is not None else list(self.quotes):
            inst = self.universe.by_con_id(con_id)
            if inst is None:
                continue
            path = self._paths.get(con_id)
            if path:
                price = path.popleft()
                if not path:
                    del self._paths[con_id]
            else:
                q = self.quotes[con_id]
                sigma_ticks = float(q.last * self.volatility_bps / Decimal(10000) / inst.min_tick)
                moved = round(self._rngs[con_id].gauss(0.0, sigma_ticks)) if sigma_ticks > 0 else 0
                price = q.last + moved * inst.min_tick
            self._apply_last(inst, price)
            changed.append(con_id)
        return changed

    def set_price(self, con_id: int, price: Decimal) -> Quote:
        """Trade at `price` now: last moves there and the book re-centres around it."""
        return self._apply_last(self._inst(con_id), price)

    def set_quote(
        self,
        con_id: int,
        *,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
        last: Decimal | None = None,
        bid_size: Decimal | None = None,
        ask_size: Decimal | None = None,
    ) -> Quote:
        """Set any part of the book explicitly (no re-centring); unspecified parts keep their value."""
        inst = self._inst(con_id)
        q = self.quotes[con_id]
        if last is not None:
            q.last = round_to_tick(last, inst.min_tick)
            q.high, q.low = max(q.high, q.last), min(q.low, q.last)
        if bid is not None:
            q.bid = round_to_tick(bid, inst.min_tick)
        if ask is not None:
            q.ask = round_to_tick(ask, inst.min_tick)
        if bid_size is not None:
            q.bid_size = bid_size
        if ask_size is not None:
            q.ask_size = ask_size
        q.seq += 1
        return q

    def set_path(self, con_id: int, prices: list[Decimal]) -> None:
        """The next `step()`s of this instrument take these prices in order, then the walk resumes."""
        self._inst(con_id)
        if prices:
            self._paths[con_id] = deque(prices)
        else:
            self._paths.pop(con_id, None)

    def pending_path(self, con_id: int) -> int:
        return len(self._paths.get(con_id, ()))

    def roll_session(self) -> None:
        """End of day: today's last becomes the prior close; open/high/low/volume start afresh."""
        for q in self.quotes.values():
            q.close = q.open = q.high = q.low = q.last
            q.volume = Decimal(0)
            q.seq += 1

    def _inst(self, con_id: int) -> Instrument:
        inst = self.universe.by_con_id(con_id)
        if inst is None:
            raise KeyError(con_id)
        return inst
