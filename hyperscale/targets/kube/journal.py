"""Every deploy and rollback of an environment, kept in its namespace (ConfigMaps).

``hyperscale-deploy-journal`` holds the entries (who, git commit, images, duration, result,
rollback) as JSON; ``hyperscale-revision-N`` holds the objects revision N applied (gzip), which
is what a rollback applies again. Neither carries the deploy's label, so no deploy prunes them.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import asdict
from typing import Any

from hyperscale.clients.kube_api import ApiConflictError, KubeApi
from hyperscale.errors import UsageError
from hyperscale.targets.base import HistoryEntry as JournalEntry

JOURNAL_NAME = "hyperscale-deploy-journal"
REVISION_PREFIX = "hyperscale-revision-"
#: Entries kept in the journal, and revisions whose objects are kept for rollbacks.
KEEP_ENTRIES = 100
KEEP_REVISIONS = 10
JOURNAL_LABEL = "hyperscale.dev/journal"


def _configmap(namespace: str, name: str, **data: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {JOURNAL_LABEL: "true", "app.kubernetes.io/managed-by": "hyperscale"},
        },
        **data,
    }


class Journal:
    def __init__(self, api: KubeApi, namespace: str) -> None:
        self.api = api
        self.namespace = namespace

    def _read(self) -> tuple[list[JournalEntry], dict[str, Any] | None]:
        cm = self.api.get("v1", "ConfigMap", JOURNAL_NAME, self.namespace)
        if cm is None:
            return [], None
        raw = json.loads((cm.get("data") or {}).get("history.json", "[]"))
        return [JournalEntry(**e) for e in raw], cm

    def entries(self) -> list[JournalEntry]:
        """Oldest first."""
        return self._read()[0]

    def next_revision(self) -> int:
        entries = self.entries()
        return max((e.revision for e in entries), default=0) + 1

    def current(self) -> JournalEntry | None:
        """The revision that runs now: the latest one that succeeded."""
        good = [e for e in self.entries() if e.result == "succeeded" and e.action != "force-unlock"]
        return good[-1] if good else None

    def append(self, entry: JournalEntry) -> None:
        """Add an entry; a concurrent writer (which the lock should prevent) means a retry."""
        for _ in range(5):
            entries, cm = self._read()
            entries = [*entries, entry][-KEEP_ENTRIES:]
            text = json.dumps([asdict(e) for e in entries], indent=1)
            body = _configmap(self.namespace, JOURNAL_NAME, data={"history.json": text})
            try:
                if cm is None:
                    self.api.create(body)
                else:
                    body["metadata"]["resourceVersion"] = cm["metadata"]["resourceVersion"]
                    self.api.replace(body)
            except ApiConflictError:
                continue
            return
        raise ApiConflictError(f"the journal {self.namespace}/{JOURNAL_NAME} kept changing")

    def save_objects(self, revision: int, objects: list[dict[str, Any]]) -> None:
        packed = base64.b64encode(gzip.compress(json.dumps(objects).encode(), mtime=0)).decode()
        name = f"{REVISION_PREFIX}{revision}"
        self.api.apply(
            _configmap(self.namespace, name, binaryData={"objects.json.gz": packed}), force=True
        )
        kept = sorted(
            (
                int(cm["metadata"]["name"].removeprefix(REVISION_PREFIX))
                for cm in self.api.list_objects(
                    "v1", "ConfigMap", self.namespace, labels=JOURNAL_LABEL
                )
                if cm["metadata"]["name"].startswith(REVISION_PREFIX)
            ),
        )
        for old in kept[:-KEEP_REVISIONS]:
            self.api.delete("v1", "ConfigMap", f"{REVISION_PREFIX}{old}", self.namespace)

    def objects(self, revision: int) -> list[dict[str, Any]]:
        cm = self.api.get("v1", "ConfigMap", f"{REVISION_PREFIX}{revision}", self.namespace)
        if cm is None:
            raise UsageError(
                f"revision {revision} of namespace {self.namespace} is not kept any more"
                f" (the last {KEEP_REVISIONS} are)",
                hint="`hyperscale deploy history` lists the revisions",
            )
        packed = (cm.get("binaryData") or {})["objects.json.gz"]
        found: list[dict[str, Any]] = json.loads(gzip.decompress(base64.b64decode(packed)))
        return found
