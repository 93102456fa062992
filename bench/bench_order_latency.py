"""PlaceOrder → acknowledged latency through edge → risk → bridge → simulator (real processes), beside a raw
gRPC unary echo measured in the same run.

Orders are 1-share market orders alternating buy and sell across a few symbols, paced at 10 orders/s so
neither the bridge's IB pacing (45 msg/s) nor risk's rate rules shape the figure.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

import grpc
from google.type import decimal_pb2
from ibkr.edge.v1 import trading_service_pb2, trading_service_pb2_grpc
from ibkr.trading.v1 import instrument_pb2, order_pb2

from bench.echo import measure_unary_echo
from bench.stats import line, summary_ms
from bench.suite_runner import running_suite

ORDERS = 150
RATE_PER_SECOND = 10
SYMBOLS = ("AAPL", "MSFT", "IBM", "SPY")


def request(n: int, symbol: str) -> trading_service_pb2.PlaceOrderRequest:
    side = order_pb2.ORDER_SIDE_BUY if n % 2 == 0 else order_pb2.ORDER_SIDE_SELL
    return trading_service_pb2.PlaceOrderRequest(
        client_order_id=f"bench-{uuid.uuid4().hex[:12]}",
        order=order_pb2.OrderSpec(
            instrument=instrument_pb2.Instrument(symbol=symbol, security_type=instrument_pb2.SECURITY_TYPE_STOCK),
            side=side, quantity=decimal_pb2.Decimal(value="1"), order_type=order_pb2.ORDER_TYPE_MARKET,
            time_in_force=order_pb2.TIME_IN_FORCE_DAY))


async def measure_place_order(address: str, key: str) -> list[float]:
    auth = (("authorization", f"Bearer {key}"),)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = trading_service_pb2_grpc.TradingServiceStub(channel)
        symbols = itertools.cycle(SYMBOLS)
        for n in range(10):  # warm-up: connections, qualification caches, first quotes
            await stub.PlaceOrder(request(n, next(symbols)), metadata=auth, timeout=15)
        samples, interval = [], 1.0 / RATE_PER_SECOND
        next_at = time.perf_counter()
        for n in range(ORDERS):
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
            t0 = time.perf_counter()
            await stub.PlaceOrder(request(n, next(symbols)), metadata=auth, timeout=15)
            samples.append(time.perf_counter() - t0)
        return samples


def main() -> None:
    with running_suite() as (suite, key):
        echo = asyncio.run(measure_unary_echo())
        placed = asyncio.run(measure_place_order(suite.address("edge"), key))
    print(line("raw gRPC unary echo (1 hop, baseline)", summary_ms(echo)))
    print(line(f"PlaceOrder→ack edge→risk→bridge→sim @{RATE_PER_SECOND}/s", summary_ms(placed)))


if __name__ == "__main__":
    main()
