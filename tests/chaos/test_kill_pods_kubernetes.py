"""`hyperscale chaos kill-pods` on the sandbox cluster (kwok nodes): pods evicted through the
eviction API, a PodDisruptionBudget respected, recovery measured and checked against an
independent poll of the same pods (issue 14, item 1)."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import codecs
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod
from lightkube.resources.policy_v1 import PodDisruptionBudget

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.conftest import Sandbox, invoke
from tests.support import pod_ready, wait_for

pytestmark = pytest.mark.k8s

REPLICAS = 3
MIN_AVAILABLE = 2


@pytest.fixture
def drill_app(
    sandbox: Sandbox,
    local_env: Environment,
    shared_app: AppContext,
    namespace: str,
    tmp_path: Path,
) -> AppContext:
    """An environments directory whose sandbox allows chaos in this test's namespace only."""
    environments = tmp_path / "environments"
    shutil.copytree(shared_app.environments_dir, environments)
    path = environments / "sandbox.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["target"]["namespace"] = namespace
    # kwok pods are ready at once: a short steady-state wait keeps a deviated drill short.
    data["chaos"].update(
        allowed_namespaces=[namespace], max_pods_per_drill=2, steady_state_timeout_s=5
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return AppContext(
        state_dir=shared_app.state_dir,  # the cluster's kubeconfig lives there
        cache_dir=shared_app.cache_dir,
        environments_dir=environments,
        environ={},
    )


def _web(namespace: str) -> Any:
    labels = {"app": "web"}
    return codecs.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": REPLICAS,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "example.com/web:1"}]},
                },
            },
        }
    )


def _pdb(namespace: str, min_available: int = MIN_AVAILABLE) -> Any:
    return codecs.from_dict(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": "web"}}},
        }
    )


@pytest.fixture
def web(kube: Any, namespace: str) -> str:
    """Deployment web (3 replicas) behind a PDB with minAvailable 2, all ready and observed."""
    kube.apply(_web(namespace))
    kube.apply(_pdb(namespace))

    def settled() -> bool:
        pdb = kube.get(PodDisruptionBudget, "web", namespace=namespace)
        ready = [p for p in kube.list(Pod, namespace=namespace) if pod_ready(p)]
        return bool(
            len(ready) == REPLICAS
            and pdb.status
            and pdb.status.observedGeneration == pdb.metadata.generation
            and pdb.status.currentHealthy == REPLICAS
        )

    wait_for(settled, 60, "3 ready pods and the PDB observed")
    return namespace


@dataclass
class PodWatch:
    """An independent view of the pods: a watch started by the test, every event in order."""

    fewest_ready: int = REPLICAS
    gone_at: dict[str, float] = field(default_factory=dict)
    ready_at: dict[str, float] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    started: threading.Event = field(default_factory=threading.Event)


def _watch(kube: Any, namespace: str, stop: threading.Event, seen: PodWatch) -> None:
    """Ready pods after each event; when each original pod went, each new one got ready."""
    listed = kube.list(Pod, namespace=namespace, labels={"app": "web"})
    pods = {p.metadata.name: p for p in listed}
    seen.names = set(pods)
    version = listed.resourceVersion
    seen.started.set()
    while not stop.is_set():
        for event, pod in kube.watch(
            Pod, namespace=namespace, labels={"app": "web"}, server_timeout=2,
            resource_version=version,
        ):  # fmt: skip
            now, name = time.monotonic(), pod.metadata.name
            version = pod.metadata.resourceVersion
            if event == "DELETED":
                pods.pop(name, None)
            else:
                pods[name] = pod
            if name in seen.names and (event == "DELETED" or pod.metadata.deletionTimestamp):
                seen.gone_at.setdefault(name, now)
            if name not in seen.names and event != "DELETED" and pod_ready(pod):
                seen.ready_at.setdefault(name, now)
            seen.fewest_ready = min(seen.fewest_ready, sum(map(pod_ready, pods.values())))
            if stop.is_set():
                return


def _versions(kube: Any, namespace: str) -> dict[str, str]:
    objects = [
        *kube.list(Pod, namespace=namespace),
        kube.get(Deployment, "web", namespace=namespace),
        kube.get(PodDisruptionBudget, "web", namespace=namespace),
    ]
    return {f"{type(o).__name__}/{o.metadata.name}": o.metadata.resourceVersion for o in objects}


def _kill_pods(app: AppContext, *args: str) -> Any:
    return invoke(app, "chaos", "kill-pods", "--env", "sandbox", *args)


