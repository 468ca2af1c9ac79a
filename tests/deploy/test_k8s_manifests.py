"""deploy/k8s: the base (app + connfacade sidecar) and the shared overlay, composed and checked.

Every check reads the composed manifests, so an overlay that breaks what the
base promises fails here. Port numbers, paths and the shutdown grace are
compared with connfacade's effective environment (the image's ENV, then the
ConfigMap through envFrom, then env), not with constants in the test.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
from kustomize_lite import find

from connfacade.server import config
from connfacade.server.security import parse_principals

NEWEST_KUBERNETES = kubernetes_validate.latest_version()
KUSTOMIZATIONS = ["base", "shared"]
SIDECAR = "connfacade"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
# Every CONNFACADE_* variable `connfacade serve` reads.
KNOWN_SETTINGS = frozenset(config._ENV.values())

Resource = dict[str, Any]


def the_deployment(resources: list[Resource]) -> Resource:
    (deployment,) = [r for r in resources if r["kind"] == "Deployment"]
    return deployment


def pod(resources: list[Resource]) -> dict[str, Any]:
    spec: dict[str, Any] = the_deployment(resources)["spec"]["template"]["spec"]
    return spec


def all_containers(resources: list[Resource]) -> list[dict[str, Any]]:
    spec = pod(resources)
    return [*spec.get("initContainers", []), *spec["containers"]]


def connfacade(resources: list[Resource]) -> dict[str, Any]:
    (container,) = [c for c in all_containers(resources) if c["name"] == SIDECAR]
    return container


def effective_env(
    container: dict[str, Any], resources: list[Resource], image_env: dict[str, str]
) -> dict[str, str]:
    """What the process sees: image ENV, overridden by envFrom, overridden by env (Kubernetes' order)."""
    env = dict(image_env)
    for source in container.get("envFrom", []):
        config_map = find(resources, "ConfigMap", source["configMapRef"]["name"])
        env.update({source.get("prefix", "") + k: v for k, v in config_map["data"].items()})
    env.update({var["name"]: var["value"] for var in container.get("env", [])})
    return env


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def listen(env: dict[str, str]) -> list[str]:
    return [a.strip() for a in env["CONNFACADE_LISTEN"].split(",") if a.strip()]


def named_port(container: dict[str, Any], name: str) -> int:
    (port,) = [p["containerPort"] for p in container.get("ports", []) if p["name"] == name]
    return int(port)


def volume_path(container: dict[str, Any], path: str) -> tuple[str, str] | None:
    """(volume name, path inside the volume) of ``path`` in ``container``; None if on the root filesystem."""
    for mount in container.get("volumeMounts", []):
        root = mount["mountPath"].rstrip("/")
        if path == root or path.startswith(root + "/"):
            return mount["name"], posixpath.relpath(path, root)
    return None


@pytest.fixture(params=KUSTOMIZATIONS)
def resources(request: pytest.FixtureRequest, composed: dict[str, list[Resource]]) -> list[Resource]:
    return composed[request.param]


@pytest.fixture
def env(resources: list[Resource], image_env: dict[str, str]) -> dict[str, str]:
    return effective_env(connfacade(resources), resources, image_env)


# --- schema -------------------------------------------------------------------


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_every_manifest_validates_strictly_against_the_newest_bundled_kubernetes(composed, kustomization):
    """Strict: an unknown or misspelt field fails, not only a wrong type."""
    failures = []
    for resource in composed[kustomization]:
        name = f"{resource['kind']}/{resource['metadata']['name']}"
        try:
            validated = kubernetes_validate.validate(resource, NEWEST_KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as err:
            failures.append(f"{name}: {'.'.join(map(str, err.path))}: {err.message}")
        else:
            assert validated == ".".join(NEWEST_KUBERNETES.split(".")[:2])
    assert not failures


def test_the_composition_holds_what_each_kustomization_promises(composed):
    kinds = {k: sorted(f"{r['kind']}/{r['metadata']['name']}" for r in rs) for k, rs in composed.items()}
    assert kinds["base"] == [
        "ConfigMap/connfacade",
        "Deployment/my-app",
        "NetworkPolicy/connfacade",
        "ServiceAccount/connfacade",
    ]
    assert kinds["shared"] == [
        "ConfigMap/connfacade",
        "ConfigMap/connfacade-principals",
        "Deployment/connfacade",
        "NetworkPolicy/connfacade",
        "Service/connfacade",
        "ServiceAccount/connfacade",
    ]


def test_every_connfacade_variable_is_one_the_server_reads(composed, image_env):
    """A misspelt setting would be ignored silently by the server."""
    names = {k for k in image_env if k.startswith("CONNFACADE_")}
    for resources in composed.values():
        names |= set(find(resources, "ConfigMap", "connfacade")["data"])
    assert names <= KNOWN_SETTINGS, names - KNOWN_SETTINGS


# --- probes, ports, shutdown ----------------------------------------------------


def test_probes_are_grpc_on_the_port_named_health_where_connfacade_serves_health(resources, env):
    container = connfacade(resources)
    health = named_port(container, "health")
    host, _, port = env["CONNFACADE_HEALTH_ADDRESS"].rpartition(":")
    assert int(port) == health
    assert host == "0.0.0.0"  # noqa: S104 - kubelet probes the pod IP, never its loopback
    for probe in PROBES:
        assert container[probe]["grpc"]["port"] == health, probe


def test_metrics_are_served_on_the_port_named_metrics(resources, env):
    assert port_of(env["CONNFACADE_METRICS_ADDRESS"]) == named_port(connfacade(resources), "metrics")


def test_the_pod_outlasts_connfacade_s_shutdown_grace(resources, env):
    grace = pod(resources)["terminationGracePeriodSeconds"]
    assert grace > float(env["CONNFACADE_SHUTDOWN_GRACE"])


def test_every_container_has_resource_requests_and_limits(resources):
    for container in all_containers(resources):
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) >= {"cpu", "memory"}, (container["name"], kind)


# --- security -------------------------------------------------------------------


def test_every_container_runs_non_root_read_only_without_privileges(resources):
    for container in all_containers(resources):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] > 0
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_connfacade_runs_as_the_image_user_and_shares_its_group_through_fs_group(resources, stages):
    (user,) = [i.arguments for i in stages[-1].all("USER")]
    uid, _, gid = user.partition(":")
    context = connfacade(resources)["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid))
    pod_context = pod(resources)["securityContext"]
    assert pod_context["runAsNonRoot"] is True
    assert pod_context["fsGroup"] == int(gid)  # the socket's group (mode 0660) is every container's


def test_everything_connfacade_writes_is_on_a_volume(resources, env):
    """The root filesystem is read-only: the socket, the audit log and the temp dir must be mounts."""
    container = connfacade(resources)
    writes = {
        *(posixpath.dirname(a.removeprefix("unix:")) for a in listen(env) if a.startswith("unix:")),
        posixpath.dirname(env["CONNFACADE_AUDIT_FILE"]),
        "/tmp",  # noqa: S108 - the image's HOME and TMPDIR
    }
    for path in writes:
        assert volume_path(container, path) is not None, path


def test_the_irsa_role_is_on_the_pod_s_service_account(resources):
    account = find(resources, "ServiceAccount", pod(resources)["serviceAccountName"])
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", role)


# --- network policy -------------------------------------------------------------------


def test_the_network_policy_admits_only_metrics_from_prometheus_and_grpc_from_clients(resources, env):
    policy = find(resources, "NetworkPolicy", "connfacade")["spec"]
    labels = the_deployment(resources)["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    metrics = port_of(env["CONNFACADE_METRICS_ADDRESS"])
    tcp_grpc = {port_of(a) for a in listen(env) if not a.startswith("unix:")}
    admitted: dict[int, list[dict[str, Any]]] = {}
    for rule in policy["ingress"]:
        assert rule["from"], "a rule without peers admits everyone"
        for port in rule["ports"]:
            assert port["protocol"] == "TCP"
            admitted.setdefault(port["port"], []).extend(rule["from"])
    assert set(admitted) == {metrics} | tcp_grpc
    for peer in admitted[metrics]:
        assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}


# --- base: the sidecar --------------------------------------------------------------


def test_base_runs_connfacade_as_a_native_sidecar_beside_the_app(composed):
    spec = pod(composed["base"])
    (sidecar,) = spec["initContainers"]
    assert sidecar["name"] == SIDECAR
    assert sidecar["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["app"]


def test_base_app_reaches_the_socket_through_a_shared_volume(composed, image_env):
    resources = composed["base"]
    sidecar = connfacade(resources)
    (app,) = pod(resources)["containers"]
    target = {v["name"]: v["value"] for v in app["env"]}["CONNFACADE_TARGET"]
    assert target in listen(effective_env(sidecar, resources, image_env))
    path = target.removeprefix("unix:")
    in_app, in_sidecar = volume_path(app, path), volume_path(sidecar, path)
    assert in_app is not None
    assert in_app == in_sidecar
    (volume,) = [v for v in pod(resources)["volumes"] if v["name"] == in_app[0]]
    assert "emptyDir" in volume


def test_base_configmap_sets_region_shutdown_grace_and_the_audit_file(composed):
    data = find(composed["base"], "ConfigMap", "connfacade")["data"]
    assert {"CONNFACADE_REGION", "CONNFACADE_SHUTDOWN_GRACE", "CONNFACADE_AUDIT_FILE"} <= set(data)
    assert connfacade(composed["base"])["envFrom"] == [{"configMapRef": {"name": "connfacade"}}]


def test_base_keeps_the_aws_credentials_out_of_the_app_container(composed):
    resources = composed["base"]
    annotations = the_deployment(resources)["spec"]["template"]["metadata"]["annotations"]
    skipped = annotations["eks.amazonaws.com/skip-containers"].split(",")
    names = {c["name"] for c in all_containers(resources)}
    assert set(skipped) == names - {SIDECAR}


# --- shared overlay -------------------------------------------------------------------


def test_shared_runs_connfacade_alone_as_a_regular_container(composed):
    spec = pod(composed["shared"])
    assert "initContainers" not in spec
    (container,) = spec["containers"]
    assert container["name"] == SIDECAR
    assert "restartPolicy" not in container


def test_shared_listens_on_tcp_behind_a_service_that_selects_its_pods(composed, image_env):
    resources = composed["shared"]
    container = connfacade(resources)
    env = effective_env(container, resources, image_env)
    assert "0.0.0.0:50051" in listen(env)
    service = find(resources, "Service", "connfacade")["spec"]
    deployment = the_deployment(resources)["spec"]
    assert service["selector"].items() <= deployment["template"]["metadata"]["labels"].items()
    assert (
        deployment["selector"]["matchLabels"].items() <= deployment["template"]["metadata"]["labels"].items()
    )
    ports = {p["name"]: p for p in service["ports"]}
    assert set(ports) == {"grpc", "metrics"}
    for name, port in ports.items():
        assert named_port(container, port["targetPort"]) == named_port(container, name)
    assert named_port(container, "grpc") == 50051
    assert named_port(container, "metrics") == port_of(env["CONNFACADE_METRICS_ADDRESS"])


def test_shared_authenticates_its_tcp_listener_with_tokens_over_tls(composed, image_env):
    """It listens beyond the pod: principals and TLS are set, and mounted where the server reads them."""
    resources = composed["shared"]
    container = connfacade(resources)
    env = effective_env(container, resources, image_env)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod(resources)["volumes"]}
    principals_file = PurePosixPath(env["CONNFACADE_PRINCIPALS_FILE"])
    assert str(principals_file.parent) == mounts["connfacade-principals"]
    assert volumes["connfacade-principals"]["configMap"]["name"] == "connfacade-principals"
    for variable in ("CONNFACADE_TLS_CERT", "CONNFACADE_TLS_KEY"):
        assert str(PurePosixPath(env[variable]).parent) == mounts["connfacade-tls"]
    assert volumes["connfacade-tls"]["secret"]["secretName"] == "connfacade-tls"
    toml = find(resources, "ConfigMap", "connfacade-principals")["data"][principals_file.name]
    assert parse_principals(toml).principals  # the server would accept the file as shipped
