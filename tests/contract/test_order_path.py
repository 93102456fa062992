"""Guarantee 1: no order reaches the broker without passing risk. Only risk talks to the bridge: the edge
and the ledger read the bridge through risk's relay (`services/risk/gateway_relay.py`, which refuses every
order-changing method), never through a channel of their own, so the network policy can admit risk alone."""

import re
from pathlib import Path

MUTATING = ("PlaceOrder", "ReplaceOrder", "CancelOrder", "CancelAllOrders", "ClosePosition")
REPO = Path(__file__).resolve().parents[2]
CALL = re.compile(r"\bbridge[\w.]*\.(" + "|".join(MUTATING) + r")\b")


def _code_lines(service: str):
    for path in (REPO / "services" / service).rglob("*.py"):
        if "tests" not in path.parts:
            for number, line in enumerate(path.read_text().splitlines(), 1):
                yield f"{path.relative_to(REPO)}:{number}: {line.strip()}", line


def test_only_risk_calls_the_bridges_mutating_rpcs():
    offenders = [where for service in ("edge", "ledger") for where, line in _code_lines(service) if CALL.search(line)]
    assert offenders == []


def test_the_edge_and_the_ledger_never_open_a_channel_to_the_bridge():
    reaching = re.compile(r"\bgateway_channel\(|\bbridge_address\b|IBKR_BRIDGE_ADDRESS")
    offenders = [where for service in ("edge", "ledger") for where, line in _code_lines(service)
                 if reaching.search(line)]
    assert offenders == []


def test_the_pattern_catches_a_direct_bridge_order_call():
    assert CALL.search("await self.bridge.PlaceOrder(request)")
    assert not CALL.search("await self.risk.SubmitOrder(request)")
