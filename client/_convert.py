"""Small conversions between Python values and the facade's protobuf messages.

Enum names in the many spellings people type (``GITHUB``, ``github``,
``GitHubEnterpriseServer``, ``PROVIDER_TYPE_GITHUB``), tags as a mapping or as
``Tag`` messages, and messages as JSON for the command line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, TypeVar

from google.protobuf import duration_pb2, json_format

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2, types_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper
    from google.protobuf.message import Message

_V = TypeVar("_V", bound=int)
_TagT = TypeVar("_TagT")

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")

#: Where the clients and the command connect when given no target.
DEFAULT_TARGET = "127.0.0.1:50051"


def snake_case(rpc_name: str) -> str:
    """``ListTagsForResource`` -> ``list_tags_for_resource``: the client method of an RPC."""
    return _WORD_START.sub("_", rpc_name).lower()


def kebab_case(name: str) -> str:
    """``ListTagsForResource`` or ``list_tags_for_resource`` -> ``list-tags-for-resource``."""
    return snake_case(name).replace("_", "-")


class TagLike(Protocol):
    """Anything with a ``key`` and a ``value``: the ``Tag`` message of either service."""

    @property
    def key(self) -> str: ...
    @property
    def value(self) -> str: ...


#: Tags as ``{"key": "value"}`` or as ``Tag`` messages.
Tags: TypeAlias = Mapping[str, str] | Iterable[TagLike]
#: An App Runner provider type: the enum value or a name such as ``"GITHUB"``.
AppRunnerProviderType: TypeAlias = apprunner_pb2.ProviderType.ValueType | str
#: A CodeStar provider type: the enum value or a name such as ``"GitHubEnterpriseServer"``.
CodeStarProviderType: TypeAlias = types_pb2.ProviderType.ValueType | str
#: An App Runner connection status: the enum value or a name such as ``"AVAILABLE"``.
AppRunnerConnectionStatus: TypeAlias = apprunner_pb2.ConnectionStatus.ValueType | str
#: A CodeStar connection status: the enum value or a name such as ``"AVAILABLE"``.
CodeStarConnectionStatus: TypeAlias = codestar_pb2.ConnectionStatus.ValueType | str
#: A duration: seconds, or a ``timedelta``.
Seconds: TypeAlias = float | dt.timedelta
#: A host's VPC configuration: the message, or a mapping of its fields.
VpcConfigurationArg: TypeAlias = host_service_pb2.VpcConfiguration | Mapping[str, Any]


class UseClientDefault(enum.Enum):
    """The type of :data:`USE_CLIENT_DEFAULT`."""

    USE_CLIENT_DEFAULT = "USE_CLIENT_DEFAULT"


#: A per-call ``timeout=`` that means "the client's timeout" (``None`` means no deadline).
USE_CLIENT_DEFAULT: Final = UseClientDefault.USE_CLIENT_DEFAULT

Timeout: TypeAlias = float | UseClientDefault | None
MetadataPairs: TypeAlias = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True)
class CallDefaults:
    """A client's timeout and metadata, combined with those given to one call."""

    timeout: float | None
    metadata: MetadataPairs

    @classmethod
    def of(cls, timeout: float | None, metadata: Sequence[tuple[str, str]]) -> CallDefaults:
        return cls(timeout, _metadata_pairs(metadata))

    def resolve(
        self, timeout: Timeout, metadata: Sequence[tuple[str, str]]
    ) -> tuple[float | None, MetadataPairs]:
        """The deadline in seconds and the metadata of one call (the client's first, then the call's)."""
        seconds = self.timeout if isinstance(timeout, UseClientDefault) else timeout
        return seconds, self.metadata + _metadata_pairs(metadata)


def _metadata_pairs(metadata: Sequence[tuple[str, str]]) -> MetadataPairs:
    # gRPC rejects upper-case metadata keys at call time; "X-Request-Id" is what
    # people type, so it is accepted here.
    return tuple((key.lower(), value) for key, value in metadata)


def _squash(name: str) -> str:
    """``GitHub-Enterprise_server`` -> ``GITHUBENTERPRISESERVER``: the spelling-free key of a name."""
    return _NOT_ALNUM.sub("", name).upper()


def enum_prefix(wrapper: _EnumTypeWrapper[Any]) -> str:
    """The buf-style prefix of an enum's value names (``PROVIDER_TYPE_``), from its zero value."""
    zero = wrapper.DESCRIPTOR.values_by_number[0].name
    if not zero.endswith("UNSPECIFIED"):
        return ""
    return zero.removesuffix("UNSPECIFIED")


