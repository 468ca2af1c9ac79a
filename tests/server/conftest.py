"""Stubs of the three services on a channel to a real facade."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc
from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc

if TYPE_CHECKING:
    import grpc


@pytest.fixture
def apprunner(channel: grpc.aio.Channel) -> apprunner_grpc.ConnectionServiceStub:
    return apprunner_grpc.ConnectionServiceStub(channel)


@pytest.fixture
def codestar(channel: grpc.aio.Channel) -> codestar_grpc.ConnectionServiceStub:
    return codestar_grpc.ConnectionServiceStub(channel)


@pytest.fixture
def hosts(channel: grpc.aio.Channel) -> host_grpc.HostServiceStub:
    return host_grpc.HostServiceStub(channel)
