"""AIP-155 request ids on the admin writes, over real gRPC and Postgres: a retry with the same id and the
same parameters gets the original answer and changes nothing again (also after a restart); the same id with
other parameters is ALREADY_EXISTS."""

from __future__ import annotations

import grpc
import pytest
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import risk_types_pb2

from services.risk.tests.conftest import ACCOUNT, policy_pb, rule

HALTED, REDUCING = risk_types_pb2.TRADING_STATE_HALTED, risk_types_pb2.TRADING_STATE_REDUCING


def state_request(state: int, request_id: str = "rq-1") -> risk_pb2.SetTradingStateRequest:
    return risk_pb2.SetTradingStateRequest(account_id=ACCOUNT, state=state, reason="ops drill", principal="ops",
                                           request_id=request_id)


def policy_request(max_quantity: str, request_id: str = "pol-1") -> risk_pb2.UpdateRiskPolicyRequest:
    return risk_pb2.UpdateRiskPolicyRequest(
        policy=policy_pb(rule("max-qty", "max_order_quantity", max_quantity=max_quantity)), slot=1,
        change_reason="tighten", principal="ops", request_id=request_id)


async def test_set_trading_state_retry_returns_the_original_answer_and_other_params_are_refused(risk_factory):
    risk = await risk_factory()
    first = await risk.stub.SetTradingState(state_request(HALTED))
    await risk.stub.SetTradingState(state_request(REDUCING, request_id="rq-2"))  # the state moves on
    retry = await risk.stub.SetTradingState(state_request(HALTED))
    assert retry == first  # the original answer, not a second change back to HALTED
    current = await risk.stub.GetTradingState(risk_pb2.GetTradingStateRequest(account_id=ACCOUNT))
    assert current.trading_state.state == REDUCING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SetTradingState(state_request(REDUCING))  # rq-1 again, other parameters
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    await risk.stop()
    again = await risk_factory()
    assert await again.stub.SetTradingState(state_request(HALTED)) == first  # remembered across a restart


async def test_update_risk_policy_retry_installs_no_second_version(risk):
    first = await risk.stub.UpdateRiskPolicy(policy_request("100"))
    retry = await risk.stub.UpdateRiskPolicy(policy_request("100"))
    assert retry.policy.version == first.policy.version
    listed = await risk.stub.ListRiskPolicyVersions(risk_pb2.ListRiskPolicyVersionsRequest())
    assert [p.version for p in listed.policies].count(first.policy.version) == 1
    assert max(p.version for p in listed.policies) == first.policy.version
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.UpdateRiskPolicy(policy_request("200"))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert caught.value.details().startswith("request_id pol-1")
