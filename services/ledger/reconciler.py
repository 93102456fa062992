"""Reconciliation with the broker through the bridge's gRPC API: on demand and periodically.

Each run reads the broker's positions and cash (GatewayService ListPositions / GetAccount), compares them
with the ledger's, keeps every unresolved drift with the time it was first seen (its age), and reports
drift three ways: a `ReconciliationDrift` event on the bus, the `ibkr_ledger_reconciliation_*` metrics and
the GetReconciliationReport answer.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.trading.v1 import event_pb2, instrument_pb2, reconciliation_pb2

from services.common.bus import EventBus
from services.common.errors import Unavailable
from services.common.money import decimal_to_proto, money_from_proto, money_to_proto, require_decimal
from services.ledger import mapping
from services.ledger.events import enum_name
from services.ledger.instruments import instrument_key
from services.ledger.metrics import LedgerMetrics
from services.ledger.positions import PositionState
from services.ledger.reads import LedgerReader
from services.ledger.reconcile import Holding, cash_drifts, opening_balances, position_drifts
from services.ledger.store import LedgerStore

PAGE_SIZE = 1000


class Reconciler:
    """Compares the ledger with the broker for one account at a time."""

    def __init__(self, store: LedgerStore, reader: LedgerReader, bridge: gateway_pb2_grpc.GatewayServiceStub,
                 bus: EventBus | None, metrics: LedgerMetrics, *, deadline: float = 5.0,
                 logger: logging.Logger | None = None) -> None:
        self._store = store
        self._reader = reader
        self._bridge = bridge
        self._bus = bus
        self._metrics = metrics
        self._deadline = deadline
        self._log = logger or logging.getLogger("services.ledger.reconcile")
        self._lock = asyncio.Lock()

    async def _broker(self, account_id: str) -> tuple[dict[str, Holding], dict[str, Decimal]]:
        positions: dict[str, Holding] = {}
        token = ""
        while True:
            reply = await self._bridge.ListPositions(
                gateway_pb2.ListPositionsRequest(account_id=account_id, page_size=PAGE_SIZE, page_token=token),
                timeout=self._deadline)
            for p in reply.positions:
                if p.account_id and p.account_id != account_id:
                    continue
                inst = p.instrument
                key = instrument_key(inst.con_id, inst.symbol,
                                     enum_name(instrument_pb2.SecurityType, inst.security_type, "SECURITY_TYPE_"),
                                     inst.currency or "USD")
                avg = require_decimal(p.average_cost, "average_cost") if p.average_cost.value else None
                positions[key] = Holding(require_decimal(p.quantity, "quantity"), avg,
                                         inst.SerializeToString(deterministic=True), inst.symbol)
            token = reply.next_page_token
            if not token:
                break
        account = (await self._bridge.GetAccount(gateway_pb2.GetAccountRequest(account_id=account_id),
                                                 timeout=self._deadline)).account
        cash: dict[str, Decimal] = {}
        for balance in account.cash_balances:
            amount, ccy = money_from_proto(balance.balance, "cash_balances.balance")
            cash[ccy] = amount
        if not cash and account.HasField("total_cash"):
            amount, ccy = money_from_proto(account.total_cash, "total_cash")
            cash[ccy] = amount
        return positions, cash

    async def _ledger(self, account_id: str) -> tuple[dict[str, Holding], dict[str, Decimal]]:
        rows, cash = await self._reader.positions_and_cash(account_id)
        holdings = {}
        for r in rows:
            state = PositionState(r["quantity"], r["cost_basis"], r["cost_fees"], r["realized_pnl"])
            if state.quantity != 0:
                holdings[r["instrument_key"]] = Holding(state.quantity, state.average_cost(r["multiplier"]),
                                                        r["instrument"], r["symbol"])
        return holdings, cash

    async def run(self, account_id: str) -> reconciliation_pb2.ReconciliationReport:
        """Compare now; persist, publish and measure the outcome; return the report."""
        async with self._lock:
            now = datetime.now(UTC)
            try:
                broker_positions, broker_cash = await self._broker(account_id)
            except grpc.aio.AioRpcError as exc:
                self._metrics.reconciliations.labels("error").inc()
                await self._store.record_reconciliation(account_id, now, [], error=exc.details() or str(exc.code()))
                raise Unavailable("BROKER_UNAVAILABLE", f"cannot read the broker's books: {exc.code().name}",
                                  metadata={"account_id": account_id}) from None
            if await self._store.book_opening_balances(account_id, opening_balances(
                    (await self._ledger(account_id))[1], broker_cash), now):
                self._log.info("opening cash baseline taken", extra={"account_id": account_id})
            ledger_positions, ledger_cash = await self._ledger(account_id)
            drifts = position_drifts(ledger_positions, broker_positions) + cash_drifts(ledger_cash, broker_cash)
            await self._store.record_reconciliation(account_id, now, drifts)
            report = await self.report(account_id, refresh=False)
            self._measure(account_id, report)
            if drifts:
                self._metrics.reconciliations.labels("drift").inc()
                self._log.warning("ledger differs from broker",
                                  extra={"account_id": account_id, "drifts": [d.item_key for d in drifts]})
                await self._publish(account_id, report)
            else:
                self._metrics.reconciliations.labels("in_sync").inc()
            return report

    async def report(self, account_id: str, *, refresh: bool) -> reconciliation_pb2.ReconciliationReport:
        """The latest report (or a fresh one with `refresh`, or when none exists yet)."""
        if refresh:
            return await self.run(account_id)
        drifts, last = await self._store.reconciliation_state(account_id)
        if last is None or last["run_time"] is None:
            return await self.run(account_id)
        return build_report(account_id, drifts, last["run_time"], last["in_sync_time"])

    def _measure(self, account_id: str, report: reconciliation_pb2.ReconciliationReport) -> None:
        self._metrics.drift.labels(account_id, "position").set(len(report.position_drifts))
        self._metrics.drift.labels(account_id, "cash").set(len(report.cash_drifts))
        ages = [d.age.seconds for d in (*report.position_drifts, *report.cash_drifts)]
        self._metrics.drift_age.labels(account_id).set(max(ages, default=0))

    async def _publish(self, account_id: str, report: reconciliation_pb2.ReconciliationReport) -> None:
        if self._bus is None:
            return
        event = event_pb2.Event(event_id=str(uuid.uuid4()), account_id=account_id, source="ledger")
        event.event_time.FromDatetime(datetime.now(UTC))
        event.reconciliation_drift.report.CopyFrom(report)
        try:
            await self._bus.publish(event.SerializeToString(), event_type="reconciliation_drift", account=account_id)
        except Exception:  # noqa: BLE001 - the drift is still in the report and the metrics
            self._log.warning("could not publish the drift event", exc_info=True)

    async def run_periodically(self, account_id: str, interval: float, stop: asyncio.Event) -> None:
        """Reconcile every `interval` seconds until stopped; failures are logged and retried next time."""
        # The first run waits one interval: at start the bridge may not be up, and ingest should catch up
        # with the bus before the opening cash baseline is taken.
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                await self.run(account_id)
            except Unavailable as exc:  # the bridge is down or not connected: expected, retried next time
                self._log.warning("periodic reconciliation skipped", extra={"reason": exc.message})
            except Exception:  # noqa: BLE001 - the next run retries; the metric counts the error
                self._log.warning("periodic reconciliation failed", exc_info=True)


def _age(first_seen: datetime, as_of: datetime) -> Duration:
    d = Duration()
    d.FromTimedelta(max(as_of - first_seen, timedelta(0)))
    return d


def build_report(account_id: str, drifts: list[Any], run_time: datetime, in_sync_time: datetime | None,
                 ) -> reconciliation_pb2.ReconciliationReport:
    """The report proto from stored drift rows."""
    report = reconciliation_pb2.ReconciliationReport(account_id=account_id, in_sync=not drifts,
                                                     report_time=mapping.timestamp(run_time))
    if in_sync_time is not None:
        report.last_in_sync_time.CopyFrom(mapping.timestamp(in_sync_time))
    for d in drifts:
        if d["kind"] == "position":
            pd = reconciliation_pb2.PositionDrift(
                account_id=account_id, instrument=mapping.instrument(d["instrument"]),
                ledger_quantity=decimal_to_proto(d["ledger_value"]), broker_quantity=decimal_to_proto(d["broker_value"]),
                quantity_difference=decimal_to_proto(d["broker_value"] - d["ledger_value"]),
                first_detected_time=mapping.timestamp(d["first_seen_at"]), age=_age(d["first_seen_at"], run_time))
            if d["ledger_average_cost"] is not None:
                pd.ledger_average_cost.CopyFrom(decimal_to_proto(d["ledger_average_cost"]))
            if d["broker_average_cost"] is not None:
                pd.broker_average_cost.CopyFrom(decimal_to_proto(d["broker_average_cost"]))
            report.position_drifts.append(pd)
        else:
            ccy = d["currency"]
            report.cash_drifts.append(reconciliation_pb2.CashDrift(
                account_id=account_id, ledger_balance=money_to_proto(d["ledger_value"], ccy),
                broker_balance=money_to_proto(d["broker_value"], ccy),
                difference=money_to_proto(d["broker_value"] - d["ledger_value"], ccy),
                first_detected_time=mapping.timestamp(d["first_seen_at"]), age=_age(d["first_seen_at"], run_time)))
    return report

