"""The images this repository builds, where they go, and the build record deploy pins from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError

#: Repository names under the registry, as the rendered manifests reference them.
REPOSITORY_PREFIX = "hyperscale"


@dataclass(frozen=True)
class ImageSpec:
    name: str
    #: Relative to the repository root, which is the build context.
    containerfile: str

    @property
    def repository(self) -> str:
        return f"{REPOSITORY_PREFIX}/{self.name}"

    def local_ref(self, tag: str) -> str:
        return f"localhost/{self.repository}:{tag}"


IMAGES: dict[str, ImageSpec] = {
    spec.name: spec
    for spec in (
        ImageSpec("api", "services/api/Dockerfile"),
        ImageSpec("consumer", "services/consumer/Dockerfile"),
        ImageSpec("cli", "Dockerfile.cli"),
    )
}
#: What `images build` builds when no --service is given.
DEFAULT_IMAGES = ("api", "consumer")


def select_images(names: list[str] | None) -> list[ImageSpec]:
    unknown = sorted(set(names or []) - set(IMAGES))
    if unknown:
        raise UsageError(
            f"unknown service {', '.join(unknown)}", hint=f"choose from {', '.join(IMAGES)}"
        )
    chosen = names or list(DEFAULT_IMAGES)
    return [IMAGES[n] for n in IMAGES if n in chosen]


@dataclass(frozen=True)
class RegistryTarget:
    """Where an environment's images are pushed."""

    #: host[:port], the part before the repository in an image reference.
    host: str
    kind: str  # "local" (the v2 registry on loopback) or "ecr"

    def ref(self, spec: ImageSpec, tag: str) -> str:
        return f"{self.host}/{spec.repository}:{tag}"


def registry_for(env: Environment, app: AppContext) -> RegistryTarget:
    """The explicit ``kubernetes.image_registry``; else the local registry for environments
    without an AWS account (local, sandbox); else the account's ECR registry."""
    configured = env.kubernetes.image_registry
    if configured:
        host = configured.split("/", 1)[0]
        return RegistryTarget(host, "ecr" if ".dkr.ecr." in host else "local")
    if env.infra is None:
        return RegistryTarget(f"127.0.0.1:{local_registry_port(env, app)}", "local")
    return RegistryTarget(f"{env.aws.account_id}.dkr.ecr.{env.aws.region}.amazonaws.com", "ecr")


def local_registry_port(env: Environment, app: AppContext) -> int:
    """The registry `hyperscale local up registry` runs belongs to the local environment."""
    if env.local is not None:
        return env.runtime.registry_port
    from hyperscale.config.loader import available_environments, load_environment

    if "local" in available_environments(app):
        return load_environment(app, "local").runtime.registry_port
    return env.runtime.registry_port


# -- the build record ----------------------------------------------------------------------


def records_dir(app: AppContext) -> Path:
    return app.state_dir / "images" / "builds"


def record_path(app: AppContext, tag: str) -> Path:
    return records_dir(app) / f"{tag}.json"


def load_record(app: AppContext, tag: str | None = None) -> dict[str, Any] | None:
    """The record of ``tag``, or of the latest build."""
    path = record_path(app, tag) if tag else records_dir(app) / "latest.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save_record(app: AppContext, record: dict[str, Any]) -> Path:
    """Written whole through a temporary file: a reader never sees half a record."""
    path = record_path(app, str(record["tag"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    for target in (path, records_dir(app) / "latest.json"):
        partial = target.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
    return path
