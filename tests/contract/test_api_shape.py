"""The public API has the names DESIGN §4 fixes, money is never a float, and every element is documented.

Checked through the generated descriptors (what clients really get) and, for comments, through a
descriptor set built by protoc with source info.
"""

from __future__ import annotations

import keyword
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor, FileDescriptor
from ibkr.edge.v1 import (
    admin_service_pb2,
    event_service_pb2,
    market_data_service_pb2,
    portfolio_service_pb2,
    trading_service_pb2,
)
from ibkr.gateway.v1 import gateway_pb2
from ibkr.ledger.v1 import ledger_pb2
from ibkr.risk.v1 import risk_pb2
from ibkr.sim.v1 import sim_pb2
from ibkr.trading.v1 import (
    event_pb2,
    execution_pb2,
    instrument_pb2,
    market_data_pb2,
    order_pb2,
    portfolio_pb2,
    reconciliation_pb2,
    risk_policy_pb2,
    risk_types_pb2,
    system_pb2,
)

from tools import gen_protos

MODULES = [
    admin_service_pb2,
    event_service_pb2,
    market_data_service_pb2,
    portfolio_service_pb2,
    trading_service_pb2,
    gateway_pb2,
    ledger_pb2,
    risk_pb2,
    sim_pb2,
    event_pb2,
    execution_pb2,
    instrument_pb2,
    market_data_pb2,
    order_pb2,
    portfolio_pb2,
    reconciliation_pb2,
    risk_policy_pb2,
    risk_types_pb2,
    system_pb2,
]
FILES: list[FileDescriptor] = [m.DESCRIPTOR for m in MODULES]
EDGE = {f.services_by_name[name] for f in FILES if f.package == "ibkr.edge.v1" for name in f.services_by_name}

EDGE_SERVICES = {
    "TradingService": [
        "PlaceOrder",
        "PreviewOrder",
        "ReplaceOrder",
        "CancelOrder",
        "CancelAllOrders",
        "ClosePosition",
        "GetOrder",
        "ListOrders",
        "ListFills",
    ],
    "PortfolioService": ["GetAccount", "ListPositions", "GetPnl"],
    "MarketDataService": ["GetQuote", "StreamQuotes"],
    "EventService": ["StreamEvents"],
    "AdminService": [
        "GetTradingState",
        "SetTradingState",
        "GetRiskPolicy",
        "UpdateRiskPolicy",
        "GetSystemStatus",
    ],
}

