"""What the ``connfacade`` command offers, derived from the service descriptors.

Subcommands are the RPCs of each service (kebab-case), and their flags are the
request fields (kebab-case; a message field such as ``vpc_configuration`` is
flattened into flags for its own fields). The descriptors cannot say which
fields are required or what a command is for, so :data:`COMMANDS` says that,
once per RPC; a test fails when an RPC has no entry, so a new RPC cannot ship
without its command.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.internal import enum_type_wrapper

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client._convert import kebab_case, snake_case
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2 as host_pb2

if TYPE_CHECKING:
    from collections.abc import Mapping

    from google.protobuf.descriptor import Descriptor, MethodDescriptor, ServiceDescriptor

#: The services each command group fronts, as their descriptors.
SERVICES: Mapping[str, tuple[ServiceDescriptor, ...]] = {
    "apprunner": (apprunner_pb2.DESCRIPTOR.services_by_name["ConnectionService"],),
    "codestar": (
        codestar_pb2.DESCRIPTOR.services_by_name["ConnectionService"],
        host_pb2.DESCRIPTOR.services_by_name["HostService"],
    ),
}

GROUP_HELP: Mapping[str, str] = {
    "apprunner": "AWS App Runner connections",
    "codestar": "AWS CodeStar connections (CodeConnections) and hosts",
}


@dataclasses.dataclass(frozen=True)
class CommandSpec:
    """What the descriptors cannot say about one RPC's command."""

    help: str
    #: Request fields whose flags must be given.
    required: tuple[str, ...] = ()
    #: Request fields of which exactly one flag must be given.
    one_of: tuple[str, ...] = ()
    #: The command waits for something to happen, so it has no deadline unless given ``--timeout``.
    open_ended: bool = False


_WATCH_HELP = (
    "Print connection events, one JSON object per line, until interrupted; "
    "resumes by itself after disconnects."
)
_WAIT_HELP = "Wait until a connection reaches one of the statuses (default AVAILABLE or ERROR), then show it."
_TAGS = ("resource_arn", "tags")
_UNTAG = ("resource_arn", "tag_keys")

COMMANDS: Mapping[str, Mapping[str, CommandSpec]] = {
    "apprunner": {
        "CreateConnection": CommandSpec(
            "Create a connection (pending until its handshake is completed at console_url).",
            required=("connection_name", "provider_type"),
        ),
        "ListConnections": CommandSpec("List connections, optionally only the one with a name."),
        "GetConnection": CommandSpec(
            "Show one connection, by ARN or by name.", one_of=("connection_arn", "connection_name")
        ),
        "DeleteConnection": CommandSpec("Delete a connection.", required=("connection_arn",)),
        "TagResource": CommandSpec("Add or overwrite tags on a connection.", required=_TAGS),
        "UntagResource": CommandSpec("Remove tags, by key, from a connection.", required=_UNTAG),
        "ListTagsForResource": CommandSpec("Show a connection's tags.", required=("resource_arn",)),
        "WatchConnections": CommandSpec(_WATCH_HELP, open_ended=True),
        "WaitForConnection": CommandSpec(
            _WAIT_HELP, one_of=("connection_arn", "connection_name"), open_ended=True
        ),
    },
    "codestar": {
        "CreateConnection": CommandSpec(
            "Create a connection (give --provider-type, or --host-arn for a self-managed provider).",
            required=("connection_name",),
        ),
        "GetConnection": CommandSpec("Show one connection, by ARN.", required=("connection_arn",)),
        "ListConnections": CommandSpec("List connections, optionally by provider type or host."),
        "DeleteConnection": CommandSpec("Delete a connection.", required=("connection_arn",)),
        "TagResource": CommandSpec("Add or overwrite tags on a connection or host.", required=_TAGS),
        "UntagResource": CommandSpec("Remove tags, by key, from a connection or host.", required=_UNTAG),
        "ListTagsForResource": CommandSpec(
            "Show the tags of a connection or host.", required=("resource_arn",)
        ),
        "WatchConnections": CommandSpec(_WATCH_HELP, open_ended=True),
        "WaitForConnection": CommandSpec(_WAIT_HELP, required=("connection_arn",), open_ended=True),
        "CreateHost": CommandSpec(
            "Create a host for a self-managed provider.",
            required=("name", "provider_type", "provider_endpoint"),
        ),
        "GetHost": CommandSpec("Show one host, by ARN.", required=("host_arn",)),
        "ListHosts": CommandSpec("List hosts."),
        "DeleteHost": CommandSpec("Delete a host.", required=("host_arn",)),
        "UpdateHost": CommandSpec(
            "Change a host's provider endpoint or VPC configuration.", required=("host_arn",)
        ),
    },
}


