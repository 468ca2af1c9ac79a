"""Server settings from flags and environment variables (flags win)."""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connfacade.server.backend.breaker import BreakerSettings
from connfacade.server.store import PollIntervals, StoreSettings

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_EMULATOR = "127.0.0.1:4599"
DEFAULT_METRICS = "127.0.0.1:9464"
# Calls in flight per principal. Without authentication every caller is the one
# anonymous principal: this is then the sidecar's app's limit, so it sits above
# what one app sends (the read benchmark's 256 workers) and far below a flood
# of thousands (docs/security.md).
DEFAULT_MAX_CALLS = 256
# Concurrent calls (streams) per HTTP/2 connection, advertised to clients, which
# queue further calls on their side: a flood over one connection stays out of
# the server's queue, where it would delay every other caller by about 0.8 ms a
# call (bench/fairness.py). As many as one principal may have in flight, so a
# client's burst over one channel waits instead of being refused; watch streams
# and waits count too (docs/security.md).
DEFAULT_MAX_STREAMS = 256
# Failed authentications per peer, before anyone is known. Only failures count,
# so callers with valid credentials never meet this limit; it bounds what a
# caller without credentials makes the server log and audit: at most about
# two records a second per flooding peer (docs/security.md).
DEFAULT_AUTH_FAILURE_RATE = 1.0
DEFAULT_AUTH_FAILURE_BURST = 10


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `connfacade serve` can be told; see README's configuration table."""

    listen: tuple[str, ...] = (DEFAULT_LISTEN,)
    backend: str = "emulator"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None
    emulator_address: str = DEFAULT_EMULATOR
    log_level: str = "info"
    log_format: str = "json"
    shutdown_grace: float = 10.0
    aws_max_attempts: int = 3
    aws_retry_mode: str = "standard"
    aws_max_pool_connections: int = 64
    breaker_failures: int = 5
    breaker_reset: float = 10.0
    metrics_address: str = DEFAULT_METRICS
    health_address: str = "off"
    idempotency_window: float = 600.0
    max_staleness: float = 30.0
    stale_limit: float = 300.0
    poll_fast: float = 2.0
    poll_slow: float = 15.0
    poll_max_backoff: float = 60.0
    watch_buffer: int = 1000
    max_watchers: int = 20_000
    bookmark_interval: float = 60.0
    history_limit: int = 10_000
    audit_stdout: bool = True
    audit_file: str | None = None
    audit_fsync: str = "batch"
    audit_max_bytes: int = 100 * 2**20
    audit_read_level: str = "none"
    audit_levels: tuple[str, ...] = ()  # METHOD=LEVEL
    audit_redact: tuple[str, ...] = ()
    audit_fail_open_reads: bool = False
    principals_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    allow_unauthenticated: bool = False
    rate_limit: float = 0.0
    rate_burst: int = 0
    max_watchers_per_principal: int = 0
    max_calls_per_principal: int = DEFAULT_MAX_CALLS
    max_streams_per_connection: int = DEFAULT_MAX_STREAMS
    auth_failure_rate: float = DEFAULT_AUTH_FAILURE_RATE
    auth_failure_burst: int = DEFAULT_AUTH_FAILURE_BURST
    max_message_bytes: int = 2**20
    poll_pending_window: float = 600.0

    @property
    def emulator_host_port(self) -> tuple[str, int]:
        """The emulator's host and port (port 0 picks a free one)."""
        return _host_port(self.emulator_address)

    @property
    def store_settings(self) -> StoreSettings:
        """How the live stores keep fresh."""
        return StoreSettings(
            max_staleness=self.max_staleness,
            stale_limit=self.stale_limit,
            intervals=PollIntervals(
                fast=self.poll_fast,
                slow=self.poll_slow,
                max_backoff=self.poll_max_backoff,
                pending_window=self.poll_pending_window,
            ),
            watch_buffer=self.watch_buffer,
            max_watchers=self.max_watchers,
            bookmark_interval=self.bookmark_interval,
            history_limit=self.history_limit,
        )

    @property
    def breaker_settings(self) -> BreakerSettings:
        """When AWS calls fail fast instead of reaching a failing AWS."""
        return BreakerSettings(failures=self.breaker_failures, reset_after=self.breaker_reset)

    @property
    def health_host_port(self) -> str | None:
        """Where grpc.health.v1 is served alone, for kubelet probes; None when off."""
        return None if self.health_address in {"", "off"} else self.health_address

    @property
    def metrics_host_port(self) -> tuple[str, int] | None:
        """Where /metrics is served; None when switched off."""
        return None if self.metrics_address in {"", "off"} else _host_port(self.metrics_address)


