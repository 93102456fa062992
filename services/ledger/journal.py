"""Double-entry posting rules and running balances. Pure; Decimal only.

Amounts are signed, debit positive. Every entry sums to zero per currency; the database checks the same
for every INSERT of postings (see `check_statement_postings_balanced` in the schema). Accounts, per broker
account:

- `cash` per currency (asset): trade value and commission paid or received;
- per instrument: `position_qty` (units held, currency `QTY:<instrument>`) against `market_qty` (the
  units' counterparty, so quantities balance too); `position_cost` (signed trade value of the open
  position) and `position_fees` (commissions capitalized into it, as IB's average cost does);
  `commission` (commission expense recognized: on reducing fills, and the capitalized part when a
  position is closed); `realized_pnl` (income: credit, i.e. negative, for a profit, before commissions).

Every account holds one currency: a commission in another currency than the trade's has a `commission`
account of its own (`foreign`); the trade-currency accounts keep the keys they always had.

IB's realized P&L of an instrument is therefore −(realized_pnl + commission), and its average cost
(position_cost + position_fees) / (position_qty × multiplier): both can be rebuilt from the journal alone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

from services.ledger.positions import FillEffect

CASH = "cash"
POSITION_QTY = "position_qty"
MARKET_QTY = "market_qty"
POSITION_COST = "position_cost"
POSITION_FEES = "position_fees"
COMMISSION = "commission"
REALIZED_PNL = "realized_pnl"

INSTRUMENT_KINDS = (POSITION_QTY, MARKET_QTY, POSITION_COST, POSITION_FEES, COMMISSION, REALIZED_PNL)


def quantity_unit(instrument_key: str) -> str:
    """The 'currency' of quantity postings of one instrument."""
    return f"QTY:{instrument_key}"


@dataclasses.dataclass(frozen=True, order=True)
class AccountRef:
    """A journal account: one kind of balance of one broker account (and instrument or currency)."""

    account_id: str
    kind: str
    currency: str
    instrument_key: str = ""
    foreign: bool = False
    """An instrument's account in another currency than the trade's: its key names the currency too, so that
    every account holds one currency. The trade-currency accounts keep the key they always had."""
    key: str = dataclasses.field(init=False, compare=False, repr=False)
    """The primary key in `journal_accounts`; computed once (it is looked up for every posting)."""

    def __post_init__(self) -> None:
        scope = self.instrument_key or self.currency
        if self.foreign:
            scope = f"{scope}:{self.currency}"
        object.__setattr__(self, "key", f"{self.account_id}:{self.kind}:{scope}")

    @classmethod
    def stored(cls, account_id: str, kind: str, currency: str, instrument_key: str, account_key: str) -> AccountRef:
        """The account of a stored posting (its currency the posting's): the same key as the stored one, also for
        the commission accounts written before foreign ones had their own (which may hold two currencies)."""
        ref = cls(account_id, kind, currency, instrument_key)
        return ref if ref.key == account_key else cls(account_id, kind, currency, instrument_key, True)


@dataclasses.dataclass(frozen=True)
class Posting:
    """One line of an entry."""

    account: AccountRef
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class EntryDraft:
    """An entry before it has an id: its idempotency key, kind and postings."""

    entry_key: str
    account_id: str
    kind: str
    execution_id: str
    instrument_key: str
    description: str
    postings: tuple[Posting, ...]

    def imbalances(self) -> dict[str, Decimal]:
        """Per currency, the non-zero sums (empty when the entry balances)."""
        totals: dict[str, Decimal] = {}
        for p in self.postings:
            totals[p.account.currency] = totals.get(p.account.currency, Decimal(0)) + p.amount
        return {c: t for c, t in totals.items() if t != 0}


def _postings(lines: Iterable[tuple[AccountRef, Decimal]]) -> tuple[Posting, ...]:
    # Zero lines carry no information and the schema refuses them.
    return tuple(Posting(a, amt) for a, amt in lines if amt != 0)


@functools.lru_cache(maxsize=4096)
def _fill_accounts(account_id: str, instrument_key: str, currency: str) -> tuple[AccountRef, ...]:
    """The seven accounts a fill posts to (immutable, so shared: building them was a tenth of replay's CPU)."""
    unit = quantity_unit(instrument_key)
    return (AccountRef(account_id, CASH, currency),
            *(AccountRef(account_id, kind, ccy, instrument_key) for kind, ccy in (
                (POSITION_QTY, unit), (MARKET_QTY, unit), (POSITION_COST, currency), (POSITION_FEES, currency),
                (COMMISSION, currency), (REALIZED_PNL, currency))))


def fill_entry(
    *,
    account_id: str,
    execution_id: str,
    instrument_key: str,
    currency: str,
    effect: FillEffect,
    description: str = "",
) -> EntryDraft:
    """The entry of one fill (commission included when it is in the trade currency)."""
    return EntryDraft(f"fill:{execution_id}", account_id, "fill", execution_id, instrument_key,
                      description, _postings(fill_lines(account_id, instrument_key, currency, effect)))


def fill_lines(account_id: str, instrument_key: str, currency: str,
               effect: FillEffect) -> list[tuple[AccountRef, Decimal]]:
    """The lines of a fill's entry, zero ones included (bulk replay writes them without building postings)."""
    cash, qty, market, cost, fees, commission, realized = _fill_accounts(account_id, instrument_key, currency)
    return [
        (cash, effect.cash_change),
        (qty, effect.signed_quantity),
        (market, -effect.signed_quantity),
        (cost, effect.opening_value - effect.released_basis),
        (fees, effect.opening_commission - effect.released_fees),
        (commission, effect.closing_commission + effect.released_fees),
        (realized, -effect.gross_realized),
    ]


def commission_accounts(account_id: str, instrument_key: str, currency: str,
                        trade_currency: str) -> tuple[AccountRef, AccountRef]:
    """The cash and commission accounts of a commission booked apart: the instrument's commission account in
    the trade currency, or its own one for that currency (every account holds one currency)."""
    return (AccountRef(account_id, CASH, currency),
            AccountRef(account_id, COMMISSION, currency, instrument_key, currency != trade_currency))


def commission_entry(
    *, account_id: str, execution_id: str, instrument_key: str, currency: str, amount: Decimal,
    trade_currency: str,
) -> EntryDraft:
    """A commission booked apart from its fill (it came later, or in another currency): expensed at once,
    not capitalized, since the position it belonged to may have changed since."""
    cash, commission = commission_accounts(account_id, instrument_key, currency, trade_currency)
    lines = [(cash, -amount), (commission, amount)]
    return EntryDraft(f"commission:{execution_id}", account_id, "commission", execution_id, instrument_key,
                      f"commission {execution_id}", _postings(lines))


def reversal_entry(original_key: str, original: Iterable[Posting], *, account_id: str, execution_id: str,
                   instrument_key: str, reason: str) -> EntryDraft:
    """The exact opposite of an entry (a superseded execution): history stays, its effect goes."""
    return EntryDraft(f"reversal:{original_key}", account_id, "reversal", execution_id, instrument_key, reason,
                      _postings((p.account, -p.amount) for p in original))


class BalanceRow(NamedTuple):
    """A posting with the balance before and after and the account's new version (pgledger style).
    A NamedTuple: one is built per posting, and a frozen dataclass costs several times more."""

    entry_index: int
    line: int
    account: AccountRef
    amount: Decimal
    previous_balance: Decimal
    current_balance: Decimal
    account_version: int


def run_balances(
    entries: Iterable[EntryDraft], balances: Mapping[str, tuple[Decimal, int]],
) -> tuple[list[BalanceRow], dict[str, tuple[Decimal, int]]]:
    """Walk the entries in order over the current (balance, version) per account key.

    Returns the posting rows and the final (balance, version) of every account touched.
    """
    state = dict(balances)
    rows: list[BalanceRow] = []
    for i, entry in enumerate(entries):
        for line, p in enumerate(entry.postings, start=1):
            before, version = state.get(p.account.key, (Decimal(0), 0))
            after = before + p.amount
            state[p.account.key] = (after, version + 1)
            rows.append(BalanceRow(i, line, p.account, p.amount, before, after, version + 1))
    touched = {r.account.key for r in rows}
    return rows, {k: v for k, v in state.items() if k in touched}


EQUITY = "equity"


def opening_entry(*, account_id: str, currency: str, amount: Decimal, as_of: str) -> EntryDraft:
    """The broker cash that predates the ledger (deposits, the paper account's starting balance): cash against
    equity, booked once per account and currency at the first reconciliation."""
    lines = [(AccountRef(account_id, CASH, currency), amount), (AccountRef(account_id, EQUITY, currency), -amount)]
    return EntryDraft(f"opening:{account_id}:{currency}", account_id, "opening", "", "",
                      f"opening cash balance as of {as_of}", _postings(lines))
