"""`ibkr`: the command line of the IBKR Local API, on `AsyncClient` (argparse, stdlib only).

Readable tables by default; `--json` prints JSON lines (one object per order, fill, position, event).
Exit codes are in `EXIT_CODES_HELP` (shown by `--help`) and clients/python/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, TextIO

from google.protobuf.message import Message

from ibkr.client import cli_format as fmt
from ibkr.client.async_client import AsyncClient, new_client_order_id
from ibkr.client.config import DEFAULT_TARGET, resolve_settings
from ibkr.client.convert import to_json
from ibkr.client.decimals import from_proto_decimal
from ibkr.client.errors import (
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    IbkrError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from ibkr.trading.v1 import order_pb2

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_USAGE = 2
EXIT_INVALID_ARGUMENT = 3
EXIT_NOT_FOUND = 4
EXIT_REJECTED = 5
EXIT_AUTH = 6
EXIT_UNAVAILABLE = 7

EXIT_CODES_HELP = """\
exit codes:
  0  ok
  1  any other error (including `place --wait` timing out)
  2  usage error (bad flags or values)
  3  invalid argument (INVALID_ARGUMENT, ALREADY_EXISTS: a client order id reused with other parameters)
  4  not found (unknown order, symbol or account)
  5  risk rejected or failed precondition (e.g. trading halted); `place --wait`: order rejected/cancelled
  6  unauthenticated or permission denied (no/invalid key, missing role or account scope)
  7  unavailable (edge or broker down, after retries), deadline exceeded, or rate limited

environment:
  IBKR_API_URL       edge address (default 127.0.0.1:50051)
  IBKR_API_KEY       API key; or IBKR_API_KEY_FILE, else .run/api-key when present
  IBKR_TLS_CA, IBKR_TLS_CERT, IBKR_TLS_KEY   PEM files turning on TLS / mutual TLS