def _items(joined: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (joined or "").split(",") if item.strip())


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


_ENV = {
    "listen": "CONNFACADE_LISTEN",
    "backend": "CONNFACADE_BACKEND",
    "region": "CONNFACADE_REGION",
    "aws_endpoint_url": "CONNFACADE_AWS_ENDPOINT_URL",
    "emulator_address": "CONNFACADE_EMULATOR_ADDRESS",
    "log_level": "CONNFACADE_LOG_LEVEL",
    "log_format": "CONNFACADE_LOG_FORMAT",
    "shutdown_grace": "CONNFACADE_SHUTDOWN_GRACE",
    "aws_max_attempts": "CONNFACADE_AWS_MAX_ATTEMPTS",
    "aws_retry_mode": "CONNFACADE_AWS_RETRY_MODE",
    "aws_max_pool_connections": "CONNFACADE_AWS_MAX_POOL_CONNECTIONS",
    "breaker_failures": "CONNFACADE_BREAKER_FAILURES",
    "breaker_reset": "CONNFACADE_BREAKER_RESET",
    "metrics_address": "CONNFACADE_METRICS_ADDRESS",
    "health_address": "CONNFACADE_HEALTH_ADDRESS",
    "idempotency_window": "CONNFACADE_IDEMPOTENCY_WINDOW",
    "max_staleness": "CONNFACADE_MAX_STALENESS",
    "stale_limit": "CONNFACADE_STALE_LIMIT",
    "poll_fast": "CONNFACADE_POLL_FAST",
    "poll_slow": "CONNFACADE_POLL_SLOW",
    "poll_max_backoff": "CONNFACADE_POLL_MAX_BACKOFF",
    "watch_buffer": "CONNFACADE_WATCH_BUFFER",
    "max_watchers": "CONNFACADE_MAX_WATCHERS",
    "bookmark_interval": "CONNFACADE_BOOKMARK_INTERVAL",
    "history_limit": "CONNFACADE_HISTORY_LIMIT",
    "audit_stdout": "CONNFACADE_AUDIT_STDOUT",
    "audit_file": "CONNFACADE_AUDIT_FILE",
    "audit_fsync": "CONNFACADE_AUDIT_FSYNC",
    "audit_max_bytes": "CONNFACADE_AUDIT_MAX_BYTES",
    "audit_read_level": "CONNFACADE_AUDIT_READ_LEVEL",
    "audit_levels": "CONNFACADE_AUDIT_LEVELS",
    "audit_redact": "CONNFACADE_AUDIT_REDACT",
    "audit_fail_open_reads": "CONNFACADE_AUDIT_FAIL_OPEN_READS",
    "principals_file": "CONNFACADE_PRINCIPALS_FILE",
    "tls_cert": "CONNFACADE_TLS_CERT",
    "tls_key": "CONNFACADE_TLS_KEY",
    "tls_client_ca": "CONNFACADE_TLS_CLIENT_CA",
    "allow_unauthenticated": "CONNFACADE_ALLOW_UNAUTHENTICATED",
    "rate_limit": "CONNFACADE_RATE_LIMIT",
    "rate_burst": "CONNFACADE_RATE_BURST",
    "max_watchers_per_principal": "CONNFACADE_MAX_WATCHERS_PER_PRINCIPAL",
    "max_calls_per_principal": "CONNFACADE_MAX_CALLS_PER_PRINCIPAL",
    "max_streams_per_connection": "CONNFACADE_MAX_STREAMS_PER_CONNECTION",
    "auth_failure_rate": "CONNFACADE_AUTH_FAILURE_RATE",
    "auth_failure_burst": "CONNFACADE_AUTH_FAILURE_BURST",
    "max_message_bytes": "CONNFACADE_MAX_MESSAGE_BYTES",
    "poll_pending_window": "CONNFACADE_POLL_PENDING_WINDOW",
}


