"""deploy/iam/policy.json grants exactly the AWS actions the server calls, scoped where AWS allows.

The actions are derived from the code: every AWS call goes through
``AwsBackend.call(service, operation, params)``, which server/operations
reaches as ``self._call("Operation", ...)`` or
``self._backend.call(SERVICE, "Operation", ...)``, with the module's
``SERVICE = Service.<MEMBER>``. A new call without a policy change fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from connfacade.server.domain import Service

OPERATIONS = Path(__file__).resolve().parents[2] / "server" / "operations"
ACCOUNT = "123456789012"
# The IAM action prefixes of each service. CodeStar Connections was renamed
# CodeConnections; IAM accepts both prefixes, and which one a request is
# authorized under depends on the endpoint, so the policy grants both.
PREFIXES = {
    Service.APPRUNNER: ("apprunner",),
    Service.CODESTAR: ("codestar-connections", "codeconnections"),
}
# Actions for which AWS's Service Authorization Reference lists no resource
# type: a statement must name "*" for them. Every other action must be scoped.
WITHOUT_RESOURCE_TYPES = frozenset(
    {
        "apprunner:ListConnections",
        *(
            f"{prefix}:{op}"
            for prefix in PREFIXES[Service.CODESTAR]
            for op in ("CreateConnection", "CreateHost", "ListConnections", "ListHosts")
        ),
    }
)
ARN = re.compile(
    rf"arn:aws:(?P<service>apprunner|codestar-connections|codeconnections):\*:{ACCOUNT}:(?:connection|host)/\*"
)


class _AwsCalls(ast.NodeVisitor):
    """Collects the literal operation names a module passes to ``_call`` / ``call``."""

    def __init__(self, module: Path) -> None:
        self.module = module
        self.operations: set[str] = set()
        self._function: ast.FunctionDef | ast.AsyncFunctionDef | None = None

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self._function = self._function, node
        self.generic_visit(node)
        self._function = outer

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Attribute):
            return
        if node.func.attr == "_call":
            operation = node.args[0]
        elif node.func.attr == "call":
            service, operation = node.args[0], node.args[1]
            assert isinstance(service, ast.Name), f"{self.module}:{node.lineno}: service is not SERVICE"
            assert service.id == "SERVICE", f"{self.module}:{node.lineno}: service is not SERVICE"
        else:
            return
        if isinstance(operation, ast.Constant) and isinstance(operation.value, str):
            self.operations.add(operation.value)
        elif not self._forwards(operation):
            raise AssertionError(f"{self.module}:{node.lineno}: an AWS operation not named by a literal")

    def _forwards(self, operation: ast.expr) -> bool:
        """``_call(self, operation, ...)`` passing its own parameter on to the backend."""
        function = self._function
        return (
            function is not None
            and function.name == "_call"
            and isinstance(operation, ast.Name)
            and operation.id in {a.arg for a in function.args.args}
        )


def _module_service(tree: ast.Module) -> Service | None:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["SERVICE"]
            and isinstance(node.value, ast.Attribute)
        ):
            return Service[node.value.attr]
    return None


def aws_operations() -> dict[Service, set[str]]:
    """The AWS operations the server calls, by service, read from server/operations."""
    found: dict[Service, set[str]] = {}
    for module in sorted(OPERATIONS.glob("*.py")):
        tree = ast.parse(module.read_text(), str(module))
        visitor = _AwsCalls(module)
        visitor.visit(tree)
        service = _module_service(tree)
        if visitor.operations:
            assert service is not None, f"{module} calls AWS but sets no SERVICE"
            found.setdefault(service, set()).update(visitor.operations)
    return found


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["Statement"])


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_the_code_scan_finds_the_calls_of_both_services():
    """A guard on the scan itself: an empty result would make the next test vacuous."""
    operations = aws_operations()
    assert set(operations) == set(Service)
    assert {"CreateConnection", "ListConnections", "DeleteConnection"} <= operations[Service.APPRUNNER]
    assert {"GetConnection", "CreateHost", "UpdateHost"} <= operations[Service.CODESTAR]


def test_every_service_has_its_iam_prefixes():
    assert set(PREFIXES) == set(Service)


def test_the_policy_grants_exactly_the_actions_the_server_calls(policy):
    expected = {
        f"{prefix}:{operation}"
        for service, operations in aws_operations().items()
        for prefix in PREFIXES[service]
        for operation in operations
    }
    granted = {action for s in statements(policy) for action in as_list(s["Action"])}
    assert granted - expected == set(), "granted but never called"
    assert expected - granted == set(), "called but not granted"


def test_the_policy_only_allows_named_actions(policy):
    assert policy["Version"] == "2012-10-17"
    for statement in statements(policy):
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert "*" not in action, action


def test_only_actions_without_resource_types_are_granted_on_every_resource(policy):
    for statement in statements(policy):
        actions = set(as_list(statement["Action"]))
        if "*" in as_list(statement["Resource"]):
            assert as_list(statement["Resource"]) == ["*"]
            assert actions <= WITHOUT_RESOURCE_TYPES, actions - WITHOUT_RESOURCE_TYPES
        else:
            assert not actions & WITHOUT_RESOURCE_TYPES


def test_scoped_actions_name_only_the_account_s_connections_and_hosts_of_their_service(policy):
    for statement in statements(policy):
        resources = as_list(statement["Resource"])
        if resources == ["*"]:
            continue
        services = set()
        for resource in resources:
            match = ARN.fullmatch(resource)
            assert match, resource
            services.add(match["service"])
        prefixes = {action.partition(":")[0] for action in as_list(statement["Action"])}
        family = {"apprunner"} if prefixes == {"apprunner"} else set(PREFIXES[Service.CODESTAR])
        assert prefixes <= family
        assert services == family
