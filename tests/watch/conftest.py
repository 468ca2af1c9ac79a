"""Helpers for watch tests: stubs, connection factories, event readers."""

from __future__ import annotations

import pytest

from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc


@pytest.fixture
def apprunner(channel):
    return apprunner_grpc.ConnectionServiceStub(channel)


@pytest.fixture
def codestar(channel):
    return codestar_grpc.ConnectionServiceStub(channel)
