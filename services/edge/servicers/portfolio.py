"""PortfolioService: the account from the bridge (live, IB's numbers), positions and P&L from the ledger
(the system of record, reconciled against the broker)."""

from __future__ import annotations

import grpc
from ibkr.edge.v1 import portfolio_service_pb2 as pb
from ibkr.edge.v1 import portfolio_service_pb2_grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.ledger.v1 import ledger_pb2

from services.edge import validation as val
from services.edge.downstream import Downstream
from services.edge.mapping import project


class PortfolioServicer(portfolio_service_pb2_grpc.PortfolioServiceServicer):
    """Thin: validate → one downstream call → map back."""

    def __init__(self, downstream: Downstream) -> None:
        self._down = downstream

    async def GetAccount(self, request: pb.GetAccountRequest, context: grpc.aio.ServicerContext) -> pb.GetAccountResponse:
        reply = await self._down.call(self._down.bridge.GetAccount,
                                      gateway_pb2.GetAccountRequest(account_id=request.account_id), context)
        return pb.GetAccountResponse(account=reply.account)

    async def ListPositions(self, request: pb.ListPositionsRequest,
                            context: grpc.aio.ServicerContext) -> pb.ListPositionsResponse:
        v = val.Violations()
        val.check_page(v, request)
        val.check_symbol_filter(v, request.symbol)
        v.raise_if_any()
        reply = await self._down.call(self._down.ledger.ListPositions,
                                      project(request, ledger_pb2.ListPositionsRequest), context)
        return pb.ListPositionsResponse(positions=reply.positions, next_page_token=reply.next_page_token)

    async def GetPnl(self, request: pb.GetPnlRequest, context: grpc.aio.ServicerContext) -> pb.GetPnlResponse:
        v = val.Violations()
        val.check_symbol_filter(v, request.symbol)
        v.raise_if_any()
        reply = await self._down.call(self._down.ledger.GetPnl, project(request, ledger_pb2.GetPnlRequest), context)
        return pb.GetPnlResponse(pnl=reply.pnl, position_pnls=reply.position_pnls)
