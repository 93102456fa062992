"""PlaceOrder relays risk's reply bytes: a client must read exactly what parsing and copying gave it."""

from __future__ import annotations

import random

from google.protobuf.message import DecodeError
from ibkr.edge.v1 import trading_service_pb2 as pb
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import order_pb2

from services.edge.downstream import place_order_reply


def parsed_way(raw: bytes) -> bytes:
    """What PlaceOrder answered before the relay, serialized deterministically."""
    reply = risk_pb2.SubmitOrderResponse.FromString(raw)
    return pb.PlaceOrderResponse(order=reply.order, child_orders=reply.child_orders).SerializeToString(deterministic=True)


def as_client_reads(relayed: bytes) -> bytes:
    return pb.PlaceOrderResponse.FromString(relayed).SerializeToString(deterministic=True)


def _order(rng: random.Random, n: int) -> order_pb2.Order:
    order = order_pb2.Order(order_id=f"ord-{n}", client_order_id=f"c-{rng.randint(0, 10**6)}",
                            account_id="DU1234567", status=rng.choice([1, 2, 3]))
    order.spec.instrument.symbol = rng.choice(["AAPL", "MSFT", "BRK B"])
    order.spec.quantity.value = str(rng.randint(1, 10**6))
    if rng.random() < 0.5:
        order.spec.limit_price.value = f"{rng.randint(1, 999)}.{rng.randint(0, 99)}"
    return order


def _reply_bytes(rng: random.Random) -> bytes:
    """Risk's reply as it may arrive: fields in any order, repeated, with a decision and foreign fields."""
    parts = []
    if rng.random() < 0.95:
        parts.append(risk_pb2.SubmitOrderResponse(order=_order(rng, 0)).SerializeToString())
    for i in range(rng.choice([0, 0, 2, 3])):
        parts.append(risk_pb2.SubmitOrderResponse(child_orders=[_order(rng, i + 1)]).SerializeToString())
    if rng.random() < 0.8:
        decision = risk_pb2.SubmitOrderResponse()
        decision.decision.SetInParent()
        parts.append(decision.SerializeToString() or b"\x1a\x00")
    if rng.random() < 0.2:
        parts.append(b"\xa0\x06\x07")  # field 100, varint: unknown to both messages
    if rng.random() < 0.2:
        parts.append(risk_pb2.SubmitOrderResponse(order=_order(rng, 9)).SerializeToString())  # merged by parsers
    rng.shuffle(parts)
    return b"".join(parts)


def test_relayed_reply_reads_as_the_parsed_one() -> None:
    rng = random.Random(11)
    relayed_count = 0
    for _ in range(3000):
        raw = _reply_bytes(rng)
        relayed = place_order_reply(raw)
        if relayed is None:
            assert not risk_pb2.SubmitOrderResponse.FromString(raw).HasField("order")
            continue
        relayed_count += 1
        assert as_client_reads(relayed) == parsed_way(raw)
    assert relayed_count > 2500


def test_the_usual_reply_is_a_prefix_of_risks_bytes() -> None:
    rng = random.Random(3)
    reply = risk_pb2.SubmitOrderResponse(order=_order(rng, 1), child_orders=[_order(rng, 2), _order(rng, 3)])
    reply.decision.decision_id = "d-1"
    raw = reply.SerializeToString()
    relayed = place_order_reply(raw)
    assert relayed is not None and raw.startswith(relayed) and len(relayed) < len(raw)
    assert as_client_reads(relayed) == parsed_way(raw)


def test_damaged_bytes_that_parse_are_relayed_as_parsed() -> None:
    # Bytes that do not parse (only possible with a broken risk: gRPC carries them intact) fail either way: before,
    # in the edge's parse; now, in the client's (the orders' inner bytes are not re-checked on the way through).
    rng = random.Random(5)
    good = risk_pb2.SubmitOrderResponse(order=_order(rng, 1), child_orders=[_order(rng, 2)]).SerializeToString()
    for _ in range(5000):
        raw = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.4 and raw:
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            elif op < 0.7:
                del raw[rng.randrange(len(raw) + 1):]
            else:
                raw.insert(rng.randrange(len(raw) + 1), rng.randrange(256))
        raw = bytes(raw)
        relayed = place_order_reply(raw)
        if relayed is None:
            continue
        try:
            expected = parsed_way(raw)
        except DecodeError:
            continue
        assert as_client_reads(relayed) == expected


def test_non_messages_fall_back_to_the_parser() -> None:
    assert place_order_reply(b"") is None
    assert place_order_reply(b"\x0a\x05ab") is None  # length past the end
    assert place_order_reply(b"\x08\x01") is None  # field 1 as a varint
    assert place_order_reply(b"\x0b") is None  # a group
    assert place_order_reply(b"\x00\x00") is None  # field 0