# message full name -> {field name: type full name, or a scalar type keyword}
FIXED_FIELDS = {
    "ibkr.edge.v1.PlaceOrderRequest": {
        "account_id": "string",
        "client_order_id": "string",
        "order": "ibkr.trading.v1.OrderSpec",
    },
    "ibkr.edge.v1.PlaceOrderResponse": {"order": "ibkr.trading.v1.Order"},
    "ibkr.edge.v1.GetOrderRequest": {
        "account_id": "string",
        "order_id": "string",
        "client_order_id": "string",
    },
    "ibkr.edge.v1.GetOrderResponse": {"order": "ibkr.trading.v1.Order"},
    "ibkr.edge.v1.CancelOrderRequest": {
        "account_id": "string",
        "order_id": "string",
        "client_order_id": "string",
    },
    "ibkr.edge.v1.ListPositionsRequest": {"account_id": "string"},
    "ibkr.edge.v1.ListPositionsResponse": {"positions": "ibkr.trading.v1.Position"},
    "ibkr.edge.v1.ListFillsRequest": {"account_id": "string", "page_size": "int32", "page_token": "string"},
    "ibkr.edge.v1.ListFillsResponse": {"fills": "ibkr.trading.v1.Fill", "next_page_token": "string"},
    "ibkr.edge.v1.GetQuoteRequest": {"instrument": "ibkr.trading.v1.Instrument"},
    "ibkr.edge.v1.StreamEventsRequest": {
        "account_id": "string",
        "event_types": "ibkr.trading.v1.EventType",
        "resume_token": "string",
    },
    "ibkr.edge.v1.StreamEventsResponse": {
        "event": "ibkr.trading.v1.Event",
        "heartbeat": "ibkr.trading.v1.Heartbeat",
        "resume_token": "string",
    },
    "ibkr.trading.v1.OrderSpec": {
        "instrument": "ibkr.trading.v1.Instrument",
        "side": "ibkr.trading.v1.OrderSide",
        "quantity": "google.type.Decimal",
        "order_type": "ibkr.trading.v1.OrderType",
        "limit_price": "google.type.Decimal",
        "stop_price": "google.type.Decimal",
        "time_in_force": "ibkr.trading.v1.TimeInForce",
        "outside_rth": "bool",
    },
    "ibkr.trading.v1.Instrument": {
        "symbol": "string",
        "security_type": "ibkr.trading.v1.SecurityType",
        "exchange": "string",
        "currency": "string",
        "con_id": "int64",
    },
    "ibkr.trading.v1.Order": {
        "order_id": "string",
        "client_order_id": "string",
        "account_id": "string",
        "spec": "ibkr.trading.v1.OrderSpec",
        "status": "ibkr.trading.v1.OrderStatus",
        "filled_quantity": "google.type.Decimal",
        "average_fill_price": "google.type.Decimal",
    },
    "ibkr.trading.v1.Fill": {
        "execution_id": "string",
        "order_id": "string",
        "client_order_id": "string",
        "instrument": "ibkr.trading.v1.Instrument",
        "side": "ibkr.trading.v1.OrderSide",
        "quantity": "google.type.Decimal",
        "price": "google.type.Decimal",
        "commission": "google.type.Money",
        "fill_time": "google.protobuf.Timestamp",
    },
    "ibkr.trading.v1.Position": {
        "account_id": "string",
        "instrument": "ibkr.trading.v1.Instrument",
        "quantity": "google.type.Decimal",
        "average_cost": "google.type.Decimal",
    },
    "ibkr.trading.v1.Event": {
        "event_id": "string",
        "event_time": "google.protobuf.Timestamp",
        "account_id": "string",
        "order_update": "ibkr.trading.v1.OrderUpdate",
        "fill": "ibkr.trading.v1.Fill",
        "position_update": "ibkr.trading.v1.PositionUpdate",
    },
}

# message full name -> {oneof name: its fields}
FIXED_ONEOFS = {
    "ibkr.edge.v1.GetOrderRequest": {"key": {"order_id", "client_order_id"}},
    "ibkr.edge.v1.CancelOrderRequest": {"key": {"order_id", "client_order_id"}},
    "ibkr.edge.v1.StreamEventsResponse": {"frame": {"event", "heartbeat"}},
    "ibkr.trading.v1.Event": {"payload": {"order_update", "fill", "position_update"}},
}

FIXED_ENUM_VALUES = {
    "ibkr.trading.v1.OrderSide": ["ORDER_SIDE_BUY", "ORDER_SIDE_SELL"],
    "ibkr.trading.v1.OrderType": [
        "ORDER_TYPE_MARKET",
        "ORDER_TYPE_LIMIT",
        "ORDER_TYPE_STOP",
        "ORDER_TYPE_STOP_LIMIT",
        "ORDER_TYPE_TRAILING_STOP",
    ],
    "ibkr.trading.v1.TimeInForce": [
        "TIME_IN_FORCE_DAY",
        "TIME_IN_FORCE_GTC",
        "TIME_IN_FORCE_IOC",
        "TIME_IN_FORCE_FOK",
        "TIME_IN_FORCE_GTD",
    ],
    "ibkr.trading.v1.SecurityType": ["SECURITY_TYPE_STOCK"],
    "ibkr.trading.v1.OrderStatus": [
        "ORDER_STATUS_PENDING_SUBMIT",
        "ORDER_STATUS_SUBMITTED",
        "ORDER_STATUS_PARTIALLY_FILLED",
        "ORDER_STATUS_FILLED",
        "ORDER_STATUS_PENDING_CANCEL",
        "ORDER_STATUS_CANCELLED",
        "ORDER_STATUS_REJECTED",
        "ORDER_STATUS_INACTIVE",
        "ORDER_STATUS_UNKNOWN",
    ],
    "ibkr.trading.v1.TradingState": [
        "TRADING_STATE_ACTIVE",
        "TRADING_STATE_REDUCING",
        "TRADING_STATE_HALTED",
    ],
}

SCALAR_NAMES = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_BOOL: "bool",
}


