"""The composer the manifest tests rely on: it applies what kustomize would, and refuses the rest."""

from __future__ import annotations

import kubernetes_validate
import pytest
import yaml
from kustomize_lite import PatchError, UnsupportedError, build, json_patch, strategic_merge

POD = {
    "metadata": {"name": "p", "annotations": {"a/b": "x"}},
    "spec": {"containers": [{"name": "app", "image": "a"}, {"name": "side", "image": "s"}]},
}


def test_json_patch_moves_removes_and_unescapes_pointers():
    patched = json_patch(
        POD,
        [
            {"op": "test", "path": "/spec/containers/0/name", "value": "app"},
            {"op": "remove", "path": "/spec/containers/0"},
            {"op": "move", "from": "/spec/containers/0", "path": "/spec/init"},
            {"op": "remove", "path": "/metadata/annotations/a~1b"},
            {"op": "add", "path": "/spec/containers/-", "value": {"name": "new"}},
        ],
    )
    assert patched == {
        "metadata": {"name": "p", "annotations": {}},
        "spec": {"containers": [{"name": "new"}], "init": {"name": "side", "image": "s"}},
    }
    assert POD["spec"]["containers"][0]["name"] == "app"  # the original is untouched


def test_a_failed_json_patch_test_stops_the_patch():
    with pytest.raises(PatchError, match="test failed"):
        json_patch(POD, [{"op": "test", "path": "/spec/containers/0/name", "value": "side"}])


def test_strategic_merge_merges_containers_by_name_and_deletes_with_null():
    merged = strategic_merge(
        POD, {"metadata": {"annotations": None}, "spec": {"containers": [{"name": "side", "image": "s2"}]}}
    )
    assert merged == {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "a"}, {"name": "side", "image": "s2"}]},
    }


def test_strategic_merge_refuses_lists_it_cannot_merge_like_kubernetes():
    with pytest.raises(UnsupportedError):
        strategic_merge({"spec": {"ports": [{"port": 1}]}}, {"spec": {"ports": [{"port": 2}]}})


def test_unsupported_kustomization_fields_are_refused(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [], "namePrefix": "x-"}))
    with pytest.raises(UnsupportedError, match="namePrefix"):
        build(tmp_path)


def test_a_patch_whose_target_matches_nothing_is_an_error(tmp_path):
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    kustomization = {
        "resources": ["cm.yaml"],
        "patches": [{"patch": "- {op: remove, path: /data}", "target": {"kind": "ConfigMap", "name": "b"}}],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    with pytest.raises(PatchError, match="no resource matches"):
        build(tmp_path)


def test_strict_validation_refuses_an_unknown_field(composed):
    """Guards the schema test: strict mode must fail on a misspelt field, not pass it."""
    (deployment,) = [r for r in composed["base"] if r["kind"] == "Deployment"]
    broken = json_patch(
        deployment, [{"op": "add", "path": "/spec/template/spec/restartPolicyy", "value": "x"}]
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)
