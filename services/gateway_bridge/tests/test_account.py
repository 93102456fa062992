"""Account values, positions with marks and P&L: readable through the API and published; sentinels never leak."""

from __future__ import annotations

import asyncio

from ibkr.gateway.v1 import gateway_pb2
from ibkr.trading.v1 import portfolio_pb2

from services.gateway_bridge.ib.account import summary

from .test_orders_e2e import place, spec


def test_summary_maps_tags_and_never_turns_sentinels_or_text_into_numbers():
    values = {("NetLiquidation", "USD"): "1000000.50", ("BuyingPower", "USD"): "1.7976931348623157E308",
              ("AccountType", ""): "INDIVIDUAL", ("CashBalance", "EUR"): "12.5", ("NetLiquidation", "BASE"): "1",
              ("Leverage", "USD"): "nan"}
    out = summary("DU1", values)
    assert out.base_currency == "USD" and out.net_liquidation.units == 1000000 and out.net_liquidation.nanos == 5 * 10**8
    assert not out.HasField("buying_power") and not out.HasField("leverage")
    assert out.account_type == portfolio_pb2.ACCOUNT_TYPE_PAPER
    assert [c.balance.currency_code for c in out.cash_balances] == ["EUR"]
    assert {v.key for v in out.values} >= {"AccountType", "BuyingPower"}


async def test_account_and_pnl_are_readable_and_published_after_a_fill(bridge, bus, unique_name):
    account = (await bridge.stub.GetAccount(gateway_pb2.GetAccountRequest(account_id="DU1234567"), timeout=5)).account
    assert account.net_liquidation.currency_code == "USD" and account.net_liquidation.units > 0
    await bridge.stub.PlaceOrder(place(f"{unique_name}-p", spec(qty="5")), timeout=10)
    pnl = None
    for _ in range(300):
        pnl = await bridge.stub.GetPnl(gateway_pb2.GetPnlRequest(account_id="DU1234567"), timeout=5)
        if pnl.position_pnls:
            break
        await asyncio.sleep(0.02)
    assert pnl.position_pnls[0].instrument.symbol == "AAPL" and pnl.position_pnls[0].position_quantity.value == "5"
    kinds: set[str] = set()
    for _ in range(300):
        kinds = {e.WhichOneof("payload") for e in await bus.events()}
        if {"account_update", "pnl_update"} <= kinds:
            break
        await asyncio.sleep(0.02)
    assert {"account_update", "pnl_update"} <= kinds
    positions = (await bridge.stub.ListPositions(gateway_pb2.ListPositionsRequest(), timeout=5)).positions
    assert positions and positions[0].HasField("market_price")
