"""Typed results of `hyperscale migrate svn`: the migration (with its verification) and the
authors list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

#: Differences listed on a terminal; the JSON envelope has them all.
_SHOWN = 200

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class Target:
    """One tree to compare: a branch or tag (full) or a commit of a sampled revision."""

    label: str
    svn_path: str
    revision: int
    #: The Git commit; None when Git lacks the branch or tag.
    commit: str | None


@dataclass(frozen=True)
class Difference:
    ref: str
    path: str
    problem: str
    svn: str | None = None
    git: str | None = None

    def line(self) -> str:
        seen = f" (svn {self.svn}, git {self.git})" if self.svn or self.git else ""
        where = f"{self.path}: " if self.path else ""
        return f"{self.ref}: {where}{self.problem}{seen}"


@dataclass(frozen=True)
class Checked:
    target: Target
    files: int
    differences: list[Difference]


@dataclass(frozen=True)
class ConvertedRef:
    kind: str  # "branch" or "tag"
    name: str
    svn_path: str
    #: What the ref names in Git: the commit, or the annotated tag object.
    object: str
    commit: str

    def to_data(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "svn_path": "/" + self.svn_path,
            "object": self.object,
            "commit": self.commit,
        }


@dataclass(frozen=True)
class Verification:
    mode: str  # "full", "sample" or "none"
    checked: list[Checked] = field(default_factory=list)
    #: Problems with the set of refs itself (a branch Git lacks or has in excess).
    ref_differences: list[Difference] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def differences(self) -> list[Difference]:
        return self.ref_differences + [d for c in self.checked for d in c.differences]

    @property
    def passed(self) -> bool:
        return not self.differences

    def to_data(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "passed": self.passed,
            "trees": len(self.checked),
            "files": sum(c.files for c in self.checked),
            "checked": [
                {
                    "ref": c.target.label,
                    "svn_path": "/" + c.target.svn_path,
                    "revision": c.target.revision,
                    "commit": c.target.commit,
                    "files": c.files,
                    "differences": len(c.differences),
                }
                for c in self.checked
            ],
            "differences": [
                {"ref": d.ref, "path": d.path, "problem": d.problem, "svn": d.svn, "git": d.git}
                for d in self.differences
            ],
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class MigrationResult:
    svn_url: str
    dest: str
    engine: str
    #: The revisions this run converted: first..last (None, None when it had none to do).
    first: int | None
    last: int | None
    #: The last revision of the repository the migration now covers.
    converted_to: int
    head: int
    commits: int
    resumed: bool
    refs: list[ConvertedRef]
    outside_layout: list[str]
    defaulted_authors: list[str]
    verification: Verification
    pushed_to: str | None
    convert_seconds: float

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.verification.passed else ExitCode.CHECK_FAILED

    @property
    def revisions(self) -> int:
        return 0 if self.first is None or self.last is None else self.last - self.first + 1

    def to_data(self) -> dict[str, Any]:
        return {
            "svn_url": self.svn_url,
            "dest": self.dest,
            "engine": self.engine,
            "revisions": {
                "from": self.first,
                "to": self.last,
                "converted": self.revisions,
                "migrated_to": self.converted_to,
                "head": self.head,
            },
            "resumed": self.resumed,
            "commits": self.commits,
            "branches": [r.to_data() for r in self.refs if r.kind == "branch"],
            "tags": [r.to_data() for r in self.refs if r.kind == "tag"],
            "outside_layout": ["/" + p for p in self.outside_layout],
            "defaulted_authors": self.defaulted_authors,
            "verification": self.verification.to_data(),
            "pushed_to": self.pushed_to,
            "seconds": {
                "convert": round(self.convert_seconds, 2),
                "verify": round(self.verification.seconds, 2),
            },
        }

    def render(self, console: Console) -> None:
        if self.first is None:
            console.print(
                f"{self.dest} is up to date with {self.svn_url} at r{self.converted_to}",
                markup=False,
            )
        else:
            console.print(
                f"converted r{self.first}-r{self.last} of {self.svn_url} into {self.dest}:"
                f" {self.revisions} revisions, {self.commits} commits"
                f" in {_duration(self.convert_seconds)}" + (" (resumed)" if self.resumed else ""),
                markup=False,
            )
        for kind in ("branch", "tag"):
            names = [r.name for r in self.refs if r.kind == kind]
            if names:
                label = "branches" if kind == "branch" else "tags"
                console.print(f"{label} ({len(names)}): {', '.join(names)}", markup=False)
        if self.outside_layout:
            console.print(
                "not converted (outside the layout): "
                + ", ".join("/" + p for p in self.outside_layout),
                markup=False,
            )
        if self.defaulted_authors:
            console.print(
                "authors given the default domain: " + ", ".join(self.defaulted_authors),
                markup=False,
            )
        self._render_verification(console)
        if self.pushed_to:
            console.print(f"pushed branches and tags to {self.pushed_to}", markup=False)

    def _render_verification(self, console: Console) -> None:
        v = self.verification
        if v.mode == "none":
            console.print("verification: skipped (--verify none)")
            return
        files = sum(c.files for c in v.checked)
        summary = f"verification ({v.mode}): {len(v.checked)} trees, {files} files compared"
        if v.passed:
            console.print(f"{summary} in {_duration(v.seconds)}: [green]no differences[/]")
            return
        console.print(f"{summary}: [bold red]{len(v.differences)} differences[/]")
        for difference in v.differences[:_SHOWN]:
            console.print(f"  {difference.line()}", markup=False)
        if len(v.differences) > _SHOWN:
            console.print(f"  ... and {len(v.differences) - _SHOWN} more (-o json lists all)")
        if self.pushed_to is None:
            console.print("nothing was pushed: verification failed", markup=False)


@dataclass(frozen=True)
class AuthorCount:
    user: str
    commits: int
    first: str
    last: str
    mapped: bool


@dataclass(frozen=True)
class AuthorsResult:
    svn_url: str
    file: str
    authors: list[AuthorCount]
    added: list[str]
    exit_code: ExitCode = ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "svn_url": self.svn_url,
            "file": self.file,
            "authors": [
                {
                    "user": a.user,
                    "commits": a.commits,
                    "first": a.first,
                    "last": a.last,
                    "mapped": a.mapped,
                }
                for a in self.authors
            ],
            "added": self.added,
            "unmapped": [a.user for a in self.authors if not a.mapped],
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        table = Table(title=f"committers of {self.svn_url}", title_justify="left")
        for column in ("author", "commits", "first", "last", "mapped"):
            table.add_column(column, justify="right" if column == "commits" else "left")
        for a in self.authors:
            table.add_row(
                a.user, str(a.commits), a.first[:10], a.last[:10], "yes" if a.mapped else "no"
            )
        console.print(table)
        unmapped = sum(not a.mapped for a in self.authors)
        added = f"added {len(self.added)} to" if self.added else "nothing new for"
        console.print(
            f"{added} {self.file}; {unmapped} still to fill in (`user = Full Name <email>`)",
            markup=False,
        )


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
