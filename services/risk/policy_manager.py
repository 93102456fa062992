"""Policy lifecycle: install the seed at start, validate and version updates, keep an audit trail, swap the
gate's policies atomically (a new immutable `Policy` object replaces the old one between two checks).
"""

from __future__ import annotations

import logging

from google.protobuf import json_format
from ibkr.trading.v1 import risk_policy_pb2

from services.common.errors import Aborted, FieldViolation, InvalidArgument
from services.risk.core.policy import Policy
from services.risk.gate import Policies
from services.risk.policy_codec import PolicyInvalid, policy_from_proto, policy_to_proto
from services.risk.store import RiskStore, VersionConflict, digest

log = logging.getLogger("services.risk.policy")
SLOTS = {risk_policy_pb2.RISK_POLICY_SLOT_LIVE: "live", risk_policy_pb2.RISK_POLICY_SLOT_SHADOW: "shadow"}


def invalid_policy(err: PolicyInvalid) -> InvalidArgument:
    """INVALID_ARGUMENT with one BadRequest violation per problem, fields prefixed `policy.`."""
    return InvalidArgument(
        "INVALID_POLICY", f"invalid risk policy: {err}",
        metadata={"violations": str(len(err.violations))},
        field_violations=[FieldViolation(f"policy.{f}", d, "INVALID_POLICY") for _, f, d in err.violations])


def _canonical(pb: risk_policy_pb2.RiskPolicy) -> risk_policy_pb2.RiskPolicy:
    """The part of a policy that defines its behaviour (no version, author, reason or time)."""
    out = risk_policy_pb2.RiskPolicy()
    out.CopyFrom(pb)
    for name in ("version", "create_time", "created_by", "change_reason"):
        out.ClearField(name)
    return out


class PolicyManager:
    """Reads and writes the policy versions of both slots and keeps `Policies` current."""

    def __init__(self, store: RiskStore, policies: Policies | None = None) -> None:
        self.store = store
        self.policies = policies

    async def _load(self, slot: str) -> Policy | None:
        stored = await self.store.latest_policy(slot)
        if stored is None:
            return None
        return policy_from_proto(risk_policy_pb2.RiskPolicy.FromString(stored.policy), version=stored.version)

    async def bootstrap(self, seed: risk_policy_pb2.RiskPolicy) -> Policies:
        """Load the stored policies; install the seed as a new live version when it changed since the
        seed last installed (so editing the env or file takes effect, while API updates survive restarts)."""
        try:
            policy_from_proto(seed)
        except PolicyInvalid as err:
            raise SystemExit(f"invalid seed risk policy: {err}") from None
        seed_digest = digest(_canonical(seed).SerializeToString(deterministic=True))
        live = await self._load("live")
        if live is None or await self.store.latest_seed_digest() != seed_digest:
            live = await self._install("live", seed, seed_digest=seed_digest, created_by="config",
                                       change_reason=seed.change_reason or "seed")
            log.info("installed seed risk policy", extra={"version": live.version})
        shadow = await self._load("shadow")
        if shadow is not None and not shadow.rules:
            shadow = None  # an empty shadow policy is how a shadow is removed
        self.policies = Policies(live, shadow)
        return self.policies

    async def _install(self, slot: str, pb: risk_policy_pb2.RiskPolicy, *, expected_version: int = 0,
                       seed_digest: str | None = None, created_by: str, change_reason: str) -> Policy:
        def make(version: int) -> tuple[bytes, str]:
            stored = risk_policy_pb2.RiskPolicy()
            stored.CopyFrom(pb)
            stored.version, stored.created_by, stored.change_reason = version, created_by, change_reason
            stored.create_time.GetCurrentTime()
            return stored.SerializeToString(), json_format.MessageToJson(stored, preserving_proto_field_name=True)

        try:
            version, blob = await self.store.install_policy(slot, make, expected_version=expected_version,
                                                            seed_digest=seed_digest, created_by=created_by,
                                                            change_reason=change_reason)
        except VersionConflict as err:
            raise Aborted("POLICY_VERSION_CONFLICT",
                          f"the {slot} policy is at version {err.current}, not {expected_version}",
                          metadata={"current_version": err.current}) from None
        return policy_from_proto(risk_policy_pb2.RiskPolicy.FromString(blob), version=version)

    async def update(self, pb: risk_policy_pb2.RiskPolicy, slot: int, *, expected_version: int, reason: str,
                     principal: str) -> risk_policy_pb2.RiskPolicy:
        """Validate, version, audit and activate a policy; returns it with its new version."""
        name = SLOTS[slot]
        try:
            policy_from_proto(pb)
        except PolicyInvalid as err:
            raise invalid_policy(err) from None
        installed = await self._install(name, pb, expected_version=expected_version,
                                        created_by=principal or "unknown", change_reason=reason)
        assert self.policies is not None
        if name == "live":
            self.policies.live = installed
        else:
            self.policies.shadow = installed if installed.rules else None
        log.info("risk policy updated", extra={"slot": name, "version": installed.version, "by": principal})
        return await self.get(name, installed.version)

    async def get(self, slot: str, version: int = 0) -> risk_policy_pb2.RiskPolicy | None:
        """A stored version (0 = latest) as installed, with its audit fields."""
        if version:
            blob = await self.store.policy_version(slot, version)
        else:
            stored = await self.store.latest_policy(slot)
            blob = stored.policy if stored else None
        if blob is None:
            return None
        pb = risk_policy_pb2.RiskPolicy.FromString(blob)
        # Output-only `control` of every rule, filled from its kind.
        canonical = policy_to_proto(policy_from_proto(pb, version=pb.version))
        for rule, filled in zip(pb.rules, canonical.rules, strict=True):
            rule.control = filled.control
        return pb
