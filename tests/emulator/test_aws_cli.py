"""The AWS CLI, unchanged, pointed at the emulator with --endpoint-url."""

from __future__ import annotations

import json
import re


async def test_seed_example_create_connection(aws_cli, tmp_path) -> None:
    """The reference page's example: create-connection from a JSON file is PENDING_HANDSHAKE."""
    source = tmp_path / "x.json"
    source.write_text(json.dumps({"ConnectionName": "my-github-connection", "ProviderType": "GITHUB"}))
    code, out, err = await aws_cli("apprunner", "create-connection", "--cli-input-json", f"file://{source}")
    assert code == 0, err
    connection = out["Connection"]
    assert connection["Status"] == "PENDING_HANDSHAKE"
    assert connection["ProviderType"] == "GITHUB"
    assert re.fullmatch(
        r"arn:aws:apprunner:us-east-1:123456789012:connection/my-github-connection/[0-9a-f]{32}",
        connection["ConnectionArn"],
    )


async def test_codestar_through_the_cli(aws_cli) -> None:
    """CodeStar commands work too: create, then list shows the connection."""
    code, out, err = await aws_cli(
        "codestar-connections", "create-connection", "--connection-name", "cli", "--provider-type", "GitHub"
    )
    assert code == 0, err
    code, listed, err = await aws_cli("codestar-connections", "list-connections")
    assert code == 0, err
    assert [c["ConnectionArn"] for c in listed["Connections"]] == [out["ConnectionArn"]]


async def test_cli_reports_validation_exception(aws_cli) -> None:
    """A request the model forbids fails with AWS's ValidationException text on stderr."""
    code, _, err = await aws_cli(
        "apprunner", "create-connection", "--connection-name", "x" * 33, "--provider-type", "GITHUB"
    )
    assert code != 0
    assert "ValidationException" in err
    assert "Member must have length less than or equal to 32" in err


async def test_unsigned_cli_request_is_rejected(aws_cli) -> None:
    """--no-sign-request sends no Authorization header: MissingAuthenticationTokenException."""
    code, _, err = await aws_cli("apprunner", "list-connections", sign=False)
    assert code != 0
    assert "MissingAuthenticationTokenException" in err
