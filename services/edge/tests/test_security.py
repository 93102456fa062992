"""Transport and abuse limits: TLS, mutual TLS, per-key rate limit, concurrent-stream cap, message size."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
import pytest
from ibkr.edge.v1 import portfolio_service_pb2 as portfolio
from ibkr.edge.v1 import portfolio_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from services.common.metrics import new_registry
from services.edge.app import build_edge
from services.edge.config import EdgeSettings
from services.edge.tests.conftest import make_keys
from services.edge.tests.fakes import FakeState, start_fakes
from services.edge.tests.test_stream_events import open_stream
from services.edge.tests.test_trading import details


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A CA, a server certificate for localhost and a client certificate, all signed by the CA."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=test-ca", cwd=d)
    for name, cn in (("server", "localhost"), ("client", "client")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={cn}", cwd=d)
        (d / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


async def _tls_edge(tmp_path, redis_url, unique_name, pki: Path, *, mutual: bool):
    state = FakeState()
    fakes, port = await start_fakes(state)
    keys = make_keys(tmp_path / "keys.json")
    settings = EdgeSettings(
        edge_grpc_port=0, redis_url=redis_url, bus_stream=f"{unique_name}:events",
        risk_address=f"127.0.0.1:{port}", ledger_address=f"127.0.0.1:{port}",
        edge_api_keys_file=tmp_path / "keys.json", edge_tls_cert_file=pki / "server.pem",
        edge_tls_key_file=pki / "server.key", edge_tls_client_ca_file=(pki / "ca.pem") if mutual else None)
    edge = await build_edge(settings, tracer_provider=TracerProvider(), registry=new_registry())
    await edge.start()
    return edge, fakes, keys


async def _list_positions(port: int, credentials: grpc.ChannelCredentials, key: str) -> portfolio.ListPositionsResponse:
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials,
                                       options=[("grpc.ssl_target_name_override", "localhost")]) as channel:
        stub = portfolio_service_pb2_grpc.PortfolioServiceStub(channel)
        return await stub.ListPositions(portfolio.ListPositionsRequest(),
                                        metadata=(("authorization", f"Bearer {key}"),), timeout=10)


async def test_tls_edge_serves_a_client_that_trusts_its_ca(tmp_path, redis_url, unique_name, pki):
    edge, fakes, keys = await _tls_edge(tmp_path, redis_url, unique_name, pki, mutual=False)
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=(pki / "ca.pem").read_bytes())
        reply = await _list_positions(edge.port, creds, keys["viewer"])
        assert reply.positions
    finally:
        await edge.close(0)
        await fakes.stop(0)


async def test_mutual_tls_edge_refuses_a_client_without_a_certificate(tmp_path, redis_url, unique_name, pki):
    edge, fakes, keys = await _tls_edge(tmp_path, redis_url, unique_name, pki, mutual=True)
    try:
        ca = (pki / "ca.pem").read_bytes()
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await _list_positions(edge.port, grpc.ssl_channel_credentials(root_certificates=ca), keys["viewer"])
        assert exc.value.code() == grpc.StatusCode.UNAVAILABLE
        creds = grpc.ssl_channel_credentials(root_certificates=ca, private_key=(pki / "client.key").read_bytes(),
                                             certificate_chain=(pki / "client.pem").read_bytes())
        assert (await _list_positions(edge.port, creds, keys["viewer"])).positions
    finally:
        await edge.close(0)
        await fakes.stop(0)


def test_tls_settings_must_come_in_pairs(tmp_path):
    with pytest.raises(ValueError, match="IBKR_EDGE_TLS_CERT_FILE"):
        EdgeSettings(edge_tls_cert_file=tmp_path / "x.pem")
    with pytest.raises(ValueError, match="IBKR_EDGE_TLS_CLIENT_CA_FILE"):
        EdgeSettings(edge_tls_client_ca_file=tmp_path / "ca.pem")


class TestLimits:
    @pytest.fixture
    def edge_overrides(self):
        return {"edge_rate_limit_per_second": 1, "edge_rate_limit_burst": 3, "edge_max_streams_per_key": 2,
                "edge_max_message_bytes": 2048}

    async def test_a_key_over_its_rate_is_resource_exhausted_and_other_keys_are_unaffected(self, harness):
        stub = portfolio_service_pb2_grpc.PortfolioServiceStub(harness.channel)
        codes = []
        for _ in range(5):
            try:
                await stub.ListPositions(portfolio.ListPositionsRequest(), metadata=harness.auth("viewer"))
                codes.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as err:
                codes.append(err.code())
                assert details(err)[0] == "RATE_LIMITED"
        assert codes[:3] == [grpc.StatusCode.OK] * 3 and grpc.StatusCode.RESOURCE_EXHAUSTED in codes[3:]
        await stub.ListPositions(portfolio.ListPositionsRequest(), metadata=harness.auth("trader"))

    async def test_a_key_over_its_stream_cap_is_resource_exhausted_until_one_closes(self, harness):
        first, second = (open_stream(harness, "admin", skip_snapshot=True) for _ in range(2))
        await first.initial_metadata()
        await second.initial_metadata()
        third = open_stream(harness, "admin", skip_snapshot=True)
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await third.read()
        assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details(exc.value)[0] == "TOO_MANY_STREAMS"
        first.cancel()
        second.cancel()

    async def test_an_oversized_request_is_refused(self, harness):
        stub = portfolio_service_pb2_grpc.PortfolioServiceStub(harness.channel)
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await stub.ListPositions(portfolio.ListPositionsRequest(page_token="x" * 4096),
                                     metadata=harness.auth("admin"))
        assert exc.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
