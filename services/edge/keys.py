"""API keys for the edge: created once, stored only as a peppered, salted HMAC, checked in constant time.

A key looks like `ibkr_<key_id>_<secret>`. `key_id` is public (it names the record, so lookup is a dict
access, not a scan); `secret` is 256 random bits. The keys file stores, per key, a random salt and
`HMAC-SHA256(pepper, salt || secret)`. The pepper lives in a separate file beside it (`<keys>.pepper`, mode
0600), so a leaked keys file alone cannot be used to check guesses. HMAC rather than scrypt: the secret is
high-entropy, so a slow hash buys nothing and would cost milliseconds on every call.

The plaintext is returned by `create` once and never stored or logged.

CLI::

    python -m services.edge.keys create --name dev --role trader --account DU1234567 [--replace]
    python -m services.edge.keys revoke --name dev
    python -m services.edge.keys list

The file is `--file`, else `IBKR_EDGE_API_KEYS_FILE`, else `.run/api-keys.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import enum
import fcntl
import functools
import hashlib
import hmac
import json
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

KEY_PREFIX = "ibkr_"
ALL_ACCOUNTS = "*"
"""An `accounts` entry that scopes a key to every account (operators' admin keys)."""
_FILE_VERSION = 1
_KEY_ID_BYTES = 8
_SECRET_BYTES = 32
# A fixed salt and id for unknown key ids, so a miss costs the same HMAC as a hit.
_DUMMY_SALT = b"\x00" * 16


class Role(enum.IntEnum):
    """What a key may do. Ordered: each role can do everything the lower ones can."""

    VIEWER = 1
    TRADER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        """`"viewer"` → `Role.VIEWER`; raises ValueError naming the allowed values."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            allowed = ", ".join(r.name.lower() for r in cls)
            raise ValueError(f"unknown role {text!r}; expected one of {allowed}") from None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: which key, what role, which accounts. Never holds the secret."""

    name: str
    key_id: str
    role: Role
    accounts: tuple[str, ...]

    def has_role(self, required: Role) -> bool:
        """Whether the key's role is at least `required`."""
        return self.role >= required

    def can_access(self, account_id: str) -> bool:
        """Whether the key is scoped to `account_id`."""
        return ALL_ACCOUNTS in self.accounts or account_id in self.accounts

    @property
    def default_account(self) -> str | None:
        """The account an empty `account_id` means: the key's only account, else None."""
        if len(self.accounts) == 1 and self.accounts[0] != ALL_ACCOUNTS:
            return self.accounts[0]
        return None


class KeyExistsError(ValueError):
    """`create` for a name that exists, without `replace=True`."""


@dataclass(frozen=True)
class _Record:
    name: str
    key_id: str
    salt: bytes
    digest: bytes
    role: Role
    accounts: tuple[str, ...]
    create_time: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "key_id": self.key_id, "salt": self.salt.hex(), "hash": self.digest.hex(),
                "algorithm": "hmac-sha256-peppered", "role": self.role.name.lower(),
                "accounts": list(self.accounts), "create_time": self.create_time}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> _Record:
        return cls(name=str(data["name"]), key_id=str(data["key_id"]), salt=bytes.fromhex(str(data["salt"])),
                   digest=bytes.fromhex(str(data["hash"])), role=Role.parse(str(data["role"])),
                   accounts=tuple(str(a) for a in data["accounts"]),  # type: ignore[union-attr]
                   create_time=str(data.get("create_time", "")))

    @functools.cached_property
    def principal(self) -> Principal:
        # One per record: a record is immutable and a re-read of the file makes new records.
        return Principal(self.name, self.key_id, self.role, self.accounts)


