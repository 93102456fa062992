"""Turning a batch of new fills, corrections and late commissions into journal entries. Pure.

Given the current position states and the fills to book in stream order, produce the journal entries and
the position states after them. The store does the I/O around it (locks, reads, writes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

from services.ledger import journal
from services.ledger.journal import EntryDraft, Posting
from services.ledger.positions import PositionState, apply_fill
from services.ledger.records import FillRecord

PositionKey = tuple[str, str]  # (account_id, instrument_key)


def position_delta(postings: Iterable[Posting]) -> PositionState:
    """What an entry changes in a position: quantity, cost, fees and IB realized P&L (commissions in)."""
    qty = cost = fees = realized = Decimal(0)
    for p in postings:
        kind = p.account.kind
        if kind == journal.POSITION_QTY:
            qty += p.amount
        elif kind == journal.POSITION_COST:
            cost += p.amount
        elif kind == journal.POSITION_FEES:
            fees += p.amount
        elif kind in (journal.REALIZED_PNL, journal.COMMISSION):
            realized -= p.amount
    return PositionState(qty, cost, fees, realized)


def add(state: PositionState, delta: PositionState) -> PositionState:
    """Position state plus a delta."""
    return PositionState(state.quantity + delta.quantity, state.cost_basis + delta.cost_basis,
                         state.cost_fees + delta.cost_fees, state.realized_pnl + delta.realized_pnl)


@dataclasses.dataclass(frozen=True)
class Booked:
    """One entry to write, with what it is about (for the daily P&L roll-up)."""

    entry: EntryDraft
    event_time: datetime
    currency: str


@dataclasses.dataclass
class Booking:
    """The running result of booking a batch."""

    positions: dict[PositionKey, PositionState]
    booked: list[Booked] = dataclasses.field(default_factory=list)
    commission_booked: list[str] = dataclasses.field(default_factory=list)

    def _post(self, key: PositionKey, entry: EntryDraft, event_time: datetime, currency: str) -> None:
        self.positions[key] = add(self.positions.get(key, PositionState()), position_delta(entry.postings))
        self.booked.append(Booked(entry, event_time, currency))

    def book_fill(self, fill: FillRecord, commission: tuple[Decimal, str] | None) -> None:
        """Book one execution; a commission in the trade currency is capitalized/expensed with it (IB style),
        one in another currency gets its own entry."""
        key = (fill.account_id, fill.instrument_key)
        state = self.positions.get(key, PositionState())
        inline = commission[0] if commission and commission[1] == fill.currency else Decimal(0)
        effect = apply_fill(state, fill.side, fill.quantity, fill.price, fill.multiplier, inline)
        entry = journal.fill_entry(
            account_id=fill.account_id, execution_id=fill.execution_id, instrument_key=fill.instrument_key,
            currency=fill.currency, effect=effect,
            description=f"{fill.side} {fill.quantity} {fill.symbol} @ {fill.price}",
        )
        self._post(key, entry, fill.fill_time, fill.currency)
        if commission is not None:
            if commission[1] != fill.currency and commission[0] != 0:
                self.book_commission(fill, commission[0], commission[1])
            self.commission_booked.append(fill.execution_id)

    def book_commission(self, fill: FillRecord | _FillRef, amount: Decimal, currency: str) -> None:
        """A commission apart from its fill (late, or in another currency)."""
        if amount == 0:
            self.commission_booked.append(fill.execution_id)
            return
        entry = journal.commission_entry(account_id=fill.account_id, execution_id=fill.execution_id,
                                         instrument_key=fill.instrument_key, currency=currency, amount=amount,
                                         trade_currency=fill.currency)
        self._post((fill.account_id, fill.instrument_key), entry, fill.fill_time, currency)
        self.commission_booked.append(fill.execution_id)

    def reverse(self, original_key: str, postings: list[Posting], *, account_id: str, execution_id: str,
                instrument_key: str, event_time: datetime, currency: str, reason: str) -> None:
        """Undo a booked entry exactly (a superseded execution)."""
        entry = journal.reversal_entry(original_key, postings, account_id=account_id, execution_id=execution_id,
                                       instrument_key=instrument_key, reason=reason)
        if entry.postings:
            self._post((account_id, instrument_key), entry, event_time, currency)

    def daily_pnl(self) -> dict[tuple[str, date, str], tuple[Decimal, Decimal]]:
        """(account, UTC trade date, currency) → (realized P&L, commissions) of everything booked."""
        out: dict[tuple[str, date, str], tuple[Decimal, Decimal]] = {}
        for b in self.booked:
            realized = commissions = Decimal(0)
            for p in b.entry.postings:
                if p.account.kind in (journal.REALIZED_PNL, journal.COMMISSION):
                    realized -= p.amount
                if p.account.kind in (journal.POSITION_FEES, journal.COMMISSION):
                    commissions += p.amount
            k = (b.entry.account_id, b.event_time.date(), b.currency)
            r0, c0 = out.get(k, (Decimal(0), Decimal(0)))
            out[k] = (r0 + realized, c0 + commissions)
        return out

    def daily_flows(self) -> dict[tuple[str, date, str], tuple[Decimal, Decimal]]:
        """(account, UTC trade date, instrument) → (signed quantity traded, cash moved) of everything booked."""
        out: dict[tuple[str, date, str], tuple[Decimal, Decimal]] = {}
        for b in self.booked:
            if not b.entry.instrument_key:
                continue
            qty = sum((p.amount for p in b.entry.postings if p.account.kind == journal.POSITION_QTY), Decimal(0))
            cash = sum((p.amount for p in b.entry.postings if p.account.kind == journal.CASH), Decimal(0))
            k = (b.entry.account_id, b.event_time.date(), b.entry.instrument_key)
            q0, c0 = out.get(k, (Decimal(0), Decimal(0)))
            out[k] = (q0 + qty, c0 + cash)
        return out


def reversal_currency(postings: Iterable[Posting], trade_currency: str) -> str:
    """The currency a reversal counts in (daily P&L): that of the cash it moves back, which for a commission
    booked apart may not be the trade's."""
    return next((p.account.currency for p in postings if p.account.kind == journal.CASH), trade_currency)


@dataclasses.dataclass(frozen=True)
class _FillRef:
    """The parts of a stored fill a late commission needs."""

    execution_id: str
    account_id: str
    instrument_key: str
    fill_time: datetime
    currency: str
    """The trade currency (a commission in another one has its own account)."""


FillRef = _FillRef


def entries_in_order(booked: Iterable[Booked]) -> list[EntryDraft]:
    """The entries to write, in booking order."""
    return [b.entry for b in booked]


def position_keys(fills: Iterable[FillRecord], extra: Mapping[PositionKey, object] = {}) -> list[PositionKey]:
    """Sorted, de-duplicated position keys: the order row locks are taken in."""
    return sorted({(f.account_id, f.instrument_key) for f in fills} | set(extra))
