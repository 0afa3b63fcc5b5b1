"""Which Terraform-compatible program to run: terraform or tofu on PATH, else the cached build."""

from __future__ import annotations

import shutil
from pathlib import Path

from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError

#: Tried in this order on PATH; both speak the same CLI and JSON formats.
PROGRAMS = ("terraform", "tofu")


def cached_tofu(app: AppContext) -> Path:
    """Where scripts/build-tofu.sh puts OpenTofu when PATH has neither program."""
    return app.cache_dir / "tofu" / "bin" / "tofu"


def find_terraform(app: AppContext) -> Path:
    """``$HYPERSCALE_TERRAFORM`` when set, else terraform or tofu on PATH, else the cached tofu."""
    chosen = app.environ.get("HYPERSCALE_TERRAFORM")
    if chosen:
        found = shutil.which(chosen, path=app.environ.get("PATH"))
        if found is None:
            raise ExternalSystemError(
                f"HYPERSCALE_TERRAFORM={chosen} is not an executable program",
                hint="point it at a terraform or tofu binary, or unset it",
            )
        return Path(found)
    search_path = app.environ.get("PATH")
    for program in PROGRAMS:
        found = shutil.which(program, path=search_path)
        if found:
            return Path(found)
    cached = cached_tofu(app)
    if cached.is_file():
        return cached
    raise ExternalSystemError(
        "neither terraform nor tofu is on PATH, and no OpenTofu build is in the cache",
        hint="run `bash scripts/build-tofu.sh` (builds OpenTofu from its Go module)"
        " or install terraform",
    )
