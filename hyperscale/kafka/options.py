"""Options shared by the Kafka commands."""

from __future__ import annotations

from typing import Annotated

import typer

BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        help="HOST:PORT[,...] instead of the environment's brokers.",
        show_default=False,
    ),
]
#: librdkafka takes its timeouts in whole milliseconds up to an hour (``request.timeout.ms``
#: and the admin calls' ``request_timeout``); a longer, infinite or NaN wait is a usage error,
#: not a broker that "did not answer".
MAX_TIMEOUT_S = 3600.0

TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0.1,
        max=MAX_TIMEOUT_S,
        help="Seconds to wait for the broker (at most an hour: librdkafka's limit).",
    ),
]

#: `kafka topics apply` and `kafka acls apply`.
PlanOnlyOption = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]
ConsentOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Consent: for --prune, and for a protected environment."),
]