def parser() -> argparse.ArgumentParser:
    """The `connfacade serve` argument parser; every flag also has an env variable."""
    p = argparse.ArgumentParser(prog="connfacade serve", description="Run the connfacade gRPC server.")
    p.add_argument(
        "--listen",
        action="append",
        metavar="ADDR",
        help=f"host:port or unix:/path; repeatable (env {_ENV['listen']}, comma-separated; "
        f"default {DEFAULT_LISTEN})",
    )
    p.add_argument(
        "--backend",
        choices=["emulator", "aws"],
        help=f"emulator: start the embedded AWS emulator; aws: real AWS with the default "
        f"credential chain (env {_ENV['backend']}; default emulator)",
    )
    p.add_argument(
        "--region",
        help=f"AWS region (env {_ENV['region']}, then AWS_REGION, AWS_DEFAULT_REGION; default us-east-1)",
    )
    p.add_argument("--aws-endpoint-url", help=f"override the AWS endpoint (env {_ENV['aws_endpoint_url']})")
    p.add_argument(
        "--emulator-address",
        metavar="HOST:PORT",
        help=f"where the embedded emulator listens (env {_ENV['emulator_address']}; "
        f"default {DEFAULT_EMULATOR}; port 0 picks a free one; it has no authentication, so a "
        "non-loopback address needs --allow-unauthenticated on)",
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help=f"env {_ENV['log_level']}; default info",
    )
    p.add_argument(
        "--log-format", choices=["json", "console"], help=f"env {_ENV['log_format']}; default json"
    )
    p.add_argument(
        "--shutdown-grace",
        type=float,
        metavar="SECONDS",
        help=f"how long in-flight calls get on SIGTERM (env {_ENV['shutdown_grace']}; default 10)",
    )
    p.add_argument(
        "--aws-max-attempts", type=int, help=f"botocore retry attempts (env {_ENV['aws_max_attempts']})"
    )
    p.add_argument(
        "--aws-retry-mode",
        choices=["standard", "adaptive"],
        help=f"botocore retry mode; adaptive also rate-limits the client after throttling "
        f"(env {_ENV['aws_retry_mode']}; default standard)",
    )
    p.add_argument(
        "--aws-max-pool-connections",
        type=int,
        help=f"HTTP connections per AWS client (env {_ENV['aws_max_pool_connections']})",
    )
    p.add_argument(
        "--metrics-address",
        metavar="HOST:PORT",
        help=f"where /metrics is served, or 'off' (env {_ENV['metrics_address']}; default {DEFAULT_METRICS})",
    )
    p.add_argument(
        "--health-address",
        metavar="HOST:PORT",
        help=f"a TCP port serving only grpc.health.v1, for kubelet gRPC probes, or 'off' "
        f"(env {_ENV['health_address']}; default off; health is also on every --listen address)",
    )
    seconds = {"type": float, "metavar": "SECONDS"}
    p.add_argument(
        "--breaker-failures",
        type=int,
        metavar="N",
        help=f"consecutive AWS failures (throttling after retries, 5xx, unreachable) of one service "
        f"after which its calls fail fast; 0 turns the breaker off (env {_ENV['breaker_failures']}; "
        "default 5)",
    )
    p.add_argument(
        "--breaker-reset",
        **seconds,  # type: ignore[arg-type]
        help=f"how long an open breaker fails fast before one probe call may reach AWS "
        f"(env {_ENV['breaker_reset']}; default 10)",
    )
    p.add_argument(
        "--idempotency-window",
        **seconds,  # type: ignore[arg-type]
        help=f"how long a create or delete with a UUID x-request-id is remembered, so a retry "
        f"returns the first answer; 0 turns it off (env {_ENV['idempotency_window']}; default 600)",
    )
    p.add_argument(
        "--max-staleness",
        **seconds,  # type: ignore[arg-type]
        help=f"oldest store data a read accepts by default (env {_ENV['max_staleness']}; default 30)",
    )
    p.add_argument(
        "--stale-limit",
        **seconds,  # type: ignore[arg-type]
        help=f"oldest store data served while AWS fails (env {_ENV['stale_limit']}; default 300)",
    )
    p.add_argument(
        "--poll-fast",
        **seconds,  # type: ignore[arg-type]
        help=f"poll interval while a connection is waited for or watched by name, and for "
        f"--poll-pending-window after a pending connection appeared or changed (env {_ENV['poll_fast']}; "
        "default 2)",
    )
    p.add_argument(
        "--poll-slow",
        **seconds,  # type: ignore[arg-type]
        help=f"poll interval otherwise (env {_ENV['poll_slow']}; default 15)",
    )
    p.add_argument(
        "--poll-max-backoff",
        **seconds,  # type: ignore[arg-type]
        help=f"longest wait between polls while AWS fails (env {_ENV['poll_max_backoff']}; default 60)",
    )
    p.add_argument(
        "--poll-pending-window",
        **seconds,  # type: ignore[arg-type]
        help=f"how long a pending connection that appeared or changed keeps the fast interval with "
        f"nobody waiting for or watching it; then it is polled at the slow interval "
        f"(env {_ENV['poll_pending_window']}; default 600)",
    )
    p.add_argument(
        "--watch-buffer",
        type=int,
        metavar="EVENTS",
        help=f"events a watcher may fall behind before its stream ends (env {_ENV['watch_buffer']}; "
        "default 1000)",
    )
    p.add_argument(
        "--max-watchers",
        type=int,
        metavar="N",
        help=f"open WatchConnections streams per service (env {_ENV['max_watchers']}; default 20000)",
    )
    p.add_argument(
        "--bookmark-interval",
        **seconds,  # type: ignore[arg-type]
        help=f"seconds between BOOKMARK events (env {_ENV['bookmark_interval']}; default 60)",
    )
    p.add_argument(
        "--history-limit",
        type=int,
        metavar="EVENTS",
        help=f"change events kept for resuming watchers (env {_ENV['history_limit']}; default 10000)",
    )
    levels = ["none", "metadata", "request", "request_response"]
    p.add_argument(
        "--audit-stdout",
        choices=["on", "off"],
        help=f"audit records as JSON lines on stdout (env {_ENV['audit_stdout']}; default on)",
    )
    p.add_argument(
        "--audit-file",
        metavar="PATH",
        help=f"append-only, hash-chained audit file (env {_ENV['audit_file']}; default none)",
    )
    p.add_argument(
        "--audit-fsync",
        choices=["always", "batch", "never"],
        help=f"fsync of the audit file per record, batched, or never (env {_ENV['audit_fsync']}; "
        "default batch)",
    )
    p.add_argument(
        "--audit-max-bytes",
        type=int,
        metavar="BYTES",
        help=f"rotate the audit file beyond this size (env {_ENV['audit_max_bytes']}; default 100 MiB)",
    )
    p.add_argument(
        "--audit-read-level",
        choices=levels,
        help=f"what reads record: {', '.join(levels)} (env {_ENV['audit_read_level']}; default none)",
    )
    p.add_argument(
        "--audit-level",
        action="append",
        metavar="METHOD=LEVEL",
        dest="audit_levels",
        help=f"a read's own level, e.g. ListConnections=metadata; repeatable (env {_ENV['audit_levels']},"
        " comma-separated)",
    )
    p.add_argument(
        "--audit-redact",
        action="append",
        metavar="FIELD",
        help=f"a request field to redact in audit records, e.g. tags; repeatable (env "
        f"{_ENV['audit_redact']}, comma-separated)",
    )
    p.add_argument(
        "--audit-fail-open-reads",
        choices=["on", "off"],
        help=f"answer audited reads even when the audit log cannot be written (env "
        f"{_ENV['audit_fail_open_reads']}; default off; mutations always fail closed)",
    )
    _security_flags(p)
    return p


