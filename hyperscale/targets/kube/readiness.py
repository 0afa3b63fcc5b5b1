"""Wait for Deployments like kstatus does, and name a failure as soon as it shows.

A Deployment is current when the controller has seen its latest spec (observedGeneration), every
replica runs the new template (updated), is ready and available, and no old ReplicaSet still
has pods (status.replicas == updated). Every workload is watched at once (one poll reads them
all), so the wait takes as long as the slowest one, not the sum.

A failure is named the moment a pod of the new ReplicaSet shows it: CrashLoopBackOff,
ImagePullBackOff/ErrImagePull and the other container errors, an unschedulable pod, or the
Deployment's ProgressDeadlineExceeded; with the pod, the reason, its last warning events and
the last lines its container wrote.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from hyperscale.clients.kube_api import KubeApi
from hyperscale.progress import Progress

POLL_S = 0.25
#: Container waiting reasons that do not go away by waiting.
FAILED_WAITING = {
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
}
#: How long a pod may stay unschedulable before that is a failure (an autoscaler may add a node).
UNSCHEDULABLE_GRACE_S = 20.0
LOG_LINES = 10
EVENTS_SHOWN = 3


@dataclass(frozen=True)
class WorkloadProgress:
    namespace: str
    name: str
    desired: int
    updated: int
    ready: int
    available: int
    #: current in the kstatus sense: the new template everywhere, ready, available, old RS gone
    current: bool

    def line(self) -> str:
        d = self.desired
        mark = "ready" if self.current else "rolling out"
        return (
            f"{self.name}: updated {self.updated}/{d}, ready {self.ready}/{d},"
            f" available {self.available}/{d} ({mark})"
        )


@dataclass
class RolloutFailure:
    workload: str
    pod: str
    reason: str
    message: str
    events: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    #: Seconds from the start of the wait until the failure was named.
    after_s: float = 0.0

    def to_data(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "pod": self.pod,
            "reason": self.reason,
            "message": self.message,
            "events": self.events,
            "logs": self.logs,
            "after_s": self.after_s,
        }

    def summary(self) -> str:
        where = f"pod {self.pod}" if self.pod else "no pod"
        return f"{self.workload}: {where}: {self.reason}: {self.message}"

    def lines(self) -> list[str]:
        out = [self.summary()]
        out += [f"  event: {e}" for e in self.events]
        out += [f"  log: {line}" for line in self.logs]
        return out


@dataclass
class WaitOutcome:
    workloads: list[WorkloadProgress]
    failure: RolloutFailure | None = None
    seconds: float = 0.0

    @property
    def ready(self) -> bool:
        return self.failure is None and all(w.current for w in self.workloads)


def deployment_progress(deployment: dict[str, Any]) -> WorkloadProgress:
    meta, spec = deployment["metadata"], deployment.get("spec") or {}
    status = deployment.get("status") or {}
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas", 0))
    ready = int(status.get("readyReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    seen = int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
    current = (
        seen
        and updated == desired
        and int(status.get("replicas", 0)) == updated
        and available == desired
        and ready >= desired
    )
    return WorkloadProgress(
        meta.get("namespace", ""), meta["name"], desired, updated, ready, available, current
    )


def _observed(deployment: dict[str, Any]) -> bool:
    status = deployment.get("status") or {}
    return int(status.get("observedGeneration", 0)) >= int(
        deployment["metadata"].get("generation", 0)
    )


def _selector(deployment: dict[str, Any]) -> str:
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def new_pods(api: KubeApi, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The pods of the Deployment's newest ReplicaSet (its current revision)."""
    meta = deployment["metadata"]
    namespace = meta["namespace"]
    revision = (meta.get("annotations") or {}).get("deployment.kubernetes.io/revision")
    selector = _selector(deployment)
    hashes = [
        (rs["metadata"].get("labels") or {}).get("pod-template-hash", "")
        for rs in api.list_objects("apps/v1", "ReplicaSet", namespace, labels=selector)
        if (rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision")
        == revision
        and any(o.get("uid") == meta.get("uid") for o in rs["metadata"].get("ownerReferences", []))
    ]
    if not hashes or not hashes[0]:
        return []
    return api.list_objects(
        "v1", "Pod", namespace, labels=f"{selector},pod-template-hash={hashes[0]}"
    )


def pod_problem(pod: dict[str, Any], now: float) -> tuple[str, str, str] | None:
    """(reason, message, container) when the pod shows a failure that waiting will not fix."""
    status = pod.get("status") or {}
    for cs in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FAILED_WAITING:
            return str(waiting["reason"]), str(waiting.get("message", "")), str(cs.get("name", ""))
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
            since = _epoch(cond.get("lastTransitionTime"))
            if since is not None and now - since >= UNSCHEDULABLE_GRACE_S:
                return "Unschedulable", str(cond.get("message", "")), ""
    return None


def _epoch(stamp: str | None) -> float | None:
    import datetime as dt

    if not stamp:
        return None
    try:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def warning_events(api: KubeApi, namespace: str, name: str | None = None) -> list[dict[str, Any]]:
    """Warning events of one object (or of the namespace), newest last."""
    fields = "type=Warning" + (f",involvedObject.name={name}" if name else "")
    events = api.list_objects("v1", "Event", namespace, fields=fields)
    return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def event_line(event: dict[str, Any]) -> str:
    count = event.get("count") or 1
    times = f" (x{count})" if count > 1 else ""
    involved = event.get("involvedObject") or {}
    return (
        f"{event.get('reason', '')}{times} {involved.get('kind', '')}/{involved.get('name', '')}:"
        f" {event.get('message', '')}"
    ).strip()


def _failure(api: KubeApi, deployment: dict[str, Any], started: float) -> RolloutFailure | None:
    meta = deployment["metadata"]
    workload = f"Deployment {meta['namespace']}/{meta['name']}"
    now = time.time()
    for pod in new_pods(api, deployment):
        problem = pod_problem(pod, now)
        if problem is None:
            continue
        reason, message, container = problem
        pod_name = pod["metadata"]["name"]
        events = warning_events(api, meta["namespace"], pod_name)[-EVENTS_SHOWN:]
        logs = api.pod_log(meta["namespace"], pod_name, container, LOG_LINES) if container else []
        return RolloutFailure(
            workload,
            pod_name,
            reason,
            message,
            [event_line(e) for e in events],
            logs,
            round(time.monotonic() - started, 2),
        )
    for cond in (deployment.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            events = warning_events(api, meta["namespace"])[-EVENTS_SHOWN:]
            return RolloutFailure(
                workload,
                "",
                "ProgressDeadlineExceeded",
                str(cond.get("message", "")),
                [event_line(e) for e in events],
                after_s=round(time.monotonic() - started, 2),
            )
    return None


def wait_for(
    api: KubeApi, deployments: list[tuple[str, str]], timeout: float, progress: Progress
) -> WaitOutcome:
    """Poll every Deployment until all are current, one fails, or ``timeout`` passes."""
    started = time.monotonic()
    shown: dict[str, str] = {}
    while True:
        live = [api.get("apps/v1", "Deployment", name, ns) for ns, name in deployments]
        found = [d for d in live if d is not None]
        states = [deployment_progress(d) for d in found]
        for state in states:
            line = state.line()
            if shown.get(state.name) != line:
                shown[state.name] = line
                progress(line)
        for deployment, state in zip(found, states, strict=True):
            if state.current or not _observed(deployment):
                continue  # until the controller has seen the new spec, its pods are the old ones
            failure = _failure(api, deployment, started)
            if failure is not None:
                return WaitOutcome(states, failure, round(time.monotonic() - started, 2))
        if all(s.current for s in states) and len(found) == len(deployments):
            return WaitOutcome(states, None, round(time.monotonic() - started, 2))
        if time.monotonic() - started > timeout:
            return WaitOutcome(
                states,
                _timed_out(api, found, states, timeout),
                round(time.monotonic() - started, 2),
            )
        time.sleep(POLL_S)


def _timed_out(
    api: KubeApi,
    found: list[dict[str, Any]],
    states: list[WorkloadProgress],
    timeout: float,
) -> RolloutFailure:
    """Name the first workload that is not current, what it lacks and a pod not ready."""
    for deployment, state in zip(found, states, strict=True):
        if state.current:
            continue
        meta = deployment["metadata"]
        pods = new_pods(api, deployment)
        waiting = [
            p
            for p in pods
            if not any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        ]
        pod = waiting[0]["metadata"]["name"] if waiting else ""
        events = warning_events(api, meta["namespace"], pod or None)[-EVENTS_SHOWN:]
        return RolloutFailure(
            f"Deployment {meta['namespace']}/{meta['name']}",
            pod,
            "Timeout",
            f"not ready within {timeout:g}s: {state.line()}",
            [event_line(e) for e in events],
            after_s=timeout,
        )
    return RolloutFailure("?", "", "Timeout", f"a workload disappeared within {timeout:g}s")
