"""Every alert of the rendered PrometheusRules has a runbook page that exists, and every
`hyperscale` command the on-call docs show exists with the options they give it; every doc is one
click from README.md."""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hyperscale.cli import app
from tests.checkers import REPO

RUNBOOK_PREFIX = "https://git.hyperscale.example.com/platform/hyperscale/-/blob/main/"
ON_CALL_DOCS = [
    *sorted((REPO / "docs" / "runbooks").glob("*.md")),
    REPO / "docs" / "scaling.md",
    REPO / "docs" / "failure-scenarios.md",
    REPO / "docs" / "security.md",
    REPO / "docs" / "tradeoffs.md",
]


def _alerts() -> list[tuple[str, str, dict[str, str]]]:
    found = []
    for rule_file in sorted((REPO / "manifests").glob("*/monitoring/prometheusrule.yaml")):
        document = yaml.safe_load(rule_file.read_text())
        for group in document["spec"]["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found.append((rule_file.parts[-3], rule["alert"], rule["annotations"]))
    return found


def test_every_alert_has_a_runbook_page_that_exists() -> None:
    alerts = _alerts()
    assert len(alerts) >= 21  # 7 alerts in each of sandbox, staging, prod
    for environment, alert, notes in alerts:
        url = notes.get("runbook_url", "")
        assert url.startswith(RUNBOOK_PREFIX), f"{environment} {alert}: runbook_url {url!r}"
        page = REPO / url.removeprefix(RUNBOOK_PREFIX)
        assert page.is_file(), f"{environment} {alert}: {page.relative_to(REPO)} does not exist"
        assert page.read_text().startswith(f"# {alert}\n"), f"{page.name} is not {alert}'s page"
    listed = (REPO / "docs" / "runbooks" / "README.md").read_text()
    for _, alert, _ in alerts:
        assert f"| {alert} |" in listed


def _commands(text: str) -> list[str]:
    """`hyperscale ...` command lines from the docs' code blocks and inline code."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.DOTALL):
        for raw in block.splitlines():
            line = raw.split("#", 1)[0].strip()
            if line.startswith("hyperscale "):
                commands.append(line)
    commands += [c for c in re.findall(r"`(hyperscale [^`]+)`", text) if "|" not in c]
    return commands


def _help(path: list[str]) -> tuple[int, str]:
    return _help_of(tuple(path))


@functools.cache
def _help_of(path: tuple[str, ...]) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output


def command_problems(text: str) -> list[str]:
    """Each `hyperscale ...` command in ``text`` that is not a command, or uses an option its
    command does not have."""
    problems = []
    for command in _commands(text):
        words = shlex.split(command)[1:]
        # The command path is the leading words that are subcommands.
        path: list[str] = []
        for word in words:
            if word.startswith("-") or not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            if _help([*path, word])[0] != 0:
                break
            path.append(word)
        if not path:
            problems.append(f"`{command}` is no hyperscale command")
            continue
        _, help_text = _help(path)
        rest = words[len(path) :]
        if rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]) and "Commands" in help_text:
            problems.append(f"`{command}`: hyperscale {' '.join(path)} has no {rest[0]}")
            continue
        for option in (w.split("=", 1)[0] for w in words if w.startswith("-")):
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text):
                problems.append(f"`{command}`: hyperscale {' '.join(path)} has no {option}")
    return problems


@pytest.mark.parametrize("doc", ON_CALL_DOCS, ids=lambda p: p.name)
def test_the_commands_in_the_docs_exist(doc: Path) -> None:
    assert doc.is_file(), f"{doc.relative_to(REPO)} is missing"
    text = doc.read_text()
    assert _commands(text), f"{doc.name} shows no hyperscale command"
    assert command_problems(text) == []


def test_the_command_check_catches_a_wrong_command_and_option() -> None:
    text = (
        "```sh\nhyperscale kafka lag --max-lagg 3\nhyperscale kafka lagg\n"
        "hyperscale status --env prod\n```\n"
    )
    assert command_problems(text) == [
        "`hyperscale kafka lag --max-lagg 3`: hyperscale kafka lag has no --max-lagg",
        "`hyperscale kafka lagg`: hyperscale kafka has no lagg",
    ]


def test_every_doc_is_one_click_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    linked = set(re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", readme))
    for doc in [*sorted((REPO / "docs").glob("*.md")), REPO / "docs" / "runbooks" / "README.md"]:
        assert doc.relative_to(REPO).as_posix() in linked, f"README.md has no link to {doc.name}"
