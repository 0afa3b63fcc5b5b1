"""Validate Terraform files: `terraform fmt -check`, an HCL parse, and `terraform validate`
where the providers it needs are at hand. Each problem is a Finding with its file and line.

The HCL parse is python-hcl2 (a Lark grammar of HCL2, kept up to date on PyPI and the parser
checkov and others build on): pure Python, no build step, and it reports line and column.
`terraform fmt` parses too, but stops at the first broken file in a run; the separate parse
names every broken file, then fmt runs on the files that parse.

`terraform validate` loads every provider's schema, and nothing can be downloaded here. It runs
in each directory whose providers (its own and its local modules', see
``hyperscale.infra.providers``) are all in the local provider mirror: ``$HYPERSCALE_TF_PLUGIN_DIR``,
else /opt/tf-plugins when it exists. `terraform init -backend=false -plugin-dir=MIRROR` then
`validate -json` run on a scratch copy of the directory and its modules, so no `.terraform/` or
lock file is ever written into the repository. A directory needing a provider the mirror lacks
(or a version of it that no constraint allows) is skipped with a note, not a finding.

The outcome is cached under ``<cache>/terraform-validate/``, keyed by the content of every file
of the directory and its modules, the terraform binary and the mirror's versions: an unchanged
directory costs no terraform run at all, and a changed file can never hit a stale entry.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from hyperscale.findings import Finding
from hyperscale.infra.providers import (
    BUILTIN,
    MIRROR_ENV,
    Configuration,
    configuration,
    mirror_versions,
    plugin_mirror,
    provider_sources,
    short_name,
)

#: What a caller prints when a directory needs provider plugins the local mirror does not have.
VALIDATE_SKIPPED = (
    "terraform validate skipped: needs provider plugins, which cannot be downloaded here"
)
#: Never copied into the scratch tree (terraform's own working files).
_NOT_CONFIGURATION = (".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", "*.tfplan")
#: Written into the scratch copy of a module that expects aliased provider configurations.
_ALIASES_FILE = "zz_hyperscale_validate_aliases.tf"
#: Bump when the cached record's shape or meaning changes (the code's own hash is in the key too).
_CACHE_FORMAT = "2"
#: Cached outcomes kept (each a few hundred bytes); the least recently used go first.
_CACHE_KEEP = 512
#: Each validate is one CPU-bound provider process (the AWS schema takes ~2 s to load).
_MAX_WORKERS = 4


@dataclass(frozen=True, order=True)
class ValidateSkip:
    """A directory `terraform validate` could not run in, and why (one reason per provider)."""

    directory: Path
    reasons: tuple[str, ...]

    def note(self, root: Path | None = None) -> str:
        shown = self.directory
        if root is not None and shown.is_relative_to(root):
            shown = shown.relative_to(root)
        return f"{VALIDATE_SKIPPED} ({shown}: {'; '.join(self.reasons)})"


# What the last validate_terraform run decided per directory, for validate_skipped: init alone
# knows whether a mirror's version satisfies the constraints.
_LAST_SKIPS: dict[Path, ValidateSkip | None] = {}
_LAST_SKIPS_LOCK = threading.Lock()


def validate_terraform(paths: list[Path], app: AppContext) -> list[Finding]:
    """Findings for the ``.tf`` files among ``paths`` (directories are searched recursively).

    `terraform validate` runs in every directory whose providers are in the local mirror
    (``$HYPERSCALE_TF_PLUGIN_DIR``, else /opt/tf-plugins) or that needs none; the others are
    skipped without a finding, and ``validate_skips(paths)`` says which and why.
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
    broken = {f.file.parent for f in findings}
    findings += _fmt_findings(app, sorted(parsed))
    findings += _validate_findings(app, sorted(_by_directory(parsed)), broken)
    return sorted(set(findings))


def validate_skips(paths: list[Path], app: AppContext | None = None) -> list[ValidateSkip]:
    """The directories among ``paths`` where `terraform validate` was skipped, with the reason:
    what the last ``validate_terraform`` run found, else what the mirror holds."""
    mirror = plugin_mirror(app or AppContext())
    skips = []
    for directory in sorted(_by_directory(_parsed_only(_tf_files(paths)))):
        with _LAST_SKIPS_LOCK:
            known = directory in _LAST_SKIPS
            skip = _LAST_SKIPS.get(directory)
        if not known:
            skip = _unavailable(configuration(directory, _directory_documents), mirror)
        if skip is not None:
            skips.append(skip)
    return skips


