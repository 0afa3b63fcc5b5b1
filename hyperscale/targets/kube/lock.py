"""One lock per environment: a coordination.k8s.io Lease in the environment's namespace.

It says who holds it (user@host, pid), since when, and why (the command). It is renewed while
held, released on every way out of the `with` block (an error, Ctrl-C), and a Lease left behind
by a killed process expires after LEASE_SECONDS. Anything that must not run during a deploy (the
chaos drills) reads ``current_holder`` and refuses while it is not None.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.kube_api import ApiConflictError, KubeApi
from hyperscale.errors import UsageError

LEASE_NAME = "hyperscale-deploy-lock"
#: A holder that stops renewing (killed with SIGKILL, machine gone) loses the lock after this.
LEASE_SECONDS = 60
RENEW_EVERY_S = 15.0
REASON_ANNOTATION = "hyperscale.dev/reason"
COMMAND_ANNOTATION = "hyperscale.dev/command"


@dataclass(frozen=True)
class LockHolder:
    holder: str
    since: str
    reason: str
    command: str
    #: False when the holder stopped renewing long enough ago for the Lease to be taken over.
    live: bool


def whoami() -> str:
    """``user@host pid N``: enough to find the person and the process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(stamp: str | None) -> dt.datetime | None:
    if not stamp:
        return None
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _holder(lease: dict[str, Any]) -> LockHolder | None:
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return None
    annotations = lease.get("metadata", {}).get("annotations") or {}
    renewed = _parse(spec.get("renewTime")) or _parse(spec.get("acquireTime"))
    duration = int(spec.get("leaseDurationSeconds") or LEASE_SECONDS)
    live = renewed is not None and (_now() - renewed).total_seconds() < duration
    return LockHolder(
        holder=str(spec["holderIdentity"]),
        since=str(spec.get("acquireTime") or ""),
        reason=str(annotations.get(REASON_ANNOTATION, "")),
        command=str(annotations.get(COMMAND_ANNOTATION, "")),
        live=live,
    )


def current_holder(api: KubeApi, namespace: str) -> LockHolder | None:
    """Who holds the environment's lock now; None when nobody does (or the holder's Lease
    expired)."""
    lease = api.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, namespace)
    holder = _holder(lease) if lease else None
    return holder if holder and holder.live else None


def _lease(namespace: str, identity: str, reason: str, command: str) -> dict[str, Any]:
    now = _stamp(_now())
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": LEASE_NAME,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "hyperscale"},
            "annotations": {REASON_ANNOTATION: reason, COMMAND_ANNOTATION: command},
        },
        "spec": {
            "holderIdentity": identity,
            "acquireTime": now,
            "renewTime": now,
            "leaseDurationSeconds": LEASE_SECONDS,
        },
    }


class HeldLock:
    """A Lease this process holds; renewed in the background until released."""

    def __init__(self, api: KubeApi, lease: dict[str, Any]) -> None:
        self.api = api
        self.lease = lease
        self.identity = str(lease["spec"]["holderIdentity"])
        self._stop = threading.Event()
        self._mutex = threading.Lock()
        self._renewer = threading.Thread(target=self._renew_loop, daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(RENEW_EVERY_S):
            with self._mutex:
                if self._stop.is_set():
                    return
                self.lease["spec"]["renewTime"] = _stamp(_now())
                try:
                    self.lease = self.api.replace(self.lease)
                except Exception:  # noqa: BLE001, S112 - retried next time; expiry is the backstop
                    continue

    def release(self) -> None:
        """Delete the Lease if it is still ours (a force-unlocked lock may be someone else's)."""
        self._stop.set()
        with self._mutex:
            meta = self.lease["metadata"]
            # Taken over after a --force-unlock (a conflict): not ours to delete.
            with contextlib.suppress(ApiConflictError):
                self.api.delete(
                    "coordination.k8s.io/v1",
                    "Lease",
                    LEASE_NAME,
                    meta["namespace"],
                    resource_version=meta.get("resourceVersion"),
                )


def acquire(api: KubeApi, namespace: str, reason: str, command: str) -> HeldLock:
    """Take the environment's lock, or a UsageError (exit 2) naming who holds it and why."""
    identity = whoami()
    wanted = _lease(namespace, identity, reason, command)
    try:
        return HeldLock(api, api.create(wanted))
    except ApiConflictError:
        pass
    existing = api.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, namespace)
    if existing is None:  # released between the two calls
        return acquire(api, namespace, reason, command)
    holder = _holder(existing)
    if holder is not None and holder.live:
        raise locked_error(namespace, holder)
    # Released, or left behind by a process that stopped renewing: take it over, unless another
    # process does so first (the resourceVersion makes the write conditional).
    wanted["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
    try:
        return HeldLock(api, api.replace(wanted))
    except ApiConflictError:
        again = api.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, namespace)
        other = _holder(again) if again else None
        if other is None:
            return acquire(api, namespace, reason, command)
        raise locked_error(namespace, other) from None


def locked_error(namespace: str, holder: LockHolder) -> UsageError:
    why = f" for {holder.reason!r}" if holder.reason else ""
    return UsageError(
        f"namespace {namespace} is locked by {holder.holder} since {holder.since}{why}"
        f" ({holder.command or 'a deploy'})",
        hint="wait for it to finish; if that process is gone, `hyperscale deploy --env ENV"
        " --force-unlock --reason WHY`",
    )


def force_unlock(api: KubeApi, namespace: str) -> LockHolder | None:
    """Remove the lock whoever holds it; the holder it had (None when it was free)."""
    lease = api.get("coordination.k8s.io/v1", "Lease", LEASE_NAME, namespace)
    if lease is None:
        return None
    api.delete("coordination.k8s.io/v1", "Lease", LEASE_NAME, namespace)
    return _holder(lease)


@contextmanager
def locked(api: KubeApi, namespace: str, reason: str, command: str) -> Iterator[HeldLock]:
    held = acquire(api, namespace, reason, command)
    try:
        yield held
    finally:
        held.release()
