"""Every RPC answers arbitrary requests with a deliberate status, never a crash.

Requests come from the proto descriptors, or are raw bytes (arbitrary,
truncated, altered and over-long encodings) sent through identity
serializers, as a generic client sends them; metadata (credentials, request
id, read options) from the keys the facade reads; the facade authenticates, so
roles and scopes are exercised too. The short run in the suite draws a few
examples per RPC (a watch is read up to its first message); a long run raises
the count through
``CONNFACADE_FUZZ_EXAMPLES`` (see docs/development.md, "Fuzzing").
"""

from __future__ import annotations

import asyncio
import collections
import os

import grpc
import pytest
from google.protobuf import message_factory
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from metadata_strategies import metadata
from proto_strategies import messages
from wire_strategies import encodings

from connfacade.server.app import APPRUNNER_SERVICE, CODESTAR_SERVICE, HOST_SERVICE

SHORT_RUN = 25
EXAMPLES = int(os.environ.get("CONNFACADE_FUZZ_EXAMPLES", str(SHORT_RUN)))
RAW_EXAMPLES = 10 if EXAMPLES <= SHORT_RUN else EXAMPLES  # the suite's raw-bytes run is shorter still
CALL_TIMEOUT = 5.0  # WaitForConnection honours the deadline; everything else answers at once
STREAM_TIMEOUT = 0.5  # a valid watch may send nothing before its deadline; DEADLINE_EXCEEDED is fine

# The codes a well-behaved facade may answer with; INTERNAL and UNKNOWN mean a
# bug escaped the error mapping.
EXPECTED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
}

# AWS's codes for a request it refuses as invalid: such a refusal names its
# fields too (the facade derives them from AWS's message); counted apart.
UPSTREAM_VALIDATION = {"ValidationException", "InvalidRequestException", "InvalidInputException"}

RPCS = [
    pytest.param(service, method, id=f"{service.full_name.split('.')[1]}.{service.name}.{method.name}")
    for service in (APPRUNNER_SERVICE, CODESTAR_SERVICE, HOST_SERVICE)
    for method in service.methods
]


def field_violations(err: grpc.RpcError) -> list[error_details_pb2.BadRequest.FieldViolation]:
    """The field violations of every BadRequest packed into ``err``'s status details."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    if status is None:
        return []
    violations = []
    for packed in status.details:
        if packed.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            packed.Unpack(bad)
            violations.extend(bad.field_violations)
    return violations


def upstream_rejection(err: grpc.RpcError) -> str | None:
    """The AWS error code, when AWS rather than the facade's own validation refused the request."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    for packed in status.details if status else ():
        if packed.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            packed.Unpack(info)
            if info.reason in UPSTREAM_VALIDATION:
                return info.reason
    return None


def undecodable(err: grpc.RpcError, method) -> bool:
    """Whether ``err`` refuses the request's bytes as no encoding of its message."""
    return f"is not a valid {method.input_type.full_name}" in err.details()


def fuzz_method(target: str, service, method, *, raw: bool = False) -> collections.Counter[str]:
    """Send generated requests (raw bytes if ``raw``) to one RPC; the status codes seen, counted."""
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    seen: collections.Counter[str] = collections.Counter()
    upstream_messages: collections.Counter[str] = collections.Counter()
    with grpc.insecure_channel(target) as channel:
        path = f"/{service.full_name}/{method.name}"
        codecs = {
            "request_serializer": None if raw else request_class.SerializeToString,
            "response_deserializer": response_class.FromString,
        }
        if method.server_streaming:
            stream = channel.unary_stream(path, **codecs)

            def call(request, timeout, metadata):
                # A watch never ends by itself: its first message (or a refusal) is the answer.
                responses = stream(request, timeout=min(timeout, STREAM_TIMEOUT), metadata=metadata)
                try:
                    next(responses, None)
                finally:
                    responses.cancel()
        else:
            call = channel.unary_unary(path, **codecs)

        @settings(
            max_examples=RAW_EXAMPLES if raw else EXAMPLES,
            deadline=None,
            derandomize=EXAMPLES <= SHORT_RUN,  # the suite's run is the same every time; long runs explore
            database=None,  # no .hypothesis/ left in the checkout; a failure prints its example
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(encodings(method.input_type) if raw else messages(method.input_type), metadata())
        def one_request(request, metadata):
            err = None
            try:
                call(request, timeout=CALL_TIMEOUT, metadata=metadata)
            except grpc.RpcError as raised:
                err = raised
            code = grpc.StatusCode.OK if err is None else err.code()
            assert code in EXPECTED, f"{code.name}: {err and err.details()!r} for {request!r} {metadata!r}"
            if err is not None and "class" in err.details():
                raise AssertionError(f"a Python class named to the caller: {err.details()!r} for {request!r}")
            if code != grpc.StatusCode.INVALID_ARGUMENT:
                seen[code.name] += 1
                return
            violations = field_violations(err)
            assert violations, (
                f"INVALID_ARGUMENT without BadRequest: {err.details()!r} for {request!r} {metadata!r}"
            )
            # Only bytes that are no message at all may concern the request as a whole (no field).
            assert all(v.field for v in violations) or undecodable(err, method), (
                f"unnamed violation {violations} for {request!r}"
            )
            if undecodable(err, method):
                seen["INVALID_ARGUMENT/undecodable"] += 1
            elif upstream_rejection(err):
                seen["INVALID_ARGUMENT/upstream"] += 1
                upstream_messages[f"{err.details()} -> {', '.join(v.field for v in violations)}"] += 1
            else:
                seen[code.name] += 1

        one_request()
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    for text, count in upstream_messages.most_common():
        print(f"  upstream INVALID_ARGUMENT x{count}: {text[:160]!r}")  # noqa: T201
    return seen


@pytest.mark.timeout(0 if EXAMPLES > SHORT_RUN else 120)
@pytest.mark.parametrize(("service", "method"), RPCS)
async def test_rpc_survives_generated_requests(facade, service, method, record_property):
    """Any request gets an expected status (INVALID_ARGUMENT naming its fields); the server stays up."""
    # Blocking calls in a thread, so the server keeps running on this test's loop.
    seen = await asyncio.to_thread(fuzz_method, facade.addresses[0], service, method)
    record_property("statuses", dict(seen))
    print(f"{service.full_name}/{method.name}: {dict(sorted(seen.items()))}")  # noqa: T201


@pytest.mark.timeout(0 if EXAMPLES > SHORT_RUN else 120)
@pytest.mark.parametrize(("service", "method"), RPCS)
async def test_rpc_survives_raw_bytes(facade, service, method, record_property):
    """Bytes no protobuf library would send get an expected status, never UNKNOWN; the server stays up."""
    seen = await asyncio.to_thread(fuzz_method, facade.addresses[0], service, method, raw=True)
    record_property("statuses", dict(seen))
    print(f"{service.full_name}/{method.name} raw: {dict(sorted(seen.items()))}")  # noqa: T201
