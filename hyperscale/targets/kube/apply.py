"""Server-side apply in waves, pruning by the deploy's label, and the dry run's diff (drift too).

Within a wave the objects are applied at once (a thread pool: each apply is one round trip);
the next wave starts when the previous one has been accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import yaml

from hyperscale.clients.kube_api import KubeApi
from hyperscale.errors import ExternalSystemError
from hyperscale.progress import Progress
from hyperscale.targets.base import ObjectDiff
from hyperscale.targets.kube.objects import (
    DEPLOY_LABEL,
    NEVER_PRUNED,
    WAVE_NAMES,
    Key,
    describe,
    in_waves,
    key,
    labelled,
)

PARALLEL_APPLIES = 8
#: What the server sets or changes on its own: never part of a diff.
VOLATILE_METADATA = (
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
)


@dataclass
class ApplyOutcome:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    #: Kinds the server does not serve (a CRD not installed there): not applied.
    skipped: list[str] = field(default_factory=list)
    #: What the server holds after the apply, by identity.
    live: dict[Key, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.pruned)


def served(api: KubeApi, objects: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The objects the server can take, and the others described (a CRD it lacks)."""
    ok, skipped = [], []
    for obj in objects:
        if api.resource(obj["apiVersion"], obj["kind"]) is None:
            skipped.append(describe(obj))
        else:
            ok.append(obj)
    return ok, skipped


def existing(api: KubeApi, env_name: str, *sets: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """The objects carrying this environment's deploy label, of the kinds and in the
    namespaces of ``sets``: another namespace deployed with the same environment name (a test,
    a copy) is never in scope."""
    kinds = {(o["apiVersion"], o["kind"]) for objs in sets for o in objs}
    namespaces = {o["metadata"].get("namespace") for objs in sets for o in objs} - {None, ""}
    found: dict[Key, dict[str, Any]] = {}
    labels = f"{DEPLOY_LABEL}={env_name}"
    for api_version, kind in sorted(kinds):
        res = api.resource(api_version, kind)
        if res is None:
            continue
        for namespace in sorted(namespaces) if res.namespaced else [None]:
            for obj in api.list_objects(api_version, kind, namespace, labels=labels):
                found[key(obj)] = obj
    return found


def _changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the apply changed the object. A controller writing its status meanwhile (an HPA
    every 15 s) changes the resourceVersion too, so where the server counts spec changes
    (metadata.generation) that and the labels and annotations decide."""
    before, after = old["metadata"], new["metadata"]
    if "generation" in before and "generation" in after:
        return (
            before["generation"] != after["generation"]
            or before.get("labels") != after.get("labels")
            or _annotations(before) != _annotations(after)
        )
    return bool(before["resourceVersion"] != after["resourceVersion"])


def _annotations(meta: dict[str, Any]) -> dict[str, Any]:
    found = dict(meta.get("annotations") or {})
    found.pop("deployment.kubernetes.io/revision", None)  # the controller's
    return found


def apply_all(
    api: KubeApi,
    env_name: str,
    objects: list[dict[str, Any]],
    previous: list[dict[str, Any]],
    progress: Progress,
    after_first_wave: Callable[[], object] | None = None,
) -> ApplyOutcome:
    """Apply ``objects`` in waves, then prune what an earlier deploy applied and they lack.
    ``after_first_wave`` runs once the namespaces exist, before any workload."""
    wanted, skipped = served(api, [labelled(o, env_name) for o in objects])
    before = existing(api, env_name, wanted, served(api, previous)[0])
    outcome = ApplyOutcome(skipped=skipped)
    with ThreadPoolExecutor(max_workers=PARALLEL_APPLIES) as pool:
        for name, batch in zip(WAVE_NAMES, in_waves(wanted), strict=True):
            if not batch:
                continue
            progress(f"applying {len(batch)} objects: {name}")
            for obj, live in zip(batch, pool.map(api.apply, batch), strict=True):
                ident = key(obj)
                outcome.live[ident] = live
                old = before.get(ident)
                if old is None:
                    outcome.added.append(describe(obj))
                elif _changed(old, live):
                    outcome.changed.append(describe(obj))
                else:
                    outcome.unchanged.append(describe(obj))
            if after_first_wave is not None:
                after_first_wave()
                after_first_wave = None
    for ident, obj in sorted(before.items()):
        if ident not in outcome.live and obj["kind"] not in NEVER_PRUNED:
            progress(f"pruning {describe(obj)}")
            meta = obj["metadata"]
            api.delete(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            outcome.pruned.append(describe(obj))
    return outcome


def _comparable(obj: dict[str, Any] | None) -> str:
    if obj is None:
        return ""
    meta = {
        k: v
        for k, v in (obj.get("metadata") or {}).items()
        if k not in VOLATILE_METADATA and k != "annotations"
    }
    annotations = {
        k: v
        for k, v in ((obj.get("metadata") or {}).get("annotations") or {}).items()
        if k != "deployment.kubernetes.io/revision"
    }
    if annotations:
        meta["annotations"] = annotations
    body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    return yaml.safe_dump({**body, "metadata": meta}, sort_keys=True)


def diff_all(
    api: KubeApi, env_name: str, objects: list[dict[str, Any]], progress: Progress
) -> tuple[list[ObjectDiff], list[str]]:
    """What a deploy would change, by a server-side dry run of every object: fields edited by
    hand in the cluster (drift) show as changes, since the apply takes them back."""
    wanted, skipped = served(api, [labelled(o, env_name) for o in objects])
    before = existing(api, env_name, wanted)
    diffs: list[ObjectDiff] = []

    def one(obj: dict[str, Any]) -> ObjectDiff:
        meta = obj["metadata"]
        live = api.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        try:
            after = api.apply(obj, dry_run=True)
        except ExternalSystemError as exc:
            if live is not None or "not found" not in exc.message:
                raise
            after = obj  # its namespace does not exist yet: the server cannot dry-run it
        old, new = _comparable(live), _comparable(after)
        lines = list(
            difflib.unified_diff(
                old.splitlines(), new.splitlines(), "live", "after deploy", lineterm="", n=2
            )
        )
        action = "create" if live is None else ("update" if lines else "unchanged")
        return ObjectDiff(describe(obj), action, lines)

    progress(f"server-side dry run of {len(wanted)} objects")
    with ThreadPoolExecutor(max_workers=PARALLEL_APPLIES) as pool:
        diffs = list(pool.map(one, wanted))
    names = {key(o) for o in wanted}
    diffs += [
        ObjectDiff(describe(o), "prune", [])
        for ident, o in sorted(before.items())
        if ident not in names and o["kind"] not in NEVER_PRUNED
    ]
    return diffs, skipped
