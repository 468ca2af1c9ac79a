"""The ``connfacade`` command: run the server, or call any RPC and print the answer as JSON.

``connfacade serve [ARGS...]`` hands its arguments to the server (installed with
the ``server`` extra). ``connfacade apprunner|codestar <rpc> [flags]`` calls one
RPC through the sync client: the response goes to stdout as JSON; a failure
goes to stderr as a JSON object with the status code, message and details, and
the exit code is 1 (2 for usage errors). ``watch-connections`` prints one JSON
object per line per event instead, until interrupted (exit code 0).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import grpc

from connfacade.client import _cli_spec as spec
from connfacade.client._convert import (
    DEFAULT_TARGET,
    enum_short_names,
    message_to_dict,
    parse_enum,
    to_json,
)
from connfacade.client.errors import ConnfacadeError, PaginationError
from connfacade.client.sync import AppRunnerClient, CodeStarConnectionsClient
from connfacade.client.watch import Resync

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from google.protobuf.descriptor import MethodDescriptor
    from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper
    from google.protobuf.message import Message

__all__ = ["build_parser", "main"]

TARGET_ENV = "CONNFACADE_TARGET"
TOKEN_ENV = "CONNFACADE_TOKEN"  # noqa: S105 - the variable's name, not a token
DEFAULT_TIMEOUT = 30.0
#: The exit code after Ctrl-C, except for watch-connections, which Ctrl-C ends normally.
INTERRUPTED = 130
SERVER_EXTRA_MESSAGE = "connfacade serve needs the server extra: pip install 'connfacade[server]'"

_CLIENTS: dict[str, type[AppRunnerClient | CodeStarConnectionsClient]] = {
    "apprunner": AppRunnerClient,
    "codestar": CodeStarConnectionsClient,
}


def _server_command(module: str, argv: Sequence[str]) -> int:
    # The server's dependencies (aiobotocore, structlog, ...) are an extra; the
    # client must work without them, so server commands are imported only here.
    try:
        command = importlib.import_module(module)
    except ImportError as err:
        sys.stderr.write(f"{SERVER_EXTRA_MESSAGE}\n({err})\n")
        return 1
    result: int = command.main(list(argv))
    return result


def _serve(argv: Sequence[str]) -> int:
    return _server_command("connfacade.server.app", argv)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"a tag is KEY=VALUE, not {text!r}")
    return key, value


def _enum_parser(wrapper: EnumTypeWrapper) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return parse_enum(wrapper, text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return parse


def _global_options() -> argparse.ArgumentParser:
    # SUPPRESS: a leaf parser must not overwrite a value given before the
    # subcommand with its own default; defaults are applied after parsing.
    options = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    options.add_argument(
        "--target",
        help=f"the facade's address, HOST:PORT or unix:PATH (env {TARGET_ENV}, default {DEFAULT_TARGET})",
    )
    options.add_argument(
        "--timeout",
        type=_positive_float,
        help=f"seconds before a call fails (default {DEFAULT_TIMEOUT:g}; "
        "none for watch-connections and wait-for-connection)",
    )
    options.add_argument("--request-id", help="sent as x-request-id, for the audit log and idempotency")
    options.add_argument(
        "--consistent-read",
        action="store_true",
        default=argparse.SUPPRESS,  # store_true would overwrite a value given before the subcommand
        help="reads ask AWS now instead of answering from the facade's store",
    )
    options.add_argument(
        "--token-file",
        metavar="PATH",
        help=f"a file holding the bearer token sent as authorization metadata (env {TOKEN_ENV}: the token)",
    )
    options.add_argument("--tls-ca", metavar="PATH", help="speak TLS, trusting this CA bundle (PEM)")
    options.add_argument(
        "--tls-cert", metavar="PATH", help="client certificate (PEM) for mTLS (with --tls-ca)"
    )
    options.add_argument("--tls-key", metavar="PATH", help="its private key (PEM)")
    options.add_argument(
        "--max-staleness-ms",
        type=int,
        metavar="MS",
        help="oldest store data this read accepts, in milliseconds",
    )
    return options


class _ArgumentContainer(Protocol):
    """A parser or a group of one: what flags are added to."""

    def add_argument(self, *args: Any, **kwargs: Any) -> Any: ...


def _add_flag(parser: _ArgumentContainer, flag: spec.Flag, *, required: bool) -> None:
    name = flag.sub_field or flag.field
    if flag.kind is spec.FlagKind.BOOL:  # store_true takes no metavar; absent stays None (not sent)
        parser.add_argument(flag.option, dest=flag.dest, action="store_true", default=None)
        return
    kwargs: dict[str, Any] = {"dest": flag.dest, "required": required, "metavar": name.upper()}
    if flag.kind is spec.FlagKind.INT:
        kwargs.update(type=int, metavar="N")
    elif flag.kind is spec.FlagKind.DURATION:
        kwargs.update(type=_positive_float, metavar="SECONDS")
    elif flag.kind in {spec.FlagKind.ENUM, spec.FlagKind.ENUMS} and flag.enum is not None:
        choices = ",".join(enum_short_names(flag.enum))
        kwargs.update(type=_enum_parser(flag.enum), metavar=f"{{{choices}}}")
        if flag.kind is spec.FlagKind.ENUMS:
            kwargs.update(nargs="+")
    elif flag.kind is spec.FlagKind.STRINGS:
        kwargs.update(nargs="+", metavar=name.upper().removesuffix("S"))
    elif flag.kind is spec.FlagKind.TAGS:
        kwargs.update(nargs="+", type=_tag, metavar="KEY=VALUE")
    parser.add_argument(flag.option, **kwargs)


def _add_command(
    commands: Any, group: str, method: MethodDescriptor, options: argparse.ArgumentParser
) -> None:
    command = spec.COMMANDS[group][method.name]
    parser = commands.add_parser(
        spec.command_name(method), help=command.help, description=command.help, parents=[options]
    )
    flags = spec.request_flags(method)
    by_field = {flag.field: flag for flag in flags if flag.sub_field is None}
    one_of = parser.add_mutually_exclusive_group(required=True) if command.one_of else None
    for flag in flags:
        if one_of is not None and flag.sub_field is None and flag.field in command.one_of:
            _add_flag(one_of, flag, required=False)
        else:
            _add_flag(parser, flag, required=flag.sub_field is None and flag.field in command.required)
    if spec.is_paginated(method):
        parser.add_argument(
            "--all", action="store_true", dest="cli_all", help="follow next_token and print every page as one"
        )
    missing = (set(command.required) | set(command.one_of)) - by_field.keys()
    if missing:
        raise TypeError(f"{method.full_name}: COMMANDS names fields the request lacks: {sorted(missing)}")
    parser.set_defaults(cli_group=group, cli_method=method, cli_flags=flags)


def build_parser() -> argparse.ArgumentParser:
    """The ``connfacade`` argument parser, one subcommand per RPC of each service."""
    options = _global_options()
    parser = argparse.ArgumentParser(
        prog="connfacade",
        description="Run the connfacade server, or call its RPCs and print the responses as JSON.",
        parents=[options],
    )
    groups = parser.add_subparsers(dest="cli_command", metavar="COMMAND", required=True)
    serve = groups.add_parser(
        "serve", help="run the server (needs connfacade[server]); arguments go to it", add_help=False
    )
    serve.add_argument("cli_serve_args", nargs=argparse.REMAINDER)
    audit = groups.add_parser(
        "audit", help="audit log tools: `audit verify PATH...` (needs connfacade[server])", add_help=False
    )
    audit.add_argument("cli_audit_args", nargs=argparse.REMAINDER)
    auth = groups.add_parser(
        "auth",
        help="bearer tokens: `auth new-token`, `auth hash-token` (needs connfacade[server])",
        add_help=False,
    )
    auth.add_argument("cli_auth_args", nargs=argparse.REMAINDER)
    for group, methods_help in spec.GROUP_HELP.items():
        group_parser = groups.add_parser(group, help=methods_help, description=methods_help)
        commands = group_parser.add_subparsers(dest="cli_rpc", metavar="RPC", required=True)
        for method in spec.methods(group):
            if method.name in spec.COMMANDS[group]:
                _add_command(commands, group, method, options)
    return parser


def _request_kwargs(namespace: argparse.Namespace, flags: Sequence[spec.Flag]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for flag in flags:
        value = getattr(namespace, flag.dest, None)
        if value is None:
            continue
        if flag.kind is spec.FlagKind.TAGS:
            value = dict(value)
        if flag.sub_field is None:
            kwargs[flag.field] = value
        else:
            kwargs.setdefault(flag.field, {})[flag.sub_field] = value
    return kwargs


def _call(
    client: AppRunnerClient | CodeStarConnectionsClient,
    method: MethodDescriptor,
    kwargs: dict[str, Any],
    *,
    every_page: bool,
) -> Message:
    if not every_page:
        response: Message = getattr(client, spec.client_method(method))(**kwargs)
        return response
    kwargs["page_size"] = kwargs.pop("max_results", None)
    paginator = getattr(client, spec.paginate_method(method))(**kwargs)
    merged: Message | None = None
    for page in paginator.pages():
        if merged is None:
            merged = type(page)()
        merged.MergeFrom(page)
    if merged is None:  # pragma: no cover - pages() always yields at least one page
        raise PaginationError(f"{method.name} returned no page")
    merged.ClearField("next_token")
    return merged


def _error_json(err: ConnfacadeError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": err.code.name,
        "message": err.message,
        "field_violations": [v._asdict() for v in err.field_violations],
        "request_id": err.request_id,
        "aws_request_id": err.aws_request_id,
    }
    if err.retry_delay is not None:
        body["retry_delay"] = err.retry_delay
    if (info := err.error_info) is not None:
        body["error_info"] = {"reason": info.reason, "domain": info.domain, "metadata": dict(info.metadata)}
    if (resource := err.resource_info) is not None:
        body["resource_info"] = {
            "resource_type": resource.resource_type,
            "resource_name": resource.resource_name,
            "owner": resource.owner,
            "description": resource.description,
        }
    if err.quota_violations:
        body["quota_violations"] = [v._asdict() for v in err.quota_violations]
    return body


def _event_json(item: Any) -> dict[str, Any]:
    """One line of watch-connections: the event with its type's short name, or a resync marker."""
    if isinstance(item, Resync):
        return {"type": "RESYNC", "reason": item.reason, "message": item.message}
    enum_type = item.DESCRIPTOR.fields_by_name["type"].enum_type
    value = enum_type.values_by_number.get(item.type)
    return {
        "type": value.name.removeprefix("EVENT_TYPE_") if value is not None else str(item.type),
        "revision": item.revision,
        "resume_token": item.resume_token,
        "connection": message_to_dict(item.connection) if item.HasField("connection") else None,
    }


