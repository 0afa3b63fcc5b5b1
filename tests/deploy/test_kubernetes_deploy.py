"""`hyperscale deploy`, `rollback`, `status` and `deploy history` on the sandbox cluster, as a
user runs them: the real API server, controllers and scheduler, kwok's pods (with the sandbox's
failure stages), the real local registry the digests come from, and the real Kafka and MariaDB
the deploy migrates and reconciles first.

The tests of this module share one namespace and run in order: a good deploy first, then what
is done to it. Rollouts are slow on purpose in the manifests (minReadySeconds, one surge pod at
a time), so the module deploys new images only where the behaviour needs it.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from typing import Any

import pytest

from hyperscale.clients.kube_api import KubeApi
from hyperscale.config.loader import load_environment
from hyperscale.targets.kube import lock
from tests.conftest import invoke
from tests.deploy.conftest import KubeDeployEnv

pytestmark = [pytest.mark.k8s, pytest.mark.registry, pytest.mark.services]

DEPLOYMENTS = ("platform-api", "platform-consumer")


def deploy(kd: KubeDeployEnv, *args: str) -> tuple[int, dict[str, Any], str]:
    outcome = invoke(kd.app, "deploy", "--env", "sandbox", "-o", "json", *args)
    document = json.loads(outcome.stdout) if outcome.stdout.strip() else {}
    return outcome.exit_code, document, outcome.stderr


def kubectl(kd: KubeDeployEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*kd.kubectl, *args], capture_output=True, text=True, check=False, timeout=60
    )


def live_images(kd: KubeDeployEnv) -> dict[str, str]:
    found = {}
    for name in DEPLOYMENTS:
        out = kubectl(kd, "get", "deployment", name, "-o", "json")
        spec = json.loads(out.stdout)["spec"]["template"]["spec"]
        found[name] = spec["containers"][0]["image"]
    return found


def api(kd: KubeDeployEnv) -> KubeApi:
    env = load_environment(kd.app, "sandbox")
    return KubeApi(kd.app.expand_path(env.target.kubeconfig or ""), env.target.context or "")


@pytest.fixture(scope="module")
def good(kdeploy: KubeDeployEnv) -> dict[str, Any]:
    """The first deploy of the module: a good build, its tag and digests, and the result."""
    tag = kdeploy.tag("good")
    digests = kdeploy.seed(tag)
    code, document, stderr = deploy(kdeploy, "--image-tag", tag)
    assert code == 0, (document, stderr)
    return {"tag": tag, "digests": digests, "data": document["data"]}


def test_a_good_deploy_pins_digests_and_every_workload_is_ready(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    data = good["data"]
    assert data["target"] == "kubernetes"
    assert {p["name"]: p["ready"] for p in data["programs"]} == dict.fromkeys(DEPLOYMENTS, True)
    host = kdeploy.registry.removeprefix("http://")
    api_digest = good["digests"]["hyperscale/api"]
    assert live_images(kdeploy)["platform-api"] == (
        f"{host}/hyperscale/api:{good['tag']}@{api_digest}"
    )
    assert "Deployment " + kdeploy.namespace + "/platform-api" in data["objects"]["added"]
    # kubectl agrees with what hyperscale reported.
    for name in DEPLOYMENTS:
        out = kubectl(kdeploy, "rollout", "status", f"deployment/{name}", "--timeout=10s")
        assert out.returncode == 0, out.stderr
        assert "successfully rolled out" in out.stdout


def test_a_second_deploy_changes_nothing_and_says_so(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    code, document, _ = deploy(kdeploy, "--image-tag", good["tag"])
    assert code == 0
    data = document["data"]
    assert data["changed"] is False
    assert (data["objects"]["added"], data["objects"]["changed"], data["objects"]["pruned"]) == (
        [],
        [],
        [],
    )
    assert {p["action"] for p in data["programs"]} == {"unchanged"}
    table = invoke(kdeploy.app, "deploy", "--env", "sandbox", "--image-tag", good["tag"])
    assert "nothing changed" in table.stdout


def test_a_broken_image_is_named_and_rolled_back_ten_times_in_a_row(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    """--timeout 30s: a failure not named within 30 s would be reported as a Timeout."""
    broken = kdeploy.tag("bad") + "-crashloop"
    kdeploy.seed(broken)
    before = live_images(kdeploy)
    for attempt in range(10):
        code, document, _ = deploy(kdeploy, "--image-tag", broken, "--timeout", "30s")
        data = document["data"]
        assert code == 1, (attempt, data)
        assert document["status"] == "failed"
        named = data["failure_named"]
        assert named["reason"] == "CrashLoopBackOff", (attempt, named)
        assert named["workload"].rsplit("/", 1)[-1] in DEPLOYMENTS
        assert named["pod"].startswith(named["workload"].rsplit("/", 1)[-1])
        assert any("BackOff" in e for e in named["events"]), named
        assert data["rollback_ready"] is True
        assert data["rolled_back_to"] is not None
        assert live_images(kdeploy) == before
    status = invoke(kdeploy.app, "status", "--env", "sandbox", "-o", "json")
    assert status.exit_code == 0, status.stdout


def test_an_unknown_registry_host_is_named_as_image_pull_backoff(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    """The environment's registry moved to a host that cannot resolve: the pull fails."""
    env_file = kdeploy.app.environments_dir / "sandbox.yaml"
    original = env_file.read_text(encoding="utf-8")
    env_file.write_text(
        original + "kubernetes:\n  image_registry: registry.nowhere.invalid\n", encoding="utf-8"
    )
    try:
        code, document, _ = deploy(kdeploy, "--timeout", "30s")
    finally:
        env_file.write_text(original, encoding="utf-8")
    named = document["data"]["failure_named"]
    assert code == 1
    assert named["reason"] == "ImagePullBackOff", named
    assert document["data"]["rollback_ready"] is True


