"""Assembles and runs the server: backend, servicers, health, reflection, signals."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]  # stubs predate aio
from grpc_reflection.v1alpha import reflection

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb
from connfacade.codestar.v1 import host_service_pb2 as host_pb
from connfacade.server import config, logs
from connfacade.server.access import Access, build_access
from connfacade.server.api.apprunner import AppRunnerConnectionService
from connfacade.server.api.audit_trail import MUTATIONS, Auditor, Level
from connfacade.server.api.codestar import CodeStarConnectionService, CodeStarHostService
from connfacade.server.api.registry import register
from connfacade.server.audit import FileSink, StdoutSink
from connfacade.server.backend import AioBotoBackend
from connfacade.server.backend.breaker import BreakerBackend, BreakerSettings
from connfacade.server.backend.metered import MeteredBackend
from connfacade.server.backend.writeahead import WriteAheadBackend
from connfacade.server.drain import ANSWER_TIME, Drain
from connfacade.server.listeners import prepare_unix_socket, remove_unix_socket, secure_unix_socket, unix_path
from connfacade.server.metrics import Metrics, MetricsServer
from connfacade.server.operations import AppRunnerConnections, CodeStarConnections, CodeStarHosts
from connfacade.server.operations.idempotency import DEFAULT_WINDOW, IdempotencyCache
from connfacade.server.security import Gate
from connfacade.server.startup import resume_from_audit_log
from connfacade.server.store import StoreSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from connfacade.server.audit import AuditSink, FsyncPolicy
    from connfacade.server.backend import AwsBackend
    from connfacade.server.store import ConnectionStore

log = structlog.get_logger("connfacade.server")

APPRUNNER_SERVICE = apprunner_pb.DESCRIPTOR.services_by_name["ConnectionService"]
CODESTAR_SERVICE = codestar_pb.DESCRIPTOR.services_by_name["ConnectionService"]
HOST_SERVICE = host_pb.DESCRIPTOR.services_by_name["HostService"]
SERVICE_NAMES: tuple[str, ...] = (
    APPRUNNER_SERVICE.full_name,
    CODESTAR_SERVICE.full_name,
    HOST_SERVICE.full_name,
)
# gRPC's core drops calls queued for Python beyond max_pending_requests (default
# 1,000, hard limit 3,000): a reconnect storm of watchers after a restart is
# exactly such a burst. Keepalive keeps idle watch streams alive through
# proxies and NATs.
SERVER_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.server.max_pending_requests", 20_000),
    ("grpc.server.max_pending_requests_hard_limit", 30_000),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
)


def stream_options(max_streams: int) -> tuple[tuple[str, int], ...]:
    """gRPC options for at most ``max_streams`` calls per HTTP/2 connection (0: gRPC's default, no limit).

    Clients are told the limit (SETTINGS_MAX_CONCURRENT_STREAMS) and queue
    further calls on their side; gRPC's core refuses a stream beyond it from a
    client that does not. Its "overload protection" would count a stream until
    Python has let go of it rather than until it closes, and refuse the
    calls a well-behaved client sends as soon as a slot frees (REFUSED_STREAM,
    seen by the caller as UNAVAILABLE); without it, they wait client-side.
    """
    if max_streams <= 0:
        return ()
    return (("grpc.max_concurrent_streams", max_streams), ("grpc.http.overload_protection", 0))


DEFAULT_MAX_MESSAGE = 2**20  # bytes; the largest valid request (a host with 200 tags) is ~100 KB
STREAM_END_WAIT = 2.0  # seconds watch streams get to send their last status at shutdown
# The emulator accepts any credentials; these never reach real AWS.
EMULATOR_CREDENTIALS = ("connfacade-emulator", "connfacade-emulator")


@dataclass(kw_only=True)
class RunningFacade:
    """A started gRPC server and what it needs at shutdown; made with keywords only."""

    server: grpc.aio.Server
    health: health_aio.HealthServicer
    addresses: tuple[str, ...]
    stores: dict[str, ConnectionStore]  # by the service's metric label
    metrics: Metrics
    auditor: Auditor | None = None
    health_server: grpc.aio.Server | None = None
    health_address: str = ""
    idempotency: IdempotencyCache | None = None
    drain: Drain = field(default_factory=Drain)

    async def stop(self, grace: float) -> None:
        """Health NOT_SERVING and new calls refused at once; streams end with a resume token; calls finish.

        ``server.stop(grace)`` would end open streams with a bare UNAVAILABLE at
        the end of the grace period, so the server ends them itself first; and
        it would end calls that arrive meanwhile with a bare CANCELLED, so the
        server keeps running, holding new calls to refuse them with UNAVAILABLE
        once it has stopped, until the calls it admitted have finished
        (server/drain.py).
        Each phase is logged with its time since the stop began.
        """
        began = time.monotonic()

        def phase(name: str, **fields: object) -> None:
            after_ms = round((time.monotonic() - began) * 1000, 1)
            log.info("shutdown.phase", phase=name, after_ms=after_ms, **fields)

        await self.health.enter_graceful_shutdown()
        self.drain.begin()
        phase("not_serving")
        for store in self.stores.values():
            store.end_watches()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(grace, STREAM_END_WAIT)):
                await asyncio.gather(*(s.watches_ended() for s in self.stores.values()))
        phase("streams_ended")
        calls_deadline = time.monotonic() + grace
        settled = await self.drain.settle(calls_deadline)
        phase("drained", settled=settled, refused=self.drain.refused, in_flight=self.drain.in_flight)
        left = max(calls_deadline - time.monotonic(), min(grace, ANSWER_TIME))
        stopping = asyncio.create_task(self.server.stop(left))
        # stop() has sent the GOAWAY by its first step: held calls are answered after it,
        # so their clients' next calls no longer come here.
        await asyncio.sleep(0)
        self.drain.release()
        await stopping
        phase("calls_finished")
        if self.idempotency is not None:
            # Creates and deletes whose callers gave up may still be in AWS's hands:
            # their answers reach the store (and the audit trail of their retries).
            cut = await self.idempotency.settle(grace - (time.monotonic() - began))
            if cut:
                log.warning("shutdown.mutations_cut_short", count=cut)
            phase("mutations_settled")
        for path in _sockets(self.addresses):
            remove_unix_socket(path)
        if self.health_server is not None:
            await self.health_server.stop(0)
        for store in self.stores.values():
            await store.stop()
        if self.auditor is not None:
            await self.auditor.aclose()  # every record of every finished call is on disk
        phase("audit_flushed")


def _bind(server: grpc.aio.Server, address: str, tls: grpc.ServerCredentials | None = None) -> str:
    if (path := unix_path(address)) is not None:
        prepare_unix_socket(path)
    # TLS protects TCP; a Unix socket is protected by its file mode.
    if tls is not None and path is None:
        port = server.add_secure_port(address, tls)
    else:
        port = server.add_insecure_port(address)
    if path is not None:
        return address
    host = address.rpartition(":")[0]
    return f"{host}:{port}"


def _sockets(addresses: Sequence[str]) -> list[Path]:
    return [p for a in addresses if (p := unix_path(a)) is not None]


def _poll_observer(metrics: Metrics, service: str) -> Callable[[float, bool], None]:
    def observe(seconds: float, ok: bool) -> None:
        metrics.poll_duration.labels(service, "ok" if ok else "error").observe(seconds)

    return observe


async def start_facade(
    backend: AwsBackend,
    listen: Sequence[str],
    *,
    store_settings: StoreSettings | None = None,
    metrics: Metrics | None = None,
    auditor: Auditor | None = None,
    health_address: str | None = None,
    idempotency_window: float = DEFAULT_WINDOW,
    access: Access | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE,
    breaker: BreakerSettings | None = None,
    resume: bool = False,
    max_streams_per_connection: int = config.DEFAULT_MAX_STREAMS,
) -> RunningFacade:
    """Starts the gRPC server for ``backend`` on every address in ``listen``, and the stores' pollers.

    ``resume``: before serving, close the intents the audit file holds without a
    completion and rebuild the idempotency memory from it (`startup`).
    """
    metrics = metrics or Metrics()
    store_settings = store_settings or StoreSettings()
    breaker = breaker or BreakerSettings()
    upstream: AwsBackend = MeteredBackend(backend, metrics)
    # The last step before AWS: a mutation goes out only once its intent is in the audit log.
    upstream = WriteAheadBackend(upstream, MUTATIONS, required=auditor is not None)
    if breaker.failures > 0:
        # Outside the metered backend: a call the breaker refuses is no upstream call.
        upstream = BreakerBackend(upstream, breaker, metrics=metrics)
    # One cache for the process: a request id reused for another RPC is caught too.
    idempotency = IdempotencyCache(idempotency_window)
    if resume and auditor is not None:
        await resume_from_audit_log(auditor, upstream, idempotency)
    apprunner = AppRunnerConnections(
        upstream, store_settings, on_refresh=_poll_observer(metrics, "apprunner"), idempotency=idempotency
    )
    codestar = CodeStarConnections(
        upstream,
        store_settings,
        on_refresh=_poll_observer(metrics, "codestar-connections"),
        idempotency=idempotency,
    )
    stores = {"apprunner": apprunner.store, "codestar-connections": codestar.store}
    for name, store in stores.items():
        metrics.track_store(name, store)
    access = access or Access(Gate())  # a gate of its own: limits and counts are per server
    gate = access.gate
    server = grpc.aio.server(
        options=(
            *SERVER_OPTIONS,
            ("grpc.max_receive_message_length", max_message_bytes),
            *stream_options(max_streams_per_connection),
        )
    )
    drain = Drain()
    register(server, AppRunnerConnectionService(apprunner, auditor, gate), APPRUNNER_SERVICE, metrics, drain)
    hosts = CodeStarHosts(upstream, idempotency)
    register(
        server, CodeStarConnectionService(codestar, auditor, gate, hosts), CODESTAR_SERVICE, metrics, drain
    )
    register(server, CodeStarHostService(hosts, auditor, gate), HOST_SERVICE, metrics, drain)
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    addresses = tuple(_bind(server, a, access.tls) for a in listen)
    await server.start()
    for path in _sockets(addresses):
        secure_unix_socket(path)
    health_server, bound_health = None, ""
    if health_address:
        # Kubelet gRPC probes need TCP; a port of its own serves health alone.
        health_server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, health_server)
        bound_health = _bind(health_server, health_address)
        await health_server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    for store in stores.values():
        store.start()
    return RunningFacade(
        server=server,
        health=health_servicer,
        addresses=addresses,
        stores=stores,
        metrics=metrics,
        auditor=auditor,
        health_server=health_server,
        health_address=bound_health,
        idempotency=idempotency,
        drain=drain,
    )


async def build_auditor(settings: config.Settings, metrics: Metrics) -> Auditor:
    """The audit sinks and policy the settings ask for."""
    sinks: list[AuditSink] = []
    if settings.audit_stdout:
        sinks.append(StdoutSink())
    if settings.audit_file:
        fsync = cast("FsyncPolicy", settings.audit_fsync)  # argparse checked the choice
        file_sink = FileSink(Path(settings.audit_file), max_bytes=settings.audit_max_bytes, fsync=fsync)
        await file_sink.open()
        if file_sink.chain_break:
            log.warning("audit.chain_break", reason=file_sink.chain_break, path=settings.audit_file)
        sinks.append(file_sink)
    levels = {}
    for item in settings.audit_levels:
        method, _, level = item.partition("=")
        levels[method.strip()] = Level(level.strip())
    return Auditor(
        sinks,
        read_level=Level(settings.audit_read_level),
        method_levels=levels,
        redact_fields=settings.audit_redact,
        fail_open_reads=settings.audit_fail_open_reads,
        metrics=metrics,
    )


async def _start_backend(settings: config.Settings, stack: AsyncExitStack) -> tuple[AioBotoBackend, str]:
    """The aiobotocore backend, on the embedded emulator unless the backend is `aws`."""
    endpoint, credentials, emulator_url = settings.aws_endpoint_url, None, ""
    if settings.backend == "emulator":
        from connfacade.server.emulator import Emulator  # noqa: PLC0415 - only this backend needs it

        host, port = settings.emulator_host_port
        emulator = await stack.enter_async_context(Emulator(host=host, port=port))
        endpoint, credentials, emulator_url = emulator.url, EMULATOR_CREDENTIALS, emulator.url
    backend = AioBotoBackend(
        region=settings.region,
        endpoint_url=endpoint,
        credentials=credentials,
        max_attempts=settings.aws_max_attempts,
        retry_mode=settings.aws_retry_mode,
        max_pool_connections=settings.aws_max_pool_connections,
    )
    return await stack.enter_async_context(backend), emulator_url


async def serve(settings: config.Settings, *, ready: asyncio.Event | None = None) -> int:
    """Runs until SIGTERM or SIGINT, then shuts down gracefully; returns the exit code."""
    # Handlers first: a signal that arrives while starting must still mean a graceful stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        try:
            access = build_access(settings)  # before anything starts: a refusal costs nothing
            backend, emulator_url = await _start_backend(settings, stack)
            metrics = Metrics()
            auditor = await build_auditor(settings, metrics)
            facade = await start_facade(
                backend,
                settings.listen,
                store_settings=settings.store_settings,
                metrics=metrics,
                auditor=auditor,
                health_address=settings.health_host_port,
                idempotency_window=settings.idempotency_window,
                access=access,
                max_message_bytes=settings.max_message_bytes,
                breaker=settings.breaker_settings,
                resume=True,
                max_streams_per_connection=settings.max_streams_per_connection,
            )
            stack.push_async_callback(facade.stop, settings.shutdown_grace)
            metrics_server = MetricsServer(metrics)
            stack.push_async_callback(metrics_server.stop)
            if (where := settings.metrics_host_port) is not None:
                await metrics_server.start(*where)
        except (RuntimeError, OSError) as err:
            log.error("server.start_failed", error=str(err), listen=settings.listen)  # noqa: TRY400 - no traceback
            return 1
        banner = [f"gRPC listening on {a}" for a in facade.addresses]
        if facade.health_address:
            banner.append(f"health (grpc.health.v1) on {facade.health_address}")
        if metrics_server.address:
            banner.append(f"metrics at http://{metrics_server.address}/metrics")
        if emulator_url:
            banner.append(f"AWS emulator at {emulator_url}")
        for line in banner:
            print(f"connfacade: {line}", flush=True)  # noqa: T201 - the promised banner
        log.info(
            "server.started", addresses=facade.addresses, backend=settings.backend, region=settings.region
        )

        if ready is not None:
            ready.set()
        await stop.wait()
        log.info("server.stopping", grace_s=settings.shutdown_grace)
    log.info("server.stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `connfacade serve`."""
    settings = config.load(argv)
    logs.configure(settings.log_level, settings.log_format)
    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