def _security_flags(p: argparse.ArgumentParser) -> None:
    """Authentication, TLS and limits (docs/security.md)."""
    p.add_argument(
        "--principals-file",
        metavar="PATH",
        help=f"TOML file of principals (hashed bearer tokens, mTLS subjects, roles, scopes, limits); "
        f"turns authentication on for every listener (env {_ENV['principals_file']}; default none)",
    )
    p.add_argument(
        "--tls-cert",
        metavar="PATH",
        help=f"server certificate (PEM) for TCP listeners (env {_ENV['tls_cert']})",
    )
    p.add_argument("--tls-key", metavar="PATH", help=f"its private key (PEM) (env {_ENV['tls_key']})")
    p.add_argument(
        "--tls-client-ca",
        metavar="PATH",
        help=f"CA bundle (PEM) that signs client certificates: TCP clients must present one (mTLS), "
        f"its subject is the principal (env {_ENV['tls_client_ca']})",
    )
    p.add_argument(
        "--allow-unauthenticated",
        choices=["on", "off"],
        help=f"start even when a listener others can reach has no authentication (env "
        f"{_ENV['allow_unauthenticated']}; default off: such a server refuses to start)",
    )
    p.add_argument(
        "--rate-limit",
        type=float,
        metavar="CALLS_PER_S",
        help=f"calls per second per principal, 0 for none; a principal's own rate_limit wins "
        f"(env {_ENV['rate_limit']}; default 0)",
    )
    p.add_argument(
        "--rate-burst",
        type=int,
        metavar="CALLS",
        help=f"calls a principal may save up (env {_ENV['rate_burst']}; default: one second's worth)",
    )
    p.add_argument(
        "--max-calls-per-principal",
        type=int,
        metavar="N",
        help=f"calls a principal may have in flight at once (watch streams and waits aside), its fair "
        f"share of the server; more get RESOURCE_EXHAUSTED; 0 for no limit; a principal's own max_calls "
        f"wins (env {_ENV['max_calls_per_principal']}; default {DEFAULT_MAX_CALLS})",
    )
    p.add_argument(
        "--max-streams-per-connection",
        type=int,
        metavar="N",
        help=f"calls (watch streams and waits included) one HTTP/2 connection may have open at once; "
        f"clients queue more on their side, so a flood over one connection cannot fill the server's "
        f"queue; 0 for no limit (env {_ENV['max_streams_per_connection']}; default {DEFAULT_MAX_STREAMS})",
    )
    p.add_argument(
        "--auth-failure-rate",
        type=float,
        metavar="FAILURES_PER_S",
        help=f"failed authentications per second per peer (TCP: its address; all Unix-socket callers are "
        f"one peer) before its calls that fail authentication get RESOURCE_EXHAUSTED, logged and audited "
        f"about once a second; calls with valid credentials never count; 0 for no limit "
        f"(env {_ENV['auth_failure_rate']}; default {DEFAULT_AUTH_FAILURE_RATE:g})",
    )
    p.add_argument(
        "--auth-failure-burst",
        type=int,
        metavar="FAILURES",
        help=f"failed authentications a peer may save up (env {_ENV['auth_failure_burst']}; "
        f"default {DEFAULT_AUTH_FAILURE_BURST})",
    )
    p.add_argument(
        "--max-watchers-per-principal",
        type=int,
        metavar="N",
        help=f"open watch streams per principal across services, 0 for no limit (env "
        f"{_ENV['max_watchers_per_principal']}; default 0)",
    )
    p.add_argument(
        "--max-message-bytes",
        type=int,
        metavar="BYTES",
        help=f"largest request accepted; larger ones get RESOURCE_EXHAUSTED (env "
        f"{_ENV['max_message_bytes']}; default 1 MiB)",
    )


