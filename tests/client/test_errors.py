"""The exception registry: gRPC statuses become typed errors with their details unpacked."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from connfacade.client import errors

_CLASS_NAMES = {
    grpc.StatusCode.CANCELLED: "RpcCancelledError",
    grpc.StatusCode.UNKNOWN: "UnknownError",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgumentError",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceededError",
    grpc.StatusCode.NOT_FOUND: "NotFoundError",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExistsError",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDeniedError",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhaustedError",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPreconditionError",
    grpc.StatusCode.ABORTED: "AbortedError",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRangeError",
    grpc.StatusCode.UNIMPLEMENTED: "UnimplementedError",
    grpc.StatusCode.INTERNAL: "InternalError",
    grpc.StatusCode.UNAVAILABLE: "UnavailableError",
    grpc.StatusCode.DATA_LOSS: "DataLossError",
    grpc.StatusCode.UNAUTHENTICATED: "UnauthenticatedError",
}


def _pack(*details):
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    return packed


def _aio_error(code, message, *details, trailers=()):
    status = rpc_status.to_status(
        status_pb2.Status(code=code.value[0], message=message, details=_pack(*details))
    )
    return grpc.aio.AioRpcError(
        code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata, *trailers),
        message,
        None,
    )


def _bad_request(*violations):
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
        ]
    )


def test_every_error_status_has_its_own_class():
    """Each non-OK status code maps to exactly one subclass, named after the code."""
    for code in grpc.StatusCode:
        cls = errors.error_class_for(code)
        if code is grpc.StatusCode.OK:
            assert cls is errors.ConnfacadeError
            continue
        assert cls.__name__ == _CLASS_NAMES[code]
        assert issubclass(cls, errors.ConnfacadeError)
        assert cls.grpc_code is code
    assert len({errors.error_class_for(code) for code in _CLASS_NAMES}) == len(_CLASS_NAMES)


@pytest.mark.parametrize("code", list(_CLASS_NAMES))
def test_from_rpc_error_picks_the_registered_class(code):
    """A real AioRpcError of any code becomes its class, keeping code and message."""
    err = errors.from_rpc_error(_aio_error(code, "it failed"))
    assert type(err).__name__ == _CLASS_NAMES[code]
    assert err.code is code
    assert err.message == "it failed"
    assert err.details == []


def test_cancelled_error_does_not_shadow_asyncio():
    """CANCELLED is RpcCancelledError, not something named CancelledError."""
    assert not hasattr(errors, "CancelledError")
    assert not issubclass(errors.RpcCancelledError, asyncio.CancelledError)
    err = errors.from_rpc_error(_aio_error(grpc.StatusCode.CANCELLED, "gone"))
    assert isinstance(err, errors.RpcCancelledError)


def test_bad_request_details_become_field_violations():
    """BadRequest field violations arrive as (field, description) tuples, in order."""
    err = errors.from_rpc_error(
        _aio_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            "2 bad fields",
            _bad_request(("connection_name", "too short"), ("tags[0].key", "aws: prefix")),
        )
    )
    assert isinstance(err, errors.InvalidArgumentError)
    assert err.field_violations == [("connection_name", "too short"), ("tags[0].key", "aws: prefix")]
    assert err.field_violations[0].field == "connection_name"
    assert isinstance(err.details[0], error_details_pb2.BadRequest)


def test_retry_info_becomes_retry_delay_in_seconds():
    """RetryInfo's Duration is exposed as float seconds."""
    retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=2, nanos=500_000_000))
    err = errors.from_rpc_error(_aio_error(grpc.StatusCode.UNAVAILABLE, "throttled", retry))
    assert isinstance(err, errors.UnavailableError)
    assert err.retry_delay == 2.5