def enum_short_names(wrapper: _EnumTypeWrapper[Any]) -> list[str]:
    """The value names without the prefix (``GITHUB``, ``BITBUCKET``, ...), zero value excluded."""
    prefix = enum_prefix(wrapper)
    return [value.name.removeprefix(prefix) for value in wrapper.DESCRIPTOR.values if value.number != 0]


def _lookup_table(wrapper: _EnumTypeWrapper[_V]) -> dict[str, _V]:
    prefix = enum_prefix(wrapper)
    table: dict[str, _V] = {}
    for name, number in wrapper.items():
        for key in {_squash(name), _squash(name.removeprefix(prefix))}:
            if table.setdefault(key, number) != number:
                # Two values that differ only in case or separators would make
                # lenient parsing ambiguous; the protos must never do that.
                raise AssertionError(f"enum {wrapper.DESCRIPTOR.full_name}: ambiguous name {key}")
    return table


def parse_enum(wrapper: _EnumTypeWrapper[_V], value: _V | str) -> _V:
    """The enum value named by ``value``, or ``value`` itself when it is already a number.

    Names are matched ignoring case, ``_``, ``-`` and spaces, with or without the
    prefix: ``"GitHubEnterpriseServer"`` and ``"PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER"``
    name the same value. Raises ``ValueError`` for an unknown name or number.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{wrapper.DESCRIPTOR.name} must be a str or an enum value, not {value!r}")
    if isinstance(value, int):
        if value not in wrapper.values():
            raise ValueError(f"{value} is not a {wrapper.DESCRIPTOR.name} value")
        return value
    number = _lookup_table(wrapper).get(_squash(value))
    if number is None:
        choices = ", ".join(enum_short_names(wrapper))
        raise ValueError(f"unknown {wrapper.DESCRIPTOR.name} {value!r}; expected one of {choices}")
    return number


def optional_enum(wrapper: _EnumTypeWrapper[_V], value: _V | str | None) -> _V:
    """:func:`parse_enum`, with ``None`` meaning the zero (``*_UNSPECIFIED``) value."""
    if value is None:
        return wrapper.Value(wrapper.DESCRIPTOR.values_by_number[0].name)
    return parse_enum(wrapper, value)


def parse_enums(wrapper: _EnumTypeWrapper[_V], values: Iterable[_V | str] | None) -> list[_V]:
    """:func:`parse_enum` of each value, refusing a bare string (which would become its characters)."""
    if values is None:
        return []
    if isinstance(values, str | bytes | int):
        raise TypeError(f"expected a sequence of {wrapper.DESCRIPTOR.name} values, not {values!r}")
    return [parse_enum(wrapper, value) for value in values]


def duration(value: Seconds | None) -> duration_pb2.Duration | None:
    """A ``Duration`` from seconds or a ``timedelta``; ``None`` stays unset."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | dt.timedelta):
        raise TypeError(f"a duration is seconds or a timedelta, not {value!r}")
    out = duration_pb2.Duration()
    if isinstance(value, dt.timedelta):
        out.FromTimedelta(value)
    else:
        out.FromNanoseconds(round(value * 1e9))
    return out


def build_tags(tag_type: Callable[..., _TagT], tags: Tags | None) -> list[_TagT]:
    """Tags as ``tag_type`` messages, from a ``{key: value}`` mapping or from ``Tag`` messages.

    ``Tag`` messages of either service are accepted (they only carry ``key`` and
    ``value``).
    """
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        return [tag_type(key=str(k), value=str(v)) for k, v in tags.items()]
    if isinstance(tags, str | bytes):
        raise TypeError("tags must be a mapping or a sequence of Tag messages, not a string")
    return [tag_type(key=t.key, value=t.value) for t in tags]


def string_list(name: str, values: Iterable[str] | None) -> list[str]:
    """``values`` as a list, refusing a bare string (which would become its characters)."""
    if values is None:
        return []
    if isinstance(values, str | bytes):
        raise TypeError(f"{name} must be a sequence of strings, not a string")
    return [str(v) for v in values]


def build_vpc_configuration(value: VpcConfigurationArg | None) -> host_service_pb2.VpcConfiguration | None:
    """A ``VpcConfiguration`` from the message or a mapping of its fields (``ValueError`` on a bad key)."""
    if value is None or isinstance(value, host_service_pb2.VpcConfiguration):
        return value
    return host_service_pb2.VpcConfiguration(**value)


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message as JSON-ready data: proto field names, enum names, RFC 3339 timestamps.

    Fields without presence are always printed, so that scripts find an empty
    list or string where a value could be.
    """
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )


def to_json(data: Message | Mapping[str, Any]) -> str:
    """A message (or JSON-ready data) as indented JSON text."""
    as_dict = data if isinstance(data, Mapping) else message_to_dict(data)
    return json.dumps(as_dict, indent=2, ensure_ascii=False)
