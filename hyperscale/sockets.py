"""Unix socket paths that fit the kernel's limit.

A socket's path must fit ``sun_path``: 107 bytes on Linux. Services keep their sockets in their
home under the state directory, and a deep one (a long home, a test's temporary directory)
goes past that: MariaDB then refuses to start and supervisord cannot bind. Such a socket lives
instead in a private directory of this user under the temporary directory, named after the home
it stands for, so two state directories never share one.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from hyperscale.errors import ConfigError

#: Below the kernel's 107 bytes: supervisord binds NAME.PID first, then renames it to NAME.
MAX_SOCKET_PATH = 96


def socket_path(wanted: Path) -> Path:
    """``wanted`` when it fits, else the same name in a short private directory."""
    if len(os.fsencode(wanted)) <= MAX_SOCKET_PATH:
        return wanted
    private = Path(tempfile.gettempdir()) / f"hyperscale-{os.getuid()}"
    _private_directory(private)
    home = private / hashlib.sha256(os.fsencode(wanted.parent)).hexdigest()[:16]
    home.mkdir(mode=0o700, exist_ok=True)
    return home / wanted.name


def _private_directory(path: Path) -> None:
    """Create ``path`` for this user only, and refuse one someone else made or can enter."""
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ):
        raise ConfigError(
            f"{path} is not a private directory of this user: remove it, or use a shorter"
            " state directory (HYPERSCALE_STATE_DIR)"
        )
