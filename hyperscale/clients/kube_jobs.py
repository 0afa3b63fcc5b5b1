"""CronJobs and the Jobs made from them (`hyperscale report schedule`), over the KubeClient
of hyperscale.clients.kube: apply rendered documents, create a Job from a CronJob as
`kubectl create job --from=cronjob/NAME` does, and read back what the cluster made of them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.clients.kube import KubeClient
from hyperscale.errors import ExternalSystemError


@dataclass(frozen=True)
class CronJobState:
    name: str
    namespace: str
    schedule: str
    time_zone: str | None
    concurrency_policy: str | None
    starting_deadline_s: int | None
    successful_history: int | None
    failed_history: int | None
    service_account: str | None
    image: str | None


@dataclass(frozen=True)
class JobState:
    name: str
    namespace: str
    #: The CronJob that owns it (None: made by hand).
    owner: str | None
    active: int
    succeeded: int
    failed: int
    #: Set by the job controller once it has picked the Job up.
    started: bool


@contextlib.contextmanager
def _kube_errors(kubeconfig: Path, context: str, what: str) -> Iterator[KubeClient]:
    import httpx2
    from lightkube import ApiError

    try:
        with KubeClient(kubeconfig, context) as kube:
            yield kube
    except ApiError as exc:
        raise ExternalSystemError(f"the API server refused {what}: {exc.status.message}") from None
    except (httpx2.HTTPError, OSError) as exc:
        raise ExternalSystemError(
            f"cannot reach the cluster of context {context} ({what}): {exc}",
            hint="is it running? `hyperscale local cluster up` for the sandbox",
        ) from None


def apply_documents(kubeconfig: Path, context: str, documents: list[dict[str, Any]]) -> list[str]:
    """Server-side apply each document; returns ``Kind namespace/name`` of each."""
    from lightkube.codecs import from_dict

    applied = []
    with _kube_errors(kubeconfig, context, "the apply") as kube:
        for document in documents:
            obj: Any = from_dict(document)
            kube.apply(obj, force=True)
            meta = document["metadata"]
            applied.append(f"{document['kind']} {meta.get('namespace', '')}/{meta['name']}")
    return applied


def cronjob_state(kubeconfig: Path, context: str, namespace: str, name: str) -> CronJobState:
    from lightkube.resources.batch_v1 import CronJob

    with _kube_errors(kubeconfig, context, f"reading CronJob {namespace}/{name}") as kube:
        cron: Any = kube.client.get(CronJob, name, namespace=namespace)
    spec = cron.spec
    pod = spec.jobTemplate.spec.template.spec
    return CronJobState(
        name,
        namespace,
        spec.schedule,
        spec.timeZone,
        spec.concurrencyPolicy,
        spec.startingDeadlineSeconds,
        spec.successfulJobsHistoryLimit,
        spec.failedJobsHistoryLimit,
        pod.serviceAccountName,
        pod.containers[0].image if pod.containers else None,
    )


def create_job_from_cronjob(
    kubeconfig: Path, context: str, namespace: str, cronjob: str, job: str
) -> str:
    """A Job from the CronJob's template, owned by it, marked as started by hand (the same
    object `kubectl create job --from=cronjob/NAME` makes). Returns its uid."""
    from lightkube.models.meta_v1 import ObjectMeta, OwnerReference
    from lightkube.resources.batch_v1 import CronJob, Job

    with _kube_errors(kubeconfig, context, f"creating Job {namespace}/{job}") as kube:
        cron: Any = kube.client.get(CronJob, cronjob, namespace=namespace)
        template = cron.spec.jobTemplate
        labels = dict(template.metadata.labels or {}) if template.metadata else {}
        created: Any = kube.client.create(
            Job(
                metadata=ObjectMeta(
                    name=job,
                    namespace=namespace,
                    labels=labels,
                    annotations={"cronjob.kubernetes.io/instantiate": "manual"},
                    ownerReferences=[
                        OwnerReference(
                            apiVersion="batch/v1",
                            kind="CronJob",
                            name=cronjob,
                            uid=cron.metadata.uid,
                            controller=True,
                        )
                    ],
                ),
                spec=template.spec,
            )
        )
    return str(created.metadata.uid)


def job_state(kubeconfig: Path, context: str, namespace: str, name: str) -> JobState:
    from lightkube.resources.batch_v1 import Job

    with _kube_errors(kubeconfig, context, f"reading Job {namespace}/{name}") as kube:
        job: Any = kube.client.get(Job, name, namespace=namespace)
    owners = [o.name for o in job.metadata.ownerReferences or [] if o.kind == "CronJob"]
    status = job.status
    return JobState(
        name,
        namespace,
        owners[0] if owners else None,
        (status.active or 0) if status else 0,
        (status.succeeded or 0) if status else 0,
        (status.failed or 0) if status else 0,
        bool(status and status.startTime),
    )
