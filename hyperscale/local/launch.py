"""Start a program detached from its caller (the double fork of a daemon), print its pid, exit.

`python -m hyperscale.local.launch LOG -- PROGRAM ARGS...` appends the program's output to LOG.
Because this launcher exits at once, the program is adopted by init: it never becomes a zombie
of the command that started it, and outlives it.
"""

from __future__ import annotations

import subprocess
import sys


def main() -> None:
    log_path, separator, *argv = sys.argv[1:]
    if separator != "--" or not argv:
        raise SystemExit("usage: python -m hyperscale.local.launch LOG -- PROGRAM [ARGS...]")
    with open(log_path, "ab") as log:  # noqa: PTH123 - the smallest possible start-up
        child = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    print(child.pid, flush=True)
    child.returncode = 0  # detached on purpose: this process exits without waiting for it


if __name__ == "__main__":
    main()
