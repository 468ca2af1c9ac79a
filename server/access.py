"""From settings to who may call: the gate, TLS credentials, and the refusal of open listeners."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from connfacade.server.security import (
    Authenticator,
    CallCounts,
    FailureBudgets,
    Gate,
    PrincipalsFileError,
    RateLimiter,
    WatcherCounts,
    exposed,
    is_local,
    load_principals,
    server_credentials,
)

if TYPE_CHECKING:
    import grpc

    from connfacade.server.config import Settings

log = structlog.get_logger("connfacade.security")


class AccessSetupError(RuntimeError):
    """The settings would start a server that is unsafe or cannot work; the message says which."""


@dataclass(frozen=True, slots=True)
class Access:
    """What `start_facade` needs: the gate every call passes, and TLS for TCP listeners."""

    gate: Gate
    tls: grpc.ServerCredentials | None = None


def _tls(settings: Settings) -> grpc.ServerCredentials | None:
    if settings.tls_client_ca and not (settings.tls_cert and settings.tls_key):
        raise AccessSetupError("--tls-client-ca needs --tls-cert and --tls-key: mTLS is TLS first")
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise AccessSetupError("--tls-cert and --tls-key go together")
    if not settings.tls_cert or not settings.tls_key:
        return None
    if settings.tls_client_ca and not settings.principals_file:
        raise AccessSetupError(
            "--tls-client-ca needs --principals-file: it gives each certificate subject its role"
        )
    try:
        return server_credentials(
            Path(settings.tls_cert),
            Path(settings.tls_key),
            Path(settings.tls_client_ca) if settings.tls_client_ca else None,
        )
    except OSError as err:
        raise AccessSetupError(f"cannot read TLS files: {err}") from None


def _check_emulator(settings: Settings) -> None:
    """Refuses an embedded emulator others can reach, unless ``--allow-unauthenticated`` says so.

    The emulator never authenticates: whoever reaches it can create and delete
    the connections the facade serves, behind its audit log, or wipe them all
    (``/_emulator/reset``). A principals file does not guard it.
    """
    if settings.backend != "emulator":
        return
    host, port = settings.emulator_host_port  # an empty host means loopback here
    address = f"{host}:{port}"
    if is_local(address):
        return
    if not settings.allow_unauthenticated:
        raise AccessSetupError(
            f"refusing to start the AWS emulator on {address} without authentication: anyone who can "
            "reach it could change the AWS state the facade serves, bypassing its checks and audit "
            "log, or wipe it (/_emulator/reset); --principals-file does not guard it. Let it listen on "
            "loopback (the facade reaches it there), or pass --allow-unauthenticated on if exposing "
            "it is intended."
        )
    log.warning(
        "security.emulator_exposed",
        address=address,
        hint="the AWS emulator has no authentication; anyone who can reach it can change or reset its state",
    )


def build_access(settings: Settings) -> Access:
    """The gate and TLS credentials the settings ask for; raises AccessSetupError.

    Without authentication a listener that others than this machine can reach
    is refused, unless ``--allow-unauthenticated`` says that is intended (for
    example behind a mesh that authenticates for us). So is an embedded
    emulator others can reach: it has no authentication at all.
    """
    tls = _tls(settings)
    directory = None
    if settings.principals_file:
        try:
            directory = load_principals(Path(settings.principals_file))
        except (PrincipalsFileError, OSError) as err:
            raise AccessSetupError(f"principals file: {err}") from None
    gate = Gate(
        Authenticator(directory),
        RateLimiter(settings.rate_limit, settings.rate_burst),
        WatcherCounts(settings.max_watchers_per_principal),
        CallCounts(settings.max_calls_per_principal),
        FailureBudgets(settings.auth_failure_rate, settings.auth_failure_burst),
    )
    open_listeners = exposed(settings.listen)
    if open_listeners and directory is None and not settings.allow_unauthenticated:
        raise AccessSetupError(
            f"refusing to listen on {', '.join(open_listeners)} without authentication: anyone who can "
            "reach it could create and delete connections. Set --principals-file (bearer tokens or "
            "mTLS subjects), listen on a Unix socket or loopback, or pass --allow-unauthenticated on "
            "if something in front authenticates callers."
        )
    _check_emulator(settings)
    if open_listeners and directory is not None and tls is None:
        log.warning(
            "security.plaintext_tokens",
            listeners=open_listeners,
            hint="bearer tokens cross the network in clear; set --tls-cert and --tls-key",
        )
    if directory is not None:
        log.info(
            "security.authentication", principals=len(directory.principals), mtls=bool(settings.tls_client_ca)
        )
    return Access(gate, tls)
