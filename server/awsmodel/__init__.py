"""Request validation derived from the service models that ship inside botocore.

Every constraint (required members, lengths, patterns, enums, ranges, list
sizes) is read from botocore's model of the service; nothing is hand-copied, so
a botocore upgrade that changes a constraint changes the validation with it.
"""

from connfacade.server.awsmodel._messages import snake_path, validation_exception_message
from connfacade.server.awsmodel._model import APPRUNNER, CODESTAR, service_model
from connfacade.server.awsmodel._validate import Violation, validate

__all__ = [
    "APPRUNNER",
    "CODESTAR",
    "Violation",
    "service_model",
    "snake_path",
    "validate",
    "validation_exception_message",
]
