"""Local secrets: where a generated secret lives, and making it on first use.

Resolving a reference to its value (which may ask AWS) is hyperscale.clients.secrets."""

from __future__ import annotations

import contextlib
import os
import secrets as token_source
import tempfile
from pathlib import Path

from hyperscale.context import AppContext


def generated_secret_path(app: AppContext, name: str) -> Path:
    return app.state_dir / "secrets" / name


def ensure_generated_secret(app: AppContext, name: str) -> str:
    """Create the local secret on first use (mode 0600) and return it; later calls read it back."""
    path = generated_secret_path(app, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole to a private temporary file, then linked into place: a concurrent
        # reader never sees a half-written secret, and of two writers the first one wins.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(token_source.token_urlsafe(24))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            Path(tmp).unlink()
    return path.read_text(encoding="utf-8").strip()
