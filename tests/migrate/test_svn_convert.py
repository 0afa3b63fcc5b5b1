"""`hyperscale migrate svn` on a real repository: what Git ends up with, the authors it
refuses, layouts, the svn:// path and pushing."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from hyperscale.context import AppContext
from tests.migrate.builders import (
    BINARY,
    MISSING_AUTHOR,
    NON_ASCII,
    RichRepository,
    create,
    git,
    refs,
    revision_props,
    svn,
)
from tests.migrate.conftest import mapped, migrate, migrate_json

BRANCHES = {"main", "feature-x", "release-1"}
TAGS = {"v1.0", "v1.1", "v2.0"}


def commit_of(dest: Path, svn_path: str, rev: int) -> str:
    """The commit the migration made for a branch or tag at a revision (its SVN-Id trailer)."""
    found = git(dest, "log", "--all", "--format=%H", f"--grep=^SVN-Id: /{svn_path}@{rev} ")
    assert len(found.split()) == 1, found
    return found.strip()


def files(dest: Path, ref: str) -> dict[str, str]:
    """path -> mode of every file in a ref's tree."""
    listing = git(dest, "ls-tree", "-r", "-z", ref).split("\0")
    return {entry.split("\t")[1]: entry.split()[0] for entry in listing if entry}


def blob(dest: Path, spec: str) -> bytes:
    done = subprocess.run(
        ["git", f"--git-dir={dest}", "cat-file", "blob", spec], capture_output=True, check=True
    )
    return done.stdout


def svn_time(url: str, rev: int) -> int:
    stamp = revision_props(url, rev)["svn:date"][:19]
    return int(dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.UTC).timestamp())


