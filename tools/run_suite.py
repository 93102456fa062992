"""`make run`: bring the whole suite up on embedded defaults, print how to reach it, stop it on Ctrl-C.

Postgres and Redis are embedded under `.run/` unless `IBKR_DATABASE_URL` / `IBKR_REDIS_URL` are set; the
simulator is started unless `IBKR_IB_HOST` is set. A development API key with trader rights on the paper
account is written to `.run/api-key`.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import threading
from pathlib import Path

from tools import infra
from tools.suite import REPO_ROOT, Ports, Suite, SuiteSettings

EDGE_SERVICES = ("TradingService", "PortfolioService", "MarketDataService", "EventService", "AdminService")


def grpcurl_examples(edge_address: str, key_file: Path, account_id: str) -> list[tuple[str, list[str]]]:
    """Ready-to-paste grpcurl commands as (title, argv); the e2e tier runs these exact commands."""
    auth = ["-H", f"authorization: Bearer $(cat {key_file})"]
    order = ('{"client_order_id":"demo-1","order":{"instrument":{"symbol":"AAPL",'
             '"security_type":"SECURITY_TYPE_STOCK"},"side":"ORDER_SIDE_BUY","quantity":{"value":"10"},'
             '"order_type":"ORDER_TYPE_MARKET","time_in_force":"TIME_IN_FORCE_DAY"}}')
    return [
        ("list the public services", ["grpcurl", "-plaintext", edge_address, "list"]),
        ("place a market order", ["grpcurl", "-plaintext", *auth, "-d", order, edge_address,
                                  "ibkr.edge.v1.TradingService/PlaceOrder"]),
        ("look the order up", ["grpcurl", "-plaintext", *auth, "-d", '{"client_order_id":"demo-1"}',
                               edge_address, "ibkr.edge.v1.TradingService/GetOrder"]),
        ("list positions", ["grpcurl", "-plaintext", *auth, "-d", "{}", edge_address,
                            "ibkr.edge.v1.PortfolioService/ListPositions"]),
        ("stream events", ["grpcurl", "-plaintext", *auth, "-d", "{}", edge_address,
                           "ibkr.edge.v1.EventService/StreamEvents"]),
    ]


def render(argv: list[str]) -> str:
    """Shell text for argv, keeping `$(cat …)` live so the pasted command reads the key file."""
    out = []
    for arg in argv:
        if "$(" in arg:
            out.append('"' + arg.replace('"', '\\"') + '"')
        else:
            out.append(shlex.quote(arg))
    return " ".join(out)


def create_dev_key(run_dir: Path, account_id: str) -> Path:
    from services.edge.keys import ApiKeyStore

    store = ApiKeyStore(run_dir / "api-keys.json")
    key = store.create(name="dev", role="trader", accounts=[account_id], replace=True)
    key_file = run_dir / "api-key"
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
        suite.start()
        print_banner(suite, key_file, account_id, postgres, redis)
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


def print_banner(suite: Suite, key_file: Path, account_id: str, postgres: infra.Endpoint,
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
              "", f"dev API key (trader on {account_id}): {key}   (saved in {key_file})", ""]
    for title, argv in grpcurl_examples(edge, key_file, account_id):
        lines += [f"# {title}", render(argv), ""]
    lines.append("Ctrl-C stops everything.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
