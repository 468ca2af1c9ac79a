"""A small, strict stand-in for `kustomize build`, enough for deploy/k8s.

No kustomize binary is available where the tests run, so this composes a
kustomization the way kustomize does for the subset deploy/k8s uses, and
refuses everything else rather than get it silently wrong:

- ``resources``: YAML files (one or more documents each) and directories
  holding a ``kustomization.yaml`` (built recursively, as kustomize does), in
  order.
- ``patches``, in order, each from ``path`` or inline ``patch``:
  - a YAML/JSON **list** is a JSON 6902 patch (RFC 6902: add, remove,
    replace, move, copy, test); it needs a ``target`` (group, version, kind,
    name; name matched exactly) and may rename what it patches, as in
    kustomize;
  - a **mapping** is a strategic-merge patch applied to the resource with its
    own kind and name (or its ``target``): mappings merge, ``null`` deletes a
    key, scalars replace, and the lists Kubernetes merges by ``name``
    (containers, initContainers, env, volumes) merge element by element; any
    other list in such a patch is refused (use a JSON 6902 patch).
- any other kustomization field (namePrefix, images, labels, ...) is refused.

A patch whose target matches nothing is an error here (kustomize ignores it):
in these manifests it can only be a mistake.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path

Resource = dict[str, Any]

SUPPORTED_FIELDS = frozenset({"apiVersion", "kind", "resources", "patches"})
# Lists that a strategic-merge patch merges element by element, by `name`.
MERGE_BY_NAME = frozenset({"containers", "initContainers", "env", "volumes"})


class UnsupportedError(ValueError):
    """The kustomization uses something this stand-in does not implement."""


class PatchError(ValueError):
    """A patch does not apply."""


def build(directory: Path) -> list[Resource]:
    """The resources of the kustomization in ``directory``, composed."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedError(f"{directory}: kustomization fields not supported: {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            resources.extend(build(path))
        else:
            resources.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    for patch in kustomization.get("patches", []):
        _apply_patch_entry(resources, patch, directory)
    _check_unique(resources)
    return resources


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    """The one resource of ``kind`` named ``name``."""
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    if len(found) != 1:
        raise LookupError(f"{len(found)} resources {kind}/{name}")
    return found[0]


def _check_unique(resources: list[Resource]) -> None:
    seen: set[tuple[str, str]] = set()
    for resource in resources:
        key = (resource["kind"], resource["metadata"]["name"])
        if key in seen:
            raise PatchError(f"two resources {key[0]}/{key[1]}")
        seen.add(key)


def _apply_patch_entry(resources: list[Resource], entry: dict[str, Any], directory: Path) -> None:
    unknown = set(entry) - {"path", "patch", "target"}
    if unknown:
        raise UnsupportedError(f"patch fields not supported: {sorted(unknown)}")
    if ("path" in entry) == ("patch" in entry):
        raise PatchError("a patch needs exactly one of path and patch")
    text = (directory / entry["path"]).read_text() if "path" in entry else entry["patch"]
    body = yaml.safe_load(text)
    target = entry.get("target")
    if isinstance(body, list):
        if target is None:
            raise PatchError("a JSON 6902 patch needs a target")
        for index in _select(resources, target):
            resources[index] = json_patch(resources[index], body)
    elif isinstance(body, dict):
        if target is None:
            target = {"kind": body["kind"], "name": body["metadata"]["name"]}
        for index in _select(resources, target):
            merged = strategic_merge(resources[index], body)
            if merged["metadata"]["name"] != resources[index]["metadata"]["name"]:
                raise UnsupportedError("strategic-merge renames are not supported")
            resources[index] = merged
    else:
        raise PatchError(f"a patch is a list or a mapping, not {type(body).__name__}")


def _select(resources: list[Resource], target: dict[str, str]) -> list[int]:
    if set(target) - {"group", "version", "kind", "name"}:
        raise UnsupportedError(f"target fields not supported: {sorted(target)}")
    selected = []
    for index, resource in enumerate(resources):
        group, _, version = resource["apiVersion"].rpartition("/")
        name = resource["metadata"]["name"]
        actual = {"group": group, "version": version, "kind": resource["kind"], "name": name}
        if all(actual[key] == value for key, value in target.items()):
            selected.append(index)
    if not selected:
        raise PatchError(f"no resource matches the patch target {target}")
    return selected


# --- strategic merge (the subset described above) ---------------------------


def strategic_merge(original: Any, patch: Any, field: str = "") -> Any:
    """``patch`` merged into a copy of ``original``."""
    if isinstance(patch, dict) and isinstance(original, dict):
        merged = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(patch, list):
        if field not in MERGE_BY_NAME:
            raise UnsupportedError(f"strategic merge of the list {field!r}: use a JSON 6902 patch")
        merged_list = copy.deepcopy(original)
        positions = {item["name"]: i for i, item in enumerate(merged_list)}
        for item in patch:
            if item["name"] in positions:
                at = positions[item["name"]]
                merged_list[at] = strategic_merge(merged_list[at], item, "")
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


# --- JSON 6902 ----------------------------------------------------------------


def json_patch(document: Resource, operations: list[dict[str, Any]]) -> Resource:
    """``operations`` (RFC 6902) applied to a copy of ``document``; all or nothing."""
    doc = copy.deepcopy(document)
    for number, op in enumerate(operations):
        try:
            doc = _apply_op(doc, op)
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise PatchError(f"operation {number} {json.dumps(op)}: {err}") from err
    return doc


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"not a JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    parts = _pointer(path)
    if not parts:
        raise ValueError("the whole document cannot be the target")
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, parts[-1]


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in _pointer(path):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _add(doc: Any, path: str, value: Any) -> None:
    parent, key = _parent(doc, path)
    if isinstance(parent, list):
        index = len(parent) if key == "-" else int(key)
        if not 0 <= index <= len(parent):
            raise IndexError(f"index {index} out of range")
        parent.insert(index, value)
    else:
        parent[key] = value


def _remove(doc: Any, path: str) -> Any:
    parent, key = _parent(doc, path)
    if isinstance(parent, list):
        return parent.pop(int(key))
    return parent.pop(key)


def _apply_op(doc: Any, op: dict[str, Any]) -> Any:
    kind, path = op["op"], op["path"]
    if kind == "add":
        _add(doc, path, copy.deepcopy(op["value"]))
    elif kind == "remove":
        _remove(doc, path)
    elif kind == "replace":
        _remove(doc, path)
        _add(doc, path, copy.deepcopy(op["value"]))
    elif kind == "move":
        _add(doc, path, _remove(doc, op["from"]))
    elif kind == "copy":
        _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
    elif kind == "test":
        if _get(doc, path) != op["value"]:
            raise ValueError(f"test failed: {path} is {_get(doc, path)!r}")
    else:
        raise UnsupportedError(f"unknown JSON patch operation {kind!r}")
    return doc