def _print_events(events: Iterable[Any]) -> int:
    """Prints each event as a JSON line, flushed at once, until Ctrl-C or until the reader leaves."""
    try:
        for item in events:
            sys.stdout.write(json.dumps(_event_json(item), ensure_ascii=False) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        # The reader is gone (`| head -3`): stop quietly, and keep the
        # interpreter's last flush of stdout from failing too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _token(namespace: argparse.Namespace) -> str:
    path = getattr(namespace, "token_file", None)
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(TOKEN_ENV, "").strip()


def _secure_channel(namespace: argparse.Namespace, target: str) -> grpc.Channel | None:
    """A TLS channel when --tls-ca is given (with a client certificate for mTLS), else None."""
    if not getattr(namespace, "tls_ca", None):
        return None

    def read(flag: str) -> bytes | None:
        path = getattr(namespace, flag, None)
        return Path(path).read_bytes() if path else None

    credentials = grpc.ssl_channel_credentials(read("tls_ca"), read("tls_key"), read("tls_cert"))
    return grpc.secure_channel(target, credentials)


def _metadata(namespace: argparse.Namespace) -> list[tuple[str, str]]:
    """Call metadata from the global options; raises OSError if the token file cannot be read."""
    request_id: str | None = getattr(namespace, "request_id", None)
    metadata = [("x-request-id", request_id)] if request_id else []
    if getattr(namespace, "consistent_read", None):
        metadata.append(("x-connfacade-consistent-read", "true"))
    if (staleness := getattr(namespace, "max_staleness_ms", None)) is not None:
        metadata.append(("x-connfacade-max-staleness-ms", str(staleness)))
    if token := _token(namespace):
        metadata.append(("authorization", f"Bearer {token}"))
    return metadata


def _run_rpc(parser: argparse.ArgumentParser, namespace: argparse.Namespace) -> int:
    method: MethodDescriptor = namespace.cli_method
    command = spec.COMMANDS[namespace.cli_group][method.name]
    every_page: bool = getattr(namespace, "cli_all", False)
    if every_page and getattr(namespace, "next_token", None) is not None:
        parser.error("--all starts from the first page; it cannot be combined with --next-token")
    kwargs = _request_kwargs(namespace, namespace.cli_flags)
    target = getattr(namespace, "target", None) or os.environ.get(TARGET_ENV) or DEFAULT_TARGET
    timeout: float | None = getattr(namespace, "timeout", None if command.open_ended else DEFAULT_TIMEOUT)
    if command.open_ended:  # these methods do not take the client's deadline by default
        kwargs["timeout"] = timeout
    try:
        metadata = _metadata(namespace)
        channel = _secure_channel(namespace, target)
    except OSError as err:
        parser.error(str(err))

    try:
        client_class = _CLIENTS[namespace.cli_group]
        with client_class(target, channel=channel, timeout=timeout, metadata=metadata) as client:
            if method.server_streaming:
                with getattr(client, spec.client_method(method))(**kwargs) as events:
                    return _print_events(events)
            response = _call(client, method, kwargs, every_page=every_page)
    except KeyboardInterrupt:
        return INTERRUPTED
    except ConnfacadeError as err:
        sys.stderr.write(to_json(_error_json(err)) + "\n")
        return 1
    except PaginationError as err:
        sys.stderr.write(to_json({"code": "PAGINATION_ERROR", "message": str(err)}) + "\n")
        return 1
    sys.stdout.write(to_json(response) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``connfacade`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Checked before argparse so that every argument, --help included, reaches
    # the server's own parser.
    if args[:1] == ["serve"]:
        return _serve(args[1:])
    if args[:1] == ["audit"]:
        return _server_command("connfacade.server.audit.cli", args[1:])
    if args[:1] == ["auth"]:
        return _server_command("connfacade.server.security.cli", args[1:])
    parser = build_parser()
    namespace = parser.parse_args(args)
    if namespace.cli_command == "serve":
        return _serve(namespace.cli_serve_args)
    return _run_rpc(parser, namespace)
