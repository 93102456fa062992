"""JSON log lines with service, trace and extra fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.config import CommonSettings
from services.common.logging import configure_logging
from services.common.telemetry import build_tracer_provider


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    configure_logging("ledger", "DEBUG", stream=out)
    yield out
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_line_with_the_standard_fields(stream: io.StringIO) -> None:
    logging.getLogger("ledger.consumer").info("applied %d fills", 3, extra={"account": "DU1"})

    [entry] = lines(stream)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "ledger.consumer"
    assert entry["message"] == "applied 3 fills"
    assert entry["service"] == "ledger"
    assert entry["account"] == "DU1"
    assert entry["time"].endswith("+00:00")
    assert "trace_id" not in entry


def test_active_span_adds_trace_and_span_ids(stream: io.StringIO) -> None:
    provider = build_tracer_provider("ledger", CommonSettings(), exporter=InMemorySpanExporter())
    with provider.get_tracer("t").start_as_current_span("work") as span:
        logging.getLogger("x").warning("inside")

    [entry] = lines(stream)
    assert entry["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert entry["span_id"] == format(span.get_span_context().span_id, "016x")


def test_exceptions_and_non_json_values_are_logged_not_lost(stream: io.StringIO) -> None:
    from decimal import Decimal

    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("x").exception("failed", extra={"price": Decimal("1.10")})

    [entry] = lines(stream)
    assert entry["price"] == "1.10"
    assert "ValueError: bad" in entry["exception"]


def test_configuring_twice_does_not_duplicate_lines(stream: io.StringIO) -> None:
    again = io.StringIO()
    configure_logging("ledger", "INFO", stream=again)
    logging.getLogger("x").info("once")
    logging.getLogger("x").debug("filtered")
    assert stream.getvalue() == ""
    assert len(lines(again)) == 1
