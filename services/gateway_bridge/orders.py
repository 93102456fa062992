"""The order service: idempotent placement, cancels, and folding broker events into order state.

Broker events arrive on one queue (from the IB taps) and are applied by one task, in order, so each order's
state changes are serialized; every change is persisted, then published as an `OrderUpdate`. Executions are
joined with their commissions (`domain.fills`), recorded once in Postgres and published once as `Fill`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

from ib_async import Contract
from ibkr.trading.v1 import event_pb2, execution_pb2, order_pb2, portfolio_pb2
from opentelemetry import trace

from services.common.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from services.gateway_bridge import convert
from services.gateway_bridge.account import AccountBook
from services.gateway_bridge.contracts import ContractResolver
from services.gateway_bridge.domain import state_machine as sm
from services.gateway_bridge.domain.events import (
    AccountValueSeen,
    BrokerEvent,
    CommissionSeen,
    ErrorSeen,
    ExecutionSeen,
    OrderSeen,
    PortfolioSeen,
    PositionSeen,
    SessionClosed,
    StatusSeen,
)
from services.gateway_bridge.domain.farms import FarmBook
from services.gateway_bridge.domain.fills import CommissionInfo, FillJoiner, JoinedFill
from services.gateway_bridge.domain.intent import ValidatedOrder, bracket_legs
from services.gateway_bridge.domain.pacing import PacingRejected
from services.gateway_bridge.domain.status import ACKNOWLEDGED, TERMINAL, Status
from services.gateway_bridge.ib.errors import ErrorClass, classify, order_effect
from services.gateway_bridge.ib.numbers import to_decimal
from services.gateway_bridge.ib.orders import build_order, link_bracket
from services.gateway_bridge.ib.session import IbSession
from services.gateway_bridge.metrics import BridgeMetrics
from services.gateway_bridge.order_traces import OrderTraces
from services.gateway_bridge.publisher import Publication, Publisher
from services.gateway_bridge.store import OrderRecord, Store

log = logging.getLogger("services.gateway_bridge.orders")
# Codes that are about the session, never about the order whose id happens to be in reqId.
NOTICE_CLASSES = frozenset({ErrorClass.CONNECTIVITY_LOST, ErrorClass.RESTORED_DATA_LOST, ErrorClass.RESTORED_DATA_KEPT,
                            ErrorClass.SOCKET_RESET, ErrorClass.FARM_OK, ErrorClass.FARM_BROKEN,
                            ErrorClass.FARM_INACTIVE, ErrorClass.CLIENT_ID_IN_USE})


IMMUTABLE_ON_REPLACE = ("instrument", "side", "order_type")
# Longest the writer holds a persist/publish back while placements are in flight (bus events wait at most this).
WRITER_HOLD_SECONDS = 0.02
WRITER_BATCH = 64  # jobs whose events go out in one pipelined round trip

WriteJob = Callable[[], Awaitable[list[Publication]]]  # does its database part, returns what to publish


def _stamped(rec: OrderRecord) -> OrderRecord:
    """The record with its times brought up to date (first acknowledgement, terminal state, last change)."""
    now = dt.datetime.now(dt.UTC)
    status = rec.state.status
    acknowledged = status in ACKNOWLEDGED and status != Status.REJECTED
    return dataclasses.replace(
        rec, update_time=now,
        submit_time=rec.submit_time or (now if acknowledged else None),
        done_time=rec.done_time or (now if status in TERMINAL else None))


def preview_notional(order: ValidatedOrder, contract: Contract) -> Decimal | None:
    """quantity × limit price × multiplier; None without a limit price (a market order has no price of its own)."""
    if order.limit_price is None:
        return None
    multiplier = to_decimal(contract.multiplier or "1") or Decimal(1)
    return order.quantity * order.limit_price * multiplier


def new_order_id() -> str:
    return f"ord_{uuid.uuid4().hex}"


@dataclasses.dataclass
class _Persist:
    """A write job: the order's state row (unless a later job of the same batch writes it), then its
    OrderUpdate when the change was a transition."""

    orders: OrderService
    rec: OrderRecord
    transition: sm.Transition | None
    write: bool = True

    async def __call__(self) -> list[Publication]:
        if self.write:
            await self.orders._store.update(self.rec)
        return [self.orders._update_event(self.rec, self.transition)] if self.transition is not None else []


class OrderService:
    """Owns the bridge's order book. `ready` says whether new orders may go to IB right now."""

    def __init__(self, store: Store, session: IbSession, publisher: Publisher, *, ack_timeout: float,
                 commission_wait: float, metrics: BridgeMetrics | None = None, on_notice: Callable[[ErrorSeen], None] | None = None,
                 on_closed: Callable[[], None] | None = None, tracer: trace.Tracer | None = None) -> None:
        self._store, self._session, self._publisher = store, session, publisher
        self._tracer = tracer or trace.NoOpTracer()
        self._traces = OrderTraces()
        self._ack_timeout, self._commission_wait = ack_timeout, commission_wait
        self._on_notice = on_notice or (lambda e: None)
        self._on_closed = on_closed or (lambda: None)
        self._metrics = metrics
        self.ready = False
        self._queue: asyncio.Queue[BrokerEvent] = asyncio.Queue()
        self._writes: asyncio.Queue[WriteJob] = asyncio.Queue()
        self._by_id: dict[str, OrderRecord] = {}
        self._by_ref: dict[str, str] = {}
        self._by_perm: dict[int, str] = {}
        self._by_session_id: dict[tuple[int, int], str] = {}  # (clientId, orderId) of THIS session only
        self._acks: dict[str, asyncio.Future[None]] = {}  # order id -> PlaceOrder waiting for the broker's ack
        self._ack_released = False  # the pump just released a waiting PlaceOrder: let it answer first
        self._placing = 0  # placements in flight
        self._quiet = asyncio.Event()  # set while none is
        self._quiet.set()
        self._seen_this_session: set[str] = set()
        self._joiner: FillJoiner[ExecutionSeen] = FillJoiner()
        self.farms = FarmBook()
        self.contracts = ContractResolver(session, self.farms)
        self.accounts = AccountBook(publisher, on_pnl=self._observe_pnl)
        self.positions: dict[tuple[str, int], portfolio_pb2.Position] = {}
        self._pump: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._flushers: set[asyncio.Task[None]] = set()
        self._fills_without_commission: dict[str, tuple[str, str]] = {}

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Load what is known (open orders, executions already recorded) and start applying broker events."""
        for rec in await self._store.list_not_terminal():
            self._remember(rec)
        for execution_id, commission_known in await self._store.execution_ids():
            self._joiner.mark_seen(execution_id, commission_known=commission_known)
        self._pump = asyncio.create_task(self._run(), name="bridge-order-pump")
        self._writer = asyncio.create_task(self._write_loop(), name="bridge-order-writer")

    async def stop(self) -> None:
        await self.accounts.stop()
        for task in [self._pump, self._writer, *self._flushers]:
            if task is not None:
                task.cancel()
        for task in [self._pump, self._writer, *self._flushers]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def bind_supervisor(self, *, on_notice: Callable[[ErrorSeen], None], on_closed: Callable[[], None]) -> None:
        """Route session notices and socket closes (seen in event order) to the supervisor."""
        self._on_notice, self._on_closed = on_notice, on_closed

    def submit_event(self, event: BrokerEvent) -> None:
        """Called from the IB taps (synchronously): queue one broker event."""
        self._queue.put_nowait(event)

    async def drain(self) -> None:
        """Wait until every broker event queued so far has been applied, persisted and published."""
        await self._queue.join()
        await self._writes.join()

    # ---------------------------------------------------------------- indexes

    def _remember(self, rec: OrderRecord) -> None:
        self._by_id[rec.order_id] = rec
        if rec.client_order_id:
            self._by_ref[rec.client_order_id] = rec.order_id
        if rec.perm_id:
            self._by_perm[rec.perm_id] = rec.order_id

    def begin_session(self) -> None:
        """A new IB session starts: order ids of the previous one mean nothing any more."""
        self._by_session_id.clear()
        self._seen_this_session.clear()
        self.farms.clear()  # a new session reports its farms afresh

    def _find(self, *, order_ref: str = "", perm_id: int = 0, client_id: int = -1,
              broker_order_id: int = 0) -> OrderRecord | None:
        order_id = (self._by_ref.get(order_ref) if order_ref else None) or \
            (self._by_perm.get(perm_id) if perm_id else None) or \
            self._by_session_id.get((client_id, broker_order_id))
        return self._by_id.get(order_id) if order_id else None

    # ---------------------------------------------------------------- API

    async def get(self, *, order_id: str = "", client_order_id: str = "", perm_id: int = 0) -> OrderRecord:
        """One order by any key; NotFound naming the key."""
        rec = None
        if order_id:
            rec = self._by_id.get(order_id) or await self._store.get_by_id(order_id)
        elif client_order_id:
            rec = self._find(order_ref=client_order_id) or await self._store.get_by_client_order_id(client_order_id)
        elif perm_id:
            rec = self._find(perm_id=perm_id) or await self._store.get_by_perm_id(perm_id)
        if rec is None:
            key = order_id or client_order_id or str(perm_id)
            raise NotFound("ORDER_NOT_FOUND", f"no order {key}", metadata={"order": key})
        return rec

    def open_orders(self) -> list[OrderRecord]:
        return [r for r in self._by_id.values() if r.state.status not in TERMINAL]

    async def _existing(self, order: ValidatedOrder) -> OrderRecord | None:
        rec = self._find(order_ref=order.client_order_id) or \
            await self._store.get_by_client_order_id(order.client_order_id)
        return None if rec is None else self._same_or_conflict(rec, order)

    @staticmethod
    def _same_or_conflict(rec: OrderRecord, order: ValidatedOrder) -> OrderRecord:
        if rec.fingerprint != order.fingerprint or rec.account_id != order.account_id:
            raise AlreadyExists("CLIENT_ORDER_ID_REUSED",
                                f"client_order_id {order.client_order_id} was used for an order with other parameters",
                                metadata={"client_order_id": order.client_order_id, "order_id": rec.order_id})
        return rec

    def _require_ready(self) -> None:
        if not self.ready or not self._session.connected:
            raise Unavailable("BROKER_UNAVAILABLE", "the bridge is not connected to IB (or not yet reconciled)")

    async def qualify(self, order: ValidatedOrder, timeout: float | None) -> Contract:
        return await self.contracts.resolve(order.spec.instrument, timeout, field="order.instrument.symbol")

    async def preview(self, order: ValidatedOrder, timeout: float | None = None) -> order_pb2.OrderPreview:
        """IB's what-if for a validated order: qualified like a placement, paced and deadlined, never placed,
        nothing persisted or published."""
        self._require_ready()
        if self._session.pacing_full():
            self._count_pacing_reject()
            raise ResourceExhausted("PACING_LIMIT", "too many IB requests waiting; retry later")
        started = asyncio.get_running_loop().time()
        # Leave the caller a moment to hear our DEADLINE_EXCEEDED rather than its own transport deadline.
        budget = None if timeout is None else max(0.01, timeout - 0.2)
        contract = await self.qualify(order, budget)
        ib_order = build_order(order, "", order.account_id)
        left = None if budget is None else max(0.01, budget - (asyncio.get_running_loop().time() - started))
        try:
            with self._tracer.start_as_current_span("ib.what_if_order", kind=trace.SpanKind.CLIENT):
                state = await self._session.what_if(contract, ib_order, left)
        except PacingRejected as err:
            self._count_pacing_reject()
            raise ResourceExhausted("PACING_LIMIT", str(err)) from None
        except ConnectionError:
            raise Unavailable("BROKER_UNAVAILABLE", "the connection to IB dropped during the preview") from None
        return convert.preview_to_proto(state, currency=contract.currency or "USD",
                                        notional=preview_notional(order, contract),
                                        notional_currency=contract.currency or "USD")

    async def place(self, order: ValidatedOrder, timeout: float | None = None) -> OrderRecord:
        """Place an order once per client_order_id: persisted before it is sent, then sent with the id as
        orderRef; returns when the broker acknowledged it (or after the ack timeout, still PENDING_SUBMIT).

        While placements are in flight the writer holds back (see `_write_loop`): their publishes and state
        writes are not needed to answer, and would only compete for the event loop."""
        self._placing += 1
        self._quiet.clear()
        try:
            return await self._place(order, timeout)
        finally:
            self._placing -= 1
            if self._placing == 0:
                self._quiet.set()

    async def _place(self, order: ValidatedOrder, timeout: float | None) -> OrderRecord:
        known = self._find(order_ref=order.client_order_id)
        if known is not None:
            return self._same_or_conflict(known, order)
        if not self.ready:
            existing = await self._existing(order)  # a retry of a known order is answered even while down
            if existing is not None:
                return existing
        self._require_ready()
        if self._session.pacing_full():  # refuse before persisting anything: nothing to undo
            self._count_pacing_reject()
            raise ResourceExhausted("PACING_LIMIT", "too many IB requests waiting; retry later")
        # Leave the caller a moment to hear our DEADLINE_EXCEEDED rather than its own transport deadline.
        contract = await self.qualify(order, None if timeout is None else max(0.01, timeout - 0.2))
        legs = bracket_legs(order) if order.spec.HasField("bracket") else []
        client_id = self._client_id()
        records = [self._intent(order, self._session.next_order_id(), client_id)]
        records += [self._intent(leg, self._session.next_order_id(), client_id, parent=records[0].order_id)
                    for leg in legs]
        # The UNIQUE(client_order_id) insert is the idempotency check: a duplicate (an earlier run, or a
        # concurrent request) inserts nothing and is compared with what is stored. A bracket's parent and
        # legs are one transaction: all intents are durable, or none.
        inserted = await self._store.insert_orders(records)
        if inserted is None:
            again = await self._existing(order)
            assert again is not None
            return again
        parent = inserted[0]
        ack = self._acks[parent.order_id] = asyncio.get_running_loop().create_future()
        for rec in inserted:
            self._traces.remember(rec.order_id)
            self._remember(rec)
            self._by_session_id[(client_id, rec.broker_order_id or 0)] = rec.order_id
            # Through the writer, ahead of every later change of the order: off the path to IB, still in order
            # (the event itself is built by the writer too, after the placement answered).
            self._write(self._accepted(rec))
        ib_orders = []
        for rec, intent in zip(inserted, [order, *legs], strict=True):
            ib_order = build_order(intent, intent.client_order_id, intent.account_id)
            ib_order.orderId = rec.broker_order_id or 0
            ib_orders.append(ib_order)
        if legs:
            link_bracket(ib_orders[0], ib_orders[1:], order.client_order_id)
        try:
            for ib_order in ib_orders:
                with self._tracer.start_as_current_span("ib.place_order", kind=trace.SpanKind.CLIENT,
                                                        attributes={"ibkr.broker_order_id": ib_order.orderId}):
                    await self._session.place(contract, ib_order)
        except PacingRejected as err:
            for rec in inserted:
                await self._apply(rec.order_id, sm.BrokerErrorObserved(sm.ErrorEffect.REJECT, 0, str(err)))
            if legs:  # an untransmitted parent is not working, but say so to IB explicitly
                with contextlib.suppress(Exception):
                    await self._session.cancel(ib_orders[0].orderId)
            self._count_pacing_reject()
            raise ResourceExhausted("PACING_LIMIT", str(err)) from None
        except (ConnectionError, Unavailable):
            for rec in inserted:
                await self._apply(rec.order_id, sm.NotAtBroker())
            raise Unavailable("BROKER_UNAVAILABLE", "the connection to IB dropped before the order was sent") from None
        wait = self._ack_timeout if timeout is None else max(0.0, min(self._ack_timeout, timeout - 0.1))
        try:
            async with asyncio.timeout(wait):  # no wrapper task: the ack wakes this coroutine directly
                await ack
        except TimeoutError:
            pass  # still in flight: the caller gets PENDING_SUBMIT and follows the order's events
        finally:
            self._acks.pop(parent.order_id, None)
        return self._by_id.get(parent.order_id) or parent

    def _intent(self, order: ValidatedOrder, broker_order_id: int, client_id: int,
                parent: str | None = None) -> OrderRecord:
        return OrderRecord(
            order_id=new_order_id(), client_order_id=order.client_order_id, account_id=order.account_id,
            origin="SUITE", fingerprint=order.fingerprint, spec=order.spec, state=sm.new_order(order.quantity),
            broker_order_id=broker_order_id, broker_client_id=client_id, parent_order_id=parent,
            risk_decision_id=order.risk_decision_id)

    async def children(self, rec: OrderRecord) -> list[OrderRecord]:
        """The bracket legs of a parent order, take-profit first."""
        legs = await self._store.children(rec.order_id)
        return [self._by_id.get(leg.order_id, leg) for leg in legs]

    async def cancel(self, rec: OrderRecord) -> OrderRecord:
        """Ask IB to cancel; returns the order PENDING_CANCEL (or unchanged when already terminal)."""
        if rec.state.status in TERMINAL:
            return rec
        self._require_ready()
        if rec.broker_order_id is None:
            raise Unavailable("BROKER_UNAVAILABLE", "the order has no broker id yet; retry")
        try:
            await self._session.cancel(rec.broker_order_id)
        except PacingRejected as err:
            self._count_pacing_reject()
            raise ResourceExhausted("PACING_LIMIT", str(err)) from None
        await self._apply(rec.order_id, sm.CancelRequested())
        return self._by_id.get(rec.order_id, rec)

    async def replace(self, rec: OrderRecord, new: ValidatedOrder) -> OrderRecord:
        """Modify a working order in place (IB placeOrder with its live orderId); PENDING_REPLACE until IB
        confirms. Instrument, side and order type cannot change."""
        if rec.state.status in TERMINAL:
            raise FailedPrecondition("ORDER_NOT_WORKING", f"order {rec.order_id} is {rec.state.status.name}",
                                     metadata={"order_id": rec.order_id})
        for field in IMMUTABLE_ON_REPLACE:
            if getattr(new.spec, field) != getattr(rec.spec, field):
                raise InvalidArgument("INVALID_FIELD", f"order.{field} cannot change in a replace",
                                      metadata={"field": f"order.{field}"},
                                      field_violations=[FieldViolation(f"order.{field}", "cannot change", "IMMUTABLE")])
        if new.quantity < rec.state.filled:
            raise InvalidArgument("INVALID_FIELD", "order.quantity is below the quantity already filled",
                                  metadata={"field": "order.quantity"},
                                  field_violations=[FieldViolation("order.quantity", "below filled", "TOO_SMALL")])
        self._require_ready()
        if rec.broker_order_id is None or rec.origin != "SUITE":
            raise FailedPrecondition("ORDER_NOT_MODIFIABLE", f"order {rec.order_id} cannot be modified from the suite")
        contract = await self.qualify(new, None)
        ib_order = build_order(new, rec.client_order_id or "", rec.account_id)
        ib_order.orderId = rec.broker_order_id
        try:
            await self._session.place(contract, ib_order)
        except PacingRejected as err:
            self._count_pacing_reject()
            raise ResourceExhausted("PACING_LIMIT", str(err)) from None
        # Numbered from the record as it is now, not as read before the awaits above: an overlapping replace may
        # have been applied meanwhile, and revisions must only go up (risk orders its reservations by them).
        current = self._by_id.get(rec.order_id, rec)
        updated = await self._apply(rec.order_id, sm.ReplaceRequested(new.quantity), spec=new.spec,
                                    revision=current.revision + 1)
        return updated or rec

    async def cancel_all(self, account_id: str, symbol: str, side: int) -> tuple[list[OrderRecord],
                                                                                list[tuple[str, DomainError]]]:
        """Cancel every working order in scope; returns (cancelled, failures)."""
        done: list[OrderRecord] = []
        failed: list[tuple[str, DomainError]] = []
        for rec in self.open_orders():
            if (account_id and rec.account_id != account_id) or (symbol and rec.spec.instrument.symbol != symbol) \
                    or (side and rec.spec.side != side):
                continue
            try:
                done.append(await self.cancel(rec))
            except DomainError as err:
                failed.append((rec.order_id, err))
        return done, failed

    def _observe_pnl(self, pnl: portfolio_pb2.Pnl) -> None:
        if self._metrics is None:
            return
        for kind, field in (("daily", "daily_pnl"), ("unrealized", "unrealized_pnl"), ("realized", "realized_pnl")):
            if pnl.HasField(field):
                money = getattr(pnl, field)
                self._metrics.pnl.labels(pnl.account_id, kind).set(money.units + money.nanos / 1e9)

    def _count_pacing_reject(self) -> None:
        if self._metrics is not None:
            self._metrics.pacing_rejected.inc()

    def _client_id(self) -> int:
        return int(self._session.ib.client.clientId) if self._session.connected else -1

    # ---------------------------------------------------------------- state changes

    async def _apply(self, order_id: str, obs: sm.Observation, **changes: object) -> OrderRecord | None:
        """Fold an observation into the order in memory at once (releasing a waiting PlaceOrder), and queue
        its persistence and OrderUpdate to the writer, which keeps them in order without holding the pump."""
        rec = self._by_id.get(order_id)
        if rec is None:
            return None
        transition = sm.advance(rec.state, obs)
        if transition is None and not changes:
            return rec
        new = _stamped(dataclasses.replace(rec, state=transition.state if transition else rec.state,
                                           **changes))  # type: ignore[arg-type]
        # The intent is already durable and the broker's state is recoverable by reconciliation, so the
        # acknowledgement need not wait for this commit.
        self._remember(new)
        ack = self._acks.get(order_id) if new.state.status in ACKNOWLEDGED else None
        if ack is not None and not ack.done():
            ack.set_result(None)
            self._ack_released = True
        self._write(self._persist(new, transition))
        return new

    def _persist(self, rec: OrderRecord, transition: sm.Transition | None) -> _Persist:
        return _Persist(self, rec, transition)

    @staticmethod
    def _publishing(*items: Publication) -> WriteJob:
        """A write job with no database part: just these publications."""
        async def job() -> list[Publication]:
            return list(items)
        return job

    def _accepted(self, rec: OrderRecord) -> WriteJob:
        """The write job publishing a new order's first OrderUpdate (no database part: the intent is stored)."""
        async def job() -> list[Publication]:
            return [self._update_event(rec, sm.Transition(rec.state, Status.UNSPECIFIED, "order accepted"))]
        return job

    def _write(self, job: WriteJob) -> None:
        """Queue I/O (persist, publish) behind everything queued before it: the bus sees one ordered stream."""
        self._writes.put_nowait(job)

    async def _write_loop(self) -> None:
        """Each job does its database part and names what to publish; a batch of jobs (all queued by the
        time the writer gets to them) publishes in one pipelined round trip, in job order — each event
        still after its own database write, the bus order unchanged, fewer Redis round trips per order."""
        while True:
            jobs = [await self._writes.get()]
            if not self._quiet.is_set():  # placements answer first; a steady stream of them cannot starve us
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WRITER_HOLD_SECONDS):
                        await self._quiet.wait()
            while len(jobs) < WRITER_BATCH and not self._writes.empty():
                jobs.append(self._writes.get_nowait())
            # A row update carries the order's whole state: only the batch's last one per order is written.
            last = {job.rec.order_id: job for job in jobs if isinstance(job, _Persist)}
            publications: list[Publication] = []
            try:
                for job in jobs:
                    if isinstance(job, _Persist):
                        job.write = last[job.rec.order_id] is job
                    try:
                        publications += await job()
                    except Exception:  # an order's next write carries its whole state again
                        log.exception("cannot persist %r", job)
                published = await self._publisher.publish_many(publications)
                fills = [item.execution_id for item, ok in zip(publications, published, strict=True)
                         if ok and item.execution_id]
                await self._store.mark_executions_published(fills)
                if self._metrics is not None:
                    self._metrics.fills.inc(len(fills))
                for item, ok in zip(publications, published, strict=True):
                    if ok and item.on_published is not None:
                        await item.on_published()
            except Exception:
                log.exception("cannot publish a batch of %d events", len(publications))
            finally:
                for _ in jobs:
                    self._writes.task_done()

    def _update_event(self, rec: OrderRecord, transition: sm.Transition) -> Publication:
        update = event_pb2.OrderUpdate(order=convert.order_to_proto(rec), previous_status=int(transition.previous_status),
                                       message=transition.message)
        if transition.broker_error_code is not None:
            update.broker_error_code = transition.broker_error_code
        status = rec.state.status.name

        async def counted() -> None:
            if self._metrics is not None:
                self._metrics.order_updates.labels(status).inc()

        return Publication("order_update", update, account_id=rec.account_id, symbol=rec.spec.instrument.symbol,
                           trace_carrier=self._traces.get(rec.order_id), span_name="ib.order_status",
                           on_published=counted)

    # ---------------------------------------------------------------- broker events

    async def _run(self) -> None:
        handlers = {OrderSeen: self._on_order, StatusSeen: self._on_status, ExecutionSeen: self._on_execution,
                    CommissionSeen: self._on_commission, ErrorSeen: self._on_error, PositionSeen: self._on_position,
                    SessionClosed: self._on_closed_event, AccountValueSeen: self._on_account_value,
                    PortfolioSeen: self._on_portfolio}
        while True:
            event = await self._queue.get()
            try:
                await handlers[type(event)](event)  # type: ignore[operator]
            except Exception:
                log.exception("failed to apply broker event %r", event)
            finally:
                self._queue.task_done()
            if self._ack_released:
                # A PlaceOrder is waiting to answer: give it the loop before the rest of the batch (a
                # market order's fill, commission and account pushes arrive right behind its ack).
                self._ack_released = False
                await asyncio.sleep(0)

    async def _adopt(self, ev: OrderSeen) -> OrderRecord | None:
        """An order the suite did not place (TWS, another client): recorded as EXTERNAL."""
        if ev.perm_id == 0 or ev.spec.quantity.value in ("", "0"):
            return None
        rec = OrderRecord(order_id=new_order_id(), client_order_id=None, account_id=ev.account_id, origin="EXTERNAL",
                          fingerprint="", spec=ev.spec, state=sm.new_order(Decimal(ev.spec.quantity.value)),
                          broker_order_id=ev.broker_order_id, broker_client_id=ev.client_id, perm_id=ev.perm_id)
        inserted = await self._store.insert_order(rec)
        if inserted is None:
            return None
        self._remember(inserted)
        self._write(self._publishing(self._update_event(
            inserted, sm.Transition(inserted.state, Status.UNSPECIFIED, "adopted external order"))))
        return inserted

    async def _on_order(self, ev: OrderSeen) -> None:
        rec = self._find(order_ref=ev.order_ref, perm_id=ev.perm_id, client_id=ev.client_id,
                         broker_order_id=ev.broker_order_id)
        if rec is None and ev.order_ref:
            rec = await self._store.get_by_client_order_id(ev.order_ref)
            if rec is not None:
                self._remember(rec)
        if rec is None:
            rec = await self._store.get_by_perm_id(ev.perm_id) if ev.perm_id else None
            if rec is not None:
                self._remember(rec)
        if rec is None:
            rec = await self._adopt(ev)
            if rec is None:
                return
        self._seen_this_session.add(rec.order_id)
        if not ev.completed:
            self._by_session_id[(ev.client_id, ev.broker_order_id)] = rec.order_id
        changes: dict[str, object] = {}
        if ev.perm_id and rec.perm_id != ev.perm_id:
            changes["perm_id"] = ev.perm_id
        if ev.broker_order_id and rec.broker_order_id != ev.broker_order_id and not ev.completed:
            changes["broker_order_id"] = ev.broker_order_id
        if ev.status is None:
            if changes:
                await self._apply_changes(rec.order_id, changes)
            return
        filled = ev.filled if ev.filled is not None else rec.state.filled
        await self._apply(rec.order_id, sm.BrokerStatusObserved(ev.status, filled), **changes)

    async def _apply_changes(self, order_id: str, changes: dict[str, object]) -> None:
        rec = self._by_id.get(order_id)
        if rec is None:
            return
        new = _stamped(dataclasses.replace(rec, **changes))  # type: ignore[arg-type]
        self._remember(new)
        self._write(self._persist(new, None))

    async def _on_status(self, ev: StatusSeen) -> None:
        rec = self._find(perm_id=ev.perm_id, client_id=ev.client_id, broker_order_id=ev.broker_order_id)
        if rec is None or ev.status is None:
            return
        self._seen_this_session.add(rec.order_id)
        changes: dict[str, object] = {"perm_id": ev.perm_id} if ev.perm_id and rec.perm_id != ev.perm_id else {}
        await self._apply(rec.order_id, sm.BrokerStatusObserved(ev.status, ev.filled, ev.avg_fill_price,
                                                                ev.last_fill_price), **changes)

    async def _on_execution(self, ev: ExecutionSeen) -> None:
        rec = self._find(order_ref=ev.order_ref, perm_id=ev.perm_id, client_id=ev.client_id,
                         broker_order_id=ev.broker_order_id)
        if rec is None and ev.order_ref:
            rec = await self._store.get_by_client_order_id(ev.order_ref)
        if rec is not None:
            if rec.order_id not in self._by_id:
                self._remember(rec)
            self._seen_this_session.add(rec.order_id)
            await self._apply(rec.order_id, sm.ExecutionObserved(ev.cumulative_quantity, ev.avg_price, ev.price))
        joined = self._joiner.on_execution(ev.execution_id, ev)
        if joined is not None:
            await self._emit_fill(joined)
        elif ev.execution_id in self._joiner.waiting():
            task = asyncio.create_task(self._flush_later(ev.execution_id))
            self._flushers.add(task)
            task.add_done_callback(self._flushers.discard)

    async def _flush_later(self, execution_id: str) -> None:
        await asyncio.sleep(self._commission_wait)
        self._queue.put_nowait(CommissionSeen(CommissionInfo(execution_id, None, "", None)))

    async def _on_commission(self, ev: CommissionSeen) -> None:
        if ev.info.amount is None and ev.info.currency == "":  # our own give-up marker from _flush_later
            joined = self._joiner.flush_without_commission(ev.info.execution_id)
            if joined is not None:
                await self._emit_fill(joined)
            return
        result = self._joiner.on_commission(ev.info)
        if isinstance(result, JoinedFill):
            await self._emit_fill(result)
        elif isinstance(result, CommissionInfo):
            account_id, order_id = self._fills_without_commission.pop(result.execution_id, ("", ""))
            self._write(self._publishing(Publication(
                "commission", convert.commission_to_proto(result, account_id, order_id), account_id=account_id,
                trace_carrier=self._traces.get(order_id), span_name="ib.commission_report")))

    async def _emit_fill(self, joined: JoinedFill[ExecutionSeen]) -> None:
        ev = joined.execution
        rec = self._find(order_ref=ev.order_ref, perm_id=ev.perm_id, client_id=ev.client_id,
                         broker_order_id=ev.broker_order_id)
        fill = convert.fill_to_proto(ev, rec, joined.commission, joined.superseded_execution_id)
        if rec is not None and joined.commission is not None and joined.commission.amount is not None:
            total = (rec.commission or Decimal(0)) + joined.commission.amount
            await self._apply_changes(rec.order_id, {"commission": total,
                                                     "commission_currency": joined.commission.currency})
        if joined.commission is None:
            self._fills_without_commission[ev.execution_id] = (ev.account_id, fill.order_id)
        self._write(functools.partial(self._record_fill, ev.execution_id, rec.order_id if rec else None, fill,
                                      joined.commission is not None))

    async def _record_fill(self, execution_id: str, order_id: str | None, fill: execution_pb2.Fill,
                           commission_known: bool) -> list[Publication]:
        """Record the execution once (the durable dedupe across restarts), then publish it."""
        if await self._store.insert_execution(execution_id, order_id, fill.SerializeToString(), commission_known):
            return [self._fill_event(execution_id, fill)]
        return []

    def _fill_event(self, execution_id: str, fill: execution_pb2.Fill) -> Publication:
        """A fill to publish; whoever publishes it marks `execution_id` published once the XADD succeeded."""
        return Publication("fill", fill, account_id=fill.account_id, symbol=fill.instrument.symbol,
                           trace_carrier=self._traces.get(fill.order_id), span_name="ib.exec_details",
                           execution_id=execution_id)

    async def recorded_fills(self) -> list[execution_pb2.Fill]:
        """Every execution the bridge has recorded, oldest first."""
        return [execution_pb2.Fill.FromString(blob) for blob in await self._store.executions()]

    async def republish_unpublished_fills(self) -> None:
        """Fills recorded but never published (Redis was down, or we crashed between the two)."""
        items = [self._fill_event(execution_id, execution_pb2.Fill.FromString(blob))
                 for execution_id, blob in await self._store.unpublished_executions()]
        published = await self._publisher.publish_many(items)
        fills = [item.execution_id for item, ok in zip(items, published, strict=True) if ok]
        await self._store.mark_executions_published(fills)
        if self._metrics is not None:
            self._metrics.fills.inc(len(fills))

    async def _on_error(self, ev: ErrorSeen) -> None:
        order_id = self._by_session_id.get((self._client_id(), ev.req_id)) if ev.req_id > 0 else None
        current = self._by_id.get(order_id) if order_id else None
        if current is not None and classify(ev.code) not in NOTICE_CLASSES:
            acknowledged = current.state.status not in (Status.PENDING_SUBMIT, Status.UNKNOWN)
            effect = order_effect(ev.code, acknowledged=acknowledged)
            await self._apply(current.order_id, sm.BrokerErrorObserved(effect, ev.code, ev.message))
            return
        self._on_notice(ev)

    async def _on_position(self, ev: PositionSeen) -> None:
        position = convert.position_to_proto(ev)
        self.positions[(ev.account_id, ev.instrument.con_id)] = position
        # Through the writer, like fills: the pump never waits on Redis, and a position follows its fill.
        self._write(self._publishing(Publication("position_update", event_pb2.PositionUpdate(position=position),
                                                 account_id=ev.account_id, symbol=ev.instrument.symbol)))

    async def _on_account_value(self, ev: AccountValueSeen) -> None:
        self.accounts.on_value(ev)

    async def _on_portfolio(self, ev: PortfolioSeen) -> None:
        pnl = self.accounts.on_portfolio(ev)
        self._write(self._publishing(Publication("pnl_update", event_pb2.PnlUpdate(pnl=pnl),
                                                 account_id=ev.account_id, symbol=ev.instrument.symbol)))

    async def _on_closed_event(self, _: SessionClosed) -> None:
        self.ready = False
        self._on_closed()

    # ---------------------------------------------------------------- reconciliation

    async def on_disconnected(self) -> None:
        """Orders sent but never acknowledged now have an unknown outcome until reconciliation."""
        for rec in list(self._by_id.values()):
            if rec.state.status == Status.PENDING_SUBMIT:
                await self._apply(rec.order_id, sm.OutcomeLost("connection to IB lost before acknowledgement"))

    async def reconcile(self, account_id: str, timeout: float) -> dict[str, int]:
        """After a (re)connect: ask IB for open and completed orders, executions and positions (through the
        taps), apply everything, then resolve the orders IB has never heard of. Returns counts for the log."""
        await self._session.request_open_orders(timeout)
        await self._session.request_completed_orders(timeout)
        await self._session.request_executions(account_id, timeout)
        await self._session.request_positions(timeout)
        await self.drain()
        resolved = 0
        for rec in list(self._by_id.values()):
            if rec.order_id in self._seen_this_session or rec.origin != "SUITE":
                continue
            if rec.state.status in (Status.PENDING_SUBMIT, Status.UNKNOWN):
                await self._apply(rec.order_id, sm.NotAtBroker())
                resolved += 1
        for execution_id in self._joiner.waiting():
            self._queue.put_nowait(CommissionSeen(CommissionInfo(execution_id, None, "", None)))
        await self.drain()
        await self.republish_unpublished_fills()
        return {"open": len(self.open_orders()), "resolved_not_at_broker": resolved}
