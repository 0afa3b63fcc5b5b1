"""`hyperscale images base|build|push`: builds tagged by the commit, pushed and pinned by digest.

Returns typed results; never prints. Every podman/buildah/skopeo call goes through
hyperscale.clients.containers; registries through hyperscale.clients.registry.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hyperscale.clients.containers import Containers
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.images.base import BASE_IMAGE, BaseImage, ensure_base
from hyperscale.images.catalog import (
    ImageSpec,
    RegistryTarget,
    load_record,
    registry_for,
    save_record,
    select_images,
)
from hyperscale.images.results import BaseResult, BuildResult, BuiltImage
from hyperscale.images.source import revision
from hyperscale.progress import Progress, quiet


def base(app: AppContext, *, rebuild: bool = False, progress: Progress = quiet) -> BaseResult:
    return BaseResult(ensure_base(app, rebuild=rebuild, progress=progress))


def build(
    env: Environment,
    app: AppContext,
    services: list[str] | None = None,
    *,
    push_after: bool = False,
    progress: Progress = quiet,
) -> BuildResult:
    specs = select_images(services)
    rev = revision(app.repo_root)
    if rev.dirty and env.protected:
        raise UsageError(
            f"the working tree has uncommitted changes: {env.name} is protected and takes only"
            " images of a commit",
            hint="commit or stash the changes, or build for a sandbox environment",
        )
    registry = registry_for(env, app) if push_after else None
    if registry is not None and registry.kind == "local":
        _require_local_registry(registry)
    base_image = ensure_base(app, progress=progress)
    containers = Containers(app)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    built: list[BuiltImage] = []
    for spec in specs:
        progress(f"building {spec.name} ({rev.tag})")
        started = time.monotonic()
        ref = spec.local_ref(rev.tag)
        image_id = containers.build(
            context=app.repo_root,
            containerfile=app.repo_root / spec.containerfile,
            tags=[ref],
            build_args={"PYTHON_IMAGE": BASE_IMAGE},
            labels={
                "org.opencontainers.image.revision": rev.commit,
                "org.opencontainers.image.source": rev.source_url,
                "org.opencontainers.image.created": created,
                "org.opencontainers.image.version": rev.tag,
                "org.opencontainers.image.title": spec.repository,
            },
            ignore_file=_ignore_file(app.repo_root, spec),
        )
        built.append(BuiltImage(spec.name, ref, image_id, time.monotonic() - started))
    record: dict[str, Any] = {
        "tag": rev.tag,
        "revision": rev.commit,
        "dirty": rev.dirty,
        "created": created,
        "base": {"ref": base_image.pinned_ref, "image_id": base_image.image_id},
        "images": {i.name: {"ref": i.ref, "image_id": i.image_id, "registries": {}} for i in built},
    }
    previous = load_record(app, rev.tag)
    if previous is not None:
        # A build of some services keeps the others of this tag; an identical image keeps the
        # pushes already recorded for it.
        for name, old in previous.get("images", {}).items():
            entry = record["images"].get(name)
            if entry is None:
                record["images"][name] = old
            elif old.get("image_id") == entry["image_id"]:
                entry["registries"] = old.get("registries", {})
    path = save_record(app, record)
    if push_after:
        return push(env, app, [i.name for i in built], tag=rev.tag, progress=progress)
    return BuildResult(
        "build", env.name, rev.tag, rev.commit, rev.dirty, str(path), built, base_image
    )


def push(
    env: Environment,
    app: AppContext,
    services: list[str] | None = None,
    *,
    tag: str | None = None,
    progress: Progress = quiet,
) -> BuildResult:
    """Push the images of a build record; a tag the registry already has is left alone."""
    record = load_record(app, tag)
    if record is None:
        raise UsageError(
            f"no build record{' for ' + tag if tag else ''} in {app.state_dir / 'images'}",
            hint="run `hyperscale images build` first",
        )
    if record.get("dirty") and env.protected:
        raise UsageError(
            f"build {record['tag']} is of a tree with uncommitted changes; {env.name} is protected",
            hint="commit, build again, then push",
        )
    names = services or list(record["images"])
    missing = sorted(set(names) - set(record["images"]))
    select_images(names)  # unknown names are a usage error before anything else
    if missing:
        raise UsageError(
            f"build {record['tag']} has no image for {', '.join(missing)}",
            hint=f"run `hyperscale images build --service {missing[0]}`",
        )
    registry = registry_for(env, app)
    if registry.kind == "local":
        _require_local_registry(registry)
    containers = Containers(app)
    results: list[BuiltImage] = []
    with _auth_file(env, app, registry) as auth_file:
        for name in names:
            entry = record["images"][name]
            spec = select_images([name])[0]
            destination = registry.ref(spec, str(record["tag"]))
            started = time.monotonic()
            progress(f"pushing {name} to {destination}")
            digest = containers.remote_digest(destination, auth_file=auth_file)
            state = "present"
            known = entry.get("registries", {}).get(destination)
            # A commit's tag is immutable: the registry having it means this build is there.
            # A dirty tag is rebuilt in place, so it is pushed unless this very build was.
            if digest is None or (record.get("dirty") and known != digest):
                if registry.kind == "ecr":
                    from hyperscale.clients.registry import ecr_ensure_repository

                    ecr_ensure_repository(env.aws, spec.repository)
                if not containers.image_exists(entry["ref"]):
                    raise UsageError(
                        f"{entry['ref']} is in the build record but not in local storage",
                        hint="run `hyperscale images build` again",
                    )
                digest = containers.push(entry["ref"], destination, auth_file=auth_file)
                state = "pushed"
            # Recorded only now, after the registry holds it: nothing half-pushed is "done".
            entry.setdefault("registries", {})[destination] = digest
            save_record(app, record)
            results.append(
                BuiltImage(
                    name,
                    entry["ref"],
                    entry["image_id"],
                    time.monotonic() - started,
                    {destination: digest},
                    state,
                )
            )
    path = str(app.state_dir / "images" / "builds" / f"{record['tag']}.json")
    return BuildResult(
        "push",
        env.name,
        str(record["tag"]),
        str(record["revision"]),
        bool(record["dirty"]),
        path,
        results,
    )


def _ignore_file(root: Path, spec: ImageSpec) -> Path | None:
    candidate = root / f"{spec.containerfile}.dockerignore"
    if candidate.is_file():
        return candidate
    shared = root / ".dockerignore"
    return shared if shared.is_file() else None


def _require_local_registry(registry: RegistryTarget) -> None:
    from hyperscale.clients.registry import RegistryClient

    RegistryClient(f"http://{registry.host}", timeout=3).check()


@contextlib.contextmanager
def _auth_file(
    env: Environment, app: AppContext, registry: RegistryTarget
) -> Iterator[Path | None]:
    """ECR: a login from get_authorization_token in a 0600 file the tools read, removed after.

    The token never appears on a command line or in a log.
    """
    if registry.kind != "ecr":
        yield None
        return
    from hyperscale.clients.registry import ecr_login

    login = ecr_login(env.aws)
    directory = app.state_dir / "images"
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="auth-", suffix=".json", dir=directory)
    path = Path(name)
    try:
        os.fchmod(fd, 0o600)
        token = base64.b64encode(f"{login.username}:{login.password}".encode()).decode()
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"auths": {login.registry: {"auth": token}}}, handle)
        yield path
    finally:
        path.unlink(missing_ok=True)


__all__ = ["BaseImage", "base", "build", "push"]