def test_evicting_two_of_three_never_leaves_fewer_than_min_available(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    stop, seen = threading.Event(), PodWatch()
    watcher = threading.Thread(target=_watch, args=(kube, web, stop, seen), daemon=True)
    watcher.start()
    try:
        assert seen.started.wait(10)
        outcome = _kill_pods(drill_app, "-n", web, "-l", "app=web", "--count", "2", "-o", "json")
        wait_for(lambda: len(seen.ready_at) >= 2, 30, "the watch to see both replacements ready")
    finally:
        stop.set()  # the watch ends at its next event or server timeout; no need to wait

    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "ok", report["checks"]
    measured = report["measurements"]
    assert measured["min_ready.pdb.web"] >= MIN_AVAILABLE
    # Watched event by event, the whole drill long: 3 - 2 would be 1 had the second eviction
    # not waited for the first replacement to be ready.
    assert seen.fewest_ready >= MIN_AVAILABLE
    notes = [e["what"] for e in report["timeline"] if e["kind"] == "note"]
    assert len([n for n in notes if ": evicted" in n]) == 2

    drill = sorted(v for k, v in measured.items() if k.startswith("recovery_s."))
    gone = sorted(seen.gone_at.values())
    independent = sorted(r - g for r, g in zip(sorted(seen.ready_at.values()), gone, strict=False))
    print(f"recovery by kill-pods {drill}, by the independent watch {independent}")
    assert len(drill) == len(independent) == 2
    for ours, theirs in zip(drill, independent, strict=True):
        assert abs(ours - theirs) < 1.0


def test_dry_run_shows_the_headroom_and_changes_nothing(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    before = _versions(kube, web)
    outcome = _kill_pods(
        drill_app, "-n", web, "-l", "app=web", "--count", "2", "--dry-run", "-o", "json"
    )
    assert outcome.exit_code == 0, outcome.stderr
    plan = json.loads(outcome.stdout)["data"]
    assert len(plan["kills"]) == 2
    assert plan["how"] == "evict"
    [budget] = plan["budgets"]
    assert budget["headroom"] == REPLICAS - MIN_AVAILABLE
    assert "1 eviction(s) wait" in budget["impact"]
    assert _versions(kube, web) == before


def test_a_namespace_outside_the_allow_list_is_refused_before_anything(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    before = _versions(kube, web)
    outcome = _kill_pods(drill_app, "-n", "kube-system", "-l", "app=web")
    assert outcome.exit_code == 2
    assert "allowed_namespaces" in outcome.stderr
    assert _versions(kube, web) == before


def test_a_pod_that_is_never_replaced_ends_deviated_with_exit_1(
    kube: Any, namespace: str, drill_app: AppContext
) -> None:
    """A bare pod (no Deployment behind it) deleted with --force never comes back."""
    name = f"lonely-{uuid.uuid4().hex[:6]}"
    kube.create(
        codecs.from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "example.com/c:1"}]},
            }
        )
    )
    wait_for(lambda: pod_ready(kube.get(Pod, name, namespace=namespace)), 60, "the pod ready")
    outcome = _kill_pods(
        drill_app, "-l", f"app={name}", "--force", "--recovery-timeout", "3s", "-o", "json"
    )
    assert outcome.exit_code == 1, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "deviated"
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    assert f"{name} replaced by a ready instance" in failed


def test_a_deploy_in_progress_refuses_the_drill(kube: Any, web: str, drill_app: AppContext) -> None:
    from hyperscale.config.loader import load_environment
    from hyperscale.targets import for_env

    env = load_environment(drill_app, "sandbox")
    with for_env(env, drill_app).locked("a deploy in the test", "deploy"):
        before = _versions(kube, web)
        outcome = _kill_pods(drill_app, "-l", "app=web")
        assert outcome.exit_code == 2, outcome.stdout + outcome.stderr
        assert "holds the lock" in outcome.stderr
        assert _versions(kube, web) == before


