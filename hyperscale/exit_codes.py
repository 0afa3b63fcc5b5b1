"""The one set of exit codes every command uses; cron jobs and CI depend on them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a threshold was breached, a drill deviated, a health check is down
    USAGE = 2  # bad flags, bad configuration, unknown environment: the user can fix it
    EXTERNAL = 3  # an outside system (broker, database, cloud API, binary) failed
    INTERNAL = 70  # a bug in hyperscale itself (sysexits EX_SOFTWARE); a traceback is logged
    INTERRUPTED = 130  # Ctrl-C / SIGINT
