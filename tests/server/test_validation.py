"""Every constraint of the service models is enforced before any AWS call.

Each case sends one bad request and expects INVALID_ARGUMENT with a BadRequest
naming exactly the bad field, and an emulator that received no request at all.
"""

from __future__ import annotations

import grpc
import pytest
from status_details import violated_fields

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2 as ct

AR_ARN = "arn:aws:apprunner:us-east-1:123456789012:connection/name/0123456789abcdef0123456789abcdef"
CS_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:connection/7c2d9c53-fe1b-4d6e-a4cd-9f2a1f0c0f61"
HOST_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:host/my-host-0123abcd"
VPC = {"vpc_id": "vpc-0123abcd", "subnet_ids": ["subnet-0123abcd"], "security_group_ids": ["sg-0123abcd"]}


def ar_tags(n, key="k{}", value="v"):
    return [ar.Tag(key=key.format(i), value=value) for i in range(n)]


def cs_tags(n, key="k{}", value="v"):
    return [ct.Tag(key=key.format(i), value=value) for i in range(n)]


CASES = [
    # App Runner CreateConnection
    ("apprunner", "CreateConnection", ar.CreateConnectionRequest(provider_type=1), ["connection_name"]),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="abc", provider_type=1),
        ["connection_name"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="a" * 33, provider_type=1),
        ["connection_name"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="-bad-name", provider_type=1),
        ["connection_name"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="good-name"),
        ["provider_type"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="good-name", provider_type=9),
        ["provider_type"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(
            connection_name="good-name", provider_type=1, tags=ar_tags(1, key="aws:reserved")
        ),
        ["tags[0].key"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(
            connection_name="good-name", provider_type=1, tags=[*ar_tags(1), ar.Tag(key="", value="v")]
        ),
        ["tags[1].key"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(
            connection_name="good-name", provider_type=1, tags=ar_tags(1, key="k" * 129)
        ),
        ["tags[0].key"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(
            connection_name="good-name", provider_type=1, tags=ar_tags(1, value="v" * 257)
        ),
        ["tags[0].value"],
    ),
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="good-name", provider_type=1, tags=ar_tags(51)),
        ["tags"],
    ),
    # An enum number the proto does not define is rejected while decoding, before the model check.
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="ab", provider_type=9),
        ["provider_type"],
    ),
    # Every field the model rejects is named at once.
    (
        "apprunner",
        "CreateConnection",
        ar.CreateConnectionRequest(connection_name="ab", tags=ar_tags(1, key="aws:x")),
        ["connection_name", "provider_type", "tags[0].key"],
    ),
    # App Runner ListConnections
    ("apprunner", "ListConnections", ar.ListConnectionsRequest(max_results=0), ["max_results"]),
    ("apprunner", "ListConnections", ar.ListConnectionsRequest(max_results=101), ["max_results"]),
    ("apprunner", "ListConnections", ar.ListConnectionsRequest(connection_name="ab"), ["connection_name"]),
    ("apprunner", "ListConnections", ar.ListConnectionsRequest(next_token="t" * 1025), ["next_token"]),
    # App Runner GetConnection (facade addition)
    ("apprunner", "GetConnection", ar.GetConnectionRequest(), ["connection_arn", "connection_name"]),
    (
        "apprunner",
        "GetConnection",
        ar.GetConnectionRequest(connection_arn=AR_ARN, connection_name="good-name"),
        ["connection_arn", "connection_name"],
    ),
    ("apprunner", "GetConnection", ar.GetConnectionRequest(connection_name="x"), ["connection_name"]),
    ("apprunner", "GetConnection", ar.GetConnectionRequest(connection_arn="not-an-arn"), ["connection_arn"]),
    # App Runner DeleteConnection and tags
    ("apprunner", "DeleteConnection", ar.DeleteConnectionRequest(), ["connection_arn"]),
    (
        "apprunner",
        "DeleteConnection",
        ar.DeleteConnectionRequest(connection_arn="arn:aws:nope"),
        ["connection_arn"],
    ),
    (
        "apprunner",
        "TagResource",
        ar.TagResourceRequest(resource_arn="bad", tags=ar_tags(1)),
        ["resource_arn"],
    ),
    (
        "apprunner",
        "TagResource",
        ar.TagResourceRequest(resource_arn=AR_ARN, tags=ar_tags(1, key="aws:x")),
        ["tags[0].key"],
    ),
    ("apprunner", "TagResource", ar.TagResourceRequest(resource_arn=AR_ARN, tags=ar_tags(51)), ["tags"]),
    (
        "apprunner",
        "UntagResource",
        ar.UntagResourceRequest(resource_arn=AR_ARN, tag_keys=["ok", "aws:x"]),
        ["tag_keys[1]"],
    ),
    (
        "apprunner",
        "UntagResource",
        ar.UntagResourceRequest(resource_arn="", tag_keys=["k"]),
        ["resource_arn"],
    ),
    (
        "apprunner",
        "ListTagsForResource",
        ar.ListTagsForResourceRequest(resource_arn="x" * 1012),
        ["resource_arn"],
    ),
    # App Runner streaming additions
    ("apprunner", "WaitForConnection", ar.WaitForConnectionRequest(), ["connection_arn", "connection_name"]),
    (
        "apprunner",
        "WaitForConnection",
        ar.WaitForConnectionRequest(connection_name="ab"),
        ["connection_name"],
    ),
    (
        "apprunner",
        "WaitForConnection",
        ar.WaitForConnectionRequest(connection_arn=AR_ARN, statuses=[9]),
        ["statuses[0]"],
    ),
    ("apprunner", "WatchConnections", ar.WatchConnectionsRequest(provider_types=[7]), ["provider_types[0]"]),
    ("apprunner", "WatchConnections", ar.WatchConnectionsRequest(statuses=[2, 42]), ["statuses[1]"]),
    (
        "apprunner",
        "WatchConnections",
        ar.WatchConnectionsRequest(bookmark_interval={"nanos": 1000}),
        ["bookmark_interval"],
    ),
    # CodeStar connections
    ("codestar", "CreateConnection", cs.CreateConnectionRequest(provider_type=1), ["connection_name"]),
    (
        "codestar",
        "CreateConnection",
        cs.CreateConnectionRequest(connection_name="c" * 33, provider_type=1),
        ["connection_name"],
    ),
    (
        "codestar",
        "CreateConnection",
        cs.CreateConnectionRequest(connection_name="c", provider_type=42),
        ["provider_type"],
    ),
    (
        "codestar",
        "CreateConnection",
        cs.CreateConnectionRequest(connection_name="c", provider_type=1, tags=cs_tags(201)),
        ["tags"],
    ),
    (
        "codestar",
        "CreateConnection",
        cs.CreateConnectionRequest(connection_name="c", provider_type=1, tags=cs_tags(1, key="k" * 129)),
        ["tags[0].key"],
    ),
    (
        "codestar",
        "CreateConnection",
        cs.CreateConnectionRequest(connection_name="c", host_arn=CS_ARN),
        ["host_arn"],
    ),
    ("codestar", "GetConnection", cs.GetConnectionRequest(), ["connection_arn"]),
    ("codestar", "GetConnection", cs.GetConnectionRequest(connection_arn="arn:aws:x"), ["connection_arn"]),
    ("codestar", "ListConnections", cs.ListConnectionsRequest(max_results=101), ["max_results"]),
    ("codestar", "ListConnections", cs.ListConnectionsRequest(max_results=-1), ["max_results"]),
    (
        "codestar",
        "ListConnections",
        cs.ListConnectionsRequest(provider_type_filter=77),
        ["provider_type_filter"],
    ),
    ("codestar", "ListConnections", cs.ListConnectionsRequest(host_arn_filter=CS_ARN), ["host_arn_filter"]),
    (
        "codestar",
        "DeleteConnection",
        cs.DeleteConnectionRequest(connection_arn="c" * 257),
        ["connection_arn"],
    ),
    ("codestar", "TagResource", cs.TagResourceRequest(resource_arn=CS_ARN, tags=cs_tags(201)), ["tags"]),
    ("codestar", "TagResource", cs.TagResourceRequest(resource_arn="", tags=cs_tags(1)), ["resource_arn"]),
    (
        "codestar",
        "UntagResource",
        cs.UntagResourceRequest(resource_arn=CS_ARN, tag_keys=[""]),
        ["tag_keys[0]"],
    ),
    ("codestar", "ListTagsForResource", cs.ListTagsForResourceRequest(resource_arn="bad"), ["resource_arn"]),
    ("codestar", "WaitForConnection", cs.WaitForConnectionRequest(connection_arn="nope"), ["connection_arn"]),
    ("codestar", "WatchConnections", cs.WatchConnectionsRequest(provider_types=[0]), ["provider_types[0]"]),
    ("codestar", "WatchConnections", cs.WatchConnectionsRequest(resume_token="garbage"), ["resume_token"]),
    # CodeStar hosts
    ("hosts", "CreateHost", hs.CreateHostRequest(provider_type=3, provider_endpoint="https://h"), ["name"]),
    (
        "hosts",
        "CreateHost",
        hs.CreateHostRequest(name="h" * 65, provider_type=3, provider_endpoint="https://h"),
        ["name"],
    ),
    ("hosts", "CreateHost", hs.CreateHostRequest(name="h", provider_endpoint="https://h"), ["provider_type"]),
    ("hosts", "CreateHost", hs.CreateHostRequest(name="h", provider_type=3), ["provider_endpoint"]),
    (
        "hosts",
        "CreateHost",
        hs.CreateHostRequest(name="h", provider_type=3, provider_endpoint="e" * 513),
        ["provider_endpoint"],
    ),
    (
        "hosts",
        "CreateHost",
        hs.CreateHostRequest(
            name="h",
            provider_type=3,
            provider_endpoint="https://h",
            vpc_configuration=hs.VpcConfiguration(**{**VPC, "vpc_id": "vpc-1"}),
        ),
        ["vpc_configuration.vpc_id"],
    ),
    (
        "hosts",
        "CreateHost",
        hs.CreateHostRequest(
            name="h",
            provider_type=3,
            provider_endpoint="https://h",
            vpc_configuration=hs.VpcConfiguration(**{**VPC, "subnet_ids": []}),
        ),
        ["vpc_configuration.subnet_ids"],
    ),
    (
        "hosts",
        "CreateHost",
        hs.CreateHostRequest(
            name="h",
            provider_type=3,
            provider_endpoint="https://h",
            vpc_configuration=hs.VpcConfiguration(**{**VPC, "security_group_ids": ["sg-0123abcd"] * 11}),
        ),
        ["vpc_configuration.security_group_ids"],
    ),
    (
        "hosts",
        "CreateHost",
        hs.CreateHostRequest(name="h", provider_type=3, provider_endpoint="https://h", tags=cs_tags(201)),
        ["tags"],
    ),
    ("hosts", "GetHost", hs.GetHostRequest(host_arn=CS_ARN), ["host_arn"]),
    ("hosts", "ListHosts", hs.ListHostsRequest(max_results=101), ["max_results"]),
    ("hosts", "DeleteHost", hs.DeleteHostRequest(), ["host_arn"]),
    (
        "hosts",
        "UpdateHost",
        hs.UpdateHostRequest(host_arn=HOST_ARN, provider_endpoint="e" * 513),
        ["provider_endpoint"],
    ),
    ("hosts", "UpdateHost", hs.UpdateHostRequest(host_arn="arn:aws:codestar-connections:x"), ["host_arn"]),
]


