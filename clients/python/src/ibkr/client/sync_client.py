"""`Client`: the blocking twin of `AsyncClient`, for scripts and notebooks.

It runs one `AsyncClient` on a private event loop in a daemon thread and waits on each call, so both
clients share every behaviour (retries, error mapping, stream resumption) instead of drifting apart.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from ibkr.client.async_client import AsyncClient
from ibkr.client.config import resolve_settings

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def _blocking(method: Callable[Concatenate[AsyncClient, P], Awaitable[R]]) -> Callable[Concatenate[Client, P], R]:
    @functools.wraps(method)
    def call(self: Client, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(method(self._async, *args, **kwargs))  # type: ignore[arg-type]

    return call


def _iterating(
    method: Callable[Concatenate[AsyncClient, P], AsyncIterator[T]],
) -> Callable[Concatenate[Client, P], Iterator[T]]:
    @functools.wraps(method)
    def call(self: Client, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._iterate(method(self._async, *args, **kwargs))

    return call


class Client:
    """A blocking client of the edge; same arguments and methods as `AsyncClient`.

    Use as `with Client(target, api_key) as client: client.place_order("AAPL", "buy", 1)`. Iterating
    methods (`stream_events`, `stream_quotes`, `iter_orders`, `iter_fills`) return plain iterators; close
    them (or leave the loop) to end the underlying stream.
    """

    def __init__(self, target: str, api_key: str | None, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ibkr-client", daemon=True)
        self._thread.start()

        async def make() -> AsyncClient:  # the aio channel must be created on the loop that uses it
            return AsyncClient(target, api_key, **kwargs)

        try:
            self._async = self._run(make())
        except BaseException:
            self._stop_loop()  # a bad argument must not leave a loop thread behind
            raise

    @classmethod
    def from_env(cls, **kwargs: Any) -> Client:
        """A client configured from `IBKR_API_URL`, `IBKR_API_KEY`/`IBKR_API_KEY_FILE` or `.run/api-key`."""
        settings = resolve_settings()
        return cls(settings.target, settings.api_key, tls=settings.tls, **kwargs)

    @property
    def async_client(self) -> AsyncClient:
        """The underlying `AsyncClient` (its methods must run on this client's loop)."""
        return self._async

    def _run(self, coro: Coroutine[Any, Any, R]) -> R:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        async def step() -> tuple[bool, T | None]:
            try:
                return True, await anext(iterator)
            except StopAsyncIteration:
                return False, None

        try:
            while True:
                more, item = self._run(step())
                if not more:
                    return
                yield item  # type: ignore[misc]
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None and not self._loop.is_closed():
                self._run(aclose())

    def close(self) -> None:
        """Close the channel and stop the loop thread."""
        if self._loop.is_closed():
            return
        try:
            self._run(self._async.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    wait_ready = _blocking(AsyncClient.wait_ready)
    place_order = _blocking(AsyncClient.place_order)
    preview_order = _blocking(AsyncClient.preview_order)
    replace_order = _blocking(AsyncClient.replace_order)
    cancel_order = _blocking(AsyncClient.cancel_order)
    cancel_all_orders = _blocking(AsyncClient.cancel_all_orders)
    close_position = _blocking(AsyncClient.close_position)
    get_order = _blocking(AsyncClient.get_order)
    get_order_history = _blocking(AsyncClient.get_order_history)
    list_orders = _blocking(AsyncClient.list_orders)
    iter_orders = _iterating(AsyncClient.iter_orders)
    list_fills = _blocking(AsyncClient.list_fills)
    iter_fills = _iterating(AsyncClient.iter_fills)
    get_account = _blocking(AsyncClient.get_account)
    list_positions = _blocking(AsyncClient.list_positions)
    get_pnl = _blocking(AsyncClient.get_pnl)
    get_quote = _blocking(AsyncClient.get_quote)
    stream_quotes = _iterating(AsyncClient.stream_quotes)
    stream_events = _iterating(AsyncClient.stream_events)
    get_trading_state = _blocking(AsyncClient.get_trading_state)
    set_trading_state = _blocking(AsyncClient.set_trading_state)
    halt = _blocking(AsyncClient.halt)
    resume_trading = _blocking(AsyncClient.resume_trading)
    get_risk_policy = _blocking(AsyncClient.get_risk_policy)
    update_risk_policy = _blocking(AsyncClient.update_risk_policy)
    get_system_status = _blocking(AsyncClient.get_system_status)
