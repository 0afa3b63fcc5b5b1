"""`hyperscale images cleanup` on the real registry (objects in the sandbox cluster protect
images) and on ECR (moto): exactly the expected set goes, dry runs delete nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import Sandbox, invoke, moto_client
from tests.images.seed import registry_tags, seed_image

NOW = dt.datetime.now(dt.UTC)
#: 30 images, image i created i days (and an hour) ago; these indexes are special.
RELEASE, BY_DIGEST, BY_TAG, BY_POD = 20, 15, 25, 28


def _tag(i: int) -> str:
    return f"c{i:02d}"


def _cleanup(app: AppContext, *args: str) -> tuple[int, dict[str, Any], str]:
    outcome = invoke(app, "images", "cleanup", *args, "-o", "json")
    data = json.loads(outcome.stdout)["data"] if outcome.stdout.strip() else {}
    return outcome.exit_code, data, outcome.stderr


def _workloads(kube: Any, namespace: str, repo_ref: str, digests: dict[int, str]) -> None:
    from lightkube.models.apps_v1 import DeploymentSpec
    from lightkube.models.batch_v1 import CronJobSpec, JobSpec, JobTemplateSpec
    from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
    from lightkube.models.meta_v1 import LabelSelector, ObjectMeta
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.batch_v1 import CronJob
    from lightkube.resources.core_v1 import Pod

    labels = {"app": "cleanup-test"}

    def pod_spec(image: str) -> PodSpec:
        return PodSpec(containers=[Container(name="c", image=image)], restartPolicy="Never")

    kube.create(
        Deployment(
            metadata=ObjectMeta(name="pinned", namespace=namespace),
            spec=DeploymentSpec(
                replicas=1,
                selector=LabelSelector(matchLabels=labels),
                template=PodTemplateSpec(
                    metadata=ObjectMeta(labels=labels),
                    spec=PodSpec(
                        containers=[Container(name="c", image=f"{repo_ref}@{digests[BY_DIGEST]}")]
                    ),
                ),
            ),
        )
    )
    kube.create(
        CronJob(
            metadata=ObjectMeta(name="nightly", namespace=namespace),
            spec=CronJobSpec(
                schedule="0 3 * * *",
                suspend=True,
                jobTemplate=JobTemplateSpec(
                    spec=JobSpec(
                        template=PodTemplateSpec(spec=pod_spec(f"{repo_ref}:{_tag(BY_TAG)}"))
                    )
                ),
            ),
        )
    )
    kube.create(
        Pod(
            metadata=ObjectMeta(name="one-off", namespace=namespace),
            spec=pod_spec(f"{repo_ref}@{digests[BY_POD]}"),
        )
    )


@pytest.mark.registry
@pytest.mark.k8s
def test_cleanup_of_the_local_registry_spares_referenced_and_protected_images(
    registry: str, kube: Any, namespace: str
) -> None:
    repository = f"hyperscale/t-{uuid.uuid4().hex[:10]}"
    digests: dict[int, str] = {}
    for i in range(30):
        tags = [_tag(i), "1.4.0"] if i == RELEASE else [_tag(i)]
        created = NOW - dt.timedelta(days=i, hours=1)
        digests[i] = seed_image(registry, repository, tags, created)
    host = registry.removeprefix("http://")
    _workloads(kube, namespace, f"{host}/{repository}", digests)

    kept = set(range(10)) | {RELEASE, BY_DIGEST, BY_TAG, BY_POD}
    doomed = {digests[i] for i in range(30) if i not in kept}
    assert len(doomed) == 16
    app = AppContext.from_os()
    args = ("--env", "sandbox", "--repository", repository, "--keep", "5", "--older-than", "10d")

    code, dry, stderr = _cleanup(app, *args)
    assert code == ExitCode.OK, stderr
    assert dry["dry_run"] is True
    assert {i["digest"] for i in dry["images"] if i["action"] == "delete"} == doomed
    survivors = {
        i["digest"]: " ".join(i["reasons"]) for i in dry["images"] if i["action"] == "keep"
    }
    assert "Deployment" in survivors[digests[BY_DIGEST]]
    assert "CronJob" in survivors[digests[BY_TAG]]
    assert "Pod" in survivors[digests[BY_POD]]
    assert "release tag 1.4.0" in survivors[digests[RELEASE]]
    assert "pushed within 10d" in survivors[digests[9]]
    assert "newest 5" in survivors[digests[0]]
    assert len(registry_tags(registry, repository)) == 31

    code, done, stderr = _cleanup(app, *args, "--yes")
    assert code == ExitCode.OK, stderr
    assert {d.split("@", 1)[1] for d in done["deleted"]} == doomed
    assert registry_tags(registry, repository) == {_tag(i) for i in kept} | {"1.4.0"}
    audit = json.loads(Path(done["audit"]).read_text())
    assert {e["digest"] for e in audit["deletions"]} == doomed
    assert {e["result"] for e in audit["deletions"]} == {"deleted"}


@pytest.mark.aws
@pytest.mark.k8s
def test_cleanup_on_ecr_moto_keeps_the_newest_and_releases(
    local_services: Environment,
    sandbox: Sandbox,
    isolated_app: AppContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An environment that pushes to ECR: the sandbox's cluster, its registry named ECR, and
    # boto3's ECR endpoint pointed at moto (an environment file may name moto only for the
    # local target; boto3's own AWS_ENDPOINT_URL_ECR does it here).
    data = yaml.safe_load((isolated_app.environments_dir / "sandbox.yaml").read_text())
    account, region = local_services.aws.account_id, local_services.aws.region
    data["name"] = "ecr"
    data.setdefault("kubernetes", {})["image_registry"] = (
        f"{account}.dkr.ecr.{region}.amazonaws.com"
    )
    data["target"]["kubeconfig"] = str(sandbox.kubeconfig)
    (isolated_app.environments_dir / "ecr.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", str(local_services.aws.endpoint_url))

    ecr = moto_client(local_services, "ecr")
    repository = f"hyperscale/t-{uuid.uuid4().hex[:10]}"
    ecr.create_repository(repositoryName=repository)
    digests: list[str] = []
    for i in range(30):
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{i:064x}", "size": i + 1},
                "layers": [],
            }
        )
        tag = "2.0.1" if i == 3 else f"c{i:02d}"
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        ecr.put_image(
            repositoryName=repository, imageManifest=manifest, imageTag=tag, imageDigest=digest
        )
        digests.append(digest)
    pushed = {
        d["imageDigest"]: d["imagePushedAt"]
        for d in ecr.describe_images(repositoryName=repository)["imageDetails"]
    }
    newest = sorted(pushed, key=lambda d: (pushed[d], d), reverse=True)[:5]
    kept = {*newest, digests[3]}
    args = ("--env", "ecr", "--repository", repository, "--keep", "5", "--older-than", "0s")

    code, dry, stderr = _cleanup(isolated_app, *args)
    assert code == ExitCode.OK, stderr
    assert {i["digest"] for i in dry["images"] if i["action"] == "delete"} == set(digests) - kept
    assert len(ecr.describe_images(repositoryName=repository)["imageDetails"]) == 30

    code, done, stderr = _cleanup(isolated_app, *args, "--yes")
    assert code == ExitCode.OK, stderr
    left = {
        d["imageDigest"] for d in ecr.describe_images(repositoryName=repository)["imageDetails"]
    }
    assert left == kept
    assert len(done["deleted"]) == 30 - len(kept)


def test_a_bad_duration_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "images", "cleanup", "--older-than", "a month")
    assert outcome.exit_code == ExitCode.USAGE
    assert "--older-than: 'a month' is not a duration such as 30d" in outcome.stderr
