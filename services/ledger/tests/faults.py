"""Shared pieces of the fault drills: a synthetic fill stream, the expected books, and the checks.

The drills feed the ledger synthetic Fill events shaped like the bridge's (the bridge is tested apart);
"the broker's positions" are therefore the sums of those fills, computed here independently.
"""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

import asyncpg
import redis.asyncio as aioredis

from services.ledger import synthetic as syn

SYMBOLS = [("AAPL", 265598), ("MSFT", 272093), ("IBM", 8314), ("SPY", 756733), ("QQQ", 320227845)]


def fill_stream(n: int, prefix: str, seed: int = 7) -> list:
    """`n` fills over five symbols: buys, sells, shorts and flips, with commissions."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        symbol, con_id = SYMBOLS[rng.randrange(len(SYMBOLS))]
        out.append(syn.fill_event(f"{prefix}.{i:05d}.01", rng.choice(["BUY", "SELL"]), str(rng.randint(1, 50)),
                                  f"{rng.randint(9000, 11000) / 100:.2f}", symbol=symbol, con_id=con_id,
                                  commission=f"{rng.randint(100, 300) / 100:.2f}"))
    return out


def expected_quantities(events: list) -> dict[str, Decimal]:
    """Signed quantity per symbol, straight from the fills (the broker's view)."""
    qty: dict[str, Decimal] = defaultdict(Decimal)
    for e in events:
        sign = 1 if e.fill.side == 1 else -1
        qty[e.fill.instrument.symbol] += sign * Decimal(e.fill.quantity.value)
    return dict(qty)


async def publish_pipelined(redis: aioredis.Redis, stream: str, events: list) -> list[str]:
    """XADD like the bridge (same fields), in pipelines."""
    ids: list[str] = []
    for i in range(0, len(events), 200):
        async with redis.pipeline(transaction=False) as pipe:
            for e in events[i:i + 200]:
                pipe.xadd(stream, {b"event": e.SerializeToString(), b"type": b"fill", b"account": e.account_id.encode()})
            ids += [x.decode() for x in await pipe.execute()]
    return ids


async def books(dsn: str, schema: str) -> dict:
    """What the ledger holds: fill and entry counts, unbalanced entries, quantity per symbol."""
    conn = await asyncpg.connect(dsn, server_settings={"search_path": f'"{schema}"'})
    try:
        return {
            "fills": await conn.fetchval("SELECT count(*) FROM fills"),
            "entries": await conn.fetchval("SELECT count(*) FROM journal_entries"),
            "unbalanced": await conn.fetchval(
                "SELECT count(*) FROM (SELECT entry_id FROM journal_postings GROUP BY entry_id, currency"
                " HAVING sum(amount) <> 0) x"),
            "quantities": {r["symbol"]: r["quantity"] for r in await conn.fetch(
                "SELECT symbol, quantity FROM positions WHERE quantity <> 0")},
            "journal_quantities": {r["symbol"]: r["balance"] for r in await conn.fetch(
                "SELECT p.symbol, a.balance FROM journal_accounts a JOIN positions p"
                " ON p.account_id = a.account_id AND p.instrument_key = a.instrument_key"
                " WHERE a.kind = 'position_qty' AND a.balance <> 0")},
        }
    except asyncpg.UndefinedTableError:
        return {"fills": 0}
    finally:
        await conn.close()


def assert_exact(state: dict, events: list) -> None:
    """Exactly one fill row and one entry per execution, every entry balanced, positions as the broker's."""
    expected = {s: q for s, q in expected_quantities(events).items() if q != 0}
    assert state["fills"] == len(events)
    assert state["entries"] == len(events)
    assert state["unbalanced"] == 0
    assert state["quantities"] == expected
    assert state["journal_quantities"] == expected
