"""Options every command shares, declared once so they read the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperscale.output import OutputFormat

EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        help="Environment name (a file in environments/). Default: $HYPERSCALE_ENV, else local.",
        show_default=False,
    ),
]

OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output", "-o", help="table for people; json or yaml (a versioned envelope) for machines."
    ),
]
