"""The pacing bucket never lets more than burst + rate messages through in any second."""

import asyncio

import pytest

from services.gateway_bridge.domain.backoff import Backoff
from services.gateway_bridge.domain.guard import LiveTradingRefused, check_accounts, check_port
from services.gateway_bridge.domain.pacing import Pacer, PacingRejected, Priority, TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_bucket_allows_at_most_burst_plus_rate_in_any_second():
    clock = FakeClock()
    bucket = TokenBucket(rate=40, burst=5, clock=clock)
    taken = []
    for step in range(3000):  # 3 s in 1 ms steps, always trying
        clock.now = step / 1000
        while bucket.try_take():
            taken.append(clock.now)
    for start in range(2000):
        t0 = start / 1000
        assert sum(1 for t in taken if t0 <= t < t0 + 1) <= 45


def test_full_queue_rejects_at_once():
    async def scenario():
        pacer = Pacer(TokenBucket(rate=1, burst=1), max_queue=1)
        await pacer.acquire()  # takes the only token
        waiter = asyncio.ensure_future(pacer.acquire())
        await asyncio.sleep(0)
        with pytest.raises(PacingRejected):
            await pacer.acquire()
        waiter.cancel()
        pacer.close()

    asyncio.run(scenario())


def test_cancels_are_served_before_queued_orders():
    async def scenario():
        bucket = TokenBucket(rate=20, burst=1)  # a token every 50 ms: both wait in the queue
        pacer = Pacer(bucket, max_queue=10)
        await pacer.acquire()
        order: list[str] = []

        async def take(name, priority):
            await pacer.acquire(priority)
            order.append(name)

        tasks = [asyncio.ensure_future(take("order", Priority.ORDER)),
                 asyncio.ensure_future(take("cancel", Priority.CANCEL))]
        await asyncio.gather(*tasks)
        assert order[0] == "cancel"

    asyncio.run(scenario())


def test_backoff_grows_with_jitter_and_caps():
    b = Backoff(initial=1, maximum=8, rand=lambda: 1.0)
    assert [b.next() for _ in range(5)] == [1, 2, 4, 8, 8]
    b2 = Backoff(initial=1, maximum=8, rand=lambda: 0.0)
    assert b2.next() == 0.5


def test_paper_guard_refuses_live_port_and_accounts_unless_allowed():
    with pytest.raises(LiveTradingRefused):
        check_port(4001, allow_live=False)
    with pytest.raises(LiveTradingRefused):
        check_accounts(["U1234567"], allow_live=False)
    check_port(4002, allow_live=False)
    check_accounts(["DU1234567"], allow_live=False)
    check_accounts(["U1234567"], allow_live=True)
