"""What runs in an environment's namespace: the deployed workloads, their autoscalers and
disruption budgets, and recent warning events."""

from __future__ import annotations

from typing import Any

from hyperscale.clients.kube_api import KubeApi
from hyperscale.targets.base import Autoscaler, Budget, Replicas, TargetStatus, WorkloadState
from hyperscale.targets.kube.journal import Journal
from hyperscale.targets.kube.objects import DEPLOY_LABEL, containers
from hyperscale.targets.kube.readiness import deployment_progress, event_line, warning_events

WARNINGS_SHOWN = 10


def _workload(deployment: dict[str, Any]) -> WorkloadState:
    state = deployment_progress(deployment)
    meta = deployment["metadata"]
    replicas = Replicas(state.desired, state.updated, state.ready, state.available)
    images = [f"{c['name']}={c.get('image', '')}" for c in containers(deployment)]
    detail = "" if state.current else state.line()
    for cond in (deployment.get("status") or {}).get("conditions") or []:
        if cond.get("status") == "False" and cond.get("type") in ("Available", "Progressing"):
            detail = f"{detail}; {cond.get('reason')}: {cond.get('message')}".strip("; ")
    return WorkloadState(
        name=meta["name"],
        state="ready" if state.current else "progressing",
        ready=state.current,
        address=f"Deployment {meta['namespace']}/{meta['name']}",
        detail=detail,
        replicas=replicas,
        images=images,
    )


def _metric(spec: dict[str, Any], current: dict[str, Any] | None) -> str:
    """``cpu 45% / 70%`` from an autoscaling/v2 metric spec and its current value."""
    kind = spec.get("type", "")
    body = spec.get(kind[:1].lower() + kind[1:], {}) if kind else {}
    name = (body.get("name") or (body.get("metric") or {}).get("name") or kind).lower()
    target = body.get("target") or {}
    wanted = target.get("averageUtilization")
    unit = "%" if wanted is not None else ""
    wanted = wanted if wanted is not None else target.get("averageValue", target.get("value", "?"))
    now = "?"
    if current:
        cbody = current.get(kind[:1].lower() + kind[1:], {}) or {}
        value = cbody.get("current") or {}
        found = value.get("averageUtilization", value.get("averageValue", value.get("value")))
        now = "?" if found is None else str(found)
    return f"{name} {now}{unit if now != '?' else ''} / {wanted}{unit}"


def _autoscaler(hpa: dict[str, Any]) -> Autoscaler:
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    currents = status.get("currentMetrics") or []
    metrics = [
        _metric(m, currents[i] if i < len(currents) else None)
        for i, m in enumerate(spec.get("metrics") or [])
    ]
    ref = spec.get("scaleTargetRef") or {}
    return Autoscaler(
        name=hpa["metadata"]["name"],
        target=f"{ref.get('kind', '')} {ref.get('name', '')}",
        current=int(status.get("currentReplicas", 0)),
        desired=int(status.get("desiredReplicas", 0)),
        min=int(spec.get("minReplicas", 1)),
        max=int(spec.get("maxReplicas", 0)),
        metrics=metrics,
    )


def _budget(pdb: dict[str, Any]) -> Budget:
    status = pdb.get("status") or {}
    return Budget(
        name=pdb["metadata"]["name"],
        allowed_disruptions=int(status.get("disruptionsAllowed", 0)),
        current_healthy=int(status.get("currentHealthy", 0)),
        desired_healthy=int(status.get("desiredHealthy", 0)),
    )


def read_status(api: KubeApi, namespace: str, env_name: str) -> TargetStatus:
    labels = f"{DEPLOY_LABEL}={env_name}"
    deployments = api.list_objects("apps/v1", "Deployment", namespace, labels=labels)
    if not deployments:
        return TargetStatus(deployed=False, workloads=[])
    current = Journal(api, namespace).current()
    events = warning_events(api, namespace)[-WARNINGS_SHOWN:]
    return TargetStatus(
        deployed=True,
        workloads=[_workload(d) for d in sorted(deployments, key=lambda d: d["metadata"]["name"])],
        revision=current.revision if current else None,
        git_commit=current.git_commit if current else "",
        autoscalers=[
            _autoscaler(h)
            for h in api.list_objects(
                "autoscaling/v2", "HorizontalPodAutoscaler", namespace, labels=labels
            )
        ],
        budgets=[
            _budget(p)
            for p in api.list_objects("policy/v1", "PodDisruptionBudget", namespace, labels=labels)
        ],
        warnings=[event_line(e) for e in events],
    )
