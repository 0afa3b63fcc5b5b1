"""Jinja rendering of the files under templates/, strict about undefined values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hyperscale.context import AppContext


def render(app: AppContext, template: str, **values: Any) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(app.templates_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - config files, not HTML
    )
    return environment.get_template(template).render(**values)


def render_to_file(app: AppContext, template: str, target: Path, **values: Any) -> bool:
    """Write the rendered template; True when the file changed."""
    text = render(app, template, **values)
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return True


def render_html(app: AppContext, template: str, **values: Any) -> str:
    """An HTML template (an e-mail): every value escaped."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(app.templates_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=True,
    )
    return environment.get_template(template).render(**values)
