"""Validate Terraform files: `terraform fmt -check`, an HCL parse, and `terraform validate`
where it can run. Each problem is a Finding with its file and line.

The HCL parse is python-hcl2 (a Lark grammar of HCL2, kept up to date on PyPI and the parser
checkov and others build on): pure Python, no build step, and it reports line and column.
`terraform fmt` parses too, but stops at the first broken file in a run; the separate parse
names every broken file, then fmt runs on the files that parse.
"""

from __future__ import annotations

import difflib
import functools
from collections import defaultdict
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from hyperscale.findings import Finding

#: What a caller prints when a root needs provider plugins (every AWS root does).
VALIDATE_SKIPPED = (
    "terraform validate skipped: needs provider plugins, which cannot be downloaded here"
)
#: Resources of the built-in provider need no download (terraform_data, terraform_remote_state).
_BUILTIN_PREFIX = "terraform_"


def validate_terraform(paths: list[Path], app: AppContext) -> list[Finding]:
    """Findings for the ``.tf`` files among ``paths`` (directories are searched recursively).

    `terraform validate` runs only on directories whose configuration needs no provider
    plugin (see ``needs_provider_plugins``); for the others it is skipped without a finding,
    and ``validate_skipped(paths)`` tells the caller to say so.
    """
    files = _tf_files(paths)
    findings: list[Finding] = []
    parsed: dict[Path, dict[str, Any]] = {}
    for path in files:
        document, problem = _parse(path)
        if problem is not None:
            findings.append(problem)
        else:
            parsed[path] = document
    findings += _fmt_findings(app, sorted(parsed))
    findings += _validate_findings(app, parsed, broken={f.file.parent for f in findings})
    return sorted(findings)


def validate_skipped(paths: list[Path]) -> list[Path]:
    """The directories where `terraform validate` was skipped (they need provider plugins)."""
    by_dir = _by_directory(_parsed_only(_tf_files(paths)))
    return sorted(d for d, docs in by_dir.items() if needs_provider_plugins(docs))


def needs_provider_plugins(documents: list[dict[str, Any]]) -> bool:
    """True when a configuration requires a provider, or uses a resource or data source that
    does not come from the built-in one."""
    for document in documents:
        for block in document.get("terraform", []):
            if block.get("required_providers"):
                return True
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                if any(not _unquote(t).startswith(_BUILTIN_PREFIX) for t in block):
                    return True
        if document.get("provider"):
            return True
    return False


def _tf_files(paths: list[Path]) -> list[Path]:
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.rglob("*.tf") if ".terraform" not in p.parts)
        elif path.suffix == ".tf":
            found.add(path)
    return sorted(p.resolve() for p in found)


def _parse(path: Path) -> tuple[dict[str, Any], Finding | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, Finding(path, None, "hcl", f"cannot read the file: {exc}")
    return _parse_text(path, text)


# `render` asks validate_terraform and then validate_skipped about the same files: parse once.
@functools.lru_cache(maxsize=1024)
def _parse_text(path: Path, text: str) -> tuple[dict[str, Any], Finding | None]:
    import hcl2
    from lark.exceptions import UnexpectedInput

    try:
        return hcl2.loads(text), None
    except UnexpectedInput as exc:
        return {}, Finding(path, exc.line, "hcl", _parse_message(exc))
    except Exception as exc:  # noqa: BLE001 - the parser's other errors carry no position
        return {}, Finding(path, None, "hcl", f"not valid HCL: {type(exc).__name__}: {exc}")


def _parse_message(exc: Any) -> str:
    token = getattr(exc, "token", None)
    found = f" {str(token).strip()[:30]!r}" if token is not None and str(token).strip() else ""
    return f"not valid HCL: unexpected{found or ' input'} at column {exc.column}"


def _parsed_only(files: list[Path]) -> dict[Path, dict[str, Any]]:
    parsed = {}
    for path in files:
        document, problem = _parse(path)
        if problem is None:
            parsed[path] = document
    return parsed


def _by_directory(parsed: dict[Path, dict[str, Any]]) -> dict[Path, list[dict[str, Any]]]:
    groups: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for path, document in parsed.items():
        groups[path.parent].append(document)
    return groups


def _fmt_findings(app: AppContext, files: list[Path]) -> list[Finding]:
    from hyperscale.infra.client import fmt_text, fmt_unformatted

    findings = []
    for path in fmt_unformatted(app, files):
        original = path.read_text(encoding="utf-8")
        line = _first_difference(original, fmt_text(app, original))
        findings.append(
            Finding(
                path.resolve(),
                line,
                "terraform fmt",
                "not in canonical format (run `terraform fmt` on it, or fix the template)",
            )
        )
    return findings


def _first_difference(before: str, after: str) -> int | None:
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines())
    for tag, first, _, _, _ in matcher.get_opcodes():
        if tag != "equal":
            return first + 1
    return None


def _validate_findings(
    app: AppContext, parsed: dict[Path, dict[str, Any]], broken: set[Path]
) -> list[Finding]:
    import tempfile

    from hyperscale.infra.client import Terraform

    findings = []
    for directory, documents in sorted(_by_directory(parsed).items()):
        if directory in broken or needs_provider_plugins(documents):
            continue
        with tempfile.TemporaryDirectory(prefix="hyperscale-validate-") as data_dir:
            terraform = Terraform(app, directory, Path(data_dir))
            terraform.init(backend=False)
            for diagnostic in terraform.validate():
                if diagnostic.severity != "error":
                    continue
                file = directory / diagnostic.file if diagnostic.file else directory
                findings.append(
                    Finding(file, diagnostic.line, "terraform validate", diagnostic.one_line())
                )
    return findings


def _unquote(name: str) -> str:
    return name.strip('"')