class FlagKind(enum.Enum):
    """How a flag's text becomes a request value."""

    STRING = "string"
    INT = "int"
    BOOL = "bool"
    ENUM = "enum"
    ENUMS = "enums"
    STRINGS = "strings"
    TAGS = "tags"
    DURATION = "duration"  # seconds, as a google.protobuf.Duration


@dataclasses.dataclass(frozen=True)
class Flag:
    """One command-line flag and the request field (or sub-field) it fills."""

    field: str
    sub_field: str | None
    kind: FlagKind
    enum: enum_type_wrapper.EnumTypeWrapper | None = None

    @property
    def option(self) -> str:
        return "--" + kebab_case(self.sub_field or self.field)

    @property
    def dest(self) -> str:
        return f"{self.field}.{self.sub_field}" if self.sub_field else self.field


def _scalar_kind(field: FieldDescriptor) -> FlagKind:
    if field.type == FieldDescriptor.TYPE_STRING:
        return FlagKind.STRINGS if field.is_repeated else FlagKind.STRING
    if field.type == FieldDescriptor.TYPE_ENUM:
        return FlagKind.ENUMS if field.is_repeated else FlagKind.ENUM
    if field.type == FieldDescriptor.TYPE_BOOL and not field.is_repeated:
        return FlagKind.BOOL
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64) and not field.is_repeated:
        return FlagKind.INT
    raise TypeError(f"no command-line form for field {field.full_name}")


def _field_flags(field: FieldDescriptor, parent: str | None) -> list[Flag]:
    name, sub = (field.name, None) if parent is None else (parent, field.name)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message: Descriptor | None = field.message_type
        if message is None:  # pragma: no cover - a message field always has its type
            raise TypeError(f"{field.full_name}: message field without a message type")
        if field.is_repeated and message.name == "Tag":
            return [Flag(name, sub, FlagKind.TAGS)]
        if not field.is_repeated and message.full_name == "google.protobuf.Duration":
            return [Flag(name, sub, FlagKind.DURATION)]
        if field.is_repeated or parent is not None:
            raise TypeError(f"no command-line form for field {field.full_name}")
        return [flag for sub_field in message.fields for flag in _field_flags(sub_field, field.name)]
    kind = _scalar_kind(field)
    wrapper = None
    if kind in {FlagKind.ENUM, FlagKind.ENUMS} and field.enum_type is not None:
        wrapper = enum_type_wrapper.EnumTypeWrapper(field.enum_type)
    return [Flag(name, sub, kind, wrapper)]


def request_flags(method: MethodDescriptor) -> list[Flag]:
    """The flags of an RPC's command: one per request field, message fields flattened."""
    flags = [flag for field in method.input_type.fields for flag in _field_flags(field, None)]
    options = [flag.option for flag in flags]
    if len(set(options)) != len(options):
        raise TypeError(f"{method.full_name}: flattened request fields give clashing flags {options}")
    return flags


def is_paginated(method: MethodDescriptor) -> bool:
    """Whether an RPC pages with next_token (and its command gets ``--all``)."""
    return (
        "next_token" in method.input_type.fields_by_name and "next_token" in method.output_type.fields_by_name
    )


def paginate_method(method: MethodDescriptor) -> str:
    """The client paginator of a List RPC: ``ListHosts`` -> ``paginate_hosts``."""
    return "paginate_" + snake_case(method.name.removeprefix("List"))


def command_name(method: MethodDescriptor) -> str:
    """The subcommand of an RPC: ``ListTagsForResource`` -> ``list-tags-for-resource``."""
    return kebab_case(method.name)


def client_method(method: MethodDescriptor) -> str:
    """The client method of an RPC: ``ListTagsForResource`` -> ``list_tags_for_resource``."""
    return snake_case(method.name)


def methods(group: str) -> list[MethodDescriptor]:
    """Every RPC of a command group's services, in declaration order."""
    return [method for service in SERVICES[group] for method in service.methods]


def unlisted_rpcs() -> list[str]:
    """RPCs of the descriptors with no :data:`COMMANDS` entry (and entries naming no RPC)."""
    problems: list[str] = []
    for group, specs in COMMANDS.items():
        names = {method.name for method in methods(group)}
        problems += [f"{group} {name}: no command" for name in sorted(names - specs.keys())]
        problems += [f"{group} {name}: not an RPC" for name in sorted(specs.keys() - names)]
    return problems