def test_rich_repository_becomes_exactly_its_branches_tags_and_files(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    dest = tmp_path / "widget.git"
    code, document = migrate_json(isolated_app, rich.url, str(dest), *mapped(rich))
    assert code == 0, document
    data = document["data"]
    assert (document["command"], document["status"]) == ("migrate svn", "ok")
    assert data["revisions"] == {
        "from": 0, "to": 12, "converted": 13, "migrated_to": 12, "head": 12
    }  # fmt: skip
    assert data["verification"]["passed"] is True
    assert data["verification"]["mode"] == "full"
    assert data["verification"]["trees"] == len(BRANCHES) + len(TAGS)
    assert data["defaulted_authors"] == [MISSING_AUTHOR]
    assert data["outside_layout"] == []

    # Exactly those branches and tags, every tag annotated.
    expected = {f"refs/heads/{b}" for b in BRANCHES} | {f"refs/tags/{t}" for t in TAGS}
    assert set(refs(dest)) == expected
    for tag in TAGS:
        assert git(dest, "cat-file", "-t", f"refs/tags/{tag}").strip() == "tag"
    assert git(dest, "symbolic-ref", "HEAD").strip() == "refs/heads/main"

    # Trunk: the rename, the deletion, the binary, the script, the ignores, the odd name.
    main = files(dest, "main")
    assert main == {
        ".gitignore": "100644",
        "README.md": "100644",
        "assets/logo.png": "100644",
        "bin/run.sh": "100755",
        NON_ASCII: "100644",
        "src/.gitignore": "100644",
        "src/app.py": "100644",
        "src/helpers.py": "100644",
    }
    assert blob(dest, "main:assets/logo.png") == BINARY
    assert blob(dest, "main:.gitignore") == b"/*.log\n/build\n"
    assert blob(dest, "main:src/.gitignore") == b"/*.pyc\n/__pycache__\n"
    assert blob(dest, "main:src/app.py") == b"def main():\n    return 'v3'\n"
    renamed = git(dest, "diff", "-M", "--name-status", commit_of(dest, "trunk", 2),
                  commit_of(dest, "trunk", 4))  # fmt: skip
    assert "R100\tsrc/util.py\tsrc/helpers.py" in renamed
    assert int(git(dest, "rev-list", "--count", "main")) == 5  # r1, r2, r4, r8, r12

    # Branches start from the trunk commit they were copied from.
    assert git(dest, "rev-parse", "release-1^").strip() == commit_of(dest, "trunk", 4)
    assert "docs/old.txt" in files(dest, "release-1")  # copied before r8 deleted it
    assert "src/feature.py" in files(dest, "feature-x")

    # Tags: a plain copy names its source commit; the one changed later gets a commit of
    # its own; each tagger is whoever made the tag's last change, at that time.
    assert git(dest, "rev-parse", "v1.0^{commit}").strip() == commit_of(dest, "trunk", 2)
    assert (
        git(dest, "rev-parse", "v2.0^{commit}").strip()
        == git(dest, "rev-parse", "release-1").strip()
    )
    v11 = git(dest, "rev-parse", "v1.1^{commit}").strip()
    assert v11 == commit_of(dest, "tags/v1.1", rich.tag_modified_rev)
    assert git(dest, "rev-parse", f"{v11}^").strip() == commit_of(dest, "trunk", 8)
    assert blob(dest, "v1.1:README.md").startswith(b"# Widget 1.1\n")
    tag_text = git(dest, "cat-file", "-p", "v1.1")
    when = svn_time(rich.url, rich.tag_modified_rev)
    assert f"tagger Dave Dunn <dave@example.org> {when} +0000" in tag_text
    assert "Fix the README of tag 1.1" in tag_text
    assert f"tagger Carol Cole <carol@example.org> {svn_time(rich.url, 3)} +0000" in git(
        dest, "cat-file", "-p", "v1.0"
    )

    # Authors from the file; the one it lacks from the default domain.
    authors = git(dest, "log", "main", "--format=%an <%ae>").splitlines()
    assert "Bob Baker <bob@example.org>" in authors
    assert f"{MISSING_AUTHOR} <{MISSING_AUTHOR}@example.com>" in authors


def test_an_author_missing_from_the_map_is_refused_in_one_line(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    dest = tmp_path / "refused.git"
    outcome = migrate(isolated_app, rich.url, str(dest), "--authors", str(rich.authors_file))
    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: 1 Subversion author is not in {rich.authors_file}: mallory")
    assert "--default-domain" in lines[0]
    assert not refs(dest)  # refused before converting anything
    code, document = migrate_json(isolated_app, rich.url, str(dest), "--authors", "/no/such")
    assert code == 2
    assert document["errors"][0]["code"] == "usage"
    assert "cannot read the authors file /no/such" in document["errors"][0]["message"]


def test_authors_lists_every_committer_and_keeps_what_the_team_filled_in(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    authors = tmp_path / "authors.txt"
    code, document = migrate_json(isolated_app, "authors", rich.url, "--file", str(authors))
    assert code == 0
    users = {"alice", "bob", "carol", "dave", MISSING_AUTHOR}
    assert set(document["data"]["added"]) == users
    assert {a["user"]: a["commits"] for a in document["data"]["authors"]} == {
        "alice": 4, "bob": 3, "carol": 3, "dave": 1, MISSING_AUTHOR: 1
    }  # fmt: skip
    lines = [line for line in authors.read_text().splitlines() if not line.startswith("#")]
    assert sorted(lines) == sorted(f"{u} = " for u in users)

    authors.write_text(authors.read_text().replace("bob = ", "bob = Bob Baker <bob@example.org>"))
    code, document = migrate_json(isolated_app, "authors", rich.url, "--file", str(authors))
    assert code == 0
    assert document["data"]["added"] == []
    assert "bob = Bob Baker <bob@example.org>" in authors.read_text()
    assert set(document["data"]["unmapped"]) == users - {"bob"}
    refused = migrate(isolated_app, rich.url, str(tmp_path / "d.git"), "--authors", str(authors))
    assert refused.exit_code == 2
    assert "4 Subversion authors are not in" in refused.stderr


def test_a_layout_the_repository_does_not_have_is_refused(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    outcome = migrate(
        isolated_app, rich.url, str(tmp_path / "d.git"), *mapped(rich),
        "--trunk", "main-line", "--branches", "branches",
    )  # fmt: skip
    assert outcome.exit_code == 2
    assert outcome.stderr.strip().splitlines() == [
        f"error: bad layout: /main-line not in {rich.url} at r12 (the URL holds branches,"
        " tags, trunk; give --trunk/--branches/--tags relative to it)"
    ]
    both = migrate(isolated_app, rich.url, str(tmp_path / "e.git"), "--stdlayout", "--trunk", "x")
    assert both.exit_code == 2
    assert "--stdlayout and --trunk/--branches/--tags exclude each other" in both.stderr


def test_custom_layout_under_a_project_url_with_symlinks_and_empty_directories(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    url = create(tmp_path / "repo")
    project = f"{url}/widget"
    svn("mkdir", "--parents", "-m", "layout", f"{project}/main-line/var/empty",
        f"{project}/dev", f"{project}/releases", f"{url}/other/thing")  # fmt: skip
    wc = tmp_path / "wc"
    svn("checkout", "--quiet", f"{project}/main-line", str(wc))
    (wc / "hello.txt").write_text("hello\n")
    (wc / "greeting").symlink_to("hello.txt")
    svn("add", "--quiet", "hello.txt", "greeting", cwd=wc)
    svn("propset", "--quiet", "svn:global-ignores", "*.tmp\n#scratch\n", ".", cwd=wc)
    svn("commit", "--quiet", "-m", "hello", cwd=wc)
    svn("copy", "-m", "dev x", f"{project}/main-line", f"{project}/dev/fix bug~1")
    svn("copy", "-m", "1.0", f"{project}/dev/fix bug~1", f"{project}/releases/1.0")
    dest = tmp_path / "widget.git"
    code, document = migrate_json(
        isolated_app, project, str(dest), "--default-domain", "example.com", "--empty-dirs",
        "--trunk", "main-line", "--branches", "dev", "--tags", "releases",
    )  # fmt: skip
    assert code == 0, document
    # A branch name Git would refuse is made acceptable.
    assert set(refs(dest)) == {"refs/heads/main", "refs/heads/fix-bug-1", "refs/tags/1.0"}
    assert files(dest, "main") == {
        ".gitignore": "100644",
        "greeting": "120000",
        "hello.txt": "100644",
        "var/empty/.gitkeep": "100644",
    }
    assert blob(dest, "main:greeting") == b"hello.txt"
    assert blob(dest, "main:.gitignore") == b"*.tmp\n\\#scratch\n"  # inherited: unanchored
    assert document["data"]["verification"]["passed"] is True
    assert document["data"]["outside_layout"] == []  # /other is outside the project URL


def test_svn_url_over_the_network_gives_the_same_commits(
    isolated_app: AppContext, rich: RichRepository, svnserve: str, tmp_path: Path
) -> None:
    local, remote = tmp_path / "local.git", tmp_path / "remote.git"
    assert migrate_json(isolated_app, rich.url, str(local), *mapped(rich))[0] == 0
    code, document = migrate_json(isolated_app, svnserve, str(remote), *mapped(rich))
    assert code == 0, document
    assert document["data"]["engine"] == "svnrdump dump | git fast-import"
    assert refs(remote) == refs(local)


def test_push_sends_branches_and_tags_once_verified(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    dest, remote = tmp_path / "widget.git", tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    code, document = migrate_json(
        isolated_app, rich.url, str(dest), *mapped(rich), "--push", str(remote)
    )
    assert code == 0, document
    assert document["data"]["pushed_to"] == str(remote)
    assert refs(remote) == refs(dest)


def test_progress_shows_revisions_with_a_rate_on_a_terminal(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    isolated_app.stderr_isatty = True
    outcome = migrate(isolated_app, rich.url, str(tmp_path / "d.git"), *mapped(rich))
    assert outcome.exit_code == 0
    assert "revisions" in outcome.stderr
    assert "rev/s" in outcome.stderr
    assert "13/13" in outcome.stderr


def test_a_dest_made_from_another_repository_is_refused(
    isolated_app: AppContext, rich: RichRepository, tmp_path: Path
) -> None:
    dest = tmp_path / "widget.git"
    assert migrate_json(isolated_app, rich.url, str(dest), *mapped(rich))[0] == 0
    other = create(tmp_path / "other")
    svn("mkdir", "-m", "layout", f"{other}/trunk")
    outcome = migrate(isolated_app, other, str(dest), "--default-domain", "example.com")
    assert outcome.exit_code == 2
    assert "was migrated from another Subversion repository" in outcome.stderr
    moved = migrate(isolated_app, f"{rich.url}/trunk", str(dest), *mapped(rich))
    assert moved.exit_code == 2
    assert "was migrated from / of this repository, not /trunk" in moved.stderr
