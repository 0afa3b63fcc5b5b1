"""The adapter to a user's crontab: the `crontab` program (read with -l, written from stdin),
or a crontab file (a cron.d drop-in, or a test's temporary file). Through hyperscale.runner."""

from __future__ import annotations

import shutil
from pathlib import Path

from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.runner import run

#: `crontab -l` exits 1 with this when the user has none yet.
_NO_CRONTAB = "no crontab for"


def _program(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise UsageError(
            f"no {program} program on PATH to install the schedule with",
            hint="install cron, or use --print (and add the lines yourself) or --crontab-file",
        )
    return found


def read_crontab(program: str = "crontab", file: Path | None = None) -> str:
    if file is not None:
        return file.read_text(encoding="utf-8") if file.exists() else ""
    result = run([_program(program), "-l"], check=False, what="crontab -l")
    if result.returncode != 0:
        if _NO_CRONTAB in result.stderr:
            return ""
        raise ExternalSystemError(f"crontab -l failed: {result.stderr.strip()}")
    return result.stdout


def write_crontab(text: str, program: str = "crontab", file: Path | None = None) -> None:
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(file)
        return
    run([_program(program), "-"], input_text=text, what="crontab -")
