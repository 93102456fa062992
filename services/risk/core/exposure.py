"""The account's gross exposure before an order, kept up to date incrementally.

Gross exposure is Σ over symbols of the worst-case position (working orders as if filled, on the worse side)
× a mark × the multiplier. Re-walking every position on every order costs more than all the other rules
together, and little changes between two orders: an order touches one symbol, a quote one symbol. So the
per-symbol figures are memoized on the book and only what changed is redone:
- symbols the book marked dirty (reservation, fill or position change: `AccountBook.dirty`) get their
  worst-case position, multiplier and fallback mark recomputed;
- symbols quoted since (`MarketBook.changed_since`) get only their mark and product recomputed.
The whole memo is rebuilt when a fresh quote it used may have gone stale (its expiry), when the policy's
quote age changes, when the market's change log no longer reaches back far enough, or when the book's
positions were replaced wholesale.

The mark of a symbol is a fresh quote's last (else midpoint), else the position's broker mark, else its
average cost, else the average price of its working orders: exposure is never understated to zero for lack
of a quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.risk.core.book import AccountBook, MarketBook
from services.risk.core.model import BUY, ONE, SELL, ZERO

_INF = float("inf")


def larger(a: Decimal, b: Decimal) -> Decimal:
    """`max(a, b)` (the first on a tie, as max) for two Decimals, without the builtin's generic iteration."""
    return b if b > a else a  # noqa: FURB136 (the builtin costs ~4 times this comparison)


_UNKNOWN = object()  # fallback mark not computed yet


@dataclass(slots=True)
class ExposureMemo:
    positions: dict  # the positions dict it was built from (a replaced dict means rebuild)
    market: MarketBook
    max_age: float
    expiry: float  # when the first fresh quote used for a mark goes stale
    market_version: int
    marks: dict[str, Decimal]  # fresh marks in use
    # symbol → [worst-case |position|, multiplier, fallback mark or _UNKNOWN], for symbols with exposure
    figures: dict[str, list]
    parts: dict[str, Decimal]  # per-symbol exposure
    total: Decimal


def _worst(book: AccountBook, symbol: str) -> Decimal:
    pos = book.positions.get(symbol)
    qty = pos.quantity if pos is not None else ZERO
    open_qty = book.open_qty
    return larger(abs(qty + open_qty.get((symbol, BUY), ZERO)), abs(qty - open_qty.get((symbol, SELL), ZERO)))


def _price(memo: ExposureMemo, book: AccountBook, symbol: str, now: float) -> None:
    """Recompute one symbol's mark and exposure from its memoized figures."""
    old = memo.parts.pop(symbol, ZERO)
    figures = memo.figures.get(symbol)
    part = ZERO
    if figures is not None:
        mark = None
        quote = memo.market.quotes.get(symbol)
        if quote is not None and now - quote.received_at <= memo.max_age:
            mark = quote.last or quote.midpoint
        if mark:
            memo.marks[symbol] = mark
            memo.expiry = min(memo.expiry, quote.received_at + memo.max_age)
        else:
            memo.marks.pop(symbol, None)
            mark = figures[2]
            if mark is _UNKNOWN:
                pos = book.positions.get(symbol)
                mark = figures[2] = (pos and (pos.mark or pos.average_cost)) or book.order_price(symbol)
        if mark:
            part = figures[0] * mark * figures[1]
            memo.parts[symbol] = part
    else:
        memo.marks.pop(symbol, None)
    memo.total += part - old


def _refigure(memo: ExposureMemo, book: AccountBook, symbol: str, now: float) -> None:
    """Recompute one symbol's worst-case position (its book changed), then its exposure."""
    worst = _worst(book, symbol)
    if worst:
        pos = book.positions.get(symbol)
        memo.figures[symbol] = [worst, pos.multiplier if pos is not None else ONE, _UNKNOWN]
    else:
        memo.figures.pop(symbol, None)
    _price(memo, book, symbol, now)


def _rebuild(book: AccountBook, market: MarketBook, now: float, max_age: float) -> ExposureMemo:
    memo = ExposureMemo(book.positions, market, max_age, _INF, market.version, {}, {}, {}, ZERO)
    book.dirty.clear()
    for symbol in sorted(book.exposure_symbols()):
        _refigure(memo, book, symbol, now)
    book.exposure_cache = memo
    return memo


def exposure_before(book: AccountBook, market: MarketBook, now: float, max_age: float
                    ) -> tuple[dict[str, Decimal], Decimal, dict[str, Decimal]]:
    """(fresh marks, gross exposure, per-symbol exposure) of the account as it stands (without the order)."""
    memo = book.exposure_cache
    if (memo is None or memo.positions is not book.positions or memo.market is not market
            or memo.max_age != max_age or now > memo.expiry):
        memo = _rebuild(book, market, now, max_age)
        return memo.marks, memo.total, memo.parts
    dirty = book.dirty
    if dirty:
        for symbol in dirty:
            _refigure(memo, book, symbol, now)
        dirty.clear()
    if memo.market_version != market.version:
        quoted = market.changed_since(memo.market_version)
        if quoted is None:
            memo = _rebuild(book, market, now, max_age)
            return memo.marks, memo.total, memo.parts
        figures = memo.figures
        for symbol in set(quoted):
            if symbol in figures or symbol in memo.marks:
                _price(memo, book, symbol, now)
        memo.market_version = market.version
    return memo.marks, memo.total, memo.parts
