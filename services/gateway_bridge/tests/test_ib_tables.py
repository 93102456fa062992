"""IB vocabulary tables: status strings and error codes classify as the field notes say."""

import pytest

from services.gateway_bridge.domain.state_machine import ErrorEffect
from services.gateway_bridge.domain.status import Status
from services.gateway_bridge.ib.errors import ErrorClass, classify, order_effect
from services.gateway_bridge.ib.status import map_status


@pytest.mark.parametrize(("ib", "expected"), [
    ("PendingSubmit", Status.PENDING_SUBMIT), ("ApiPending", Status.PENDING_SUBMIT),
    ("PreSubmitted", Status.SUBMITTED), ("Submitted", Status.SUBMITTED),
    ("PendingCancel", Status.PENDING_CANCEL), ("Cancelled", Status.CANCELLED), ("ApiCancelled", Status.CANCELLED),
    ("Filled", Status.FILLED), ("Inactive", Status.INACTIVE), ("ValidationError", None), ("", None),
])
def test_ib_status_strings_map_to_normalized_status(ib, expected):
    assert map_status(ib) == expected


@pytest.mark.parametrize(("code", "expected"), [
    (1100, ErrorClass.CONNECTIVITY_LOST), (1101, ErrorClass.RESTORED_DATA_LOST),
    (1102, ErrorClass.RESTORED_DATA_KEPT), (1300, ErrorClass.SOCKET_RESET),
    (2104, ErrorClass.FARM_OK), (2105, ErrorClass.FARM_BROKEN), (2107, ErrorClass.FARM_INACTIVE),
    (2150, ErrorClass.INFO), (200, ErrorClass.UNKNOWN_CONTRACT), (201, ErrorClass.ORDER_REJECTED),
    (202, ErrorClass.ORDER_CANCELLED), (250, ErrorClass.ORDER_REJECTED), (399, ErrorClass.ORDER_WARNING),
    (10349, ErrorClass.ORDER_WARNING), (10147, ErrorClass.CANCEL_REJECTED), (100, ErrorClass.PACING_VIOLATION),
    (326, ErrorClass.CLIENT_ID_IN_USE), (55555, ErrorClass.INFO),
])
def test_error_codes_classify_by_table(code, expected):
    assert classify(code) == expected


def test_preset_change_10349_never_cancels_a_live_order():
    assert order_effect(10349, acknowledged=True) == ErrorEffect.WARNING


def test_tick_violation_rejects_a_new_order_but_only_warns_a_live_one():
    assert order_effect(110, acknowledged=False) == ErrorEffect.REJECT
    assert order_effect(110, acknowledged=True) == ErrorEffect.WARNING


def test_unknown_code_is_a_warning_for_an_order():
    assert order_effect(55555, acknowledged=True) == ErrorEffect.WARNING
