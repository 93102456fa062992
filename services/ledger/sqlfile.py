"""Named queries from `.sql` files (procrastinate style): SQL is reviewed as SQL, called by name.

A file holds blocks that each start with a header line `-- name: <query_name>`; the lines up to the next
header are the query (comments included, which Postgres ignores).
"""

from __future__ import annotations

import re
from pathlib import Path

_HEADER = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Queries:
    """The queries of one file, by name: `queries["insert_fills"]`."""

    def __init__(self, text: str) -> None:
        parts = _HEADER.split(text)
        self._queries: dict[str, str] = {}
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in self._queries:
                raise ValueError(f"query {name!r} is defined twice")
            self._queries[name] = body.strip()

    @classmethod
    def load(cls, path: Path = SQL_DIR / "queries.sql") -> Queries:
        """Parse a queries file (by default the ledger's own)."""
        return cls(path.read_text())

    def __getitem__(self, name: str) -> str:
        return self._queries[name]

    def names(self) -> list[str]:
        """Every query name, in file order."""
        return list(self._queries)
