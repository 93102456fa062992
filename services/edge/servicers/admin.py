"""AdminService: trading state and risk policy from risk; system status gathered from every service."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ibkr.edge.v1 import admin_service_pb2 as pb
from ibkr.edge.v1 import admin_service_pb2_grpc
from ibkr.gateway.v1 import gateway_pb2
from ibkr.ledger.v1 import ledger_pb2
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import system_pb2

from services.common.errors import DomainError
from services.edge import validation as val
from services.edge.auth import current_principal_name
from services.edge.downstream import Downstream
from services.edge.mapping import project

# grpc.health.v1 status → our ServingStatus, as data.
_SERVING = {
    health_pb2.HealthCheckResponse.SERVING: "SERVING_STATUS_SERVING",
    health_pb2.HealthCheckResponse.NOT_SERVING: "SERVING_STATUS_NOT_SERVING",
}


@dataclass(frozen=True)
class HealthProbe:
    """Where to ask after a peer's health: `service` on the health server behind `stub` ("" = the whole
    server). The bridge is asked through risk, which mirrors the bridge's health under the gateway's name."""

    address: str
    stub: health_pb2_grpc.HealthStub
    service: str = ""


class AdminServicer(admin_service_pb2_grpc.AdminServiceServicer):
    """Thin: validate → risk (state, policy) or a fan-out of status probes → map back."""

    def __init__(self, downstream: Downstream, health_probes: Mapping[str, HealthProbe]) -> None:
        self._down = downstream
        self._health = health_probes

    async def GetTradingState(self, request: pb.GetTradingStateRequest,
                              context: grpc.aio.ServicerContext) -> pb.GetTradingStateResponse:
        reply = await self._down.call(self._down.risk.GetTradingState,
                                      project(request, risk_pb2.GetTradingStateRequest), context)
        return pb.GetTradingStateResponse(trading_state=reply.trading_state)

    async def SetTradingState(self, request: pb.SetTradingStateRequest,
                              context: grpc.aio.ServicerContext) -> pb.SetTradingStateResponse:
        v = val.Violations()
        v.enum(request, "state", "state")
        if len(request.reason) > 500:
            v.add("reason", "at most 500 characters")
        v.raise_if_any()
        reply = await self._down.call(self._down.risk.SetTradingState, project(
            request, risk_pb2.SetTradingStateRequest, principal=current_principal_name()), context)
        return pb.SetTradingStateResponse(trading_state=reply.trading_state, cancelled_orders=reply.cancelled_orders)

    async def GetRiskPolicy(self, request: pb.GetRiskPolicyRequest,
                            context: grpc.aio.ServicerContext) -> pb.GetRiskPolicyResponse:
        v = val.Violations()
        if request.version < 0:
            v.add("version", "must not be negative")
        v.raise_if_any()
        reply = await self._down.call(self._down.risk.GetRiskPolicy,
                                      project(request, risk_pb2.GetRiskPolicyRequest), context)
        return pb.GetRiskPolicyResponse(policy=reply.policy, shadow_policy=reply.shadow_policy)

    async def UpdateRiskPolicy(self, request: pb.UpdateRiskPolicyRequest,
                               context: grpc.aio.ServicerContext) -> pb.UpdateRiskPolicyResponse:
        v = val.Violations()
        if not request.HasField("policy"):
            v.add("policy", "a policy is required", "REQUIRED")
        v.enum(request, "slot", "slot", required=False)
        if request.expected_version < 0:
            v.add("expected_version", "must not be negative")
        v.raise_if_any()
        # The policy's own rules are validated by risk, which owns their meaning.
        reply = await self._down.call(self._down.risk.UpdateRiskPolicy, project(
            request, risk_pb2.UpdateRiskPolicyRequest, principal=current_principal_name()), context)
        return pb.UpdateRiskPolicyResponse(policy=reply.policy)

    async def GetSystemStatus(self, request: pb.GetSystemStatusRequest,
                              context: grpc.aio.ServicerContext) -> pb.GetSystemStatusResponse:
        # Every probe runs at once and any of them may fail: a status page must work when things are down.
        d = self._down
        connection, ingest, state, reports, *health = await asyncio.gather(
            _quiet(d.call(d.bridge.GetConnectionStatus, gateway_pb2.GetConnectionStatusRequest(), context)),
            _quiet(d.call(d.ledger.GetIngestStatus, ledger_pb2.GetIngestStatusRequest(), context)),
            _quiet(d.call(d.risk.GetTradingState, risk_pb2.GetTradingStateRequest(global_scope=True), context)),
            _quiet(d.call(d.ledger.GetReconciliationReport, ledger_pb2.GetReconciliationReportRequest(), context)),
            *(self._probe(name, probe) for name, probe in self._health.items()),
        )
        response = pb.GetSystemStatusResponse(services=[self._edge_status(), *health])
        if connection is not None:
            response.broker_connection.CopyFrom(connection.status)
        else:
            response.broker_connection.state = system_pb2.BROKER_CONNECTION_STATE_UNSPECIFIED
        if ingest is not None:
            response.ledger_ingest.CopyFrom(ingest.status)
        if state is not None:
            response.global_trading_state.CopyFrom(state.trading_state)
        if reports is not None and reports.HasField("report"):
            response.reconciliation_reports.append(reports.report)
        return response

    def _edge_status(self) -> system_pb2.ServiceHealth:
        return system_pb2.ServiceHealth(service_name="edge", status=system_pb2.ServingStatus.Value(
            "SERVING_STATUS_SERVING"), message="answering this call")

    async def _probe(self, name: str, probe: HealthProbe) -> system_pb2.ServiceHealth:
        health = system_pb2.ServiceHealth(service_name=name, address=probe.address)
        try:
            reply = await probe.stub.Check(health_pb2.HealthCheckRequest(service=probe.service),
                                           timeout=min(2.0, self._down.timeout))
        except grpc.aio.AioRpcError as err:
            health.status = system_pb2.ServingStatus.Value("SERVING_STATUS_UNREACHABLE")
            health.message = f"health check failed: {err.code().name}"
            return health
        health.status = system_pb2.ServingStatus.Value(_SERVING.get(reply.status, "SERVING_STATUS_UNSPECIFIED"))
        return health


async def _quiet(call: Awaitable[Any]) -> Any:
    """The call's result, or None when the service could not answer."""
    try:
        return await call
    except DomainError:
        return None
