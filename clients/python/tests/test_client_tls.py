"""TLS and mutual TLS: the client verifies the server with the given CA and presents its own certificate.

The server is an edge double (see edge_doubles) serving TLS with certificates made here by `openssl`;
the suite's own TLS setup is the edge's to test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from edge_doubles import (
    ServerThread,
    Trading,
    server_thread_fixture,  # noqa: F401 (the server_thread fixture)
)
from ibkr.client import AsyncClient, RetryPolicy, TlsConfig, Unavailable
from ibkr.client.config import resolve_settings
from ibkr.edge.v1 import trading_service_pb2_grpc

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all signed by the CA."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=test-ca", cwd=d)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    return d


def mtls_server(server_thread: ServerThread, pki: Path, trading: Trading) -> str:
    credentials = grpc.ssl_server_credentials(
        [((pki / "server.key").read_bytes(), (pki / "server.pem").read_bytes())],
        root_certificates=(pki / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    return server_thread.serve((trading_service_pb2_grpc.add_TradingServiceServicer_to_server, trading),
                               credentials=credentials)


async def test_mutual_tls_with_a_client_certificate_carries_the_call_and_the_key(
    server_thread: ServerThread, pki: Path
) -> None:
    trading = Trading()
    address = mtls_server(server_thread, pki, trading)
    tls = TlsConfig.from_files(pki / "ca.pem", pki / "client.pem", pki / "client.key")
    async with AsyncClient(address, "tls-key", tls=tls) as client:
        order = await client.place_order("AAPL", "buy", 1)
    assert order.order_id == "o-1"
    assert trading.keys == ["Bearer tls-key"]


async def test_without_a_client_certificate_the_mtls_server_refuses_the_connection(
    server_thread: ServerThread, pki: Path
) -> None:
    trading = Trading()
    address = mtls_server(server_thread, pki, trading)
    no_cert = TlsConfig.from_files(pki / "ca.pem")
    async with AsyncClient(address, "k", tls=no_cert, retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(Unavailable):
            await client.place_order("AAPL", "buy", 1)
    assert trading.requests == []


def test_tls_settings_come_from_the_environment_and_need_cert_and_key_together(pki: Path) -> None:
    env = {"IBKR_TLS_CA": str(pki / "ca.pem"), "IBKR_TLS_CERT": str(pki / "client.pem"),
           "IBKR_TLS_KEY": str(pki / "client.key"), "IBKR_API_KEY": "k"}
    settings = resolve_settings(env=env, cwd=pki)
    assert settings.tls is not None and settings.tls.private_key == (pki / "client.key").read_bytes()
    with pytest.raises(ValueError, match="together"):
        resolve_settings(env={"IBKR_TLS_CERT": str(pki / "client.pem")}, cwd=pki)


def test_the_key_defaults_to_run_api_key_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".run").mkdir()
    (tmp_path / ".run" / "api-key").write_text("dev-key\n")
    settings = resolve_settings(env={}, cwd=tmp_path)
    assert (settings.target, settings.api_key, settings.tls) == ("127.0.0.1:50051", "dev-key", None)
    assert resolve_settings(env={"IBKR_API_KEY": "env"}, cwd=tmp_path).api_key == "env"
    assert resolve_settings("http://h:1", env={}, cwd=tmp_path).target == "h:1"