def load(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from ``argv`` and ``environ`` (defaults: the process's); flags win over the environment.

    Every field named in ``_ENV`` is read the same way and converted by the
    type of its default, so a new setting cannot be parsed and then dropped.
    """
    env = os.environ if environ is None else environ
    p = parser()
    args = p.parse_args(argv)
    # argparse checks the choices of flags only; an environment variable gets the same check.
    choices = {a.dest: a.choices for a in p._actions if a.choices is not None}  # noqa: SLF001 - no public way
    defaults = Settings()
    values: dict[str, Any] = {}
    try:
        for name, variable in _ENV.items():
            flag = getattr(args, name)
            if isinstance(flag, list):
                flag = ",".join(flag)
            raw = str(flag) if flag is not None else (env.get(variable) or None)
            if raw is None and name == "region":
                raw = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
            if raw is not None:
                values[name] = _convert(name, raw, getattr(defaults, name), choices.get(name))
        settings = Settings(**values)
    except ValueError as err:
        p.error(f"bad setting: {err}")
    return settings


# No numeric setting may be negative (or NaN); these need at least one, those more than zero
# (a zero buffer or history breaks watches, a zero interval polls in a busy loop).
_AT_LEAST_ONE = frozenset(
    {
        "history_limit",
        "watch_buffer",
        "max_watchers",
        "aws_max_attempts",
        "aws_max_pool_connections",
        "max_message_bytes",
        "audit_max_bytes",
        "auth_failure_burst",
    }
)
_POSITIVE = frozenset({"poll_fast", "poll_slow", "poll_max_backoff", "bookmark_interval", "breaker_reset"})


def _number(name: str, raw: str, kind: type[int | float]) -> int | float:
    value = kind(raw)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {raw!r}")
    if name in _AT_LEAST_ONE and value < 1:
        raise ValueError(f"{name} must be at least 1, not {raw!r}")
    if name in _POSITIVE and value <= 0:
        raise ValueError(f"{name} must be more than 0, not {raw!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, not {raw!r}")
    return value


def _convert(name: str, raw: str, default: object, choices: Iterable[object] | None = None) -> object:
    if isinstance(default, str) and choices is not None and raw not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, not {raw!r}")
    if isinstance(default, bool):
        if raw not in {"on", "off", "true", "false"}:
            raise ValueError(f"{name} must be on or off, not {raw!r}")
        return raw in {"on", "true"}
    if isinstance(default, (int, float)):
        return _number(name, raw, type(default))
    if isinstance(default, tuple):
        return _items(raw)
    return raw.strip()