def test_error_info_resource_info_and_quota_violations():
    """ErrorInfo, ResourceInfo and QuotaFailure are exposed as plain Python values."""
    err = errors.from_rpc_error(
        _aio_error(
            grpc.StatusCode.FAILED_PRECONDITION,
            "in use",
            error_details_pb2.ErrorInfo(
                reason="InvalidStateException", domain="apprunner.amazonaws.com", metadata={"a": "b"}
            ),
            error_details_pb2.ResourceInfo(resource_type="connection", resource_name="arn:x", owner="123"),
            error_details_pb2.QuotaFailure(
                violations=[
                    error_details_pb2.QuotaFailure.Violation(subject="connections", description="250")
                ]
            ),
        )
    )
    assert err.error_info == errors.ErrorInfo("InvalidStateException", "apprunner.amazonaws.com", {"a": "b"})
    assert err.resource_info == errors.ResourceInfo("connection", "arn:x", "123", "")
    assert err.quota_violations == [("connections", "250")]
    assert err.field_violations == []
    assert err.retry_delay is None


def test_missing_details_give_empty_values():
    """Without details every convenience property is empty or None."""
    err = errors.from_rpc_error(_aio_error(grpc.StatusCode.INTERNAL, "boom"))
    assert err.field_violations == []
    assert err.quota_violations == []
    assert err.retry_delay is None
    assert err.error_info is None
    assert err.resource_info is None
    assert err.request_id is None
    assert err.aws_request_id is None
    assert err.resume_token is None


def test_a_watch_streams_resume_token_comes_from_its_trailer():
    """x-connfacade-resume-token, sent when the server ends a watch stream, becomes resume_token."""
    err = errors.from_rpc_error(
        _aio_error(
            grpc.StatusCode.UNAVAILABLE,
            "the server is shutting down",
            trailers=((errors.RESUME_TOKEN_KEY, "eyJyIjo3fQ.sig"),),
        )
    )
    assert isinstance(err, errors.UnavailableError)
    assert err.resume_token == "eyJyIjo3fQ.sig"


def test_request_ids_come_from_the_trailers():
    """x-request-id and x-aws-request-id trailers become request_id and aws_request_id."""
    err = errors.from_rpc_error(
        _aio_error(
            grpc.StatusCode.NOT_FOUND,
            "no such connection",
            trailers=(("x-request-id", "req-1"), ("x-aws-request-id", "aws-2")),
        )
    )
    assert err.request_id == "req-1"
    assert err.aws_request_id == "aws-2"
    assert "NOT_FOUND: no such connection" in str(err)
    assert "req-1" in str(err)


def test_unknown_detail_types_stay_packed():
    """A detail type the client does not know is kept as a google.protobuf.Any."""
    unknown = any_pb2.Any(type_url="type.googleapis.com/example.Unknown", value=b"\x08\x01")
    status = status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message="x", details=[unknown])
    err = errors.from_rpc_error(
        grpc.aio.AioRpcError(
            grpc.StatusCode.INTERNAL,
            grpc.aio.Metadata(),
            grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString())),
            "x",
            None,
        )
    )
    assert len(err.details) == 1
    assert isinstance(err.details[0], any_pb2.Any)


def test_malformed_status_trailer_loses_only_the_details():
    """A trailer that is not a Status message does not hide the error itself."""
    err = errors.from_rpc_error(
        grpc.aio.AioRpcError(
            grpc.StatusCode.UNAVAILABLE,
            grpc.aio.Metadata(),
            grpc.aio.Metadata(("grpc-status-details-bin", b"\xff\xff\xff"), ("x-request-id", "r")),
            "down",
            None,
        )
    )
    assert isinstance(err, errors.UnavailableError)
    assert err.message == "down"
    assert err.details == []
    assert err.request_id == "r"


def test_a_bare_rpc_error_becomes_unknown():
    """An RpcError that carries no status (as interceptors may raise) still becomes a typed error."""
    err = errors.from_rpc_error(grpc.RpcError("no status"))
    assert isinstance(err, errors.UnknownError)
    assert err.code is grpc.StatusCode.UNKNOWN


def test_translate_rpc_errors_chains_the_original():
    """The one translation point raises the typed error from the RpcError."""
    original = _aio_error(grpc.StatusCode.NOT_FOUND, "gone")
    with pytest.raises(errors.NotFoundError) as caught, errors.translate_rpc_errors():
        raise original
    assert caught.value.__cause__ is original


def test_translate_rpc_errors_leaves_other_errors_alone():
    """Only RpcError is translated."""
    with pytest.raises(KeyError), errors.translate_rpc_errors():
        raise KeyError("x")
