"""Plain HTTP calls the toolkit makes itself: readiness checks and the smoke test's JSON posts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET on ``url``, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the environment's own URLs
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def post_json(
    url: str, body: dict[str, Any], headers: dict[str, str], timeout: float = 5.0
) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as JSON; the status and the decoded answer (an error's body too)."""
    request = urllib.request.Request(  # noqa: S310 - the environment's own API URL
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read() or b"{}")
