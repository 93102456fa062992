"""Reconciliation against the broker's books, read from a GatewayService (an in-process fake bridge on
port 0: the real bridge needs a broker session, which the e2e tier provides)."""

from __future__ import annotations

from decimal import Decimal

import grpc
import redis.asyncio as aioredis
from ibkr.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from ibkr.ledger.v1 import ledger_pb2
from ibkr.trading.v1 import event_pb2, portfolio_pb2

from services.common.money import decimal_to_proto, money_to_proto
from services.ledger import synthetic as syn
from services.ledger.tests.helpers import eventually, publish, running_ledger, settings_for

ACCOUNT = "DU1234567"


class FakeBridge(gateway_pb2_grpc.GatewayServiceServicer):
    """The broker's books as the bridge would report them; the test edits them."""

    def __init__(self) -> None:
        self.quantity = Decimal(0)
        self.cash = Decimal(100000)

    async def ListPositions(self, request, context):
        pos = portfolio_pb2.Position(account_id=ACCOUNT, instrument=syn.instrument(),
                                     quantity=decimal_to_proto(self.quantity),
                                     average_cost=decimal_to_proto(Decimal("10.01")))
        return gateway_pb2.ListPositionsResponse(positions=[pos] if self.quantity else [])

    async def GetAccount(self, request, context):
        summary = portfolio_pb2.AccountSummary(account_id=ACCOUNT, base_currency="USD")
        summary.cash_balances.add().balance.CopyFrom(money_to_proto(self.cash, "USD"))
        return gateway_pb2.GetAccountResponse(account=summary)


async def test_drift_is_reported_with_size_and_age_as_event_and_answer_then_clears(
        postgres_dsn, redis_url, unique_name):
    fake = FakeBridge()
    bridge = grpc.aio.server()
    gateway_pb2_grpc.add_GatewayServiceServicer_to_server(fake, bridge)
    port = bridge.add_insecure_port("127.0.0.1:0")
    await bridge.start()
    settings = settings_for(postgres_dsn, redis_url, unique_name, risk_address=f"127.0.0.1:{port}")
    try:
        async with running_ledger(settings) as (app, stub, _channel):
            await publish(redis_url, settings.bus_stream, syn.fill_event("r1", "BUY", "100", "10.00"))
            await eventually(lambda: _has_fills(stub))
            fake.quantity, fake.cash = Decimal(100), Decimal("98999.00")  # 100 000 − 1 001.00

            first = (await stub.GetReconciliationReport(
                ledger_pb2.GetReconciliationReportRequest(account_id=ACCOUNT, refresh=True))).report
            assert first.in_sync, first  # the first run takes the opening cash baseline

            fake.quantity, fake.cash = Decimal(150), Decimal("98500.00")
            drift = (await stub.GetReconciliationReport(
                ledger_pb2.GetReconciliationReportRequest(account_id=ACCOUNT, refresh=True))).report
            assert not drift.in_sync
            (pd,) = drift.position_drifts
            assert (pd.ledger_quantity.value, pd.broker_quantity.value, pd.quantity_difference.value) == (
                "100", "150", "50")
            assert pd.HasField("first_detected_time") and pd.HasField("age")
            (cd,) = drift.cash_drifts
            assert (cd.difference.units, cd.difference.nanos) == (-499, 0)

            again = (await stub.GetReconciliationReport(
                ledger_pb2.GetReconciliationReportRequest(account_id=ACCOUNT, refresh=True))).report
            assert again.position_drifts[0].first_detected_time == pd.first_detected_time  # age keeps growing

            metrics = app.registry.get_sample_value(
                "ibkr_ledger_reconciliation_drift", {"account_id": ACCOUNT, "kind": "position"})
            assert metrics == 1
            events = await _drift_events(redis_url, settings.bus_stream)
            assert events and events[-1].reconciliation_drift.report.position_drifts[0].broker_quantity.value == "150"

            fake.quantity, fake.cash = Decimal(100), Decimal("98999.00")
            cleared = (await stub.GetReconciliationReport(
                ledger_pb2.GetReconciliationReportRequest(account_id=ACCOUNT, refresh=True))).report
            assert cleared.in_sync and cleared.HasField("last_in_sync_time")
            latest = (await stub.GetReconciliationReport(
                ledger_pb2.GetReconciliationReportRequest(account_id=ACCOUNT))).report
            assert latest.in_sync
    finally:
        await bridge.stop(0)


async def test_report_with_the_bridge_down_is_unavailable_and_counted(postgres_dsn, redis_url, unique_name):
    from tools.infra import free_port

    settings = settings_for(postgres_dsn, redis_url, unique_name, risk_address=f"127.0.0.1:{free_port()}",
                            ledger_bridge_deadline_seconds=1.0)
    async with running_ledger(settings) as (app, stub, _channel):
        try:
            await stub.GetReconciliationReport(
                ledger_pb2.GetReconciliationReportRequest(account_id=ACCOUNT, refresh=True))
            raise AssertionError("expected UNAVAILABLE")
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.UNAVAILABLE
        assert app.registry.get_sample_value("ibkr_ledger_reconciliations_total", {"outcome": "error"}) == 1


async def _has_fills(stub):
    return (await stub.ListFills(ledger_pb2.ListFillsRequest(account_id=ACCOUNT))).fills


async def _drift_events(redis_url, stream):
    r = aioredis.from_url(redis_url, decode_responses=False)
    try:
        out = []
        for _id, fields in await r.xrange(stream):
            if fields.get(b"type") == b"reconciliation_drift":
                ev = event_pb2.Event()
                ev.ParseFromString(fields[b"event"])
                out.append(ev)
        return out
    finally:
        await r.aclose()
