"""Load environments/<name>.yaml; each problem is a line naming file, line, key and the fix."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hyperscale.config.base import NAME_PATTERN
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from hyperscale.yaml_lines import line_of

DEFAULT_ENVIRONMENT = "local"
_SECRET_WORDS = ("password", "token", "secret")


def available_environments(app: AppContext) -> list[str]:
    if not app.environments_dir.is_dir():
        return []
    return sorted(p.stem for p in app.environments_dir.glob("*.yaml"))


def resolve_name(app: AppContext, name: str | None) -> str:
    return name or app.environ.get("HYPERSCALE_ENV") or DEFAULT_ENVIRONMENT


def load_environment(app: AppContext, name: str | None = None) -> Environment:
    chosen = resolve_name(app, name)
    known = available_environments(app)
    path = app.environments_dir / f"{chosen}.yaml"
    if not re.match(NAME_PATTERN, chosen) or not path.is_file():
        source = (
            "--env"
            if name
            else ("HYPERSCALE_ENV" if app.environ.get("HYPERSCALE_ENV") else "default")
        )
        raise ConfigError(
            f"unknown environment {chosen!r} (from {source})",
            hint=f"choose one of: {', '.join(known) or 'none found'}"
            f"; files live in {app.environments_dir}",
        )
    return parse_environment_file(path)


def parse_environment_file(path: Path) -> Environment:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", hint="check the path") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}", hint="fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}",
            hint="see environments/local.yaml for the layout",
        )
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        lines = [line for err in exc.errors() for line in _describe(path, root, err)]
        raise ConfigError(
            lines[0], details=lines[1:], hint=None if len(lines) == 1 else f"{len(lines)} problems"
        ) from None
    if env.name != path.stem:
        raise ConfigError(
            f"{path}: name: {env.name!r} does not match the file name",
            hint=f"set name: {path.stem}",
        )
    return env


def _describe(path: Path, root: yaml.Node | None, err: Any) -> list[str]:
    loc = tuple(err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if not loc and err["type"] == "value_error":
        # A cross-field rule of the Environment model: one "key: problem" per line.
        return [_cross_field(path, root, line) for line in message.splitlines()]
    key = ".".join(str(p) for p in loc) or "(top level)"
    where = _where(path, root, loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(Environment, loc[:-1])
        return [f"{where}: {key}: unknown key; allowed keys here: {', '.join(allowed)}"]
    if kind == "missing":
        return [f"{where}: {key}: required key is missing"]
    value = err.get("input")
    secret = any(word in key.lower() for word in _SECRET_WORDS)
    shown = (
        "" if secret or isinstance(value, dict | list) or "(got" in message else f" (got {value!r})"
    )
    return [f"{where}: {key}: {message}{shown}"]


def _cross_field(path: Path, root: yaml.Node | None, line: str) -> str:
    key, sep, problem = line.partition(": ")
    if not sep:
        return f"{path}: {line}"
    loc = tuple(int(p) if p.isdigit() else p for p in key.split("."))
    return f"{_where(path, root, loc)}: {key}: {problem}"


def _where(path: Path, root: yaml.Node | None, loc: tuple[Any, ...]) -> str:
    return f"{path}:{line_of(root, loc)}" if root is not None else str(path)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if current is not None else None
        current = _model_in(field.annotation) if field is not None else None
    return sorted(current.model_fields) if current is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
