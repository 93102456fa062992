"""Guarantee 1: no order reaches the broker without passing risk. Only risk may call the bridge's mutating
RPCs; the edge and the ledger read from the bridge and nothing else (a network policy cannot tell methods
apart, so this is enforced in the code and checked here)."""

import re
from pathlib import Path

MUTATING = ("PlaceOrder", "ReplaceOrder", "CancelOrder", "CancelAllOrders", "ClosePosition")
REPO = Path(__file__).resolve().parents[2]
CALL = re.compile(r"\bbridge[\w.]*\.(" + "|".join(MUTATING) + r")\b")


def test_only_risk_calls_the_bridges_mutating_rpcs():
    offenders = []
    for service in ("edge", "ledger"):
        for path in (REPO / "services" / service).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if CALL.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_pattern_catches_a_direct_bridge_order_call():
    assert CALL.search("await self.bridge.PlaceOrder(request)")
    assert not CALL.search("await self.risk.SubmitOrder(request)")