def test_status_json_is_the_pinned_envelope(kdeploy: KubeDeployEnv, good: dict[str, Any]) -> None:
    outcome = invoke(kdeploy.app, "status", "--env", "sandbox", "-o", "json")
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout)
    assert set(document) == {"apiVersion", "command", "status", "exit_code", "data", "errors"}
    assert (document["apiVersion"], document["command"]) == ("hyperscale.dev/v1", "status")
    data = document["data"]
    assert set(data) == {
        "environment",
        "target",
        "deployed",
        "programs",
        "revision",
        "git_commit",
        "autoscalers",
        "budgets",
        "warnings",
    }
    workload = data["programs"][0]
    assert set(workload) == {
        "name",
        "action",
        "pid",
        "address",
        "ready",
        "uptime_s",
        "detail",
        "replicas",
        "images",
    }
    assert set(workload["replicas"]) == {"desired", "updated", "ready", "available"}
    assert "@sha256:" in workload["images"][0]
    assert set(data["autoscalers"][0]) == {
        "name",
        "target",
        "current",
        "desired",
        "min",
        "max",
        "metrics",
    }
    budgets = {b["name"]: b for b in data["budgets"]}
    assert set(budgets["platform-api"]) == {
        "name",
        "allowed_disruptions",
        "current_healthy",
        "desired_healthy",
    }
    assert budgets["platform-api"]["allowed_disruptions"] >= 1


