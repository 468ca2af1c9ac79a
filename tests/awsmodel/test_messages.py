"""AWS's ValidationException wording and the facade's snake_case member paths."""

from __future__ import annotations

import pytest

from connfacade.server.awsmodel import (
    APPRUNNER,
    CODESTAR,
    Violation,
    snake_path,
    validate,
    validation_exception_message,
)


def test_single_violation_message() -> None:
    """One violation reads exactly like AWS's: value, lowerCamel path, constraint sentence."""
    violations = validate(
        APPRUNNER, "CreateConnection", {"ConnectionName": "my_connection!", "ProviderType": "GITHUB"}
    )
    assert validation_exception_message(violations) == (
        "1 validation error detected: Value 'my_connection!' at 'connectionName' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9\-_]{3,31}"
    )


def test_several_violations_are_counted_and_joined() -> None:
    """N violations say "N validation errors detected" and are joined with "; "."""
    violations = validate(
        CODESTAR,
        "TagResource",
        {
            "ResourceArn": "arn:aws:codestar-connections:us-east-1:123456789012:connection/x",
            "Tags": [{"Key": ""}],
        },
    )
    assert validation_exception_message(violations) == (
        "2 validation errors detected: "
        "Value '' at 'tags.1.member.key' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; "
        "Value null at 'tags.1.member.value' failed to satisfy constraint: Member must not be null"
    )


@pytest.mark.parametrize(
    ("violation", "fragment"),
    [
        (Violation(("TagKeys", 1), "pattern", "m", "aws:x"), "Value 'aws:x' at 'tagKeys.2.member'"),
        (Violation(("MaxResults",), "max", "m", 101), "Value '101' at 'maxResults'"),
        (Violation(("Tags",), "max_items", "m", ["a", "b"]), "Value '[a, b]' at 'tags'"),
        (Violation(("Tags", 0), "type", "m", {"Key": "k"}), "Value '{Key=k}' at 'tags.1.member'"),
        (Violation(("Flag",), "type", "m", True), "Value 'true' at 'flag'"),
        (
            Violation(("VpcConfiguration", "SubnetIds", 0), "pattern", "m", "s"),
            "at 'vpcConfiguration.subnetIds.1.member'",
        ),
    ],
)
def test_values_and_paths_render_like_aws(violation: Violation, fragment: str) -> None:
    """Values render as Java's toString in quotes; list items are 1-based ".N.member"."""
    assert fragment in validation_exception_message([violation])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("Tags", 0, "Key"), "tags[0].key"),
        (("VpcConfiguration", "SubnetIds", 1), "vpc_configuration.subnet_ids[1]"),
        (("ConnectionName",), "connection_name"),
        (("HostArnFilter",), "host_arn_filter"),
        (("TagKeys", 3), "tag_keys[3]"),
        ((), ""),
    ],
)
def test_snake_path(path: tuple[str | int, ...], expected: str) -> None:
    """Paths are named the facade's way: snake_case members, [index] for list items."""
    assert snake_path(path) == expected
