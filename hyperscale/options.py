"""Options and group settings every command shares, declared once so they read the same."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from typer.core import TyperGroup


def command_group(
    help_text: str, *, name: str | None = None, cls: type[TyperGroup] | None = None
) -> typer.Typer:
    """A typer app with the tool's settings: plain help (fast to import), no rich tracebacks.
    ``cls``: a group class of the domain's own (one that picks a default command)."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        name=name,
        cls=cls,
    )


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


# -- drills (`hyperscale chaos ...`, `hyperscale dr drill ...`) -------------------------------

NamespaceOption = Annotated[
    str | None,
    typer.Option("--namespace", "-n", help="Kubernetes: the namespace (allow-listed)."),
]

WorkloadOption = Annotated[
    str | None,
    typer.Option(
        "--workload",
        "-w",
        help="One workload: a program, a Deployment (kill-consumer: a consumer).",
    ),
]

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what the drill would do; change nothing.")
]

YesOption = Annotated[bool, typer.Option("--yes", help="Confirm on a protected environment.")]

RecoveryTimeoutOption = Annotated[
    str,
    typer.Option(
        "--recovery-timeout", help="Time allowed to recover: replacements, lag, service (90s, 2m)."
    ),
]

#: Orders per second of a drill's steady order stream (defaults differ per drill).
RateOption = Annotated[float, typer.Option("--rate", help="Orders per second.", min=1)]

BeforeOption = Annotated[
    float,
    typer.Option(
        "--before", help="Seconds of orders before the harm (kill, outage, backup, crash).", min=0
    ),
]
