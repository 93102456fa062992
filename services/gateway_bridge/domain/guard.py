"""The paper-only guard (DESIGN §6.8): a live port or a non-paper account is refused unless enabled."""

from __future__ import annotations

LIVE_PORTS: frozenset[int] = frozenset({4001, 7496})  # IB Gateway live, TWS live
PAPER_ACCOUNT_PREFIX = "DU"


class LiveTradingRefused(Exception):
    """The configuration or the session points at live trading and IBKR_ALLOW_LIVE_TRADING is not set."""


def check_port(port: int, *, allow_live: bool) -> None:
    """Refuse IB's live ports before any connection is attempted."""
    if port in LIVE_PORTS and not allow_live:
        raise LiveTradingRefused(
            f"IBKR_IB_PORT={port} is a live-trading port; set IBKR_ALLOW_LIVE_TRADING=true to allow it")


def check_accounts(accounts: list[str], *, allow_live: bool) -> None:
    """Refuse a session that manages any non-paper (non-DU) account."""
    live = [a for a in accounts if not a.startswith(PAPER_ACCOUNT_PREFIX)]
    if live and not allow_live:
        raise LiveTradingRefused(
            f"the session manages non-paper accounts {live}; set IBKR_ALLOW_LIVE_TRADING=true to allow them")
