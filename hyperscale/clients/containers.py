"""podman, buildah and skopeo: the one adapter, and the one place their runtime flags live.

Every call reads a containers.conf this module renders (runc with the cgroupfs manager, lowered
rlimits, the host network) through ``CONTAINERS_CONF``, so no command line repeats those flags.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.runner import CommandResult, run
from hyperscale.templating import render_to_file

RUNC = "/usr/sbin/runc"
#: Lowered, never raised: the process lacks CAP_SYS_RESOURCE.
ULIMITS = ("nofile=1024:1024", "nproc=4096:4096")
#: The host's CA bundle, mounted (read-only) into build steps only: pip inside a build trusts what
#: the host trusts (a TLS-inspecting proxy's CA, say) and no image carries the host's CAs.
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: A registry on this machine speaks plain HTTP.
_LOOPBACK_PREFIXES = ("127.0.0.1:", "localhost:")


@dataclass(frozen=True)
class Containers:
    """podman/buildah/skopeo with this project's configuration."""

    app: AppContext

    @property
    def conf_path(self) -> Path:
        return self.app.cache_dir / "images" / "containers.conf"

    def _env(self) -> dict[str, str]:
        render_to_file(
            self.app, "images/containers.conf.j2", self.conf_path, ulimits=ULIMITS, runc=RUNC
        )
        return {"CONTAINERS_CONF": str(self.conf_path), "BUILDAH_ISOLATION": "oci"}

    def _run(
        self,
        argv: Sequence[str],
        *,
        what: str,
        timeout: float | None = 600,
        check: bool = True,
        input_text: str | None = None,
        secrets: Sequence[str] = (),
        cwd: Path | None = None,
    ) -> CommandResult:
        return run(
            argv,
            env=self._env(),
            what=what,
            timeout=timeout,
            check=check,
            input_text=input_text,
            secrets=secrets,
            cwd=cwd,
        )

    # -- images --------------------------------------------------------------------------
    def image_exists(self, ref: str) -> bool:
        result = self._run(
            ["podman", "image", "exists", ref], what="podman image exists", check=False
        )
        return result.returncode == 0

    def image_facts(self, ref: str) -> tuple[str, list[str]] | None:
        """The id and the tags of a local image, None if there is none (one podman call)."""
        out = self._run(["podman", "image", "inspect", ref], what=f"inspect {ref}", check=False)
        if out.returncode != 0:
            return None
        data: list[dict[str, Any]] = json.loads(out.stdout)
        return str(data[0]["Id"]), list(data[0].get("RepoTags") or [])

    def image_id(self, ref: str) -> str:
        out = self._run(
            ["podman", "image", "inspect", "--format", "{{.Id}}", ref], what=f"inspect {ref}"
        )
        return out.stdout.strip()

    def image_inspect(self, ref: str) -> dict[str, Any]:
        out = self._run(["podman", "image", "inspect", ref], what=f"inspect {ref}")
        data: list[dict[str, Any]] = json.loads(out.stdout)
        return data[0]

    def import_rootfs(self, tarball: Path, ref: str, changes: Sequence[str]) -> str:
        argv = ["podman", "import", "--quiet"]
        for change in changes:
            argv += ["--change", change]
        out = self._run([*argv, str(tarball), ref], what=f"podman import {ref}", timeout=900)
        return out.stdout.strip()

    def tag(self, ref: str, *new: str) -> None:
        self._run(["podman", "tag", ref, *new], what=f"podman tag {ref}")

    def remove_image(self, ref: str) -> None:
        self._run(["podman", "rmi", "--force", ref], what=f"podman rmi {ref}", check=False)

    def build(
        self,
        *,
        context: Path,
        containerfile: Path,
        tags: Sequence[str],
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
        ignore_file: Path | None = None,
        timeout: float = 1800,
    ) -> str:
        """``buildah bud``; returns the image id."""
        argv = ["buildah", "bud", "--layers", "--network", "host", "--pull-never", "--quiet"]
        argv += ["--file", str(containerfile)]
        for tag in tags:
            argv += ["--tag", tag]
        for key, value in build_args.items():
            argv += ["--build-arg", f"{key}={value}"]
        for key, value in labels.items():
            argv += ["--label", f"{key}={value}"]
        if ignore_file is not None:
            argv += ["--ignorefile", str(ignore_file)]
        if HOST_CA_BUNDLE.is_file():
            argv += ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
        out = self._run([*argv, str(context)], what=f"build of {tags[0]}", timeout=timeout)
        lines = [line for line in out.stdout.splitlines() if line.strip()]
        return lines[-1].strip() if lines else self.image_id(tags[0])

    def push(self, ref: str, destination: str, *, auth_file: Path | None = None) -> str:
        """Push and return the manifest digest the registry stored."""
        digest_file = self.app.state_dir / "images" / ".push-digest"
        digest_file.parent.mkdir(parents=True, exist_ok=True)
        argv = ["podman", "push", "--quiet", "--digestfile", str(digest_file)]
        argv += _tls_flags(destination)
        if auth_file is not None:
            argv += ["--authfile", str(auth_file)]
        self._run(
            [*argv, ref, f"docker://{destination}"], what=f"push to {destination}", timeout=1800
        )
        return digest_file.read_text(encoding="utf-8").strip()

    def remote_digest(self, ref: str, *, auth_file: Path | None = None) -> str | None:
        """The digest a registry holds for ``ref`` (``skopeo inspect``), None if it has none."""
        argv = ["skopeo", "inspect", "--format", "{{.Digest}}", *_tls_flags(ref)]
        if auth_file is not None:
            argv += ["--authfile", str(auth_file)]
        out = self._run(
            [*argv, f"docker://{ref}"], what=f"skopeo inspect {ref}", check=False, timeout=120
        )
        if out.returncode != 0:
            text = (out.stderr or out.stdout).lower()
            if "manifest unknown" in text or "not found" in text or "name unknown" in text:
                return None
            tail = (out.stderr or out.stdout).strip().splitlines()
            raise ExternalSystemError(
                f"skopeo inspect {ref} failed: {tail[-1] if tail else out.returncode}"
            )
        return out.stdout.strip() or None

    # -- containers ----------------------------------------------------------------------
    def run_detached(
        self,
        image: str,
        name: str,
        *,
        command: Sequence[str],
        env: Mapping[str, str],
        volumes: Mapping[Path, str] | None = None,
    ) -> str:
        """Start a container in the background (host network: it binds what ``command`` says)."""
        argv = ["podman", "run", "--detach", "--name", name, "--replace"]
        for key, value in env.items():
            argv += ["--env", f"{key}={value}"]
        for source, target in (volumes or {}).items():
            argv += ["--volume", f"{source}:{target}:ro"]
        out = self._run([*argv, image, *command], what=f"podman run {image}", timeout=120)
        return out.stdout.strip()

    def run_once(self, image: str, command: Sequence[str], *, user: str | None = None) -> str:
        argv = ["podman", "run", "--rm"]
        if user is not None:
            argv += ["--user", user]
        return self._run([*argv, image, *command], what=f"podman run {image}", timeout=120).stdout

    def exec(self, name: str, command: Sequence[str]) -> str:
        return self._run(["podman", "exec", name, *command], what=f"podman exec {name}").stdout

    def logs(self, name: str) -> str:
        out = self._run(["podman", "logs", name], what=f"podman logs {name}", check=False)
        return out.stdout + out.stderr

    def remove_container(self, name: str) -> None:
        self._run(
            ["podman", "rm", "--force", "--time", "5", name], what=f"podman rm {name}", check=False
        )


def _tls_flags(ref: str) -> list[str]:
    return ["--tls-verify=false"] if ref.startswith(_LOOPBACK_PREFIXES) else []