def validate_skipped(paths: list[Path], app: AppContext | None = None) -> list[Path]:
    """The directories where `terraform validate` was skipped (a provider is not at hand)."""
    return [skip.directory for skip in validate_skips(paths, app)]


def needs_provider_plugins(documents: list[dict[str, Any]]) -> bool:
    """True when a configuration requires a provider other than the built-in one, or uses a
    resource, data source or provider block of one."""
    return bool(provider_sources(documents) - {BUILTIN})


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
    app: AppContext, directories: list[Path], broken: set[Path]
) -> list[Finding]:
    mirror = plugin_mirror(app)
    workers = max(1, min(len(directories), os.cpu_count() or 1, _MAX_WORKERS))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(
            pool.map(lambda d: _validate_directory(app, d, mirror, broken), directories)
        )
    findings: set[Finding] = set()
    with _LAST_SKIPS_LOCK:
        for directory, (found, skip) in zip(directories, outcomes, strict=True):
            findings.update(found)
            _LAST_SKIPS[directory] = skip
    return sorted(findings)


def _validate_directory(
    app: AppContext, directory: Path, mirror: Path | None, broken: set[Path]
) -> tuple[list[Finding], ValidateSkip | None]:
    config = configuration(directory, _directory_documents)
    if not config.directories or any(
        d.resolve() in broken for d in (*config.directories, *config.unreadable)
    ):
        return [], None  # the parse finding says what to fix; terraform would only repeat it
    skip = _unavailable(config, mirror)
    if skip is not None:
        return [], skip
    base = Path(os.path.commonpath(config.directories))
    cache = app.cache_dir / "terraform-validate"
    entry = cache / f"{_cache_key(app, config, base, mirror)}.json"
    record = _load(entry)
    if record is None:
        record = _run_validate(app, config, base, mirror)
        _store(cache, entry, record)
    if record["skip"]:
        return [], ValidateSkip(directory, tuple(record["skip"]))
    return [
        Finding(
            (base / item["file"]).resolve() if item["file"] else directory,
            item["line"],
            item["tool"],
            item["message"],
        )
        for item in record["diagnostics"]
    ], None


def _unavailable(config: Configuration, mirror: Path | None) -> ValidateSkip | None:
    """Why init could not install this configuration here, when that is plain without it."""
    reasons = [f"module {source} would need a download" for source in config.remote_modules]
    if config.providers and mirror is None:
        names = ", ".join(short_name(p) for p in config.providers)
        reasons.append(f"{names}: no provider mirror (set {MIRROR_ENV})")
    elif mirror is not None:
        reasons += [
            f"{short_name(p)} is not in the provider mirror {mirror}"
            for p in config.providers
            if not mirror_versions(mirror, p)
        ]
    return ValidateSkip(config.root, tuple(reasons)) if reasons else None


def _run_validate(
    app: AppContext, config: Configuration, base: Path, mirror: Path | None
) -> dict[str, Any]:
    """init and validate on a scratch copy; the record ``_store`` caches."""
    from hyperscale.infra.client import ProvidersUnavailableError, Terraform, TerraformError

    with tempfile.TemporaryDirectory(prefix="hyperscale-validate-") as scratch:
        tree = Path(scratch) / "tree"
        ignore = shutil.ignore_patterns(*_NOT_CONFIGURATION)
        for directory in config.directories:
            target = tree / directory.relative_to(base)
            shutil.copytree(directory, target, ignore=ignore, dirs_exist_ok=True)
        root = tree / config.root.relative_to(base)
        if config.root_aliases:
            # terraform validate wants the aliased configurations a caller would pass
            # (hashicorp/terraform#28490); declaring them empty is the documented workaround.
            (root / _ALIASES_FILE).write_text(
                "".join(
                    f'provider "{name}" {{\n  alias = "{alias}"\n}}\n'
                    for name, _, alias in (a.partition(".") for a in config.root_aliases)
                ),
                encoding="utf-8",
            )
        # An empty plugin directory when there is no mirror: init must never try the network.
        plugins = mirror if mirror is not None else Path(scratch) / "no-plugins"
        plugins.mkdir(exist_ok=True)
        terraform = Terraform(app, root, Path(scratch) / "data")
        try:
            terraform.init(backend=False, plugin_dir=plugins)
        except ProvidersUnavailableError as exc:
            return {"skip": exc.reasons, "diagnostics": []}
        except TerraformError as exc:
            diagnostics, tool = exc.diagnostics, "terraform init"
        else:
            diagnostics, tool = terraform.validate(), "terraform validate"
        return {
            "skip": None,
            "diagnostics": [
                {
                    "file": _relative_to_tree(tree, root, d.file),
                    "line": d.line,
                    "tool": tool,
                    "message": d.text(),
                }
                for d in diagnostics
                if d.severity == "error"
            ],
        }


