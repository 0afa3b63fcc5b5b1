"""The base image, built from Debian packages (no registry to pull from): debootstrap, then import.

The root filesystem is cached as a tarball under the cache directory and the image is tagged by a
hash of everything that goes into it, so it is rebuilt only when the package list changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hyperscale.clients.containers import Containers
from hyperscale.context import AppContext
from hyperscale.progress import Progress, quiet
from hyperscale.runner import run

BASE_REPOSITORY = "localhost/hyperscale/python"
BASE_TAG = "3.11-bookworm"
BASE_IMAGE = f"{BASE_REPOSITORY}:{BASE_TAG}"
SUITE = "bookworm"
VARIANT = "minbase"
#: python3-venv brings ensurepip (the Dockerfiles call pip); passwd gives useradd/groupadd.
PACKAGES = ("python3", "python3-venv", "ca-certificates", "passwd")
VENV = "/opt/venv"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
#: What the Dockerfiles expect of the official python image: python and pip first on PATH.
CHANGES = (
    f"ENV PATH={VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    f"ENV VIRTUAL_ENV={VENV}",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
)
#: Bump when the recipe below changes in a way the package list does not show.
RECIPE_VERSION = "1"


@dataclass(frozen=True)
class BaseImage:
    ref: str
    pinned_ref: str
    image_id: str
    package_hash: str
    #: "cached" (the image was there), "imported" (from the cached root), "built" (debootstrap).
    source: str
    seconds: float

    def to_data(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "pinned_ref": self.pinned_ref,
            "image_id": self.image_id,
            "package_hash": self.package_hash,
            "source": self.source,
            "seconds": round(self.seconds, 1),
        }


def package_hash() -> str:
    recipe = {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": sorted(PACKAGES),
        "venv": VENV,
        "changes": CHANGES,
        "recipe": RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def ensure_base(app: AppContext, *, rebuild: bool = False, progress: Progress = quiet) -> BaseImage:
    started = time.monotonic()
    containers = Containers(app)
    digest = package_hash()
    pinned = f"{BASE_REPOSITORY}:pkgs-{digest}"
    source = "cached"
    facts = None if rebuild else containers.image_facts(pinned)
    if facts is None:
        tarball = app.cache_dir / "images" / f"rootfs-{digest}.tar"
        source = "imported"
        if rebuild or not tarball.is_file():
            progress(f"debootstrap {SUITE} ({', '.join(PACKAGES)})")
            _build_rootfs(app, tarball)
            source = "built"
        progress(f"importing {pinned}")
        containers.import_rootfs(tarball, pinned, CHANGES)
        facts = (containers.image_id(pinned), [])
    image_id, tags = facts
    if BASE_IMAGE not in tags:
        containers.tag(pinned, BASE_IMAGE)
    return BaseImage(BASE_IMAGE, pinned, image_id, digest, source, time.monotonic() - started)


def _build_rootfs(app: AppContext, tarball: Path) -> None:
    mirror = app.environ.get("HYPERSCALE_DEBIAN_MIRROR", DEFAULT_MIRROR)
    root = tarball.with_suffix(".partial")
    shutil.rmtree(root, ignore_errors=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        run(
            [
                "debootstrap",
                f"--variant={VARIANT}",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(root),
                mirror,
            ],
            what="debootstrap",
            timeout=1800,
        )
        run(["chroot", str(root), "python3", "-m", "venv", VENV], what="python3 -m venv")
        # Nothing an image needs: the package lists and caches debootstrap left behind.
        for leftover in ("var/lib/apt/lists", "var/cache/apt/archives"):
            for path in (root / leftover).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".tar.partial")
        run(
            ["tar", "-C", str(root), "--one-file-system", "-cf", str(partial), "."],
            what="tar of the root",
            timeout=600,
        )
        partial.replace(tarball)
    finally:
        _unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def _unmount_under(root: Path) -> None:
    """debootstrap mounts /proc (and maybe /sys) in the root; an interrupted run leaves them.

    Removing the root with them still mounted would reach into the host's, so unmount first,
    deepest first.
    """
    prefix = str(root.resolve()) + "/"
    try:
        lines = Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    points = [line.split()[1] for line in lines if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        run(["umount", "--lazy", point], what=f"umount {point}", check=False)
