"""The environment a command runs in, injected rather than read from globals so tests swap it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _xdg_dir(override: str, xdg: str, fallback: str, environ: dict[str, str]) -> Path:
    if environ.get(override):
        return Path(environ[override]).expanduser()
    base = environ.get(xdg) or str(Path(environ.get("HOME", "~")).expanduser() / fallback)
    return Path(base).expanduser() / "hyperscale"


@dataclass
class AppContext:
    """Streams, terminal facts and directories for one invocation."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    #: A person can answer a question (confirmation of a destructive command on prod).
    stdin_isatty: bool = False
    no_color: bool = False
    #: Where local services keep pid files, data and logs.
    state_dir: Path = field(default_factory=lambda: Path(".hyperscale/state"))
    #: Where expensive downloads and builds (Kafka jars, Go binaries) are kept between runs.
    cache_dir: Path = field(default_factory=lambda: Path(".hyperscale/cache"))
    environments_dir: Path = PROJECT_ROOT / "environments"
    templates_dir: Path = PROJECT_ROOT / "templates"
    tools_dir: Path = PROJECT_ROOT / "tools"
    environ: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_os(cls) -> AppContext:
        environ = dict(os.environ)
        envs = environ.get("HYPERSCALE_ENVIRONMENTS_DIR")
        return cls(
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdout_isatty=sys.stdout.isatty(),
            stderr_isatty=sys.stderr.isatty(),
            stdin_isatty=sys.stdin is not None and sys.stdin.isatty(),
            no_color=bool(environ.get("NO_COLOR")),  # set and not empty (no-color.org)
            state_dir=_xdg_dir("HYPERSCALE_STATE_DIR", "XDG_STATE_HOME", ".local/state", environ),
            cache_dir=_xdg_dir("HYPERSCALE_CACHE_DIR", "XDG_CACHE_HOME", ".cache", environ),
            environments_dir=Path(envs) if envs else PROJECT_ROOT / "environments",
            environ=environ,
        )

    def expand_path(self, value: str) -> Path:
        """A configured path: ``@state/...`` lives in the state directory, ``~`` is home."""
        if value.startswith("@state/"):
            return self.state_dir / value.removeprefix("@state/")
        return Path(value).expanduser()

    @property
    def repo_root(self) -> Path:
        """The checkout whose templates are in use (a test's copied tree has its own)."""
        return self.templates_dir.parent

    def live_dir(self, env_name: str) -> Path:
        """Where an environment's rendered Terraform roots are committed."""
        return self.repo_root / "terraform" / "live" / env_name

    def manifests_dir(self, env_name: str) -> Path:
        """Where an environment's rendered Kubernetes manifests are committed."""
        return self.repo_root / "manifests" / env_name

    @property
    def services_dir(self) -> Path:
        """The platform's own code: services/api, services/consumer, services/schema."""
        return self.repo_root / "services"

    @property
    def scripts_dir(self) -> Path:
        return self.tools_dir.parent / "scripts"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def interactive(self) -> bool:
        """Progress bars and spinners only when a person is watching."""
        return self.stderr_isatty and self.environ.get("CI", "") == ""
