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
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=0.1, help="Seconds to wait for the broker.")
]
