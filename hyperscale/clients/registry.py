"""Container registries: the distribution v2 HTTP API (the local registry) and ECR (boto3).

Both are reduced to the same facts for `hyperscale images`: per repository, each image's
manifest digest, its tags and when it was pushed (or created).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyperscale.config.models import Aws
from hyperscale.errors import ExternalSystemError

HTTP_OK = 200
HTTP_NOT_FOUND = 404
CATALOG_PAGE = 1000

#: Manifest kinds a v2 registry may hold; asked for in this order so the digest is the pushed one.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)


@dataclass
class RegistryImage:
    """One manifest in a repository: what cleanup decides about."""

    repository: str
    digest: str
    tags: list[str] = field(default_factory=list)
    #: When it was pushed (ECR) or created (the image config's `created`, v2 registries).
    pushed_at: dt.datetime | None = None


@dataclass(frozen=True)
class RegistryClient:
    """The distribution v2 API over plain HTTP (a registry on loopback)."""

    base_url: str
    timeout: float = 10.0

    def _request(
        self, method: str, path: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(  # noqa: S310 - the environment's own registry
            self.base_url.rstrip("/") + path, method=method, headers=dict(headers or {})
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return int(response.status), dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), dict(exc.headers), exc.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ExternalSystemError(
                f"no registry answers at {self.base_url}: {reason}",
                hint="start it with `hyperscale local up registry`",
            ) from None

    def _json(self, path: str) -> Any:
        status, _, body = self._request("GET", path)
        if status != HTTP_OK:
            raise ExternalSystemError(f"registry GET {path} answered HTTP {status}")
        return json.loads(body)

    def check(self) -> str:
        status, headers, _ = self._request("GET", "/v2/")
        if status != HTTP_OK:
            raise ExternalSystemError(f"registry at {self.base_url} answered /v2/ with {status}")
        version = headers.get("Docker-Distribution-Api-Version", "registry/2.0")
        return f"{version} at {self.base_url}"

    def repositories(self) -> list[str]:
        """Every repository, a page at a time (the registry caps a page at 1000)."""
        found: list[str] = []
        last = ""
        while True:
            query = f"?n={CATALOG_PAGE}" + (f"&last={urllib.parse.quote(last)}" if last else "")
            page: list[str] = self._json(f"/v2/_catalog{query}").get("repositories") or []
            found += page
            if len(page) < CATALOG_PAGE:
                return sorted(found)
            last = page[-1]

    def tags(self, repository: str) -> list[str]:
        status, _, body = self._request("GET", f"/v2/{repository}/tags/list")
        if status == HTTP_NOT_FOUND:
            return []
        if status != HTTP_OK:
            raise ExternalSystemError(f"registry tags of {repository} answered HTTP {status}")
        return sorted(json.loads(body).get("tags") or [])

    def manifest(self, repository: str, reference: str) -> tuple[str, dict[str, Any]] | None:
        """The digest and the manifest of a tag or digest, None if the registry has none."""
        status, headers, body = self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", {"Accept": MANIFEST_TYPES}
        )
        if status == HTTP_NOT_FOUND:
            return None
        if status != HTTP_OK:
            raise ExternalSystemError(f"registry manifest {repository}:{reference}: HTTP {status}")
        return headers.get("Docker-Content-Digest", ""), json.loads(body)

    def created(self, repository: str, manifest: Mapping[str, Any]) -> dt.datetime | None:
        """The image's creation time from its config blob (a v2 registry keeps no push time)."""
        config = manifest.get("config") or {}
        if "digest" not in config:
            return None
        data = self._json(f"/v2/{repository}/blobs/{config['digest']}")
        value = data.get("created")
        return _parse_time(value) if isinstance(value, str) else None

    def images(self, repository: str) -> list[RegistryImage]:
        by_digest: dict[str, RegistryImage] = {}
        for tag in self.tags(repository):
            found = self.manifest(repository, tag)
            if found is None:
                continue
            digest, manifest = found
            image = by_digest.get(digest)
            if image is None:
                created = self.created(repository, manifest)
                image = by_digest[digest] = RegistryImage(repository, digest, pushed_at=created)
            image.tags.append(tag)
        return list(by_digest.values())

    def delete(self, repository: str, digest: str) -> None:
        status, _, body = self._request("DELETE", f"/v2/{repository}/manifests/{digest}")
        if status not in (HTTP_OK, 202, HTTP_NOT_FOUND):
            raise ExternalSystemError(
                f"registry refused to delete {repository}@{digest}: HTTP {status}"
                f" {body[:200].decode(errors='replace')}",
                hint="the registry needs storage.delete.enabled",
            )


