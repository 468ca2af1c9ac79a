"""A server others can reach must authenticate callers, or be told explicitly not to."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import structlog

from connfacade.server import config
from connfacade.server.access import AccessSetupError, build_access
from connfacade.server.security import is_local

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    "address", ["127.0.0.1:50051", "localhost:1", "[::1]:50051", "127.0.0.2:9", "unix:/tmp/x.sock"]
)
def test_loopback_and_unix_listeners_are_local(address: str):
    assert is_local(address)


@pytest.mark.parametrize(
    "address", ["0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051", "pod.example:1"]
)
def test_other_listeners_are_not_local(address: str):
    assert not is_local(address)


def test_an_unauthenticated_non_loopback_listener_is_refused():
    """`--listen 0.0.0.0:...` without principals: refused, naming the address and the way out."""
    with pytest.raises(
        AccessSetupError, match=r"0\.0\.0\.0:50051.*--principals-file.*--allow-unauthenticated"
    ):
        build_access(config.Settings(listen=("0.0.0.0:50051",)))


def test_allow_unauthenticated_accepts_it():
    """The explicit opt-out starts an open gate."""
    access = build_access(config.Settings(listen=("0.0.0.0:50051",), allow_unauthenticated=True))
    assert not access.gate.authenticates


def test_loopback_without_authentication_is_the_default():
    access = build_access(config.Settings())
    assert not access.gate.authenticates


def test_a_principals_file_makes_a_non_loopback_listener_acceptable(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[[principals]]\nname = "a"\nrole = "viewer"\ntls_subject = "CN=a"\n')
    access = build_access(config.Settings(listen=("0.0.0.0:50051",), principals_file=str(path)))
    assert access.gate.authenticates


def test_a_broken_principals_file_stops_the_setup_with_its_error(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[[principals]]\nname = "a"\nrole = "root"\ntls_subject = "CN=a"\n')
    with pytest.raises(AccessSetupError, match=r"principals\[0\]\.role"):
        build_access(config.Settings(principals_file=str(path)))


def test_a_client_ca_without_a_server_certificate_is_refused():
    with pytest.raises(AccessSetupError, match="--tls-client-ca needs --tls-cert"):
        build_access(config.Settings(tls_client_ca="/ca.pem"))


def test_serve_exits_non_zero_before_binding_an_unauthenticated_public_listener(tmp_path: Path):
    """The real command: exit 1 with the reason in the log, nothing started."""
    done = subprocess.run(
        [sys.executable, "-m", "connfacade.server.app", "--listen", "0.0.0.0:0", "--metrics-address", "off"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0:0 without authentication" in done.stderr + done.stdout
    assert "gRPC listening" not in done.stdout


def test_an_emulator_on_a_non_loopback_address_is_refused():
    """`--emulator-address 0.0.0.0:...` with gRPC on loopback: refused, naming the address and the way out."""
    with pytest.raises(
        AccessSetupError, match=r"emulator on 0\.0\.0\.0:4599 .*/_emulator/reset.*--allow-unauthenticated"
    ):
        build_access(config.Settings(emulator_address="0.0.0.0:4599"))


def test_a_principals_file_does_not_make_an_exposed_emulator_acceptable(tmp_path: Path):
    """The principals guard the gRPC API only: the emulator never authenticates its callers."""
    path = tmp_path / "p.toml"
    path.write_text('[[principals]]\nname = "a"\nrole = "viewer"\ntls_subject = "CN=a"\n')
    with pytest.raises(AccessSetupError, match=r"emulator on 10\.0\.0\.5:4599"):
        build_access(config.Settings(emulator_address="10.0.0.5:4599", principals_file=str(path)))


def test_allow_unauthenticated_accepts_an_exposed_emulator_and_says_so():
    """The explicit opt-out starts it, with a warning naming the emulator's address."""
    with structlog.testing.capture_logs() as logs:
        build_access(config.Settings(emulator_address="0.0.0.0:4599", allow_unauthenticated=True))
    warnings = [e for e in logs if e["event"] == "security.emulator_exposed"]
    assert [(e["log_level"], e["address"]) for e in warnings] == [("warning", "0.0.0.0:4599")]


def test_an_emulator_address_without_a_host_is_loopback():
    """`:4599` binds the emulator to 127.0.0.1, so it is not exposed."""
    build_access(config.Settings(emulator_address=":4599"))


def test_the_aws_backend_ignores_the_emulator_address():
    """No emulator starts on the aws backend, so its address exposes nothing."""
    build_access(config.Settings(backend="aws", emulator_address="0.0.0.0:4599"))


def test_serve_exits_non_zero_before_starting_an_exposed_emulator():
    """The real command, gRPC on loopback: exit 1 with the reason in the log, no emulator started."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connfacade.server.app",
            "--listen",
            "127.0.0.1:0",
            "--emulator-address",
            "0.0.0.0:0",
            "--metrics-address",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert "refusing to start the AWS emulator on 0.0.0.0:0" in done.stderr + done.stdout
    assert "AWS emulator at" not in done.stdout
