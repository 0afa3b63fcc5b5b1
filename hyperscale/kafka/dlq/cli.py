"""`hyperscale kafka dlq inspect|replay`: thin commands over hyperscale.kafka.dlq.core and
hyperscale.kafka.dlq.replay.core."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hyperscale.boundary import run_env_command
from hyperscale.kafka.options import BootstrapOption, TimeoutOption
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat, progress_bar

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.kafka.dlq.filter import FilterSpec

app = command_group("Dead-letter topics: what failed, where it came from, and why.")


def _text_option(help_text: str) -> Any:
    return typer.Option(help=help_text, show_default=False)


DlqTopicsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="DLQ topics. Default: every topic ending with the environment's dead-letter suffix.",
        show_default=False,
    ),
]
# The filters both commands take (hyperscale.kafka.dlq.filter): inspect previews a replay.
SinceOption = Annotated[
    str | None,
    _text_option("Failed at or after: ISO 8601 (UTC unless given) or an age (30m, 6h, 2d)."),
]
UntilOption = Annotated[str | None, _text_option("Failed before (as --since).")]
ExceptionOption = Annotated[str | None, _text_option("Exception class regex.")]
MessageOption = Annotated[str | None, _text_option("Exception message regex.")]
PartitionOption = Annotated[
    list[int] | None,
    typer.Option(help="Original partition (repeatable).", min=0, show_default=False),
]
OffsetsOption = Annotated[
    str | None, _text_option("Original offsets, inclusive: FROM-TO, FROM- or -TO.")
]
KeyOption = Annotated[str | None, _text_option("Record key regex.")]
HeaderOption = Annotated[
    list[str] | None, _text_option("NAME=REGEX or NAME (present); repeatable, all must hold.")
]


def _filters(
    since: str | None,
    until: str | None,
    exception: str | None,
    message: str | None,
    partition: list[int] | None,
    offsets: str | None,
    key: str | None,
    header: list[str] | None,
) -> FilterSpec:
    from hyperscale.kafka.dlq.filter import FilterSpec

    return FilterSpec(
        since=since,
        until=until,
        exception=exception,
        message=message,
        partitions=partition or [],
        offsets=offsets,
        key=key,
        headers=header or [],
    )


@app.command("inspect")
def dlq_inspect(
    ctx: typer.Context,
    topics: DlqTopicsArgument = None,
    samples: Annotated[
        int, typer.Option("--samples", "-n", min=0, help="Records to show with their headers.")
    ] = 5,
    since: SinceOption = None,
    until: UntilOption = None,
    exception: ExceptionOption = None,
    message: MessageOption = None,
    partition: PartitionOption = None,
    offsets: OffsetsOption = None,
    key: KeyOption = None,
    header: HeaderOption = None,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Counts by exception class, origin topic and hour, and sample records with decoded
    headers (this project's, Spring's and Kafka Connect's). Reads only: no group, no commits.
    Takes the filters `replay` takes, so it shows what a replay would pick."""
    from hyperscale.kafka.dlq.core import DlqQuery, inspect_dlq

    query = DlqQuery(
        topics=topics or [],
        samples=samples,
        bootstrap=bootstrap,
        timeout=timeout,
        filters=_filters(since, until, exception, message, partition, offsets, key, header),
    )

    def body(environment: Environment, app_ctx: AppContext) -> Any:
        return inspect_dlq(environment, app_ctx, query)

    run_env_command(ctx, "kafka dlq inspect", output, env, body)


@app.command("replay")
def dlq_replay(
    ctx: typer.Context,
    topics: DlqTopicsArgument = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Send every record here instead of its original topic.", show_default=False
        ),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    exception: ExceptionOption = None,
    message: MessageOption = None,
    partition: PartitionOption = None,
    offsets: OffsetsOption = None,
    key: KeyOption = None,
    header: HeaderOption = None,
    limit: Annotated[
        int | None,
        typer.Option(
            help="Stop after this many records; run again to go on.", min=1, show_default=False
        ),
    ] = None,
    max_attempts: Annotated[
        int,
        typer.Option(
            "--max-attempts",
            min=1,
            help="Park records already replayed this many times instead of looping.",
        ),
    ] = 3,
    parking_topic: Annotated[
        str | None,
        typer.Option(
            "--parking-topic",
            help="Where parked records go. Default: <dlq>.parking.",
            show_default=False,
        ),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate", min=0.001, help="At most this many records per second.", show_default=False
        ),
    ] = None,
    byte_rate: Annotated[
        str | None,
        typer.Option(
            "--byte-rate",
            help="At most this many bytes per second: 500k, 2MiB.",
            show_default=False,
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            help="The checkpoint consumer group. Default: derived from topics, --to and filters,"
            " so the same command resumes.",
            show_default=False,
        ),
    ] = None,
    at_least_once: Annotated[
        bool,
        typer.Option(
            "--at-least-once",
            help="No transactions (for clusters without them): a crash may send a batch twice.",
        ),
    ] = False,
    transaction_size: Annotated[
        int, typer.Option("--transaction-size", min=1, help="Records per transaction (checkpoint).")
    ] = 10_000,
    samples: Annotated[
        int, typer.Option("--samples", "-n", min=0, help="Records a dry run lists.")
    ] = 20,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send and commit nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Allow it on a protected environment.")
    ] = False,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Send dead letters back to their original topic (or --to), exactly once: records and the
    checkpoint commit in one transaction, so an interrupted replay resumes with nothing lost or
    doubled. Records replayed --max-attempts times, or with nowhere to go, are parked."""
    from hyperscale.errors import UsageError
    from hyperscale.kafka.dlq.replay.core import ReplayRequest, replay_dead_letters
    from hyperscale.kafka.dlq.replay.throttle import parse_byte_rate

    request = ReplayRequest(
        topics=topics or [],
        to=to,
        filters=_filters(since, until, exception, message, partition, offsets, key, header),
        limit=limit,
        dry_run=dry_run,
        yes=yes,
        max_attempts=max_attempts,
        parking_topic=parking_topic,
        group=group,
        records_per_second=rate,
        bytes_per_second=None,
        exactly_once=not at_least_once,
        transaction_records=transaction_size,
        samples=samples,
        bootstrap=bootstrap,
        timeout=timeout,
    )

    def body(environment: Environment, app_ctx: AppContext) -> Any:
        try:
            bytes_per_second = None if byte_rate is None else parse_byte_rate(byte_rate)
        except ValueError as exc:
            raise UsageError(f"--byte-rate: {exc}") from None
        return replay_dead_letters(
            environment,
            app_ctx,
            replace(request, bytes_per_second=bytes_per_second),
            lambda: progress_bar(app_ctx, "replaying"),
        )

    run_env_command(ctx, "kafka dlq replay", output, env, body)
