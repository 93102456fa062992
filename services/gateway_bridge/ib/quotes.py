"""An ib_async Ticker → `ibkr.trading.v1.Quote` (prices via `ib.numbers`: NaN, -1 and sentinels are absent)."""

from __future__ import annotations

import datetime as dt

from ib_async import Ticker
from ibkr.trading.v1 import instrument_pb2, market_data_pb2

from services.common.money import decimal_to_proto
from services.gateway_bridge.ib.numbers import to_decimal, to_price

# Ticker attribute → (Quote field, parser). Sizes may legitimately be 0; prices may not.
MAP_QUOTE_FIELDS = (
    ("bid", "bid_price", to_price), ("bidSize", "bid_size", to_decimal),
    ("ask", "ask_price", to_price), ("askSize", "ask_size", to_decimal),
    ("last", "last_price", to_price), ("lastSize", "last_size", to_decimal),
    ("volume", "volume", to_decimal), ("close", "close_price", to_price), ("open", "open_price", to_price),
    ("high", "high_price", to_price), ("low", "low_price", to_price),
)
MAP_MARKET_DATA_TYPE = {1: market_data_pb2.MARKET_DATA_TYPE_REALTIME, 2: market_data_pb2.MARKET_DATA_TYPE_FROZEN,
                        3: market_data_pb2.MARKET_DATA_TYPE_DELAYED, 4: market_data_pb2.MARKET_DATA_TYPE_DELAYED_FROZEN}


def quote_from_ticker(ticker: Ticker, instrument: instrument_pb2.Instrument) -> market_data_pb2.Quote:
    quote = market_data_pb2.Quote(instrument=instrument,
                                  data_type=MAP_MARKET_DATA_TYPE.get(ticker.marketDataType, 0))
    for theirs, ours, parse in MAP_QUOTE_FIELDS:
        value = parse(getattr(ticker, theirs))
        if value is not None and value >= 0:
            getattr(quote, ours).CopyFrom(decimal_to_proto(value))
    quote.quote_time.FromDatetime(dt.datetime.now(dt.UTC))
    if isinstance(ticker.lastTimestamp, dt.datetime):
        quote.last_trade_time.FromDatetime(ticker.lastTimestamp.astimezone(dt.UTC))
    return quote
