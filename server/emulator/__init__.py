"""The embedded AWS emulator: App Runner and CodeStar connections over real AWS JSON 1.0.

``Emulator`` serves the 18 connection operations on loopback, faithful to the
service models (validation, error codes, ARNs, paging); ``EmulatorControl``
drives its ``/_emulator/`` interface (handshakes, faults, request log, config).
"""

from connfacade.server.emulator._app import DEFAULT_ACCOUNT_ID, Emulator
from connfacade.server.emulator._client import EmulatorControl, EmulatorControlError
from connfacade.server.emulator._state import Quotas

__all__ = ["DEFAULT_ACCOUNT_ID", "Emulator", "EmulatorControl", "EmulatorControlError", "Quotas"]
