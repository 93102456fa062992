"""The order path's hand-encoded messages: risk relays the bridge's PlaceOrderResponse bytes as the first two
fields of its SubmitOrderResponse and encodes PlaceOrderRequest itself, which holds only while the field
numbers and types line up. A change to either message that breaks that fails here first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf import descriptor_pb2
from ibkr.gateway.v1 import gateway_pb2
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import instrument_pb2, order_pb2

from services.common.money import decimal_to_proto
from services.risk.bridge import place_order_request_bytes
from services.risk.core.model import Decision, TradingState
from services.risk.decision_codec import DecisionRecord, decision_to_proto, submit_order_response_bytes
from services.risk.wire import varint


def _fields(message) -> dict[int, tuple[str, int, str]]:
    return {f.number: (f.name, f.type, f.message_type.full_name if f.message_type else "")
            for f in message.DESCRIPTOR.fields}


def _spec() -> order_pb2.OrderSpec:
    return order_pb2.OrderSpec(
        instrument=instrument_pb2.Instrument(symbol="AAPL", security_type=instrument_pb2.SECURITY_TYPE_STOCK),
        side=order_pb2.ORDER_SIDE_BUY, quantity=decimal_to_proto(Decimal(5)), order_type=order_pb2.ORDER_TYPE_LIMIT,
        limit_price=decimal_to_proto(Decimal("187.25")), time_in_force=order_pb2.TIME_IN_FORCE_DAY)


def test_the_bridges_answer_is_the_start_of_a_submit_order_response():
    answer = _fields(gateway_pb2.PlaceOrderResponse)
    response = _fields(risk_pb2.SubmitOrderResponse)
    assert answer == {1: response[1], 2: response[2]}
    assert response[3][0] == "decision"
    # A bridge of another version must not put a field of its own where risk appends the decision.
    answer_proto = descriptor_pb2.DescriptorProto()
    gateway_pb2.PlaceOrderResponse.DESCRIPTOR.CopyToProto(answer_proto)
    assert any(r.start <= 3 < r.end for r in answer_proto.reserved_range)


def test_place_order_request_fields_are_the_ones_encoded():
    assert [(n, f[0]) for n, f in sorted(_fields(gateway_pb2.PlaceOrderRequest).items())] == [
        (1, "account_id"), (2, "client_order_id"), (3, "order"), (4, "risk_decision_id")]


def test_encoded_request_equals_the_message():
    spec = _spec()
    for decision_id in ("rd_" + "ab" * 16, ""):
        encoded = place_order_request_bytes("DU1", "c-1", spec.SerializeToString(), decision_id)
        expected = gateway_pb2.PlaceOrderRequest(account_id="DU1", client_order_id="c-1", order=spec,
                                                 risk_decision_id=decision_id)
        assert gateway_pb2.PlaceOrderRequest.FromString(encoded) == expected


def test_response_is_the_bridges_answer_with_the_decision_and_its_order_id():
    order = order_pb2.Order(order_id="ord_1", client_order_id="c-1", account_id="DU1", spec=_spec(),
                            status=order_pb2.ORDER_STATUS_SUBMITTED)
    child = order_pb2.Order(order_id="ord_2", client_order_id="c-1.tp", account_id="DU1")
    answer = gateway_pb2.PlaceOrderResponse(order=order, child_orders=[child]).SerializeToString()
    rec = DecisionRecord("rd_1", "DU1", "c-1", 1, Decision(True, (), 7, TradingState.ACTIVE, None, False), _spec(),
                         datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "key_1")

    response = risk_pb2.SubmitOrderResponse.FromString(submit_order_response_bytes(answer, rec, "ord_1"))

    expected = decision_to_proto(rec)
    expected.order_id = "ord_1"
    assert response == risk_pb2.SubmitOrderResponse(order=order, child_orders=[child], decision=expected)


def test_varint_round_trips_multi_byte_lengths():
    for n in (0, 127, 128, 300, 2**21, 2**35):
        encoded = varint(n)
        value = sum((b & 0x7F) << (7 * i) for i, b in enumerate(encoded))
        assert value == n and encoded[-1] < 128 and all(b >= 128 for b in encoded[:-1])
