"""The policy over real gRPC and Postgres: validated, versioned and audited updates, optimistic concurrency,
the shadow policy reported but never enforced, and decisions published to the bus and listed."""

from __future__ import annotations

import grpc
import pytest
from ibkr.risk.v1 import risk_pb2
from ibkr.trading.v1 import event_pb2
from prometheus_client import generate_latest

from services.common.bus import EventBus
from services.risk.tests.conftest import ACCOUNT, eventually, install, policy_pb, rule, spec


def submit(coid: str, **kw) -> risk_pb2.SubmitOrderRequest:
    return risk_pb2.SubmitOrderRequest(account_id=ACCOUNT, client_order_id=coid, order=spec(**kw), principal="k1")


async def test_seed_policy_from_env_is_version_one_with_its_rules(risk):
    got = await risk.stub.GetRiskPolicy(risk_pb2.GetRiskPolicyRequest())
    assert got.policy.version == 1 and got.policy.created_by == "config"
    assert [r.rule_id for r in got.policy.rules] == ["restricted-list", "max-order-notional",
                                                     "ib-working-orders-per-side"]
    assert got.policy.rules[1].max_order_notional.max_notional.value == "100000"
    assert got.policy.rules[1].control == 2  # ERRONEOUS_ORDER, filled in from the kind


async def test_policy_update_is_versioned_audited_and_enforced_at_once(risk, gateway):
    installed = await install(risk, rule("max-qty", "max_order_quantity", max_quantity="5"))
    assert installed.version == 2 and installed.created_by == "tester" and installed.change_reason == "test"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.SubmitOrder(submit("q-1", quantity="6"))
    assert "max-qty" in caught.value.details()
    versions = await risk.stub.ListRiskPolicyVersions(risk_pb2.ListRiskPolicyVersionsRequest(page_size=1))
    assert [p.version for p in versions.policies] == [2]
    rest = await risk.stub.ListRiskPolicyVersions(risk_pb2.ListRiskPolicyVersionsRequest(
        page_size=1, page_token=versions.next_page_token))
    assert [p.version for p in rest.policies] == [1] and rest.next_page_token == ""
    old = await risk.stub.GetRiskPolicy(risk_pb2.GetRiskPolicyRequest(version=1))
    assert old.policy.rules[1].rule_id == "max-order-notional"


async def test_invalid_policy_is_refused_listing_every_problem_and_changes_nothing(risk):
    bad = policy_pb(rule("Bad Id", "max_order_quantity", max_quantity="-1"), rule("x", "max_position"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.UpdateRiskPolicy(risk_pb2.UpdateRiskPolicyRequest(policy=bad, slot=1, change_reason="t"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for fragment in ("rules[0].rule_id", "rules[0].max_order_quantity.max_quantity", "rules[1].max_position"):
        assert fragment in caught.value.details()
    check = await risk.stub.ValidateRiskPolicy(risk_pb2.ValidateRiskPolicyRequest(policy=bad))
    assert not check.valid and len(check.violations) == 3
    assert (await risk.stub.GetRiskPolicy(risk_pb2.GetRiskPolicyRequest())).policy.version == 1


async def test_update_based_on_a_stale_version_is_aborted(risk):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await risk.stub.UpdateRiskPolicy(risk_pb2.UpdateRiskPolicyRequest(
            policy=policy_pb(), slot=1, change_reason="t", expected_version=7))
    assert caught.value.code() == grpc.StatusCode.ABORTED


async def test_shadow_policy_denials_are_reported_but_never_block(risk, gateway):
    await install(risk, rule("shadow-qty", "max_order_quantity", max_quantity="1"), slot=2)
    reply = await risk.stub.SubmitOrder(submit("s-1", quantity="10"))
    assert reply.decision.outcome == 1 and len(gateway[0].placed) == 1
    check = await risk.stub.CheckOrder(risk_pb2.CheckOrderRequest(account_id=ACCOUNT, order=spec(quantity="10")))
    assert check.decision.outcome == 1
    assert check.shadow_decision.shadow and check.shadow_decision.denied_rule_id == "shadow-qty"
    assert 'ibkr_risk_shadow_denials_total{rule_id="shadow-qty"} 2.0' in _metrics(risk)


async def test_decisions_are_published_to_the_bus_and_listed(risk, gateway):
    await risk.stub.SubmitOrder(submit("d-1"))
    with pytest.raises(grpc.aio.AioRpcError):
        await risk.stub.SubmitOrder(submit("d-2", quantity="100000"))
    bus = EventBus(risk.redis, risk.app.settings.bus_stream, None)

    async def published():
        events = [event_pb2.Event.FromString(e.payload) for e in await bus.read_after("0", count=100)]
        return [e.risk_decision.decision for e in events if e.WhichOneof("payload") == "risk_decision"]
    decisions = await eventually(lambda: _at_least(published, 2))
    assert [(d.client_order_id, d.outcome, d.denied_rule_id) for d in decisions] == [
        ("d-1", 1, ""), ("d-2", 2, "max-order-notional")]
    denied = decisions[1]
    result = next(r for r in denied.rule_results if r.rule_id == "max-order-notional")
    assert (result.threshold.value, result.observed_value.value, result.control) == ("100000", "10000000", 2)
    assert denied.principal == "k1" and denied.policy_version == 1
    listed = await risk.stub.ListDecisions(risk_pb2.ListDecisionsRequest(account_id=ACCOUNT, outcome=2))
    assert [d.client_order_id for d in listed.decisions] == ["d-2"]
    assert 'ibkr_risk_decisions_total{outcome="denied",rule_id="max-order-notional"} 1.0' in _metrics(risk)


async def _at_least(fetch, n: int):
    found = await fetch()
    return found if len(found) >= n else None


def _metrics(risk) -> str:
    return generate_latest(risk.app.registry).decode()


async def test_policy_file_seeds_the_policy_and_a_changed_seed_becomes_a_new_version(risk_factory, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("rules:\n  - rule_id: max-qty\n    max_order_quantity: {max_quantity: {value: '5'}}\n")
    risk = await risk_factory(risk_policy_file=path)
    got = await risk.stub.GetRiskPolicy(risk_pb2.GetRiskPolicyRequest())
    assert [r.rule_id for r in got.policy.rules] == ["max-qty"] and got.policy.version == 1
    await risk.stop()
    again = await risk_factory(risk_policy_file=path)  # same seed: no new version
    assert (await again.stub.GetRiskPolicy(risk_pb2.GetRiskPolicyRequest())).policy.version == 1
    await again.stop()
    path.write_text('{"rules": [{"rule_id": "max-qty", "max_order_quantity": {"max_quantity": {"value": "7"}}}]}')
    third = await risk_factory(risk_policy_file=path)
    latest = (await third.stub.GetRiskPolicy(risk_pb2.GetRiskPolicyRequest())).policy
    assert latest.version == 2 and latest.rules[0].max_order_quantity.max_quantity.value == "7"
