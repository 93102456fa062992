"""The README's grpcurl catalog has one command for every public RPC and is in step with its generator
(the e2e tier runs every command)."""

from ibkr.edge.v1 import (
    admin_service_pb2,
    event_service_pb2,
    market_data_service_pb2,
    portfolio_service_pb2,
    trading_service_pb2,
)

from tools.grpcurl_catalog import EXAMPLES, main

PUBLIC_METHODS = {f"{service.full_name}/{method.name}"
                  for module in (trading_service_pb2, portfolio_service_pb2, market_data_service_pb2,
                                 event_service_pb2, admin_service_pb2)
                  for service in module.DESCRIPTOR.services_by_name.values() for method in service.methods}


def test_the_catalog_covers_every_public_rpc():
    assert len(PUBLIC_METHODS) == 20
    assert {e.full_method for e in EXAMPLES} == PUBLIC_METHODS


def test_the_readme_shows_the_catalog_as_generated():
    assert main(["--check"]) == 0
