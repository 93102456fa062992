"""The gate: check an order against the live policy, reserve its exposure atomically, forward it, and
release the reservation when the send fails.

Atomicity: `evaluate` and `AccountBook.reserve` run in one synchronous stretch with no `await` between
them. The risk service is one asyncio process, so no other check can run in that stretch: concurrent
orders see each other's reservations and can never jointly pass a limit each would pass alone. The
reservation is appended to the store's write-behind journal in that same stretch (nothing on the order
path waits for Postgres; see journal.py for how a restart recovers what was not yet written) and dropped
again if the bridge refuses the order.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import grpc
from ibkr.trading.v1 import order_pb2, risk_types_pb2
from opentelemetry import trace

from services.common.errors import DomainError
from services.risk.core.book import AccountBook, Books, OpenOrder
from services.risk.core.evaluate import evaluate, loss_trip
from services.risk.core.exposure import exposure_before
from services.risk.core.model import MARKET_PRICED, ZERO, Decision, OrderIntent, Quote
from services.risk.core.policy import Policy
from services.risk.decision_codec import DecisionRecord, decision_bytes, denial_error
from services.risk.metrics import RiskMetrics
from services.risk.publisher import Publisher, now_utc
from services.risk.store import RiskStore
from services.risk.trading_state import TradingStates

log = logging.getLogger("services.risk.gate")

# Bridge errors after which the order certainly did not reach the broker: the reservation is released.
# Other codes (DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, CANCELLED) leave the outcome unknown: the reservation
# stays until the bus says what became of the order (conservative: it may be working).
DEFINITE_FAILURES = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNIMPLEMENTED,
})
TERMINAL_STATUSES = frozenset({order_pb2.ORDER_STATUS_FILLED, order_pb2.ORDER_STATUS_CANCELLED,
                               order_pb2.ORDER_STATUS_REJECTED, order_pb2.ORDER_STATUS_EXPIRED})
# How long accepted-order history is kept for the rolling-window and duplicate rules.
DEFAULT_ACTIVITY_SECONDS = 3600.0
PRUNE_ACTIVITY_EVERY = 60.0  # seconds between deletions of persisted history older than that

QuoteLookup = Callable[[str], Awaitable[Quote | None]]
# The gate's send: (decision id, work to run once the request is on its way) → the bridge's response.
Forward = Callable[[str, Callable[[], None] | None], Awaitable[object]]


def _next_revision(previous: OpenOrder) -> int:
    """The revision a modification of the order `previous` reserves will carry once the bridge applies it."""
    return (previous.expected_revision if previous.expected_revision is not None else previous.revision) + 1


def _fills_count_against(reserved: OpenOrder, named: Decimal, revision: int, answer: bool) -> tuple[Decimal, bool]:
    """The quantity an order update's fills count against (the update names `named` at `revision`; `answer`: it is
    the bridge's answer for this very reservation), and whether the update re-sized the reservation."""
    expected = reserved.expected_revision if reserved.expected_revision is not None else reserved.revision
    if answer or reserved.quantity is None or revision >= expected:
        # The order as it stands (the bridge stamps a modification's spec and revision together): its quantity is
        # the one fills count against from now on.
        if named != reserved.quantity or revision != reserved.revision or reserved.expected_revision is not None:
            reserved.quantity, reserved.revision, reserved.expected_revision = named, revision, None
            return named, True
        return named, False
    if reserved.expected_revision is not None and named > reserved.quantity:
        # The order before a modification risk sent and the bridge has not confirmed: the smaller new size may
        # never happen, so its fills count against the larger one.
        return named, False
    # An earlier revision than the one confirmed: its quantity is not taken (fills are cumulative across
    # modifications, so its fills still count).
    return reserved.quantity, False


class _Once:
    """A call that runs at most once, whoever asks first (the send while it waits, or the gate after it).

    It never raises: it runs after the order was sent (or in a `finally` after the send failed), where an
    exception would hide the bridge's answer or its error; a failure is logged instead."""

    __slots__ = ("_args", "_fn")

    def __init__(self, fn: Callable[..., None], *args: object) -> None:
        self._fn = fn
        self._args = args

    def __call__(self) -> None:
        fn, self._fn = self._fn, None
        if fn is None:
            return
        try:
            fn(*self._args)
        except Exception:
            log.exception("reporting an accepted order failed")