def test_status_exits_1_when_a_workload_is_not_ready(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    broken = kdeploy.tag("stuck") + "-crashloop"
    kdeploy.seed(broken)
    code, _, _ = deploy(kdeploy, "--image-tag", broken, "--no-rollback", "--timeout", "30s")
    assert code == 1
    try:
        outcome = invoke(kdeploy.app, "status", "--env", "sandbox", "-o", "json")
        assert outcome.exit_code == 1
        data = json.loads(outcome.stdout)["data"]
        assert not all(p["ready"] for p in data["programs"])
        assert any("BackOff" in w for w in data["warnings"])
    finally:
        back = invoke(kdeploy.app, "rollback", "--env", "sandbox", "-o", "json")
        assert back.exit_code == 0, back.stdout


def test_history_json_is_the_pinned_envelope(kdeploy: KubeDeployEnv, good: dict[str, Any]) -> None:
    broken = kdeploy.tag("history") + "-crashloop"
    kdeploy.seed(broken)
    code, _, _ = deploy(kdeploy, "--image-tag", broken, "--timeout", "30s")
    assert code == 1
    outcome = invoke(kdeploy.app, "deploy", "history", "--env", "sandbox", "-o", "json")
    assert outcome.exit_code == 0
    document = json.loads(outcome.stdout)
    assert document["command"] == "deploy history"
    entries = document["data"]["entries"]
    assert set(entries[0]) == {
        "revision",
        "action",
        "result",
        "who",
        "started_at",
        "duration_s",
        "git_commit",
        "image_tag",
        "images",
        "rolled_back_to",
        "reason",
        "failure",
    }
    results = [(e["action"], e["result"]) for e in entries]
    assert results[0] == ("deploy", "succeeded")
    rolled = entries[-1]
    assert (rolled["action"], rolled["result"], rolled["image_tag"]) == (
        "deploy",
        "rolled-back",
        broken,
    )
    assert "CrashLoopBackOff" in rolled["failure"]
    assert rolled["rolled_back_to"] is not None
    assert all("@sha256:" in ref for ref in rolled["images"].values())


def test_rollback_to_a_revision_restores_its_images(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    first = next(
        e["revision"]
        for e in json.loads(
            invoke(kdeploy.app, "deploy", "history", "--env", "sandbox", "-o", "json").stdout
        )["data"]["entries"]
        if e["image_tag"] == good["tag"] and e["result"] == "succeeded"
    )
    # Left broken (a quick failure, where a good new build would take a whole rollout).
    newer = kdeploy.tag("newer") + "-crashloop"
    kdeploy.seed(newer)
    code, _, _ = deploy(kdeploy, "--image-tag", newer, "--no-rollback", "--timeout", "30s")
    assert code == 1
    assert newer in live_images(kdeploy)["platform-api"]
    outcome = invoke(kdeploy.app, "rollback", "--env", "sandbox", "--to", str(first), "-o", "json")
    assert outcome.exit_code == 0, outcome.stdout
    assert json.loads(outcome.stdout)["data"]["action"] == "rollback"
    assert good["tag"] in live_images(kdeploy)["platform-api"]
    history = invoke(kdeploy.app, "deploy", "history", "--env", "sandbox", "-o", "json")
    last = json.loads(history.stdout)["data"]["entries"][-1]
    assert (last["action"], last["result"], last["rolled_back_to"]) == (
        "rollback",
        "succeeded",
        first,
    )


def test_a_second_deploy_while_one_holds_the_lock_is_refused_naming_the_holder(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    with api(kdeploy) as kube, lock.locked(kube, kdeploy.namespace, "db failover", "pytest"):
        outcome = invoke(kdeploy.app, "deploy", "--env", "sandbox", "--image-tag", good["tag"])
        assert outcome.exit_code == 2
        assert lock.whoami() in outcome.stderr
        assert "db failover" in outcome.stderr
        holder = lock.current_holder(kube, kdeploy.namespace)
        assert holder is not None
        assert holder.reason == "db failover"
    with api(kdeploy) as kube:
        assert lock.current_holder(kube, kdeploy.namespace) is None


def test_force_unlock_breaks_a_lock_left_behind_and_the_journal_says_why(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with api(kdeploy) as kube:  # a Lease another machine's deploy holds (and renews)
        kube.create(
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": lock.LEASE_NAME, "namespace": kdeploy.namespace},
                "spec": {
                    "holderIdentity": "ci@runner-7 pid 4242",
                    "acquireTime": stamp,
                    "renewTime": stamp,
                    "leaseDurationSeconds": 3600,
                },
            }
        )
    refused = invoke(kdeploy.app, "deploy", "--env", "sandbox", "--image-tag", good["tag"])
    assert refused.exit_code == 2
    assert "ci@runner-7 pid 4242" in refused.stderr
    outcome = invoke(
        kdeploy.app, "deploy", "--env", "sandbox", "--force-unlock", "--reason", "runner died"
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "broke the deploy lock held by ci@runner-7 pid 4242" in outcome.stdout
    code, _, _ = deploy(kdeploy, "--image-tag", good["tag"])
    assert code == 0
    history = invoke(kdeploy.app, "deploy", "history", "--env", "sandbox", "-o", "json")
    unlocks = [
        e for e in json.loads(history.stdout)["data"]["entries"] if e["action"] == "force-unlock"
    ]
    assert unlocks[-1]["reason"] == "runner died"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_deploy_interrupted_mid_rollout_leaves_no_lock_and_the_next_one_succeeds(
    kdeploy: KubeDeployEnv, good: dict[str, Any], signum: signal.Signals
) -> None:
    """Ctrl-C, or a cancelled CI job (SIGTERM): exit 130, the Lease released."""
    tag = kdeploy.tag("interrupted")
    kdeploy.seed(tag)
    command = [sys.executable, "-m", "hyperscale", "deploy", "--env", "sandbox", "--image-tag", tag]
    proc = subprocess.Popen(
        command, env=kdeploy.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # JSON progress lines, since stderr is a pipe
        if "updated" in json.loads(line).get("step", ""):
            break  # the workloads are rolling out
    proc.send_signal(signum)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    with api(kdeploy) as kube:
        assert lock.current_holder(kube, kdeploy.namespace) is None
    history = invoke(kdeploy.app, "deploy", "history", "--env", "sandbox", "-o", "json")
    last = json.loads(history.stdout)["data"]["entries"][-1]
    assert (last["result"], last["image_tag"]) == ("interrupted", tag)
    code, document, _ = deploy(kdeploy, "--image-tag", good["tag"])
    assert code == 0, document


def test_drift_shows_in_the_dry_run_and_the_next_deploy_restores_it(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    edited = kubectl(
        kdeploy, "patch", "configmap", "platform-config", "-p", '{"data":{"MYSQL_TLS":"true"}}'
    )
    assert edited.returncode == 0, edited.stderr
    code, document, _ = deploy(kdeploy, "--image-tag", good["tag"], "--dry-run")
    assert code == 0
    changes = {o["object"]: o for o in document["data"]["objects"] if o["action"] != "unchanged"}
    config = changes[f"ConfigMap {kdeploy.namespace}/platform-config"]
    assert config["action"] == "update"
    assert any(line.startswith("-") and "MYSQL_TLS: 'true'" in line for line in config["lines"])
    assert any(line.startswith("+") and "MYSQL_TLS: 'false'" in line for line in config["lines"])
    still = kubectl(kdeploy, "get", "configmap", "platform-config", "-o", "json")
    assert json.loads(still.stdout)["data"]["MYSQL_TLS"] == "true"  # a dry run changes nothing
    code, document, _ = deploy(kdeploy, "--image-tag", good["tag"])
    assert code == 0
    assert (
        f"ConfigMap {kdeploy.namespace}/platform-config" in document["data"]["objects"]["changed"]
    )
    restored = kubectl(kdeploy, "get", "configmap", "platform-config", "-o", "json")
    assert json.loads(restored.stdout)["data"]["MYSQL_TLS"] == "false"


def test_a_protected_environment_without_yes_is_refused_before_any_change(
    kdeploy: KubeDeployEnv, good: dict[str, Any]
) -> None:
    before = kubectl(kdeploy, "get", "configmap", "-o", "json")
    outcome = invoke(
        kdeploy.app, "deploy", "--env", "sandbox-protected", "--image-tag", good["tag"]
    )
    assert outcome.exit_code == 2
    assert "sandbox-protected is protected" in outcome.stderr
    after = kubectl(kdeploy, "get", "configmap", "-o", "json")
    versions = [
        {
            i["metadata"]["name"]: i["metadata"]["resourceVersion"]
            for i in json.loads(o.stdout)["items"]
        }
        for o in (before, after)
    ]
    assert versions[0] == versions[1]  # not even the journal was written
    with api(kdeploy) as kube:
        assert lock.current_holder(kube, kdeploy.namespace) is None