def all_messages() -> list[Descriptor]:
    """Every message of every ibkr file, nested ones included."""
    found: list[Descriptor] = []

    def walk(message: Descriptor) -> None:
        found.append(message)
        for nested in message.nested_types:
            walk(nested)

    for file in FILES:
        for message in file.message_types_by_name.values():
            walk(message)
    return found


def all_enums() -> list[EnumDescriptor]:
    """Every enum of every ibkr file."""
    enums = [e for f in FILES for e in f.enum_types_by_name.values()]
    return enums + [e for m in all_messages() for e in m.enum_types]


def message(full_name: str) -> Descriptor:
    for m in all_messages():
        if m.full_name == full_name:
            return m
    raise AssertionError(f"message {full_name} does not exist")


def type_name(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        return field.message_type.full_name
    if field.enum_type is not None:
        return field.enum_type.full_name
    return SCALAR_NAMES.get(field.type, f"type{field.type}")


def test_every_ibkr_proto_is_covered_by_this_test() -> None:
    assert sorted(f.name for f in FILES) == gen_protos.proto_files()


@pytest.mark.parametrize("service_name", sorted(EDGE_SERVICES))
def test_edge_service_has_exactly_the_design_rpcs(service_name: str) -> None:
    services = {s.name: s for s in EDGE}
    assert service_name in services
    service = services[service_name]
    assert service.full_name == f"ibkr.edge.v1.{service_name}"
    assert sorted(m.name for m in service.methods) == sorted(EDGE_SERVICES[service_name])


def test_every_rpc_has_its_own_request_and_response() -> None:
    seen: set[str] = set()
    for file in FILES:
        for service in file.services_by_name.values():
            for method in service.methods:
                assert method.input_type.name == f"{method.name}Request", method.full_name
                assert method.output_type.name == f"{method.name}Response", method.full_name
                for t in (method.input_type.full_name, method.output_type.full_name):
                    assert t not in seen, f"{t} is used by more than one RPC"
                    seen.add(t)


def test_streaming_rpcs_are_server_streams() -> None:
    streams = {
        m.full_name: (m.client_streaming, m.server_streaming)
        for s in EDGE
        for m in s.methods
        if m.client_streaming or m.server_streaming
    }
    assert streams == {
        "ibkr.edge.v1.MarketDataService.StreamQuotes": (False, True),
        "ibkr.edge.v1.EventService.StreamEvents": (False, True),
    }


@pytest.mark.parametrize("full_name", sorted(FIXED_FIELDS))
def test_design_field_names_and_types_exist(full_name: str) -> None:
    fields = message(full_name).fields_by_name
    for name, expected in FIXED_FIELDS[full_name].items():
        assert name in fields, f"{full_name}.{name} is missing"
        assert type_name(fields[name]) == expected, f"{full_name}.{name} is {type_name(fields[name])}"


def test_repeated_design_fields_are_repeated() -> None:
    for full_name, field in [
        ("ibkr.edge.v1.ListPositionsResponse", "positions"),
        ("ibkr.edge.v1.ListFillsResponse", "fills"),
        ("ibkr.edge.v1.StreamEventsRequest", "event_types"),
    ]:
        assert message(full_name).fields_by_name[field].is_repeated


@pytest.mark.parametrize("full_name", sorted(FIXED_ONEOFS))
def test_design_oneofs_exist(full_name: str) -> None:
    oneofs = message(full_name).oneofs_by_name
    for oneof_name, members in FIXED_ONEOFS[full_name].items():
        assert oneof_name in oneofs, f"{full_name} has no oneof {oneof_name}"
        assert members <= {f.name for f in oneofs[oneof_name].fields}


@pytest.mark.parametrize("full_name", sorted(FIXED_ENUM_VALUES))
def test_design_enum_values_exist(full_name: str) -> None:
    enum = next(e for e in all_enums() if e.full_name == full_name)
    names = set(enum.values_by_name)
    assert enum.values_by_number[0].name.endswith("_UNSPECIFIED")
    for value in FIXED_ENUM_VALUES[full_name]:
        assert value in names, f"{full_name} lacks {value}"


def test_every_enum_is_top_level_prefixed_with_unspecified_zero() -> None:
    for m in all_messages():
        assert not m.enum_types, f"{m.full_name} has nested enums"
    for enum in all_enums():
        prefix = "".join(f"_{c}" if c.isupper() else c for c in enum.name).lstrip("_").upper() + "_"
        assert enum.values_by_number[0].name == f"{prefix}UNSPECIFIED", enum.full_name
        for value in enum.values:
            assert value.name.startswith(prefix), f"{enum.full_name}.{value.name}"


def test_no_float_or_double_field_anywhere() -> None:
    floats = [
        f"{m.full_name}.{f.name}"
        for m in all_messages()
        for f in m.fields
        if f.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)
        or (
            f.message_type is not None
            and f.message_type.full_name
            in {
                "google.protobuf.FloatValue",
                "google.protobuf.DoubleValue",
            }
        )
    ]
    assert floats == []


