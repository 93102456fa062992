"""`make run`: bring the whole suite up on embedded defaults, print how to reach it, stop it on Ctrl-C.

Postgres and Redis are embedded under `.run/` unless `IBKR_DATABASE_URL` / `IBKR_REDIS_URL` are set; the
simulator is started unless `IBKR_IB_HOST` is set. Development API keys on the paper account are written to
`.run/api-key` (trader) and `.run/admin-key` (admin: trading state and risk policy).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from tools import infra
from tools.grpcurl_catalog import EXAMPLES, grpcurl_argv, render
from tools.suite import REPO_ROOT, Ports, Suite, SuiteSettings

# The banner shows a few; the README lists one command for every public RPC.
BANNER_EXAMPLES = ("place a market order", "look the order up, with its history", "positions with average cost",
                   "stream events: snapshot, then every change, each with a resume token (Ctrl-C to stop)")


def banner_commands(edge_address: str, trader_key: Path, admin_key: Path) -> list[tuple[str, str]]:
    """(title, shell text) of the grpcurl commands the banner prints, with the real key paths."""
    chosen = [e for e in EXAMPLES if e.title in BANNER_EXAMPLES]
    return [("list the public services", f"grpcurl -plaintext {edge_address} list"), *(
        (e.title, render(grpcurl_argv(e, edge=edge_address, trader_key=str(trader_key), admin_key=str(admin_key))))
        for e in chosen)]


def create_dev_key(run_dir: Path, account_id: str, role: str = "trader") -> Path:
    """A development key with `role` on the paper account, written to `.run/api-key` (trader) or
    `.run/<role>-key`; only its hash goes to the keys file."""
    from services.edge.keys import ApiKeyStore

    store = ApiKeyStore(run_dir / "api-keys.json")
    key = store.create(name="dev" if role == "trader" else f"dev-{role}", role=role, accounts=[account_id],
                       replace=True)
    key_file = run_dir / ("api-key" if role == "trader" else f"{role}-key")
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key_file


def main() -> int:
    run_dir = REPO_ROOT / ".run"
    run_dir.mkdir(exist_ok=True)
    print("starting infrastructure …", flush=True)
    postgres = infra.resolve_postgres(run_dir, prefer_local=False)
    redis = infra.resolve_redis(run_dir, prefer_local=False)
    account_id = os.environ.get("IBKR_ACCOUNT_ID", "DU1234567")
    ib_host = os.environ.get("IBKR_IB_HOST") or None
    ib_port = int(os.environ["IBKR_IB_PORT"]) if ib_host and os.environ.get("IBKR_IB_PORT") else None
    settings = SuiteSettings(run_dir=run_dir, database_url=postgres.url, redis_url=redis.url,
                             ports=Ports.defaults(), ib_host=ib_host, ib_port=ib_port,
                             account_id=account_id, bridge_standby=True)
    suite = Suite(settings)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        key_file = create_dev_key(run_dir, account_id)
        admin_key_file = create_dev_key(run_dir, account_id, role="admin")
        suite.start()
        print_banner(suite, key_file, admin_key_file, account_id, postgres, redis)
        while not stopping.wait(1.0):
            dead = [n for n, p in suite.processes.items() if not p.alive()]
            if dead:
                print(f"process exited: {', '.join(dead)}; see {run_dir / 'logs'}", file=sys.stderr)
                return 1
        return 0
    finally:
        print("\nstopping …", flush=True)
        suite.stop()
        redis.stop()
        postgres.stop()
        print("stopped.", flush=True)


def print_banner(suite: Suite, key_file: Path, admin_key_file: Path, account_id: str, postgres: infra.Endpoint,
                 redis: infra.Endpoint) -> None:
    edge = suite.address("edge")
    key = key_file.read_text().strip()
    lines = ["", "IBKR Local API is up.", ""]
    for name in suite.processes:
        p = suite.settings.ports
        lines.append(f"  {name:14} gRPC {suite.address(name):20} metrics http://127.0.0.1:{p.metrics[name]}/metrics")
    if suite.start_sim:
        lines.append(f"  simulator TWS API socket 127.0.0.1:{suite.settings.ports.sim_tws} (paper account {account_id})")
    lines += [(f"  postgres {'embedded' if postgres.embedded else 'configured'}, "
              f"redis {'embedded' if redis.embedded else 'configured'}"),
              "", f"dev API key (trader on {account_id}): {key}   (saved in {key_file})",
              f"admin key (trading state, risk policy) saved in {admin_key_file}", ""]
    for title, command in banner_commands(edge, key_file, admin_key_file):
        lines += [f"# {title}", command, ""]
    lines += ["README.md lists a grpcurl command for every public RPC.", "Ctrl-C stops everything."]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