@pytest.mark.parametrize(
    ("stub", "method", "request_message", "fields"),
    CASES,
    ids=[f"{c[0]}.{c[1]}-{i}:{','.join(c[3])}" for i, c in enumerate(CASES)],
)
async def test_model_violation_is_invalid_argument_naming_the_field(
    apprunner, codestar, hosts, control, stub, method, request_message, fields
):
    """The request is rejected before AWS, naming exactly the bad fields."""
    client = {"apprunner": apprunner, "codestar": codestar, "hosts": hosts}[stub]
    call = getattr(client, method)(request_message)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await (call.read() if method == "WatchConnections" else call)  # a stream fails on its first read
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert sorted(violated_fields(caught.value)) == sorted(fields)  # one violation per bad field
    assert await control.requests() == []


async def test_every_rpc_with_input_has_a_validation_case():
    """The table above covers every RPC of the three services."""
    covered = {(stub, method) for stub, method, _, _ in CASES}
    expected = {("apprunner", m.name) for m in ar.DESCRIPTOR.services_by_name["ConnectionService"].methods}
    expected |= {("codestar", m.name) for m in cs.DESCRIPTOR.services_by_name["ConnectionService"].methods}
    expected |= {("hosts", m.name) for m in hs.DESCRIPTOR.services_by_name["HostService"].methods}
    assert expected - covered == set()