def test_no_name_is_a_python_keyword() -> None:
    """`global`, `from`, … would be unusable as keyword arguments and attributes in the Python stubs."""
    clashes = [
        f"{m.full_name}.{f.name}" for m in all_messages() for f in m.fields if keyword.iskeyword(f.name)
    ]
    assert clashes == []


def test_timestamps_are_named_time() -> None:
    wrong = [
        f"{m.full_name}.{f.name}"
        for m in all_messages()
        for f in m.fields
        if f.message_type is not None
        and f.message_type.full_name == "google.protobuf.Timestamp"
        and not f.name.endswith("_time")
    ]
    assert wrong == []


def test_every_list_rpc_is_paginated() -> None:
    for file in FILES:
        for service in file.services_by_name.values():
            for method in service.methods:
                if not method.name.startswith("List"):
                    continue
                request, response = method.input_type.fields_by_name, method.output_type.fields_by_name
                assert type_name(request["page_size"]) == "int32", method.full_name
                assert type_name(request["page_token"]) == "string", method.full_name
                assert type_name(response["next_page_token"]) == "string", method.full_name


# SourceCodeInfo paths: FileDescriptorProto.message_type=4, enum_type=5, service=6;
# DescriptorProto.field=2, nested_type=3, enum_type=4, oneof_decl=8;
# EnumDescriptorProto.value=2; ServiceDescriptorProto.method=2.


def undocumented(file: descriptor_pb2.FileDescriptorProto) -> list[str]:
    comments = {
        tuple(loc.path): loc.leading_comments.strip()
        for loc in file.source_code_info.location
        if loc.leading_comments.strip()
    }
    missing: list[str] = []

    def need(path: tuple[int, ...], name: str) -> None:
        if path not in comments:
            missing.append(f"{file.name}: {name}")

    def walk_message(msg: descriptor_pb2.DescriptorProto, path: tuple[int, ...], prefix: str) -> None:
        name = f"{prefix}{msg.name}"
        need(path, f"message {name}")
        for i, field in enumerate(msg.field):
            need((*path, 2, i), f"field {name}.{field.name}")
        for i, oneof in enumerate(msg.oneof_decl):
            if not oneof.name.startswith("_"):  # synthetic oneofs of proto3 `optional`
                need((*path, 8, i), f"oneof {name}.{oneof.name}")
        for i, enum in enumerate(msg.enum_type):
            walk_enum(enum, (*path, 4, i), f"{name}.")
        for i, nested in enumerate(msg.nested_type):
            walk_message(nested, (*path, 3, i), f"{name}.")

    def walk_enum(enum: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], prefix: str) -> None:
        need(path, f"enum {prefix}{enum.name}")
        for i, value in enumerate(enum.value):
            need((*path, 2, i), f"enum value {prefix}{enum.name}.{value.name}")

    for i, msg in enumerate(file.message_type):
        walk_message(msg, (4, i), "")
    for i, enum in enumerate(file.enum_type):
        walk_enum(enum, (5, i), "")
    for i, service in enumerate(file.service):
        need((6, i), f"service {service.name}")
        for j, method in enumerate(service.method):
            need((6, i, 2, j), f"rpc {service.name}.{method.name}")
    return missing


def test_every_element_has_a_leading_comment(tmp_path: Path) -> None:
    out = gen_protos.build_descriptor_set(tmp_path / "ibkr.binpb")
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    ours = [f for f in fds.file if f.package.startswith("ibkr.")]
    assert len(ours) == len(gen_protos.proto_files())
    missing = [line for f in ours for line in undocumented(f)]
    assert missing == [], "undocumented elements:\n" + "\n".join(missing)
