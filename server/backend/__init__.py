"""Backends: how the facade reaches AWS (real AWS or the embedded emulator)."""

from connfacade.server.backend.aws import AioBotoBackend
from connfacade.server.backend.protocol import AwsBackend

__all__ = ["AioBotoBackend", "AwsBackend"]