class ApiKeyStore:
    """A JSON keys file of hashed API keys. Safe to share between the edge (reads) and the CLI (writes).

    The edge calls `authenticate` on every RPC; it re-reads the file when its modification time changes,
    so `revoke` from the CLI takes effect on the running edge without a restart.
    """

    def __init__(self, path: str | os.PathLike[str], *, pepper_path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        self.pepper_path = Path(pepper_path) if pepper_path else self.path.with_name(self.path.name + ".pepper")
        self._lock = threading.Lock()
        self._pepper: bytes | None = None
        self._records: dict[str, _Record] = {}
        self._stamp: tuple[int, int] | None = None

    # -- writes (CLI, tools) ------------------------------------------------------------------------------

    def create(self, *, name: str, role: str | Role = "viewer", accounts: Iterable[str] = (),
               replace: bool = False) -> str:
        """Create a key and return its plaintext (the only time it is visible).

        `accounts` are the IB account ids the key may see (`"*"` for all). With `replace=True` an existing
        key of the same name is revoked and replaced; otherwise an existing name raises `KeyExistsError`.
        """
        role = role if isinstance(role, Role) else Role.parse(role)
        accounts = tuple(dict.fromkeys(a.strip() for a in accounts if a.strip()))
        if not name or not name.strip():
            raise ValueError("a key needs a name")
        if not accounts:
            raise ValueError("a key needs at least one account (or '*')")
        key_id = secrets.token_hex(_KEY_ID_BYTES)
        secret = secrets.token_urlsafe(_SECRET_BYTES)
        salt = secrets.token_bytes(16)
        with self._locked_file() as records:
            if name in {r.name for r in records.values()}:
                if not replace:
                    raise KeyExistsError(f"a key named {name!r} exists; revoke it or pass replace=True")
                records = {k: r for k, r in records.items() if r.name != name}
            pepper = self._load_pepper(create=True)
            record = _Record(name=name, key_id=key_id, salt=salt, digest=_digest(pepper, salt, secret),
                             role=role, accounts=accounts,
                             create_time=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
            records[key_id] = record
            self._write(records)
        return f"{KEY_PREFIX}{key_id}_{secret}"

    def revoke(self, name: str) -> bool:
        """Remove the key called `name`; True when one was removed."""
        with self._locked_file() as records:
            kept = {k: r for k, r in records.items() if r.name != name}
            if len(kept) == len(records):
                return False
            self._write(kept)
            return True

    def list(self) -> list[dict[str, object]]:
        """The keys' names, ids, roles and accounts (no hashes, no salts)."""
        self._refresh()
        return [{"name": r.name, "key_id": r.key_id, "role": r.role.name.lower(), "accounts": list(r.accounts),
                 "create_time": r.create_time} for r in sorted(self._records.values(), key=lambda r: r.name)]

    # -- reads (edge) ---------------------------------------------------------------------------------------

    def authenticate(self, plaintext: str | None) -> Principal | None:
        """The principal for a presented key, or None. Constant time in the secret; never raises on junk."""
        if not plaintext or not isinstance(plaintext, str) or len(plaintext) > 256:
            return None
        self._refresh()
        key_id, secret = _split(plaintext)
        record = self._records.get(key_id) if key_id else None
        pepper = self._pepper or b""
        salt = record.salt if record else _DUMMY_SALT
        expected = record.digest if record else b"\x00" * 32
        ok = hmac.compare_digest(_digest(pepper, salt, secret or ""), expected)
        return record.principal if (record is not None and ok and self._pepper) else None

    # -- file handling --------------------------------------------------------------------------------------

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            with self._lock:
                self._records, self._stamp = {}, None
            return
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return
        with self._lock:
            self._records = self._read()
            self._pepper = self._load_pepper(create=False)
            self._stamp = stamp

    def _read(self) -> dict[str, _Record]:
        try:
            data = json.loads(self.path.read_text() or "{}")
        except FileNotFoundError:
            return {}
        return {r.key_id: r for r in (_Record.from_json(d) for d in data.get("keys", []))}

    def _write(self, records: dict[str, _Record]) -> None:
        body = {"version": _FILE_VERSION, "keys": [r.to_json() for r in records.values()]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keys-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(body, f, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _locked_file(self) -> Iterator[dict[str, _Record]]:
        # An advisory lock beside the file serialises concurrent writers (two CLI runs, run_suite).
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self._read()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load_pepper(self, *, create: bool) -> bytes | None:
        try:
            return bytes.fromhex(self.pepper_path.read_text().strip())
        except FileNotFoundError:
            if not create:
                return None
        pepper = secrets.token_bytes(32)
        fd = os.open(self.pepper_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(pepper.hex())
        return pepper


def _split(plaintext: str) -> tuple[str, str]:
    if not plaintext.startswith(KEY_PREFIX):
        return "", ""
    key_id, _, secret = plaintext[len(KEY_PREFIX):].partition("_")
    return key_id, secret


def _digest(pepper: bytes, salt: bytes, secret: str) -> bytes:
    return hmac.new(pepper, salt + secret.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def _default_path() -> str:
    return os.environ.get("IBKR_EDGE_API_KEYS_FILE") or ".run/api-keys.json"


def main(argv: list[str] | None = None) -> int:
    """The `keys` CLI; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m services.edge.keys", description="Manage edge API keys.")
    parser.add_argument("--file", default=None, help="keys file (default: $IBKR_EDGE_API_KEYS_FILE or "
                                                     ".run/api-keys.json)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", default="viewer", choices=[r.name.lower() for r in Role])
    create.add_argument("--account", action="append", required=True, dest="accounts",
                        help="an account the key may access; repeat for several; '*' for all")
    create.add_argument("--replace", action="store_true", help="replace an existing key of that name")
    revoke = sub.add_parser("revoke", help="revoke a key by name")
    revoke.add_argument("--name", required=True)
    sub.add_parser("list", help="list keys (never their secrets)")
    args = parser.parse_args(argv)
    store = ApiKeyStore(args.file or _default_path())
    if args.command == "create":
        try:
            print(store.create(name=args.name, role=args.role, accounts=args.accounts, replace=args.replace))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "revoke":
        if store.revoke(args.name):
            print(f"revoked {args.name}")
            return 0
        print(f"error: no key named {args.name!r}", file=sys.stderr)
        return 1
    for row in store.list():
        print(f"{row['name']:20} {row['key_id']:18} {row['role']:7} {','.join(row['accounts'])}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
