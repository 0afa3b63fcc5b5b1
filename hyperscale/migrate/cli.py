"""`hyperscale migrate svn`: thin commands over hyperscale.migrate.core."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from hyperscale.boundary import run_command
from hyperscale.options import OutputOption, command_group
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from contextlib import ExitStack

    from hyperscale.context import AppContext
    from hyperscale.output import Result

app = command_group("Move repositories to Git, verified.")


class _ConvertByDefault(TyperGroup):
    """`migrate svn URL DEST` converts; `migrate svn authors URL` is the one other command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["convert", *args]
        return super().parse_args(ctx, args)


svn_app = command_group(
    "Subversion to Git: `hyperscale migrate svn SVN_URL DEST [OPTIONS]` converts (the convert"
    " command, see `hyperscale migrate svn convert --help`); `hyperscale migrate svn authors"
    " SVN_URL` lists the committers to map. Exit codes: 0 converted and verified,"
    " 1 verification found differences, 2 usage or input (unmapped authors, bad layout,"
    " another repository's DEST), 3 svn or git failed, 130 interrupted (--resume continues).",
    cls=_ConvertByDefault,
)
app.add_typer(svn_app, name="svn")


class VerifyMode(StrEnum):
    full = "full"
    sample = "sample"
    none = "none"


SvnUrl = Annotated[
    str,
    typer.Argument(
        metavar="SVN_URL", help="The repository or project URL (file://, svn://, http(s)://)."
    ),
]


@svn_app.command()
def convert(
    ctx: typer.Context,
    svn_url: SvnUrl,
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="The Git repository to write (bare).")
    ],
    authors: Annotated[
        Path | None,
        typer.Option("--authors", "-A", help="`svn-user = Full Name <email>` per line."),
    ] = None,
    default_domain: Annotated[
        str | None,
        typer.Option("--default-domain", help="Map authors the file lacks to user <user@DOMAIN>."),
    ] = None,
    stdlayout: Annotated[
        bool, typer.Option("--stdlayout", "-s", help="trunk, branches, tags (the default).")
    ] = False,
    trunk: Annotated[str | None, typer.Option(help="Trunk's path under the URL.")] = None,
    branches: Annotated[
        str | None, typer.Option(help="The directory holding the branches.")
    ] = None,
    tags: Annotated[str | None, typer.Option(help="The directory holding the tags.")] = None,
    revisions: Annotated[
        str | None, typer.Option("--revisions", "-r", metavar="A:B", help="Only these.")
    ] = None,
    push: Annotated[
        str | None,
        typer.Option(metavar="REMOTE", help="Push branches and tags here once verified."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted migration.")
    ] = False,
    verify: Annotated[
        VerifyMode,
        typer.Option(help="full: every branch and tag; sample: some revisions; none."),
    ] = VerifyMode.full,
    empty_dirs: Annotated[
        bool, typer.Option("--empty-dirs", help="Keep empty directories (a .gitkeep).")
    ] = False,
    checkpoint_every: Annotated[
        int,
        typer.Option(
            min=1, metavar="N", help="Save progress at least every N revisions (and 30 s)."
        ),
    ] = 1000,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Convert SVN_URL into the Git repository DEST, then verify it; run again to fetch new
    revisions. Branches become branches (trunk is main), tags annotated tags, svn:ignore
    .gitignore files."""
    from hyperscale.migrate import core

    request = core.MigrationRequest(
        svn_url=svn_url,
        dest=dest,
        authors_file=authors,
        default_domain=default_domain,
        stdlayout=stdlayout,
        trunk=trunk,
        branches=branches,
        tags=tags,
        revisions=revisions,
        push=push,
        resume=resume,
        verify=verify.value,
        empty_dirs=empty_dirs,
        checkpoint_every=checkpoint_every,
    )

    def body(app_ctx: AppContext) -> Result:
        from contextlib import ExitStack

        with ExitStack() as stack:
            return core.migrate(request, _phased_bars(app_ctx, stack))

    run_command(ctx, "migrate svn", output, body)


@svn_app.command(name="authors")
def authors_command(
    ctx: typer.Context,
    svn_url: SvnUrl,
    file: Annotated[
        Path,
        typer.Option("--file", "-f", help="The authors file to write (kept, added to)."),
    ] = Path("authors.txt"),
    output: OutputOption = OutputFormat.table,
) -> None:
    """Write every committer of SVN_URL to FILE as `user = ` for the team to fill in; users
    already in FILE keep their line."""
    from hyperscale.migrate import core

    def body(_app: AppContext) -> Result:
        return core.authors(svn_url, file)

    run_command(ctx, "migrate svn authors", output, body)


def _phased_bars(app_ctx: AppContext, stack: ExitStack) -> Any:
    """One bar per phase (convert, then verify), each closed when the next begins: rich
    draws one live display at a time."""
    from contextlib import ExitStack

    from hyperscale.output import progress_bar

    titles = {"convert": ("revisions", "rev"), "verify": ("verifying trees", "tree")}
    shown: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if shown.get("phase") != phase:
            if "bars" in shown:
                shown["bars"].close()
            bars = shown["bars"] = ExitStack()
            stack.push(bars)  # closed with the command too (a second close does nothing)
            title, unit = titles[phase]
            shown["bar"] = bars.enter_context(progress_bar(app_ctx, title, rate_unit=unit))
            shown["phase"] = phase
        shown["bar"](done, total)

    return update
