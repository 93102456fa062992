"""The ledger as a service: bus → Postgres → gRPC, in process, real Redis, Postgres and gRPC on port 0."""

from __future__ import annotations

import grpc
import pytest
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2
from ibkr.ledger.v1 import ledger_pb2

from services.ledger import synthetic as syn
from services.ledger.tests.helpers import eventually, health, publish, running_ledger, settings_for

ACCOUNT = "DU1234567"


async def _fills(stub, **kw):
    return (await stub.ListFills(ledger_pb2.ListFillsRequest(account_id=ACCOUNT, **kw))).fills


async def test_fills_on_the_bus_are_served_by_list_fills_and_list_positions(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (app, stub, channel):
        await eventually(lambda: _serving(channel))
        await publish(redis_url, settings.bus_stream, syn.fill_event("x1", "BUY", "100", "10.00"),
                      syn.fill_event("x2", "BUY", "100", "12.00"))
        fills = await eventually(lambda: _n_fills(stub, 2))
        assert [f.execution_id for f in fills] == ["x2", "x1"]  # newest first
        assert fills[1].commission.units == 1
        positions = (await stub.ListPositions(ledger_pb2.ListPositionsRequest(account_id=ACCOUNT))).positions
        assert len(positions) == 1
        assert (positions[0].quantity.value, positions[0].average_cost.value) == ("200", "11.01")

        async def gauge_shows_the_position():
            return app.registry.get_sample_value("ibkr_ledger_position_quantity",
                                                 {"account_id": ACCOUNT, "symbol": "AAPL"}) == 200
        assert await eventually(gauge_shows_the_position)


async def test_health_is_serving_once_migrated_and_consuming(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (_app, _stub, channel):
        assert await eventually(lambda: _serving(channel))


async def test_list_fills_without_account_is_invalid_argument(postgres_dsn, redis_url, unique_name):
    async with running_ledger(settings_for(postgres_dsn, redis_url, unique_name)) as (_app, stub, _channel):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListFills(ledger_pb2.ListFillsRequest())
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "account_id" in err.value.details()


async def test_malformed_event_is_dead_lettered_and_the_rest_keep_flowing(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (_app, stub, _channel):
        r = aioredis.from_url(redis_url, decode_responses=False)
        await publish(redis_url, settings.bus_stream, syn.fill_event("p1", "BUY", "1", "10"))
        await r.xadd(settings.bus_stream, {b"event": b"\xff\xffnot a protobuf", b"type": b"fill", b"account": b""})
        await publish(redis_url, settings.bus_stream, syn.fill_event("p2", "BUY", "1", "10"))
        await eventually(lambda: _n_fills(stub, 2))
        dead = await eventually(lambda: r.xrange(settings.bus_stream + ":dead"))
        assert len(dead) == 1 and dead[0][1][b"event"] == b"\xff\xffnot a protobuf"
        await publish(redis_url, settings.bus_stream, syn.fill_event("p3", "BUY", "1", "10"))
        await eventually(lambda: _n_fills(stub, 3))
        await r.aclose()


async def test_pending_entries_of_a_dead_consumer_are_claimed_and_booked(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    r = aioredis.from_url(redis_url, decode_responses=False)
    await r.xgroup_create(settings.bus_stream, "ledger", id="0", mkstream=True)
    await publish(redis_url, settings.bus_stream, syn.fill_event("d1", "BUY", "5", "10"),
                  syn.fill_event("d2", "SELL", "5", "11"))
    # Another consumer takes the entries and dies without acking them.
    taken = await r.xreadgroup("ledger", "dead-consumer", {settings.bus_stream: ">"}, count=10)
    assert len(taken[0][1]) == 2
    async with running_ledger(settings) as (_app, stub, _channel):
        await eventually(lambda: _n_fills(stub, 2))
        pending = await eventually(lambda: _no_pending(r, settings.bus_stream))
        assert pending
    await r.aclose()


async def _no_pending(r, stream):
    info = await r.xpending(stream, "ledger")
    return info["pending"] == 0


async def _n_fills(stub, n):
    fills = await _fills(stub)
    return fills if len(fills) == n else None


async def _serving(channel):
    return await health(channel) == health_pb2.HealthCheckResponse.SERVING


async def test_ingest_status_reports_lag_pending_and_last_committed_entry(postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    async with running_ledger(settings) as (_app, stub, _channel):
        (stream_id,) = await publish(redis_url, settings.bus_stream, syn.fill_event("s1", "BUY", "1", "10"))

        async def caught_up():
            status = (await stub.GetIngestStatus(ledger_pb2.GetIngestStatusRequest())).status
            done = (status.last_committed_stream_id == stream_id and status.pending_events == 0
                    and status.lag_events == 0)
            return status if done else None
        status = await eventually(caught_up)
        assert (status.stream, status.consumer_group) == (settings.bus_stream, "ledger")


async def test_event_that_fails_to_book_is_isolated_from_its_batch_and_dead_lettered_after_n_deliveries(
        postgres_dsn, redis_url, unique_name):
    settings = settings_for(postgres_dsn, redis_url, unique_name)
    # Decodes fine, but its trade value (10^74) is beyond what the ledger books: it fails inside the batch.
    absurd = syn.fill_event("huge", "BUY", "1" + "0" * 37, "1" + "0" * 37)
    r = aioredis.from_url(redis_url, decode_responses=False)
    try:
        await publish(redis_url, settings.bus_stream, syn.fill_event("ok1", "BUY", "1", "10"), absurd,
                      syn.fill_event("ok2", "BUY", "1", "10"))
        async with running_ledger(settings) as (app, stub, _channel):
            await eventually(lambda: _n_fills(stub, 2))
            dead = await eventually(lambda: r.xrange(settings.bus_stream + ":dead"))
            assert len(dead) == 1 and b"huge" in dead[0][1][b"event"]
            assert dead[0][1][b"dead_reason"]
            assert await eventually(lambda: _no_pending(r, settings.bus_stream))
            assert app.registry.get_sample_value("ibkr_ledger_dead_lettered_total") == 1
    finally:
        await r.aclose()