@dataclass(slots=True)
class Policies:
    """The live policy and the optional shadow one; replaced whole on update."""

    live: Policy
    shadow: Policy | None = None
    _activity: tuple | None = None  # (live, shadow, seconds): recomputed only when a policy is replaced

    def activity_seconds(self) -> float:
        """The longest window any rule looks back over, so history is kept exactly that long."""
        cached = self._activity
        if cached is not None and cached[0] is self.live and cached[1] is self.shadow:
            return cached[2]
        longest = DEFAULT_ACTIVITY_SECONDS
        for policy in (self.live, self.shadow):
            for rule in policy.rules if policy else ():
                window = getattr(rule.params, "window_seconds", None)
                if window is not None:
                    longest = max(longest, float(window))
        self._activity = (self.live, self.shadow, longest)
        return longest


def new_decision_id(bits: Callable[[int], int]) -> str:
    """`rd_` and 128 random bits in hex from `bits` (`random.Random().getrandbits`: the length of a uuid4's hex,
    without a system call per decision; an id only has to be unique, not secret)."""
    return f"rd_{bits(128):032x}"


class Gate:
    """The domain service behind SubmitOrder and CheckOrder."""

    def __init__(self, books: Books, policies: Policies, states: TradingStates, store: RiskStore | None,
                 publisher: Publisher, metrics: RiskMetrics, *, reference_prices: Mapping[str, Decimal],
                 quote_lookup: QuoteLookup | None = None, clock: Callable[[], float] = time.time,
                 on_market_priced: Callable[[str, float], None] | None = None) -> None:
        self.books = books
        self.policies = policies
        self.states = states
        self.store = store
        self.publisher = publisher
        self.metrics = metrics
        self.reference_prices = dict(reference_prices)
        self.quote_lookup = quote_lookup
        self.clock = clock
        self._on_market_priced = on_market_priced  # told of every market-priced order (the quote keeper)
        self._tasks: set[asyncio.Task] = set()
        self._pruned_at = 0.0
        self._accepted = metrics.decisions.labels("none", "accepted")
        # Seeded from the system's randomness, per gate; its own instance, as tests seed the shared one. Not
        # reseeded on fork: risk never forks (a gate built before a fork would repeat its ids in the child).
        self._bits = random.Random().getrandbits

    # -- evaluation --------------------------------------------------------------------------------------

    def _may_need_quote(self, intent: OrderIntent) -> bool:
        """Whether `_ensure_quote` has anything to do (checked first: a limit order does not await it)."""
        return self.quote_lookup is not None and intent.order_type in MARKET_PRICED and intent.stop_price is None

    async def _ensure_quote(self, intent: OrderIntent) -> None:
        """A market-priced order without a fresh bus quote: ask the bridge once (outside the atomic part)."""
        if not self._may_need_quote(intent):
            return
        now = self.clock()
        if self._on_market_priced is not None:
            self._on_market_priced(intent.symbol, now)
        max_age = float(self.policies.live.quote_max_age_seconds)
        if self.books.market.fresh(intent.symbol, now, max_age) is not None:
            return
        quote = await self.quote_lookup(intent.symbol)
        if quote is not None:
            self.books.market.update(intent.symbol, quote)

    def _decide(self, intent: OrderIntent, now: float, book: AccountBook | None = None
                ) -> tuple[Decision, Decision | None, float]:
        """Both policies' decisions, and how long the live one took (observed later, by `_report`)."""
        if book is None:
            book = self.books.account(intent.account_id)
        state = self.states.effective(intent.account_id)
        start = time.perf_counter()
        live = evaluate(intent, book, self.books.market, self.policies.live, state, now, self.reference_prices)
        seconds = time.perf_counter() - start
        shadow = None
        if self.policies.shadow is not None:
            shadow = evaluate(intent, book, self.books.market, self.policies.shadow, state, now,
                              self.reference_prices, shadow=True)
        return live, shadow, seconds

    def _record(self, intent: OrderIntent, spec: order_pb2.OrderSpec, decision: Decision, request_type: int,
                principal: str, decision_id: str = "", decided_at: float | None = None) -> DecisionRecord:
        """The decision's record; `decided_at` (epoch seconds, default now) is its time."""
        when = now_utc() if decided_at is None else datetime.fromtimestamp(decided_at, UTC)
        return DecisionRecord(decision_id or new_decision_id(self._bits), intent.account_id, intent.client_order_id,
                              request_type, decision, spec, when, principal)

    def _report(self, rec: DecisionRecord, shadow: DecisionRecord | None, seconds: float) -> None:
        """Span attributes, the evaluation time, the decision counters and the decision records on their way to
        bus and Postgres."""
        self.metrics.evaluation_seconds.observe(seconds)
        d = rec.decision
        span = trace.get_current_span()
        if span.is_recording():
            attributes = {"ibkr.risk.decision_id": rec.decision_id,
                          "ibkr.risk.outcome": "accepted" if d.accepted else "denied",
                          "ibkr.risk.policy_version": d.policy_version}
            if d.denied_by is not None:
                attributes["ibkr.risk.rule_id"] = d.denied_by.rule_id
            span.set_attributes(attributes)  # one call (one lock) instead of one per attribute
        if d.accepted:
            self._accepted.inc()  # the child resolved once: labels() per order costs a lock and a lookup
        else:
            self.metrics.decisions.labels(d.denied_by.rule_id if d.denied_by else "none", "denied").inc()
        self.publisher.decision(rec)
        if shadow is not None:
            if shadow.decision.denied_by is not None:
                self.metrics.shadow_denials.labels(shadow.decision.denied_by.rule_id).inc()
            self.publisher.decision(shadow)
        if d.trip_state is not None and d.denied_by is not None:
            self._schedule_trip(rec.account_id, d.denied_by.rule_id, d.trip_state)

    async def check(self, intent: OrderIntent, spec: order_pb2.OrderSpec,
                    principal: str = "") -> tuple[DecisionRecord, DecisionRecord | None]:
        """Dry run: both policies' decisions; nothing reserved, nothing sent."""
        await self._ensure_quote(intent)
        live, shadow, seconds = self._decide(intent, self.clock())
        kind = risk_types_pb2.RISK_REQUEST_TYPE_CHECK_ORDER
        rec = self._record(intent, spec, live, kind, principal)
        srec = self._record(intent, spec, shadow, kind, principal) if shadow is not None else None
        self._report(rec, srec, seconds)
        return rec, srec

    def record_cancel(self, account_id: str, client_order_id: str, order_id: str, principal: str) -> DecisionRecord:
        """A cancel always passes; it is still recorded (bus and Postgres) for the audit trail."""
        decision = Decision(True, (), self.policies.live.version, self.states.effective(account_id), None, True)
        rec = DecisionRecord(new_decision_id(self._bits), account_id, client_order_id,
                             risk_types_pb2.RISK_REQUEST_TYPE_CANCEL_ORDER, decision, order_pb2.OrderSpec(),
                             now_utc(), principal, order_id)
        self.publisher.decision(rec)
        return rec

    # -- submission --------------------------------------------------------------------------------------

    async def submit(self, intent: OrderIntent, spec: order_pb2.OrderSpec, principal: str,
                     forward: Forward,
                     order_of: Callable[[object], order_pb2.Order], *, replaces: str | None = None,
                     request_type: int = risk_types_pb2.RISK_REQUEST_TYPE_NEW_ORDER
                     ) -> tuple[object, DecisionRecord | None]:
        """Check, reserve, persist, forward. Returns (bridge response, accepting decision).

        A retry of an order that is already reserved (same client_order_id, still working) is forwarded
        without a second check or reservation: the bridge answers it idempotently (same order, or
        ALREADY_EXISTS when the parameters differ).

        `replaces` names the reservation a modification supersedes: it is set aside while the new spec is
        checked (the order's exposure is counted once, at its new size) and restored if the new spec is
        denied or the bridge refuses the change.

        `forward(decision_id, while_waiting)` sends the order; it should call `while_waiting` (when given) once
        the request is on its way, and return the bridge's response. What it does not run, the gate runs.
        """
        book = self.books.account(intent.account_id)
        if replaces is None and intent.client_order_id in book.open_orders:
            return await forward("", None), None

        if self._may_need_quote(intent):
            await self._ensure_quote(intent)
        # ---- atomic: no await from here to the reservation --------------------------------------------
        now = self.clock()
        previous = book.release(replaces) if replaces is not None else None
        live, shadow, seconds = self._decide(intent, now, book)
        decision_id = new_decision_id(self._bits)
        reservation = None
        if live.accepted:
            reservation = OpenOrder(replaces or intent.client_order_id, intent.account_id, intent.symbol,
                                    intent.side, intent.quantity, live.price if live.price is not None else ZERO,
                                    intent.multiplier, previous.order_id if previous else "", intent.quantity,
                                    previous.revision if previous is not None else 0,
                                    _next_revision(previous) if previous is not None else None)
            book.reserve(reservation)
            book.record_accepted(intent, live.notional, now, self.policies.activity_seconds())
            if self.store is not None:
                # Journaled here, in the same stretch as the reservation, so the journal holds it before any
                # bus update (a fill, a release) that a later loop turn could apply to it.
                self.store.save_reservation(reservation, decision_id)
        elif previous is not None:
            book.reserve(previous)
        # ---- end of the atomic part --------------------------------------------------------------------
        if not live.accepted:
            rec = self._record(intent, spec, live, request_type, principal, decision_id)
            srec = self._record(intent, spec, shadow, request_type, principal) if shadow is not None else None
            self._report(rec, srec, seconds)
            raise denial_error(rec)

        decided_at = time.time()
        made: list[DecisionRecord] = []  # the accepted decision's record, made by the report
        report = _Once(self._report_accepted, made, decision_id, decided_at, spec, live, shadow, request_type,
                       principal, seconds, book, intent, previous is None, now)
        try:
            # The accepted order's records and report (and the activity's persistence, written behind anyway) are
            # work the caller waits for but the bridge does not: `forward` runs it once the request is on its way,
            # so it overlaps the bridge's answer.
            response = await forward(decision_id, report)
        except DomainError as err:
            report()  # the open-reservations gauge counts the reservation before `_restore` takes it off
            if err.code in DEFINITE_FAILURES:
                self._restore(book, reservation, previous)
                if self.store is not None:
                    if previous is not None:
                        self.store.save_reservation(previous)
                    else:
                        self.store.delete_reservation(reservation.key)
            elif previous is not None:
                self._modification_unknown(reservation)
            raise
        except BaseException:  # cancelled while waiting, or anything else: the outcome is unknown too
            if previous is not None:
                self._modification_unknown(reservation)
            raise
        finally:
            report()  # a no-op unless `forward` did not run it
        rec = made[0] if made else self._record(intent, spec, live, request_type, principal, decision_id, decided_at)
        # After the answer is on its way back: the reservation only gains the order id or shrinks, and the bus
        # brings the same update whatever comes first (apply_order is monotonic).
        asyncio.get_running_loop().call_soon(self._apply_answer, intent.account_id, reservation, order_of, response)
        return response, rec

    def _apply_answer(self, account_id: str, reservation: OpenOrder, order_of: Callable[[object], order_pb2.Order],
                      response: object) -> None:
        """`apply_order` with the bridge's order read out of its answer, on the loop turn after the response (a
        failure there is the loop's to log; the caller already has the bridge's answer)."""
        self.apply_order(account_id, reservation.key, order_of(response), answer_to=reservation)

    def _report_accepted(self, made: list[DecisionRecord], decision_id: str, decided_at: float,
                         spec: order_pb2.OrderSpec, live: Decision, shadow: Decision | None, request_type: int,
                         principal: str, seconds: float, book, intent: OrderIntent, new: bool, now: float) -> None:
        """The accepted order's decision records (the live one into `made`) and everything reported of it."""
        rec = self._record(intent, spec, live, request_type, principal, decision_id, decided_at)
        made.append(rec)
        srec = (self._record(intent, spec, shadow, request_type, principal, "", decided_at)
                if shadow is not None else None)
        if new:
            self.metrics.open_reservations.inc()
        if self.store is not None:  # written behind, never awaited
            self._save_activity(intent, rec.decision.notional, now)
        self._report(rec, srec, seconds)
        decision_bytes(rec)  # memoized on the record: the response and the bus record reuse it
        # Bring the book's exposure memo up to date with this reservation now, while the bridge works, rather
        # than in the next order's evaluation (the memo only ever reflects the book, whenever it is refreshed).
        exposure_before(book, self.books.market, now, self.policies.live.quote_max_age)

    def _save_activity(self, intent: OrderIntent, notional: Decimal | None, now: float) -> None:
        """An accepted order's place in the rolling windows and duplicate history, written behind to Postgres
        (the book already holds it) so it survives a restart."""
        self.store.save_activity(intent, notional or ZERO, now)
        if now - self._pruned_at > PRUNE_ACTIVITY_EVERY:
            self._pruned_at = now
            self.store.prune_activity(now - self.policies.activity_seconds())

    @staticmethod
    def _modification_unknown(reservation: OpenOrder) -> None:
        """A replace whose outcome is unknown keeps its reservation, but the order's next update decides its size
        whatever revision it carries: the modification may never have happened. (Nothing to store: only confirmed
        revisions are.) Harmless when an update has confirmed it already (nothing expected any more), and when
        another replace has taken its place: this one only counts again if that one's failure puts it back."""
        reservation.expected_revision = None

    def _restore(self, book: AccountBook, reservation: OpenOrder, previous: OpenOrder | None) -> None:
        """Undo a reservation made for a send that did not happen (putting back what it replaced)."""
        book.release(reservation.key)
        if previous is not None:
            book.reserve(previous)
        else:
            self.metrics.open_reservations.dec()

    # -- reservation lifecycle ---------------------------------------------------------------------------

    def _release(self, account_id: str, key: str) -> bool:
        book = self.books.accounts.get(account_id)
        if book is None or book.release(key) is None:
            return False
        self.metrics.open_reservations.dec()
        return True

    def release(self, account_id: str, key: str) -> None:
        """Drop a reservation in memory (and, behind, in Postgres)."""
        if self._release(account_id, key) and self.store is not None:
            self.store.delete_reservation(key)

    def apply_order(self, account_id: str, key: str, order: order_pb2.Order, *,
                    answer_to: OpenOrder | None = None) -> None:
        """Bring a reservation in line with an order's latest state (bridge response or bus update):
        terminal → released; otherwise shrunk to the remaining quantity and tagged with the order id.

        `answer_to`: the reservation this is the bridge's answer for; while it is the key's reservation, the answer
        is the order as it stands, whatever revision it carries."""
        book = self.books.accounts.get(account_id)
        if book is None or not key or key not in book.open_orders:
            return
        if order.status in TERMINAL_STATUSES:
            self.release(account_id, key)
            return
        reserved = book.open_orders[key]
        remaining = reserved.remaining
        resized = False
        if order.spec.quantity.value:  # an update without it is not the whole order: it shrinks nothing
            total, resized = _fills_count_against(reserved, Decimal(order.spec.quantity.value), order.revision,
                                                  reserved is answer_to)
            if order.filled_quantity.value:
                # Derived from filled, never from remaining_quantity, which a fresh order may leave unset/zero.
                remaining = min(remaining, total - Decimal(order.filled_quantity.value))
        if order.order_id:
            reserved.order_id = order.order_id  # memory only: the reservation's key is the client_order_id
        if resized and self.store is not None and remaining > 0:
            self.store.update_reservation_quantity(key, reserved.quantity, reserved.revision)
        if remaining == reserved.remaining:
            return
        book.shrink(key, remaining)
        if key not in book.open_orders:
            self.metrics.open_reservations.dec()
        if self.store is not None:
            if key in book.open_orders:
                self.store.update_reservation(key, book.open_orders[key].remaining, order.order_id)
            else:
                self.store.delete_reservation(key)

    # -- automatic trading-state changes -----------------------------------------------------------------

    def _schedule_trip(self, account_id: str, rule_id: str, state) -> None:
        task = asyncio.get_running_loop().create_task(self.trip(account_id, rule_id, state))
        self._tasks.add(task)  # keep a reference until done, or the loop may drop it
        task.add_done_callback(self._tasks.discard)

    async def trip(self, account_id: str, rule_id: str, state) -> None:
        """Move an account to a stricter state because a loss limit was crossed (never loosens)."""
        if self.states.own(account_id) >= state:
            return
        await self.states.set(account_id, state, reason=f"{rule_id}: daily loss limit crossed",
                              changed_by=f"risk:{rule_id}", automatic=True)
        log.warning("account tripped", extra={"account_id": account_id, "rule_id": rule_id, "state": state.name})

    async def check_loss(self, account_id: str) -> None:
        """Called when P&L arrives: trip the account if a loss limit is crossed."""
        book = self.books.accounts.get(account_id)
        if book is None:
            return
        found = loss_trip(book, self.policies.live, self.states.own(account_id))
        if found is not None:
            await self.trip(account_id, *found)
