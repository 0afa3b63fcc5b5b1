"""A state lock a Terraform command took itself and then tripped on (local AWS endpoint only).

Seen in CI against moto: the lock's DynamoDB PutItem succeeded, its answer was lost, and the
SDK's retry found the lock taken, by the same command, which then waited its whole lock timeout
("Operation: OperationTypePlan", created two seconds into the very plan that waited 120 s on
it) and left the lock for the next command. Such a lock names this user on this host and was
made after the command started; anyone else's does not both.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import socket

_LOCK_INFO = re.compile(
    r"Lock Info:\s+ID:\s+(?P<id>\S+)\s+Path:\s+\S+\s+Operation:\s+\S+\s+"
    r"Who:\s+(?P<who>\S+)\s+Version:\s+\S+\s+Created:\s+(?P<day>\S+)\s+(?P<time>\S+)"
)


def own_lock(details: str, stderr: str, since: dt.datetime) -> str | None:
    """The id of the state lock a failed command reports as held (in its diagnostics'
    ``details`` or on ``stderr``) when this user on this host made it at or after ``since``:
    the command's own. None for anyone else's lock."""
    match = _LOCK_INFO.search(f"{details}\n{stderr}")
    if match is None or match["who"] != f"{getpass.getuser()}@{socket.gethostname()}":
        return None
    seconds, _, fraction = match["time"].partition(".")
    try:
        created = dt.datetime.strptime(
            f"{match['day']} {seconds}.{(fraction or '0')[:6]}", "%Y-%m-%d %H:%M:%S.%f"
        ).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return match["id"] if created >= since - dt.timedelta(seconds=1) else None
