"""Assembles and runs the server: backend, servicers, health, reflection, signals."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
import structlog
from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc
from connfacade.codestar.v1 import host_service_pb2 as host_pb
from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc
from connfacade.server import config, logs
from connfacade.server.api.apprunner import AppRunnerConnectionService
from connfacade.server.api.codestar import CodeStarConnectionService, CodeStarHostService
from connfacade.server.backend import AioBotoBackend
from connfacade.server.operations import AppRunnerConnections, CodeStarConnections, CodeStarHosts
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connfacade.server.backend import AwsBackend

log = structlog.get_logger("connfacade.server")

SERVICE_NAMES: tuple[str, ...] = (
    apprunner_pb.DESCRIPTOR.services_by_name["ConnectionService"].full_name,
    codestar_pb.DESCRIPTOR.services_by_name["ConnectionService"].full_name,
    host_pb.DESCRIPTOR.services_by_name["HostService"].full_name,
)
# The emulator accepts any credentials; these never reach real AWS.
EMULATOR_CREDENTIALS = ("connfacade-emulator", "connfacade-emulator")


@dataclass
class RunningFacade:
    """A started gRPC server and what it needs at shutdown."""

    server: grpc.aio.Server
    health: health.aio.HealthServicer
    addresses: tuple[str, ...]

    async def stop(self, grace: float) -> None:
        """Health NOT_SERVING at once, then let in-flight calls finish within ``grace``."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


def _bind(server: grpc.aio.Server, address: str) -> str:
    port = server.add_insecure_port(address)
    if address.startswith("unix:"):
        return address
    host = address.rpartition(":")[0]
    return f"{host}:{port}"


async def start_facade(backend: AwsBackend, listen: Sequence[str]) -> RunningFacade:
    """Starts the gRPC server for ``backend`` on every address in ``listen``."""
    server = grpc.aio.server()
    apprunner_grpc.add_ConnectionServiceServicer_to_server(
        AppRunnerConnectionService(AppRunnerConnections(backend)), server
    )
    codestar_grpc.add_ConnectionServiceServicer_to_server(
        CodeStarConnectionService(CodeStarConnections(backend)), server
    )
    host_grpc.add_HostServiceServicer_to_server(CodeStarHostService(CodeStarHosts(backend)), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    addresses = tuple(_bind(server, a) for a in listen)
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningFacade(server, health_servicer, addresses)


async def serve(settings: config.Settings, *, ready: asyncio.Event | None = None) -> int:
    """Runs until SIGTERM or SIGINT, then shuts down gracefully; returns the exit code."""
    from connfacade.server.emulator import Emulator  # noqa: PLC0415 - only the emulator backend needs it

    emulator: Emulator | None = None
    endpoint, credentials = settings.aws_endpoint_url, None
    if settings.backend == "emulator":
        host, port = settings.emulator_host_port
        emulator = Emulator(host=host, port=port)
        await emulator.start()
        endpoint, credentials = emulator.url, EMULATOR_CREDENTIALS
    backend = AioBotoBackend(
        region=settings.region,
        endpoint_url=endpoint,
        credentials=credentials,
        max_attempts=settings.aws_max_attempts,
        max_pool_connections=settings.aws_max_pool_connections,
    )
    await backend.start()
    try:
        facade = await start_facade(backend, settings.listen)
    except RuntimeError as err:
        log.error("server.bind_failed", error=str(err), listen=settings.listen)  # noqa: TRY400 - no traceback
        await backend.close()
        if emulator:
            await emulator.stop()
        return 1
    for address in facade.addresses:
        print(f"connfacade: gRPC listening on {address}", flush=True)  # noqa: T201 - the promised banner
    if emulator:
        print(f"connfacade: AWS emulator at {emulator.url}", flush=True)  # noqa: T201
    log.info("server.started", addresses=facade.addresses, backend=settings.backend, region=settings.region)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    await stop.wait()
    log.info("server.stopping", grace_s=settings.shutdown_grace)
    await facade.stop(settings.shutdown_grace)
    await backend.close()
    if emulator:
        await emulator.stop()
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