def test_a_budget_that_never_allows_the_eviction_is_waited_on_then_deviated(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    """minAvailable 3 of 3: every eviction is refused (429); the drill retries until its
    timeout, kills nothing, and ends deviated."""
    kube.apply(_pdb(web, min_available=REPLICAS), force=True)
    wait_for(
        lambda: kube.get(PodDisruptionBudget, "web", namespace=web).status.disruptionsAllowed == 0,
        30,
        "the PDB to allow no disruption",
    )
    pods = {p.metadata.name for p in kube.list(Pod, namespace=web)}
    outcome = _kill_pods(
        drill_app, "-n", web, "-l", "app=web", "--recovery-timeout", "2s", "-o", "json"
    )
    assert outcome.exit_code == 1, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "deviated"
    assert "refused its eviction" in report["error"]
    assert {p.metadata.name for p in kube.list(Pod, namespace=web)} == pods


def test_with_an_opt_in_label_only_pods_that_carry_it_are_targets(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    path = drill_app.environments_dir / "sandbox.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["chaos"]["opt_in_label"] = "hyperscale.dev/chaos=opt-in"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    refused = _kill_pods(drill_app, "-l", "app=web", "--dry-run")
    assert refused.exit_code == 2
    assert "opt-in label" in refused.stderr

    [first, *_] = sorted(p.metadata.name for p in kube.list(Pod, namespace=web))
    pod = kube.get(Pod, first, namespace=web)
    pod.metadata.labels["hyperscale.dev/chaos"] = "opt-in"
    kube.replace(pod)
    planned = _kill_pods(drill_app, "-l", "app=web", "--dry-run", "-o", "json")
    assert planned.exit_code == 0, planned.stderr
    assert [k["name"] for k in json.loads(planned.stdout)["data"]["kills"]] == [first]


def test_a_deploy_is_refused_while_a_drill_runs(
    kube: Any, namespace: str, drill_app: AppContext
) -> None:
    """The drill holds the environment's Lease: the lock a deploy takes is refused meanwhile."""
    from hyperscale.chaos.core import KillPodsSettings, kill_pods
    from hyperscale.config.loader import load_environment
    from hyperscale.errors import UsageError
    from hyperscale.targets import for_env

    name = f"lonely-{uuid.uuid4().hex[:6]}"
    kube.create(
        codecs.from_dict(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "example.com/c:1"}]},
            }
        )
    )
    wait_for(lambda: pod_ready(kube.get(Pod, name, namespace=namespace)), 60, "the pod ready")
    env = load_environment(drill_app, "sandbox")
    settings = KillPodsSettings(selector=f"app={name}", force=True, recovery_timeout_s=4)
    drill = threading.Thread(target=kill_pods, args=(env, drill_app, settings), daemon=True)
    drill.start()
    target = for_env(env, drill_app)
    wait_for(lambda: target.deploy_holder() is not None, 10, "the drill to hold the lock")
    with pytest.raises(UsageError) as refused, target.locked("a deploy", "deploy"):
        pass
    assert "chaos kill-pods" in str(refused.value.message) + str(refused.value.hint)
    drill.join(30)
    assert target.deploy_holder() is None  # released at the drill's end


def test_a_protected_environment_needs_yes(kube: Any, web: str, drill_app: AppContext) -> None:
    path = drill_app.environments_dir / "sandbox.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["protected"] = True
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    before = _versions(kube, web)
    outcome = _kill_pods(drill_app, "-l", "app=web")
    assert outcome.exit_code == 2
    assert "--yes" in outcome.stderr
    assert _versions(kube, web) == before


def test_another_workload_failing_mid_drill_aborts_it_while_it_waits_on_the_budget(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    """minAvailable 3 of 3: the eviction is refused and waited on. Meanwhile a workload the
    drill does not target loses its pods: the guard aborts the drill (verdict aborted, exit 1),
    the eviction is given up at once rather than at the timeout, and no pod was evicted."""
    from hyperscale.chaos.core import KillPodsSettings, kill_pods
    from hyperscale.config.loader import load_environment
    from hyperscale.drills.results import DrillReport

    kube.apply(_pdb(web, min_available=REPLICAS), force=True)
    other = _web(web)
    other.metadata.name = "other"
    other.metadata.labels = other.spec.selector.matchLabels = {"app": "other"}
    other.spec.template.metadata.labels = {"app": "other"}
    other.spec.replicas = 1
    kube.apply(other)
    wait_for(
        lambda: (
            kube.get(PodDisruptionBudget, "web", namespace=web).status.disruptionsAllowed == 0
            and any(pod_ready(p) for p in kube.list(Pod, namespace=web, labels={"app": "other"}))
        ),
        30,
        "the PDB to allow no disruption and the other workload ready",
    )
    pods = {p.metadata.name for p in kube.list(Pod, namespace=web, labels={"app": "web"})}
    broken: list[float] = []

    def progress(step: str) -> None:
        if step.startswith("kill ") and not broken:
            kube.patch(Deployment, "other", {"spec": {"replicas": 0}}, namespace=web)
            broken.append(time.monotonic())

    env = load_environment(drill_app, "sandbox")
    settings = KillPodsSettings(web, "app=web", recovery_timeout_s=60)
    report = kill_pods(env, drill_app, settings, progress)
    assert isinstance(report, DrillReport)
    assert broken
    assert report.verdict == "aborted", (report.checks, report.error)
    assert report.exit_code == 1
    assert report.stopped is not None
    assert "other" in report.stopped.why
    assert time.monotonic() - broken[0] < 30  # given up, not waited out (60 s)
    assert "given up" in (report.error or "")
    journal = json.loads(Path(report.journal).read_text(encoding="utf-8"))
    assert journal["stopped"]["kind"] == "aborted"
    assert {p.metadata.name for p in kube.list(Pod, namespace=web, labels={"app": "web"})} == pods
