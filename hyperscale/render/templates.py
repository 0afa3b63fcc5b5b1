"""Render templates/kubernetes/ into a directory; a template error names the template and line.

Which templates become files: every ``*.j2`` except helpers (a name starting with ``_``),
the dashboards' sources (``monitoring/dashboards/``, embedded into one ConfigMap file) and the
alert unit tests (``monitoring/tests/``, rendered only into the validation's work directory).
A template that renders to nothing but whitespace writes no file.
"""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.errors import UsageError

if TYPE_CHECKING:
    import jinja2

KUBERNETES = "kubernetes"
DASHBOARDS = "monitoring/dashboards"
ALERT_TESTS = "monitoring/tests"


@dataclass(frozen=True)
class RenderedFile:
    """One output file: its path relative to the output directory, its text, its template."""

    relative: Path
    text: str
    template: Path


class TemplateError(UsageError):
    code = "template"


def jinja_environment(templates_dir: Path) -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - YAML and JSON, not HTML
    )


def output_templates(templates_dir: Path) -> list[Path]:
    root = templates_dir / KUBERNETES
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*.j2")
        if not p.name.startswith("_")
        and not p.relative_to(root).as_posix().startswith((DASHBOARDS + "/", ALERT_TESTS + "/"))
    )


def render_all(templates_dir: Path, values: dict[str, Any]) -> list[RenderedFile]:
    """Every output file, or a TemplateError listing every template that failed."""
    environment = jinja_environment(templates_dir)
    problems: list[str] = []
    dashboards = []
    for source in sorted((templates_dir / KUBERNETES / DASHBOARDS).glob("[!_]*.yaml.j2")):
        relative = source.relative_to(templates_dir / KUBERNETES)
        text = _render(environment, templates_dir, relative, values, problems)
        if text is not None:
            model = _load_yaml(templates_dir, relative, text, problems)
            if model is not None:
                name = source.name.removesuffix(".yaml.j2")
                dashboards.append(
                    {"name": name, "json": json.dumps(model, indent=2, sort_keys=True)}
                )
    values = {**values, "dashboards": dashboards}
    files: list[RenderedFile] = []
    for relative in output_templates(templates_dir):
        text = _render(environment, templates_dir, relative, values, problems)
        if text is None or not text.strip():
            continue
        files.append(RenderedFile(relative.with_suffix(""), text.strip() + "\n", relative))
    if problems:
        raise TemplateError(problems[0], details=problems[1:], hint=_hint(problems))
    return files


def render_alert_tests(templates_dir: Path, values: dict[str, Any]) -> list[RenderedFile]:
    environment = jinja_environment(templates_dir)
    problems: list[str] = []
    root = templates_dir / KUBERNETES
    found = []
    for source in sorted((root / ALERT_TESTS).glob("*.j2")):
        relative = source.relative_to(root)
        text = _render(environment, templates_dir, relative, values, problems)
        if text is not None:
            found.append(RenderedFile(Path(source.name).with_suffix(""), text, relative))
    if problems:
        raise TemplateError(problems[0], details=problems[1:], hint=_hint(problems))
    return found


def _hint(problems: list[str]) -> str:
    return f"{len(problems)} template problems" if len(problems) > 1 else "fix the template"


def _render(
    environment: jinja2.Environment,
    templates_dir: Path,
    relative: Path,
    values: dict[str, Any],
    problems: list[str],
) -> str | None:
    import jinja2

    name = f"{KUBERNETES}/{relative.as_posix()}"
    try:
        return environment.get_template(name).render(**values)
    except jinja2.TemplateSyntaxError as exc:
        where = _display(templates_dir, exc.filename or name, exc.lineno)
        problems.append(f"{where}: template syntax error: {exc.message}")
    except jinja2.UndefinedError as exc:
        where = _failing_template_line(templates_dir, exc) or _display(templates_dir, name, None)
        problems.append(f"{where}: undefined value: {exc.message}")
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        where = _failing_template_line(templates_dir, exc) or _display(templates_dir, name, None)
        problems.append(f"{where}: {type(exc).__name__}: {exc}")
    return None


def _failing_template_line(templates_dir: Path, exc: BaseException) -> str | None:
    """Jinja rewrites tracebacks so template frames carry the template's file and line: the
    innermost such frame is where the template went wrong (a macro's file when in a macro)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    if not frames:
        return None
    return _display(templates_dir, frames[-1].filename, frames[-1].lineno)


def _display(templates_dir: Path, filename: str, line: int | None) -> str:
    path = Path(filename)
    if not path.is_absolute():
        path = templates_dir / filename
    shown = _relative_to_repo(templates_dir, path)
    return f"{shown}:{line}" if line else shown


def _relative_to_repo(templates_dir: Path, path: Path) -> str:
    repo = templates_dir.parent
    return str(path.relative_to(repo)) if path.is_relative_to(repo) else str(path)


def _load_yaml(templates_dir: Path, relative: Path, text: str, problems: list[str]) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _display(templates_dir, f"{KUBERNETES}/{relative.as_posix()}", None)
        line = f" (rendered line {mark.line + 1})" if mark else ""
        problems.append(f"{where}: renders invalid YAML{line}: {getattr(exc, 'problem', exc)}")
        return None
