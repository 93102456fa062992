"""One grpcurl command for every public RPC: the README's catalog, `make run`'s banner and the e2e tier's list.

    python -m tools.grpcurl_catalog --write   # regenerate the README block
    python -m tools.grpcurl_catalog --check   # exit 1 when the README block is stale

The examples form a session a reader can paste in order against `make run`: place a market order and a
resting limit order, look them up, replace and cancel the limit order, close the position, halt and resume.
The e2e tier runs every one of them as printed with grpcurl, then again through `buf curl` with fresh order
ids, so the catalog cannot rot.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
BEGIN, END = "<!-- grpcurl-catalog:begin -->", "<!-- grpcurl-catalog:end -->"
EDGE = "127.0.0.1:50051"
ACCOUNT = "DU1234567"
TRADER_KEY, ADMIN_KEY = ".run/api-key", ".run/admin-key"

NVDA = {"symbol": "NVDA", "security_type": "SECURITY_TYPE_STOCK"}
MARKET_BUY = {"instrument": NVDA, "side": "ORDER_SIDE_BUY", "quantity": {"value": "10"},
              "order_type": "ORDER_TYPE_MARKET", "time_in_force": "TIME_IN_FORCE_DAY"}
RESTING_BUY = {**MARKET_BUY, "quantity": {"value": "5"}, "order_type": "ORDER_TYPE_LIMIT",
               "limit_price": {"value": "60"}}


@dataclass(frozen=True)
class Example:
    """One call: what it shows, the `Service/Method` under `ibkr.edge.v1`, its JSON body, the key it needs.

    `{run}` in the body stands for the order-id prefix (`demo` in the README)."""

    title: str
    method: str
    body: dict[str, Any]
    admin: bool = False
    streaming: bool = False

    @property
    def full_method(self) -> str:
        return f"ibkr.edge.v1.{self.method}"

    def json_body(self, run: str = "demo") -> str:
        return json.dumps(self.body, separators=(",", ":")).replace("{run}", run)


EXAMPLES: tuple[Example, ...] = (
    Example("a quote", "MarketDataService/GetQuote", {"instrument": NVDA}),
    Example("preview an order: risk's verdict and IB's what-if margin", "TradingService/PreviewOrder",
            {"order": MARKET_BUY}),
    Example("place a market order", "TradingService/PlaceOrder",
            {"client_order_id": "{run}-1", "order": MARKET_BUY}),
    Example("look the order up, with its history", "TradingService/GetOrder",
            {"client_order_id": "{run}-1", "include_history": True}),
    Example("place a resting limit order", "TradingService/PlaceOrder",
            {"client_order_id": "{run}-2", "order": RESTING_BUY}),
    Example("change its limit price", "TradingService/ReplaceOrder",
            {"client_order_id": "{run}-2", "order": {**RESTING_BUY, "limit_price": {"value": "61"}},
             "request_id": "{run}-2-replace"}),
    Example("cancel it", "TradingService/CancelOrder", {"client_order_id": "{run}-2"}),
    Example("cancel every open NVDA order", "TradingService/CancelAllOrders",
            {"symbol": "NVDA", "request_id": "{run}-cancel-all"}),
    Example("orders, newest first", "TradingService/ListOrders", {"page_size": 10}),
    Example("fills of the market order", "TradingService/ListFills", {"client_order_id": "{run}-1"}),
    Example("account: cash, buying power, net liquidation", "PortfolioService/GetAccount", {}),
    Example("positions with average cost", "PortfolioService/ListPositions", {}),
    Example("P&L: daily, realized, unrealized", "PortfolioService/GetPnl", {}),
    Example("close the NVDA position at market", "TradingService/ClosePosition",
            {"instrument": NVDA, "client_order_id": "{run}-close"}),
    Example("trading state", "AdminService/GetTradingState", {}),
    Example("halt trading (admin key)", "AdminService/SetTradingState",
            {"state": "TRADING_STATE_HALTED", "reason": "demo halt", "request_id": "{run}-halt"}, admin=True),
    Example("resume trading (admin key)", "AdminService/SetTradingState",
            {"state": "TRADING_STATE_ACTIVE", "reason": "demo resume", "request_id": "{run}-resume"}, admin=True),
    Example("the live risk policy", "AdminService/GetRiskPolicy", {}),
    Example("validate a policy change without installing it (admin key)", "AdminService/UpdateRiskPolicy",
            {"policy": {"currency": "USD", "rules": [{"rule_id": "max-order-notional", "max_order_notional": {
                "max_notional": {"value": "50000"}}}]}, "slot": "RISK_POLICY_SLOT_LIVE",
             "change_reason": "demo", "validate_only": True}, admin=True),
    Example("system status: IB connection, reconciliation, ledger lag, each service", "AdminService/GetSystemStatus",
            {}),
    Example("stream quotes (Ctrl-C to stop)", "MarketDataService/StreamQuotes", {"instruments": [NVDA]},
            streaming=True),
    Example("stream events: snapshot, then every change, each with a resume token (Ctrl-C to stop)",
            "EventService/StreamEvents", {}, streaming=True),
)


def grpcurl_argv(example: Example, *, edge: str = EDGE, trader_key: str = TRADER_KEY, admin_key: str = ADMIN_KEY,
                 run: str = "demo") -> list[str]:
    """The grpcurl command line; the key is read from its file by the shell (`$(cat …)`) when run."""
    key = admin_key if example.admin else trader_key
    return ["grpcurl", "-plaintext", "-H", f"authorization: Bearer $(cat {key})", "-d", example.json_body(run),
            edge, example.full_method]


def render(argv: list[str]) -> str:
    """Shell text for argv, keeping `$(cat …)` live so the pasted command reads the key file."""
    out = []
    for arg in argv:
        if "$(" in arg:
            out.append('"' + arg.replace('"', '\\"') + '"')
        else:
            out.append(shlex.quote(arg))
    return " ".join(out)


def readme_block() -> str:
    lines = [BEGIN, "```sh", "# list the public services", f"grpcurl -plaintext {EDGE} list"]
    for example in EXAMPLES:
        lines += [f"# {example.title}", render(grpcurl_argv(example))]
    return "\n".join([*lines, "```", END])


def _replace_block(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + readme_block() + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the README block")
    mode.add_argument("--check", action="store_true", help="fail when the README block is stale")
    args = parser.parse_args(argv)
    text = README.read_text()
    fresh = _replace_block(text)
    if args.write:
        README.write_text(fresh)
        return 0
    if fresh != text:
        print("README's grpcurl catalog is stale: run `python -m tools.grpcurl_catalog --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
