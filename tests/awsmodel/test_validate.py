"""Model-driven validation: every constraint the models state for the facade's operations.

The generated cases walk botocore's input shapes next to one valid request per
operation and break one member at a time; the limits come from the model, and
the expected result is stated independently (exactly one violation kind at
exactly one path), so a walker that skips a member or misreads a limit fails.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from botocore.model import ListShape, Shape, StructureShape

from connfacade.server.awsmodel import APPRUNNER, CODESTAR, Violation, service_model, snake_path, validate

if TYPE_CHECKING:
    from collections.abc import Iterator

AR_ARN = "arn:aws:apprunner:us-east-1:123456789012:connection/my-conn/0123456789abcdef0123456789abcdef"
CS_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:connection/3b9c5a4e-1d2f-4c8a-9e7b-0a1b2c3d4e5f"
HOST_ARN = "arn:aws:codestar-connections:us-east-1:123456789012:host/my-host-0a1b2c3d"
VPC = {
    "VpcId": "vpc-0123456789abcdef0",
    "SubnetIds": ["subnet-0123456789abcdef0"],
    "SecurityGroupIds": ["sg-0123456789abcdef0"],
    "TlsCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
}

# One valid request per facade operation, with every optional member present so
# that the walk below reaches every shape of the input.
VALID: dict[tuple[str, str], dict[str, Any]] = {
    (APPRUNNER, "CreateConnection"): {
        "ConnectionName": "my-conn",
        "ProviderType": "GITHUB",
        "Tags": [{"Key": "team", "Value": "platform"}],
    },
    (APPRUNNER, "ListConnections"): {"ConnectionName": "my-conn", "MaxResults": 10, "NextToken": "abc"},
    (APPRUNNER, "DeleteConnection"): {"ConnectionArn": AR_ARN},
    (APPRUNNER, "TagResource"): {"ResourceArn": AR_ARN, "Tags": [{"Key": "team", "Value": "platform"}]},
    (APPRUNNER, "UntagResource"): {"ResourceArn": AR_ARN, "TagKeys": ["team"]},
    (APPRUNNER, "ListTagsForResource"): {"ResourceArn": AR_ARN},
    (CODESTAR, "CreateConnection"): {
        "ProviderType": "GitHubEnterpriseServer",
        "ConnectionName": "my-conn",
        "Tags": [{"Key": "team", "Value": "platform"}],
        "HostArn": HOST_ARN,
    },
    (CODESTAR, "GetConnection"): {"ConnectionArn": CS_ARN},
    (CODESTAR, "ListConnections"): {
        "ProviderTypeFilter": "GitHubEnterpriseServer",
        "HostArnFilter": HOST_ARN,
        "MaxResults": 5,
        "NextToken": "abc",
    },
    (CODESTAR, "DeleteConnection"): {"ConnectionArn": CS_ARN},
    (CODESTAR, "TagResource"): {"ResourceArn": CS_ARN, "Tags": [{"Key": "team", "Value": "platform"}]},
    (CODESTAR, "UntagResource"): {"ResourceArn": CS_ARN, "TagKeys": ["team"]},
    (CODESTAR, "ListTagsForResource"): {"ResourceArn": CS_ARN},
    (CODESTAR, "CreateHost"): {
        "Name": "my-host",
        "ProviderType": "GitHubEnterpriseServer",
        "ProviderEndpoint": "https://ghe.example.com",
        "VpcConfiguration": VPC,
        "Tags": [{"Key": "team", "Value": "platform"}],
    },
    (CODESTAR, "GetHost"): {"HostArn": HOST_ARN},
    (CODESTAR, "ListHosts"): {"MaxResults": 5, "NextToken": "abc"},
    (CODESTAR, "DeleteHost"): {"HostArn": HOST_ARN},
    (CODESTAR, "UpdateHost"): {
        "HostArn": HOST_ARN,
        "ProviderEndpoint": "https://ghe.example.com",
        "VpcConfiguration": VPC,
    },
}

Path = tuple[str | int, ...]


def _input_shape(key: tuple[str, str]) -> StructureShape:
    return service_model(key[0]).operation_model(key[1]).input_shape


def _nodes(shape: Shape, value: Any, path: Path = ()) -> Iterator[tuple[Path, Shape, Any]]:
    """Every (path, shape, value) of a valid request, parents before children."""
    yield path, shape, value
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            if name in value:
                yield from _nodes(member, value[name], (*path, name))
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value):
            yield from _nodes(shape.member, item, (*path, index))


def _with(params: dict[str, Any], path: Path, new: Any) -> dict[str, Any]:
    out = copy.deepcopy(params)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return out


def _without(params: dict[str, Any], path: Path) -> dict[str, Any]:
    out = copy.deepcopy(params)
    target: Any = out
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return out


def _pattern_breaker(shape: Shape) -> str | None:
    """A value within the length bounds that the pattern rejects, if any exists among a few tries."""
    meta = shape.metadata
    size = max(meta.get("min", 0), 1)
    for char in ("\n", "!", " ", "0"):
        candidate = char * size
        if re.fullmatch(meta["pattern"], candidate) is None:
            return candidate
    return None


def _also_pattern(shape: Shape, value: str) -> set[str]:
    pattern = shape.metadata.get("pattern")
    return {"pattern"} if pattern and re.fullmatch(pattern, value) is None else set()


def _wrong_types(shape: Shape) -> list[Any]:
    kind = shape.type_name
    if kind == "string":
        return [12345, ["x"]]
    if kind == "integer":
        return ["10", True, 1.5]
    if kind == "list":
        return ["not-a-list", {"a": 1}]
    return ["not-a-structure", [1]]


@dataclass(frozen=True)
class _Node:
    """One member of one valid request, and the request it sits in."""

    key: tuple[str, str]
    params: dict[str, Any]
    path: Path
    shape: Shape
    value: Any

    def case(self, kind: str, params: dict[str, Any], expected: set[str], path: Path | None = None) -> Any:
        where = snake_path(self.path) or "<root>"
        test_id = f"{self.key[0]}:{self.key[1]}:{where}:{kind}"
        return pytest.param(self.key, params, self.path if path is None else path, expected, id=test_id)

    def replaced(self, new: Any) -> dict[str, Any]:
        return _with(self.params, self.path, new)


def _cases() -> Iterator[Any]:
    for key, params in VALID.items():
        for path, shape, value in _nodes(_input_shape(key), params):
            node = _Node(key, params, path, shape, value)
            yield from _structure_cases(node)
            if path:
                yield from _type_cases(node)
                yield from _string_cases(node)
                yield from _integer_cases(node)
                yield from _list_cases(node)


def _structure_cases(node: _Node) -> Iterator[Any]:
    if not isinstance(node.shape, StructureShape):
        return
    for name in node.shape.required_members:
        member = (*node.path, name)
        yield node.case(f"required-{name}", _without(node.params, member), {"required"}, member)
        yield node.case(f"null-{name}", _with(node.params, member, None), {"required"}, member)
    bogus = (*node.path, "BogusMember")
    yield node.case("unknown", _with(node.params, bogus, "x"), {"type"}, bogus)


def _type_cases(node: _Node) -> Iterator[Any]:
    for n, wrong in enumerate(_wrong_types(node.shape)):
        yield node.case(f"type{n}", node.replaced(wrong), {"type"})


def _string_cases(node: _Node) -> Iterator[Any]:
    meta = node.shape.metadata
    if node.shape.type_name != "string":
        return
    if "max" in meta:
        # Pad the valid value so that a prefix-anchored pattern still matches.
        long = (node.value + "a" * (meta["max"] + 1))[: meta["max"] + 1]
        yield node.case("max_length", node.replaced(long), {"max_length"} | _also_pattern(node.shape, long))
    if meta.get("min", 0) > 0:
        short = node.value[: meta["min"] - 1]
        yield node.case("min_length", node.replaced(short), {"min_length"} | _also_pattern(node.shape, short))
    if "pattern" in meta and (bad := _pattern_breaker(node.shape)) is not None:
        yield node.case("pattern", node.replaced(bad), {"pattern"})
    if "enum" in meta:
        yield node.case("enum", node.replaced("NotAProvider"), {"enum"})


def _integer_cases(node: _Node) -> Iterator[Any]:
    meta = node.shape.metadata
    if node.shape.type_name != "integer":
        return
    if "min" in meta:
        yield node.case("min", node.replaced(meta["min"] - 1), {"min"})
    if "max" in meta:
        yield node.case("max", node.replaced(meta["max"] + 1), {"max"})


def _list_cases(node: _Node) -> Iterator[Any]:
    meta = node.shape.metadata
    if not isinstance(node.shape, ListShape):
        return
    if meta.get("min", 0) > 0:
        yield node.case("min_items", node.replaced([]), {"min_items"})
    if "max" in meta:
        yield node.case("max_items", node.replaced([node.value[0]] * (meta["max"] + 1)), {"max_items"})


@pytest.mark.parametrize("key", list(VALID), ids=[f"{s}:{o}" for s, o in VALID])
def test_valid_request_has_no_violations(key: tuple[str, str]) -> None:
    """A request that satisfies the model yields no violation."""
    assert validate(key[0], key[1], VALID[key]) == []


@pytest.mark.parametrize("key", list(VALID), ids=[f"{s}:{o}" for s, o in VALID])
def test_valid_requests_reach_every_member(key: tuple[str, str]) -> None:
    """The valid examples name every member of every input shape, so the generated cases miss none."""

    def members(shape: Shape, path: Path = ()) -> Iterator[Path]:
        if isinstance(shape, StructureShape):
            for name, member in shape.members.items():
                yield (*path, name)
                yield from members(member, (*path, name))
        elif isinstance(shape, ListShape):
            yield from members(shape.member, (*path, 0))

    present = {path for path, _, _ in _nodes(_input_shape(key), VALID[key])}
    assert set(members(_input_shape(key))) <= present


@pytest.mark.parametrize(("key", "params", "path", "expected"), list(_cases()))
def test_each_model_constraint_is_enforced(
    key: tuple[str, str], params: dict[str, Any], path: Path, expected: set[str]
) -> None:
    """Breaking one member yields exactly the constraint(s) the model states, at exactly that path."""
    violations = validate(key[0], key[1], params)
    assert {v.path for v in violations} == {path}
    assert {v.constraint for v in violations} == expected


def test_every_facade_operation_is_covered() -> None:
    """The table above names the 18 operations of the facade, no more, no fewer."""
    assert len(VALID) == 18
    for service, operation in VALID:
        assert operation in service_model(service).operation_names


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        pytest.param(
            (APPRUNNER, "CreateConnection"),
            {"ConnectionName": "ab", "ProviderType": "GITHUB"},
            [
                Violation(
                    ("ConnectionName",),
                    "min_length",
                    "Member must have length greater than or equal to 4",
                    "ab",
                ),
                Violation(
                    ("ConnectionName",),
                    "pattern",
                    r"Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9\-_]{3,31}",
                    "ab",
                ),
            ],
            id="apprunner-name-too-short",
        ),
        pytest.param(
            (APPRUNNER, "CreateConnection"),
            {"ConnectionName": "-abc", "ProviderType": "GITLAB"},
            [
                Violation(
                    ("ConnectionName",),
                    "pattern",
                    r"Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9\-_]{3,31}",
                    "-abc",
                ),
                Violation(
                    ("ProviderType",),
                    "enum",
                    "Member must satisfy enum value set: [GITHUB, BITBUCKET]",
                    "GITLAB",
                ),
            ],
            id="apprunner-bad-name-and-provider",
        ),
        pytest.param(
            (APPRUNNER, "TagResource"),
            {
                "ResourceArn": AR_ARN,
                "Tags": [{"Key": "ok", "Value": "v"}, {"Key": "aws:reserved", "Value": "v"}],
            },
            [
                Violation(
                    ("Tags", 1, "Key"),
                    "pattern",
                    "Member must satisfy regular expression pattern: ^(?!aws:).+",
                    "aws:reserved",
                ),
            ],
            id="apprunner-aws-prefix",
        ),
        pytest.param(
            (APPRUNNER, "ListConnections"),
            {"MaxResults": 0},
            [Violation(("MaxResults",), "min", "Member must have value greater than or equal to 1", 0)],
            id="apprunner-max-results-zero",
        ),
        pytest.param(
            (CODESTAR, "ListHosts"),
            {"MaxResults": 101},
            [Violation(("MaxResults",), "max", "Member must have value less than or equal to 100", 101)],
            id="codestar-max-results-101",
        ),
        pytest.param(
            (CODESTAR, "CreateConnection"),
            {"ConnectionName": "", "Tags": [{"Key": "k"}]},
            [
                Violation(
                    ("ConnectionName",),
                    "min_length",
                    "Member must have length greater than or equal to 1",
                    "",
                ),
                Violation(("Tags", 0, "Value"), "required", "Member must not be null", None),
            ],
            id="codestar-empty-name-is-present-but-short",
        ),
        pytest.param(
            (CODESTAR, "UpdateHost"),
            {
                "HostArn": HOST_ARN,
                "VpcConfiguration": {**VPC, "SubnetIds": ["subnet-0123456789abcdef0", "subnet-x"]},
            },
            [
                Violation(
                    ("VpcConfiguration", "SubnetIds", 1),
                    "min_length",
                    "Member must have length greater than or equal to 15",
                    "subnet-x",
                ),
                Violation(
                    ("VpcConfiguration", "SubnetIds", 1),
                    "pattern",
                    r"Member must satisfy regular expression pattern: subnet-\w{8}(\w{9})?",
                    "subnet-x",
                ),
            ],
            id="codestar-nested-list-member",
        ),
        pytest.param(
            (CODESTAR, "GetHost"),
            {"HostArn": "arn:aws:codeconnections:us-east-1:123456789012:host/my-host-0a1b2c3d"},
            [
                Violation(
                    ("HostArn",),
                    "pattern",
                    "Member must satisfy regular expression pattern: "
                    r"arn:aws(-[\w]+)*:codestar-connections:.+:[0-9]{12}:host\/.+",
                    "arn:aws:codeconnections:us-east-1:123456789012:host/my-host-0a1b2c3d",
                ),
            ],
            id="codestar-host-arn-needs-old-prefix",
        ),
        pytest.param(
            (APPRUNNER, "ListConnections"),
            {"MaxResults": True},
            [Violation(("MaxResults",), "type", "Member must be of type integer", True)],
            id="bool-is-not-an-integer",
        ),
    ],
)
def test_exact_violations(key: tuple[str, str], params: dict[str, Any], expected: list[Violation]) -> None:
    """Concrete requests yield exactly these violations, messages included, in input order."""
    assert validate(key[0], key[1], params) == expected


def test_violations_follow_input_path_order() -> None:
    """Violations come in the order of the members in the input shape, list items by index."""
    params = {"Tags": [{"Key": "aws:a"}, {"Key": ""}], "ProviderType": "X", "ConnectionName": "!"}
    paths = [v.path for v in validate(APPRUNNER, "CreateConnection", params)]
    assert paths == [
        ("ConnectionName",),
        ("ConnectionName",),
        ("ProviderType",),
        ("Tags", 0, "Key"),
        ("Tags", 1, "Key"),
        ("Tags", 1, "Key"),
    ]


def test_unknown_member_names_the_member() -> None:
    """An unknown member is a type violation whose path and message name it."""
    (violation,) = validate(CODESTAR, "GetHost", {"HostArn": HOST_ARN, "Region": "x"})
    assert violation.path == ("Region",)
    assert violation.constraint == "type"
    assert "unknown member" in violation.message.lower()
    assert "Region" in violation.message


def test_unknown_operation_raises() -> None:
    """Asking about an operation the model lacks is a programming error, not a violation."""
    with pytest.raises(ValueError, match="CreateService2"):
        validate(APPRUNNER, "CreateService2", {})


def test_service_model_is_cached() -> None:
    """The model is loaded once per process."""
    assert service_model(CODESTAR) is service_model(CODESTAR)
    assert service_model(APPRUNNER).metadata["targetPrefix"] == "AppRunner"