def _parse_time(value: str) -> dt.datetime | None:
    # Go writes nanoseconds; Python's fromisoformat takes at most microseconds.
    head, _, rest = value.partition(".")
    if rest:
        digits = "".join(c for c in rest if c.isdigit())[:6]
        zone = rest[len("".join(c for c in rest if c.isdigit())) :]
        value = f"{head}.{digits}{zone}"
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# -- ECR -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcrLogin:
    registry: str
    username: str
    password: str


def _ecr(aws: Aws, credentials: Mapping[str, str] | None) -> Any:
    from hyperscale.clients.aws import aws_client

    return aws_client(aws, "ecr", credentials=credentials)


def _ecr_error(action: str, exc: Exception) -> ExternalSystemError:
    return ExternalSystemError(f"ECR {action} failed: {exc}")


def ecr_login(aws: Aws, credentials: Mapping[str, str] | None = None) -> EcrLogin:
    """A registry login from ``get_authorization_token``; the password is a secret."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        data = _ecr(aws, credentials).get_authorization_token()["authorizationData"][0]
    except (BotoCoreError, ClientError) as exc:
        raise _ecr_error("get_authorization_token", exc) from None
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    endpoint = str(data["proxyEndpoint"]).removeprefix("https://").removeprefix("http://")
    return EcrLogin(endpoint, user, password)


def ecr_ensure_repository(
    aws: Aws, repository: str, credentials: Mapping[str, str] | None = None
) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    client = _ecr(aws, credentials)
    try:
        client.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "RepositoryAlreadyExistsException":
            raise _ecr_error("create_repository", exc) from None
    except BotoCoreError as exc:
        raise _ecr_error("create_repository", exc) from None


def ecr_repositories(aws: Aws, credentials: Mapping[str, str] | None = None) -> list[str]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = _ecr(aws, credentials).get_paginator("describe_repositories").paginate()
        return sorted(r["repositoryName"] for page in pages for r in page["repositories"])
    except (BotoCoreError, ClientError) as exc:
        raise _ecr_error("describe_repositories", exc) from None


def ecr_images(
    aws: Aws, repository: str, credentials: Mapping[str, str] | None = None
) -> list[RegistryImage]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pages = (
            _ecr(aws, credentials)
            .get_paginator("describe_images")
            .paginate(repositoryName=repository)
        )
        return [
            RegistryImage(
                repository,
                detail["imageDigest"],
                sorted(detail.get("imageTags") or []),
                detail.get("imagePushedAt"),
            )
            for page in pages
            for detail in page["imageDetails"]
        ]
    except (BotoCoreError, ClientError) as exc:
        raise _ecr_error(f"describe_images of {repository}", exc) from None


def ecr_delete(
    aws: Aws, repository: str, digests: Sequence[str], credentials: Mapping[str, str] | None = None
) -> list[str]:
    """Delete by digest (100 per call); returns the digests ECR reported as failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    failed: list[str] = []
    client = _ecr(aws, credentials)
    for start in range(0, len(digests), 100):
        batch = [{"imageDigest": d} for d in digests[start : start + 100]]
        try:
            answer = client.batch_delete_image(repositoryName=repository, imageIds=batch)
        except (BotoCoreError, ClientError) as exc:
            raise _ecr_error(f"batch_delete_image in {repository}", exc) from None
        failed += [f["imageId"].get("imageDigest", "?") for f in answer.get("failures", [])]
    return failed
