"""Stubs for the store tests, and a way to count what reached AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc

if TYPE_CHECKING:
    import grpc


@pytest.fixture
def apprunner(channel: grpc.aio.Channel) -> apprunner_grpc.ConnectionServiceStub:
    return apprunner_grpc.ConnectionServiceStub(channel)


@pytest.fixture
def codestar(channel: grpc.aio.Channel) -> codestar_grpc.ConnectionServiceStub:
    return codestar_grpc.ConnectionServiceStub(channel)
