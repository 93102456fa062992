"""Several ib_async clients at once: private order streams, shared positions, clientId 0 as master."""

from __future__ import annotations

import asyncio

from ib_async import IB, LimitOrder, MarketOrder, Stock

from services.ib_gateway_sim import Simulator

from .conftest import connect, until


async def test_concurrent_clients_trade_at_once_and_the_books_add_up(sim: Simulator) -> None:
    clients = await asyncio.gather(*(connect(sim, cid) for cid in (11, 12, 13, 14)))
    try:
        [aapl] = await clients[0].qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        trades = [ib.placeOrder(aapl, MarketOrder("BUY", 10)) for ib in clients for _ in range(5)]
        await until(lambda: all(t.orderStatus.status == "Filled" for t in trades))
        assert len({t.order.permId for t in trades}) == 20
        assert {t.orderStatus.clientId for t in trades} == {11, 12, 13, 14}
        for ib in clients:
            await until(lambda ib=ib: [p.position for p in ib.positions()] == [200.0])
        assert len(await clients[1].reqExecutionsAsync()) == 20
    finally:
        for ib in clients:
            ib.disconnect()


async def test_client_zero_sees_every_clients_orders(sim: Simulator, ib: IB) -> None:
    master = await connect(sim, 0)
    try:
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        trade = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.0, orderRef="from-1"))
        await until(lambda: [t.order.orderRef for t in master.openTrades()] == ["from-1"])
        ib.cancelOrder(trade.order)
        await until(lambda: master.trades()[0].orderStatus.status == "Cancelled")
        assert master.trades()[0].order.clientId == 1
    finally:
        master.disconnect()


async def test_a_client_that_disconnects_mid_order_finds_the_fill_on_reconnect(sim: Simulator) -> None:
    from decimal import Decimal

    ib = await connect(sim, 40)
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    trade = ib.placeOrder(aapl, LimitOrder("BUY", 10, 185.00, orderRef="while-away"))
    await until(lambda: trade.orderStatus.status == "Submitted")
    ib.disconnect()
    sim.set_price("AAPL", Decimal("184.00"))  # fills while nobody listens
    again = await connect(sim, 40)
    try:
        assert again.openTrades() == []
        [fill] = again.fills()
        assert fill.execution.orderRef == "while-away" and fill.commissionReport.commission == 1.0
        assert [p.position for p in again.positions()] == [10.0]
        [done] = await again.reqCompletedOrdersAsync(False)
        assert done.orderStatus.status == "Filled"
    finally:
        again.disconnect()
