"""The `connfacade` command carries credentials: a token from a file or the environment, mTLS from files."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

from security_helpers import TOKENS

from connfacade.client import cli
from connfacade.server.security import cli as auth_cli
from connfacade.server.security import hash_token, parse_principals

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from tls_material import Authority

    from connfacade.server.app import RunningFacade


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The CLI in a thread (it is synchronous), while the facade serves on this loop."""
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_token_file_authenticates_the_cli(
    facade: RunningFacade, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    token_file = tmp_path / "token"
    token_file.write_text(TOKENS["viewer"] + "\n")
    code, out, _ = await run(
        capsys,
        "--target",
        facade.addresses[0],
        "--token-file",
        str(token_file),
        "apprunner",
        "list-connections",
    )
    assert code == 0
    assert '"connection_summary_list": [],' in out  # server log lines share the captured stdout


async def test_the_token_variable_authenticates_the_cli(
    facade: RunningFacade, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("CONNFACADE_TOKEN", TOKENS["viewer"])
    code, _, _ = await run(capsys, "--target", facade.addresses[0], "apprunner", "list-connections")
    assert code == 0


async def test_without_a_token_the_cli_reports_unauthenticated(
    facade: RunningFacade, capsys: pytest.CaptureFixture[str]
):
    code, _, err = await run(capsys, "--target", facade.addresses[0], "apprunner", "list-connections")
    assert code == 1
    assert '"code": "UNAUTHENTICATED"' in err


async def test_the_cli_speaks_mtls_with_certificate_files(
    mtls_facade: RunningFacade, authority: Authority, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    client = authority.issue("deployer")
    paths = {"ca": authority.cert, "cert": client.cert, "key": client.key}
    for name, data in paths.items():
        (tmp_path / name).write_bytes(data)
    port = mtls_facade.addresses[0].rpartition(":")[2]
    code, _, _ = await run(
        capsys,
        *("--target", f"localhost:{port}", "--tls-ca", str(tmp_path / "ca")),
        *("--tls-cert", str(tmp_path / "cert"), "--tls-key", str(tmp_path / "key")),
        *("apprunner", "list-connections"),
    )
    assert code == 0


def test_new_token_prints_a_token_and_the_line_for_the_principals_file(capsys: pytest.CaptureFixture[str]):
    """The printed hash is the token's, and a principals file accepts the line as printed."""
    assert auth_cli.main(["new-token"]) == 0
    token_line, hash_line = capsys.readouterr().out.splitlines()
    token = token_line.removeprefix("token: ")
    assert len(token) >= 43  # 32 random bytes
    directory = parse_principals(f'[[principals]]\nname = "n"\nrole = "viewer"\n{hash_line}\n')
    assert directory.by_token(token) is not None


def test_hash_token_reads_the_token_from_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setattr("sys.stdin", io.StringIO("my-secret-token\n"))
    assert auth_cli.main(["hash-token"]) == 0
    assert capsys.readouterr().out.strip() == hash_token("my-secret-token")


def test_hash_token_without_input_is_a_usage_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert auth_cli.main(["hash-token"]) == 2
