"""Pin every image a deploy puts on Kubernetes to a digest.

The digest comes from the build record of `hyperscale images build --push` (the latest build,
as pushed to the environment's registry), or, with ``--image-tag``, from the registry itself.
References keep their tag before the digest (``host/hyperscale/api:3f2a9c1@sha256:...``): the
runtime pulls by digest, a person still reads which build it is. A protected environment takes
no image without a digest.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.images.catalog import IMAGES, REPOSITORY_PREFIX, load_record, registry_for


@dataclass
class PinnedImages:
    tag: str
    git_commit: str
    #: image name (api, consumer, cli) -> the reference workloads run
    refs: dict[str, str] = field(default_factory=dict)
    #: image names used by the objects but with no digest (refused for protected environments)
    unpinned: list[str] = field(default_factory=list)


def _image_name(ref: str) -> str | None:
    """``api`` for ``anything/hyperscale/api:tag`` (or @digest); None for images not ours."""
    path = ref.split("@", 1)[0]
    repo = path.rsplit(":", 1)[0] if ":" in path.rsplit("/", 1)[-1] else path
    prefix, _, name = repo.rpartition("/")
    return name if prefix.endswith(REPOSITORY_PREFIX) and name in IMAGES else None


def _used(objects: list[dict[str, Any]]) -> set[str]:
    from hyperscale.targets.kube.objects import containers

    return {
        name
        for obj in objects
        for c in containers(obj)
        if (name := _image_name(str(c.get("image", "")))) is not None
    }


def _registry_digest(env: Environment, app: AppContext, repository: str, tag: str) -> str | None:
    registry = registry_for(env, app)
    if registry.kind == "local":
        from hyperscale.clients.registry import RegistryClient

        found = RegistryClient(f"http://{registry.host}").manifest(repository, tag)
        return found[0] if found else None
    from hyperscale.clients.registry import ecr_images

    return next((i.digest for i in ecr_images(env.aws, repository) if tag in i.tags), None)


def pin_images(
    env: Environment, app: AppContext, objects: list[dict[str, Any]], image_tag: str | None
) -> tuple[list[dict[str, Any]], PinnedImages]:
    """The objects with every image of ours pinned, and what was pinned to what."""
    registry = registry_for(env, app)
    used = sorted(_used(objects))
    if image_tag:
        record = load_record(app, image_tag)
        pinned = PinnedImages(image_tag, str((record or {}).get("revision", "")))
        for name in used:
            repository = IMAGES[name].repository
            digest = _registry_digest(env, app, repository, image_tag)
            if digest:
                pinned.refs[name] = f"{registry.host}/{repository}:{image_tag}@{digest}"
            else:
                pinned.unpinned.append(name)
                pinned.refs[name] = f"{registry.host}/{repository}:{image_tag}"
    else:
        record = load_record(app)
        tag = str(record["tag"]) if record else env.kubernetes.image_tag
        pinned = PinnedImages(tag, str((record or {}).get("revision", "")))
        for name in used:
            entry = ((record or {}).get("images") or {}).get(name) or {}
            destination = registry.ref(IMAGES[name], tag)
            digest = (entry.get("registries") or {}).get(destination)
            if digest:
                pinned.refs[name] = f"{destination}@{digest}"
            else:
                pinned.unpinned.append(name)
    if pinned.unpinned and env.protected:
        names = ", ".join(pinned.unpinned)
        raise UsageError(
            f"{env.name} is protected and takes images only by digest: no digest of {pinned.tag}"
            f" for {names} in {registry.host}",
            hint="`hyperscale images build --push` (or --image-tag of a pushed build)",
        )
    return _rewrite(objects, pinned.refs), pinned


def _rewrite(objects: list[dict[str, Any]], refs: dict[str, str]) -> list[dict[str, Any]]:
    from hyperscale.targets.kube.objects import containers

    out = copy.deepcopy(objects)
    for obj in out:
        for c in containers(obj):
            name = _image_name(str(c.get("image", "")))
            if name in refs:
                c["image"] = refs[name]
    return out