def _relative_to_tree(tree: Path, root: Path, filename: str | None) -> str | None:
    """A diagnostic's file (relative to the root it ran in) as a path relative to the tree."""
    if not filename:
        return None
    full = Path(os.path.normpath(root / filename))
    return full.relative_to(tree).as_posix() if full.is_relative_to(tree) else None


def _cache_key(app: AppContext, config: Configuration, base: Path, mirror: Path | None) -> str:
    from hyperscale.infra.binary import find_terraform

    binary = find_terraform(app)
    stat = binary.stat()
    digest = hashlib.sha256()
    facts: list[str] = [
        _CACHE_FORMAT,
        _code_version(),
        f"{binary}:{stat.st_size}:{stat.st_mtime_ns}",
        str(mirror),
        *(
            f"{p}={','.join(mirror_versions(mirror, p)) if mirror else ''}"
            for p in config.providers
        ),
        config.root.relative_to(base).as_posix(),
    ]
    for fact in facts:
        digest.update(fact.encode() + b"\0")
    for directory in sorted(config.directories):
        for path in sorted(_configuration_files(directory)):
            digest.update(path.relative_to(base).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


@functools.cache
def _code_version() -> str:
    """The code that turns terraform's output into the cached record: a change to it must not
    be answered with a record the old code wrote."""
    from hyperscale.infra import client, providers

    digest = hashlib.sha256()
    for module_file in (__file__, client.__file__, providers.__file__):
        digest.update(Path(module_file).read_bytes())
    return digest.hexdigest()


def _configuration_files(directory: Path) -> list[Path]:
    """The files the scratch copy gets (what ``_NOT_CONFIGURATION`` lets through)."""
    import fnmatch

    found = []
    for current, dirs, names in os.walk(directory, followlinks=True):
        dirs[:] = [d for d in dirs if not any(fnmatch.fnmatch(d, p) for p in _NOT_CONFIGURATION)]
        found += [
            Path(current) / name
            for name in names
            if not any(fnmatch.fnmatch(name, p) for p in _NOT_CONFIGURATION)
        ]
    return found


def _load(entry: Path) -> dict[str, Any] | None:
    try:
        record: dict[str, Any] = json.loads(entry.read_text(encoding="utf-8"))
        os.utime(entry)  # recently used: pruned last
    except (OSError, ValueError):
        return None
    return record


def _store(cache: Path, entry: Path, record: dict[str, Any]) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=cache, prefix=".tmp-", suffix=".json", delete=False, encoding="utf-8"
    ) as handle:
        json.dump(record, handle)
    Path(handle.name).replace(entry)  # atomic: a parallel run reads the old entry or the new one
    entries = sorted(cache.glob("*.json"), key=_modified)
    for stale in entries[:-_CACHE_KEEP]:
        stale.unlink(missing_ok=True)


def _modified(path: Path) -> int:
    """An entry's age for pruning; one a parallel run just removed counts as oldest."""
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _directory_documents(directory: Path) -> list[dict[str, Any]] | None:
    """The documents of one directory's ``.tf`` files, None when one does not parse."""
    documents = []
    for path in sorted(directory.glob("*.tf")):
        document, problem = _parse(path)
        if problem is not None:
            return None
        documents.append(document)
    return documents
