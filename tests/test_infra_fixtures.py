"""The shared fixtures give a working, isolated Postgres database and Redis server."""

import asyncpg
import redis.asyncio as aioredis


async def test_postgres_dsn_points_at_an_empty_database(postgres_dsn):
    conn = await asyncpg.connect(postgres_dsn)
    try:
        tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
    finally:
        await conn.close()
    assert tables == 0


async def test_redis_url_answers_commands(redis_url, unique_name):
    client = aioredis.from_url(redis_url)
    try:
        await client.set(f"{unique_name}:k", "v")
        assert await client.get(f"{unique_name}:k") == b"v"
    finally:
        await client.delete(f"{unique_name}:k")
        await client.aclose()


def test_free_ports_are_distinct_within_one_call():
    from tools.infra import free_ports

    ports = free_ports(50)
    assert len(set(ports)) == 50