"""

TERMINAL_STATUSES = frozenset({
    order_pb2.ORDER_STATUS_FILLED, order_pb2.ORDER_STATUS_CANCELLED, order_pb2.ORDER_STATUS_REJECTED,
    order_pb2.ORDER_STATUS_EXPIRED,
})


def exit_code_for(error: IbkrError) -> int:
    """The documented exit code of an error."""
    mapping: tuple[tuple[type[IbkrError] | tuple[type[IbkrError], ...], int], ...] = (
        ((InvalidArgument, AlreadyExists), EXIT_INVALID_ARGUMENT),
        (NotFound, EXIT_NOT_FOUND),
        (FailedPrecondition, EXIT_REJECTED),
        ((Unauthenticated, PermissionDenied), EXIT_AUTH),
        ((Unavailable, DeadlineExceeded, ResourceExhausted), EXIT_UNAVAILABLE),
    )
    for classes, code in mapping:
        if isinstance(error, classes):
            return code
    return EXIT_OTHER


class Output:
    """Where results go: tables/lines for people, JSON lines with `--json`."""

    def __init__(self, json_mode: bool, stream: TextIO) -> None:
        self.json_mode = json_mode
        self.stream = stream

    def write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def messages(self, items: Sequence[Message], render: Callable[[Sequence[Any]], str]) -> None:
        """A list: one JSON line per item, or the rendered table."""
        if self.json_mode:
            for item in items:
                self.write(to_json(item))
        else:
            self.write(render(items))

    def message(self, item: Message, render: Callable[[Any], str]) -> None:
        """One object: a JSON line, or its rendering."""
        self.write(to_json(item) if self.json_mode else render(item))


# ---- commands ----------------------------------------------------------------------------------


def _order_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "limit_price": args.limit, "stop_price": args.stop, "order_type": args.type,
        "time_in_force": args.tif, "outside_rth": args.outside_rth,
    }


async def cmd_place(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    client_order_id = args.client_order_id or new_client_order_id()

    def place() -> Awaitable[order_pb2.Order]:
        return client.place_order(
            args.symbol, args.side, args.quantity, client_order_id=client_order_id, **_order_args(args)
        )

    if not args.wait:
        out.message(await place(), fmt.order_line)
        return EXIT_OK
    try:
        async with asyncio.timeout(args.wait_timeout):
            return await _place_and_wait(client, place, client_order_id, out)
    except TimeoutError:
        print(f"error: no final state for {client_order_id} within {args.wait_timeout}s", file=sys.stderr)
        return EXIT_OTHER


async def _place_and_wait(
    client: AsyncClient, place: Callable[[], Awaitable[order_pb2.Order]], client_order_id: str, out: Output
) -> int:
    """Place once the event stream is live (no event can be missed), then follow the order to its end."""
    stream = client.stream_events(event_types=["order_update", "fill"]).__aiter__()
    try:
        await anext(stream)  # the first frame proves the subscription is registered
        order = await place()
        out.message(order, fmt.order_line)
        quantity = from_proto_decimal(order.spec.quantity) or Decimal(0)
        # By execution id: a correction replaces the execution it supersedes instead of adding to it.
        fills: dict[str, Decimal] = {}
        final_status = order.status
        while final_status not in TERMINAL_STATUSES or (
            final_status == order_pb2.ORDER_STATUS_FILLED and sum(fills.values()) < quantity
        ):
            frame = await anext(stream)
            event = frame.event
            if frame.HasField("event") and event.HasField("fill") and event.fill.client_order_id == client_order_id:
                fills.pop(event.fill.superseded_execution_id, None)
                fills[event.fill.execution_id] = from_proto_decimal(event.fill.quantity) or Decimal(0)
                out.message(event.fill, fmt.fill_line)
            elif (
                frame.HasField("event") and event.HasField("order_update")
                and event.order_update.order.client_order_id == client_order_id
            ):
                final_status = event.order_update.order.status
                out.message(event.order_update.order, fmt.order_line)
        return EXIT_OK if final_status == order_pb2.ORDER_STATUS_FILLED else EXIT_REJECTED
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


async def cmd_preview(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    preview = await client.preview_order(args.symbol, args.side, args.quantity, **_order_args(args))
    out.message(preview, fmt.preview_text)
    return EXIT_OK


async def cmd_cancel(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    if args.all:
        response = await client.cancel_all_orders(symbol=args.symbol or "")
        out.messages(list(response.orders), fmt.orders_table)
        for failure in response.failures:
            print(f"not cancelled: {failure.order_id}: {failure.status.message}", file=sys.stderr)
        return EXIT_OK if not response.failures else EXIT_REJECTED
    if (args.order_id is None) == (args.client_order_id is None):
        raise UsageError("give an ORDER_ID, --client-order-id or --all")
    order = await client.cancel_order(args.order_id, client_order_id=args.client_order_id)
    out.message(order, fmt.order_line)
    return EXIT_OK


async def cmd_orders(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    if args.order_id or args.client_order_id:
        order = await client.get_order(args.order_id, client_order_id=args.client_order_id)
        out.messages([order], fmt.orders_table)
        return EXIT_OK
    orders = []
    async for order in client.iter_orders(symbol=args.symbol or "", open_only=args.open,
                                          page_size=min(args.limit, 1000)):
        orders.append(order)
        if len(orders) >= args.limit:
            break
    out.messages(orders, fmt.orders_table)
    return EXIT_OK


async def cmd_fills(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    fills = []
    async for fill in client.iter_fills(symbol=args.symbol or "", order_id=args.order_id or "",
                                        client_order_id=args.client_order_id or "",
                                        page_size=min(args.limit, 1000)):
        fills.append(fill)
        if len(fills) >= args.limit:
            break
    out.messages(fills, fmt.fills_table)
    return EXIT_OK


async def cmd_positions(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    out.messages(await client.list_positions(symbol=args.symbol or ""), fmt.positions_table)
    return EXIT_OK


async def cmd_account(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    out.message(await client.get_account(), fmt.account_table)
    return EXIT_OK


async def cmd_quote(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    quotes = [await client.get_quote(symbol) for symbol in args.symbols]
    out.messages(quotes, fmt.quotes_table)
    return EXIT_OK


async def cmd_watch(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    seen = 0
    stream = client.stream_events(
        event_types=args.types or (), symbols=args.symbols or (), resume_token=args.resume_token or "",
        skip_snapshot=args.skip_snapshot,
    )
    async for frame in stream:
        if out.json_mode:
            if frame.HasField("heartbeat") and not args.heartbeats:
                continue
            out.write(to_json(frame))
        else:
            line = fmt.frame_line(frame)
            if line is not None:
                out.write(line)
        seen += frame.HasField("event")
        if args.count and seen >= args.count:
            break
    return EXIT_OK


async def cmd_halt(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    response = await client.halt(args.reason, global_scope=args.global_scope,
                                 cancel_open_orders=args.cancel_open_orders)
    out.message(response.trading_state, fmt.trading_state_text)
    return EXIT_OK


async def cmd_resume(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    response = await client.resume_trading(args.reason, global_scope=args.global_scope)
    out.message(response.trading_state, fmt.trading_state_text)
    return EXIT_OK


async def cmd_status(client: AsyncClient, args: argparse.Namespace, out: Output) -> int:
    out.message(await client.get_system_status(), fmt.system_status_text)
    return EXIT_OK


# ---- parser ------------------------------------------------------------------------------------


class UsageError(Exception):
    """A usage problem found after parsing (exit 2)."""


def _connection_flags() -> argparse.ArgumentParser:
    # SUPPRESS defaults: the flags may come before or after the command without the subparser's
    # defaults overwriting values given before it.
    flags = argparse.ArgumentParser(add_help=False)
    group = flags.add_argument_group("connection and output")
    group.add_argument("--url", default=argparse.SUPPRESS, help=f"edge address (IBKR_API_URL, {DEFAULT_TARGET})")
    group.add_argument("--api-key", default=argparse.SUPPRESS, help="API key (IBKR_API_KEY)")
    group.add_argument("--api-key-file", default=argparse.SUPPRESS, help="file holding the key (IBKR_API_KEY_FILE)")
    group.add_argument("--account", default=argparse.SUPPRESS, help="account id (empty: the key's only account)")
    group.add_argument("--tls-ca", default=argparse.SUPPRESS, help="CA certificate PEM: use TLS")
    group.add_argument("--tls-cert", default=argparse.SUPPRESS, help="client certificate PEM (mutual TLS)")
    group.add_argument("--tls-key", default=argparse.SUPPRESS, help="client key PEM (mutual TLS)")
    group.add_argument("--timeout", type=float, default=argparse.SUPPRESS, help="deadline of each call, s (10)")
    group.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON lines")
    return flags


def _order_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("symbol", help="e.g. AAPL (a US stock routed SMART)")
    parser.add_argument("side", type=str.lower, choices=("buy", "sell"))
    parser.add_argument("quantity", type=_decimal_arg, help="exact decimal, e.g. 10 or 0.5")
    parser.add_argument("--limit", type=_decimal_arg, help="limit price (makes a LIMIT order)")
    parser.add_argument("--stop", type=_decimal_arg, help="stop price (STOP, or STOP_LIMIT with --limit)")
    parser.add_argument("--type", help="order type: market, limit, stop, stop_limit, ... (default from prices)")
    parser.add_argument("--tif", default="day", help="time in force: day, gtc, ioc, fok (default day)")
    parser.add_argument("--outside-rth", action="store_true", help="allow outside regular trading hours")


def _decimal_arg(text: str) -> Decimal:
    from ibkr.client.decimals import to_decimal

    try:
        return to_decimal(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a decimal number: {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The `ibkr` argument parser."""
    flags = _connection_flags()
    parser = argparse.ArgumentParser(
        prog="ibkr", parents=[flags], description="Trade the IBKR Local API paper account from the shell.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[..., Awaitable[int]], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[flags], help=help_text, description=help_text,
                                  epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(handler=handler)
        return sub

    place = command("place", cmd_place, "place an order")
    _order_flags(place)
    place.add_argument("--client-order-id", help="idempotency key (default: a fresh one)")
    place.add_argument("--wait", action="store_true", help="follow the order on the event stream until it ends")
    place.add_argument("--wait-timeout", type=float, default=60.0, help="seconds to wait with --wait (60)")

    preview = command("preview", cmd_preview, "check an order against risk and the broker; places nothing")
    _order_flags(preview)

    cancel = command("cancel", cmd_cancel, "cancel an order, or all working orders")
    cancel.add_argument("order_id", nargs="?", help="the suite's order id")
    cancel.add_argument("--client-order-id", help="cancel by your key instead")
    cancel.add_argument("--all", action="store_true", help="cancel every working order (of --symbol)")
    cancel.add_argument("--symbol", help="with --all: only this symbol")

    orders = command("orders", cmd_orders, "list orders (newest first), or show one")
    orders.add_argument("order_id", nargs="?", help="show this order")
    orders.add_argument("--client-order-id", help="show the order with this key")
    orders.add_argument("--open", action="store_true", help="only working orders")
    orders.add_argument("--symbol", help="only this symbol")
    orders.add_argument("--limit", type=int, default=50, help="at most this many (50)")

    fills = command("fills", cmd_fills, "list fills (newest first)")
    fills.add_argument("--symbol", help="only this symbol")
    fills.add_argument("--order-id", help="only fills of this order")
    fills.add_argument("--client-order-id", help="only fills of the order with this key")
    fills.add_argument("--limit", type=int, default=50, help="at most this many (50)")

    positions = command("positions", cmd_positions, "list open positions")
    positions.add_argument("--symbol", help="only this symbol")

    command("account", cmd_account, "show the account summary")

    quote = command("quote", cmd_quote, "show quotes")
    quote.add_argument("symbols", nargs="+", metavar="SYMBOL")

    watch = command("watch", cmd_watch, "a live view of the event stream (resumes by itself)")
    watch.add_argument("--types", type=lambda s: s.split(","), help="event types, e.g. fill,order_update")
    watch.add_argument("--symbols", type=lambda s: s.split(","), help="symbols, e.g. AAPL,MSFT")
    watch.add_argument("--resume-token", help="resume after this token")
    watch.add_argument("--skip-snapshot", action="store_true", help="live events only")
    watch.add_argument("--count", type=int, default=0, help="stop after this many events")
    watch.add_argument("--heartbeats", action="store_true", help="with --json: print heartbeats too")

    for name, handler, text in (("halt", cmd_halt, "halt trading (the kill switch; admin role)"),
                                ("resume", cmd_resume, "resume trading after a halt (admin role)")):
        sub = command(name, handler, text)
        sub.add_argument("--reason", required=True, help="why, for the audit trail")
        sub.add_argument("--global", dest="global_scope", action="store_true", help="every account")
        if name == "halt":
            sub.add_argument("--cancel-open-orders", action="store_true", help="also cancel working orders")

    command("status", cmd_status, "show the system status (broker, services, ledger lag)")
    return parser


async def _run(args: argparse.Namespace, out: Output) -> int:
    settings = resolve_settings(
        getattr(args, "url", None), getattr(args, "api_key", None), getattr(args, "api_key_file", None),
        tls_ca=getattr(args, "tls_ca", None), tls_cert=getattr(args, "tls_cert", None),
        tls_key=getattr(args, "tls_key", None),
    )
    client = AsyncClient(settings.target, settings.api_key, tls=settings.tls,
                         account_id=getattr(args, "account", ""), timeout=getattr(args, "timeout", 10.0))
    async with client:
        return await args.handler(client, args, out)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors and 0 for --help
        return int(exit_.code or 0)
    out = Output(getattr(args, "json", False), stdout or sys.stdout)
    try:
        return asyncio.run(_run(args, out))
    except IbkrError as error:
        print(f"error: {error}", file=sys.stderr)
        for violation in error.field_violations:
            print(f"  {violation.field}: {violation.description}", file=sys.stderr)
        return exit_code_for(error)
    except (UsageError, ValueError, TypeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
