"""Typed operations on each service: validate, call the backend, parse to domain types."""

from connfacade.server.operations.apprunner import AppRunnerConnections
from connfacade.server.operations.codestar import CodeStarConnections, CodeStarHosts

__all__ = ["AppRunnerConnections", "CodeStarConnections", "CodeStarHosts"]
