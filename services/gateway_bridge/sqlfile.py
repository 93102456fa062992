"""Named queries from `sql/queries.sql` (blocks headed `-- name: <query>`)."""

from __future__ import annotations

import re
from pathlib import Path

QUERIES_FILE = Path(__file__).parent / "sql" / "queries.sql"
_HEADER = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    """Every named query of the file, by name (duplicates are an error)."""
    text = path.read_text()
    parts = _HEADER.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{path}: query {name} defined twice")
        queries[name] = body.strip()
    return queries
