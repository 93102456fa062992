"""DomainError ↔ google.rpc.Status: the mapping is lossless."""

from __future__ import annotations

import string

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    domain_error_from_rpc_error,
    domain_error_from_status_proto,
    to_rpc_status,
    to_status_proto,
)

SUBCLASSES = [
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Unavailable,
    ResourceExhausted,
    Unauthenticated,
    PermissionDenied,
    DeadlineExceeded,
    Aborted,
]

reasons = st.from_regex(r"[A-Z][A-Z0-9_]{0,30}[A-Z0-9]", fullmatch=True)
texts = st.text(alphabet=string.printable, max_size=40)
violations = st.lists(st.builds(FieldViolation, texts, texts, st.just("") | reasons), max_size=3)


class FakeRpcError(grpc.RpcError):
    """What a client sees: code, details and trailing metadata (shaped like AioRpcError)."""

    def __init__(self, status: grpc.Status) -> None:
        self._status = status

    def code(self) -> grpc.StatusCode:
        return self._status.code

    def details(self) -> str:
        return self._status.details

    def trailing_metadata(self):
        return self._status.trailing_metadata


@given(st.sampled_from(SUBCLASSES), reasons, texts, st.dictionaries(texts, texts, max_size=3), violations)
def test_domain_error_survives_the_wire_unchanged(cls, reason, message, metadata, field_violations) -> None:
    original = cls(reason, message, metadata=metadata, field_violations=field_violations)

    rebuilt = domain_error_from_rpc_error(FakeRpcError(to_rpc_status(original)))

    assert type(rebuilt) is cls
    assert (rebuilt.code, rebuilt.reason, rebuilt.message) == (original.code, reason, message)
    assert rebuilt.metadata == original.metadata
    assert rebuilt.field_violations == tuple(field_violations)


def test_status_carries_error_info_in_the_ibkr_domain_and_bad_request() -> None:
    err = InvalidArgument(
        "INVALID_FIELD", "bad qty", metadata={"n": 3}, field_violations=[FieldViolation("qty", "must be > 0")]
    )
    status = to_status_proto(err)

    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(bad)
    assert (info.reason, info.domain, dict(info.metadata)) == ("INVALID_FIELD", "ibkr.local", {"n": "3"})
    assert bad.field_violations[0].field == "qty"
    grpc_status = to_rpc_status(err)
    assert grpc_status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert rpc_status.to_status(status).trailing_metadata == grpc_status.trailing_metadata


def test_no_bad_request_without_violations() -> None:
    assert len(to_status_proto(NotFound("UNKNOWN_SYMBOL", "no such symbol")).details) == 1


@pytest.mark.parametrize("reason", ["lower", "Mixed_Case", "TRAILING_", "_LEADING", "", "X", "HAS SPACE"])
def test_reason_must_be_upper_snake(reason: str) -> None:
    with pytest.raises(ValueError):
        FailedPrecondition(reason, "m")


def test_plain_rpc_error_without_details_keeps_code_and_message() -> None:
    plain = grpc.Status()
    plain.code, plain.details, plain.trailing_metadata = (
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "Deadline Exceeded",
        (),
    )

    err = domain_error_from_rpc_error(FakeRpcError(plain))

    assert isinstance(err, DeadlineExceeded)
    assert (err.reason, err.message) == ("DEADLINE_EXCEEDED", "Deadline Exceeded")


def test_code_without_a_subclass_rebuilds_as_the_base_class() -> None:
    status = status_pb2.Status(code=grpc.StatusCode.DATA_LOSS.value[0], message="gone")
    err = domain_error_from_status_proto(status)
    assert type(err) is DomainError and err.code == grpc.StatusCode.DATA_LOSS


def test_foreign_free_form_reason_is_kept_in_metadata() -> None:
    status = status_pb2.Status(code=grpc.StatusCode.NOT_FOUND.value[0], message="m")
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason="not snake", domain="other"))
    err = domain_error_from_status_proto(status)
    assert err.reason == "NOT_FOUND" and err.metadata == {"original_reason": "not snake"}
