"""`hyperscale health`: a thin command over hyperscale.health.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hyperscale.boundary import run_env_command
from hyperscale.health.view import HealthOutput
from hyperscale.options import EnvOption
from hyperscale.output import OutputFormat, TextResult

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.health.results import HealthReport


def _many(help_text: str, metavar: str) -> Any:
    return typer.Option(help=help_text, metavar=metavar, show_default=False)


def _number(help_text: str, *, minimum: float = 0, metavar: str = "N") -> Any:
    return typer.Option(help=help_text, min=minimum, metavar=metavar, show_default=False)


UrlsOption = Annotated[list[str] | None, _many("Also check this URL (repeatable).", "URL")]
StatusOption = Annotated[
    list[str] | None,
    _many("For --url: statuses that count as an answer: 200, 2xx, 200-204 (default 2xx).", "CODES"),
]
JsonOption = Annotated[
    list[str] | None,
    _many(
        "For --url: a JSONPath assertion on the body, as '$.status == \"ok\"' (==, !=, <, >,"
        " <=, >=, =~ regex) or a path that must match (repeatable).",
        "ASSERTION",
    ),
]
HeaderOption = Annotated[
    list[str] | None,
    _many("For --url: 'Name: regex' the response header must match (repeatable).", "HEADER"),
]


def health(
    ctx: typer.Context,
    url: UrlsOption = None,
    urls_only: Annotated[
        bool, typer.Option("--urls-only", help="Check only --url: not the workloads.")
    ] = False,
    status: StatusOption = None,
    expect_json: JsonOption = None,
    expect_header: HeaderOption = None,
    ca_file: Annotated[
        str | None, _many("Trust this PEM bundle for --url (a private CA).", "FILE")
    ] = None,
    timeout: Annotated[
        float | None, _number("Seconds one attempt may take.", minimum=0.001, metavar="S")
    ] = None,
    failure_threshold: Annotated[
        int | None, _number("Failed attempts in a row before DOWN (default 2).", minimum=1)
    ] = None,
    success_threshold: Annotated[
        int | None, _number("Good attempts in a row before UP (default 1).", minimum=1)
    ] = None,
    retry_interval: Annotated[
        float | None, _number("Seconds between attempts (default 1).", metavar="S")
    ] = None,
    warn_latency_ms: Annotated[float | None, _number("Slower than this: DEGRADED.")] = None,
    max_latency_ms: Annotated[float | None, _number("Slower than this: a failed attempt.")] = None,
    cert_warn_days: Annotated[
        float | None, _number("Certificate expiring sooner: DEGRADED (default 14).")
    ] = None,
    cert_fail_days: Annotated[
        float | None, _number("Certificate expiring sooner: DOWN (default 7).")
    ] = None,
    concurrency: Annotated[
        int | None, _number("Requests in flight at once (default 100).", minimum=1)
    ] = None,
    fail_on_degraded: Annotated[
        bool | None,
        typer.Option(
            "--fail-on-degraded/--no-fail-on-degraded",
            help="Exit 1 when an endpoint is DEGRADED too. Default: health.fail_on_degraded.",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option("--watch", "-w", help="Check again every --interval seconds until Ctrl-C."),
    ] = False,
    interval: Annotated[float, _number("Seconds between rounds of --watch.", metavar="S")] = 30.0,
    count: Annotated[int | None, _number("With --watch: stop after N rounds.", minimum=1)] = None,
    env: EnvOption = None,
    output: Annotated[
        HealthOutput,
        typer.Option(
            "--output",
            "-o",
            help="table; json or yaml (the envelope); prometheus (for a textfile collector).",
        ),
    ] = HealthOutput.table,
) -> None:
    """Check the environment's endpoints (its workloads, its health.endpoints, and --url) at
    once: status, latency, JSONPath body and header assertions, TLS certificate days.

    Each endpoint is UP, DEGRADED (a warning: slow, certificate close to expiry, or flapping)
    or DOWN (failure-threshold attempts in a row failed). Exit 0 when none is DOWN, 1 when one
    is (or DEGRADED with --fail-on-degraded), 2 on bad input.
    """
    from hyperscale.health.core import HealthOptions, checker_for

    options = HealthOptions(
        urls=url or [],
        urls_only=urls_only,
        status=status or [],
        expect_json=expect_json or [],
        expect_header=expect_header or [],
        ca_file=ca_file,
        timeout_s=timeout,
        failure_threshold=failure_threshold,
        success_threshold=success_threshold,
        retry_interval_s=retry_interval,
        warn_latency_ms=warn_latency_ms,
        max_latency_ms=max_latency_ms,
        cert_warn_days=cert_warn_days,
        cert_fail_days=cert_fail_days,
        concurrency=concurrency,
        fail_on_degraded=fail_on_degraded,
    )

    def body(environment: Environment, app_ctx: AppContext) -> Any:
        from hyperscale.errors import UsageError

        if count is not None and not watch:
            raise UsageError("--count needs --watch: it bounds the number of rounds")
        checker = checker_for(environment, app_ctx, options)
        if watch:
            from hyperscale.health.view import health_lines, health_text
            from hyperscale.watching import display
            from hyperscale.watching import watch as watch_reports

            def as_text(report: HealthReport) -> str:
                return health_text(app_ctx, report, output)

            def lines(report: HealthReport) -> list[str]:
                return health_lines(app_ctx, report)

            live = output is HealthOutput.table
            with display(app_ctx, live, interval, lines, as_text) as show:
                return watch_reports(checker.run_round, show, interval, count, "rounds")
        report = checker.run_round()
        if output is HealthOutput.prometheus:
            return TextResult(report, report.prometheus())
        return report

    textual = watch or output is HealthOutput.prometheus
    shared = OutputFormat.table if textual else OutputFormat(output.value)
    run_env_command(ctx, "health", shared, env, body)
