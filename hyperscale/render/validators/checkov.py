"""checkov (Prisma Cloud / Bridgecrew) on the rendered manifests and the Terraform.

Policy: no failed check. A check may be suppressed next to the resource (the annotation
``checkov.io/skipN: CKV_ID=reason`` on a Kubernetes object, ``#checkov:skip=CKV_ID:reason``
in HCL), and the reason is mandatory: a suppression without one is a finding of its own.

checkov runs from its own virtualenv under the cache directory (scripts/install-checkov.sh):
its dependency pins clash with the project's.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hyperscale.errors import ExternalSystemError
from hyperscale.findings import Finding
from hyperscale.render.validators.base import ValidatorReport, Workspace
from hyperscale.runner import run

TOOL = "checkov"
_TIMEOUT_S = 600
#: What checkov writes as the comment of a suppression that has none.
_NO_REASON = {"", "no comment provided"}


def checkov_binary(workspace: Workspace) -> Path:
    path = workspace.app.cache_dir / "checkov" / "venv" / "bin" / "checkov"
    if not path.is_file():
        raise ExternalSystemError(
            f"checkov is not installed ({path} is missing)",
            hint="run `bash scripts/install-checkov.sh` (part of `make bootstrap`)",
        )
    return path


def validate(workspace: Workspace) -> ValidatorReport:
    report = ValidatorReport(TOOL)
    binary = checkov_binary(workspace)
    terraform = _terraform_dirs(workspace)
    targets = [workspace.out_dir, *terraform]
    scans = [("kubernetes", [workspace.out_dir])] + (
        [("terraform", terraform)] if terraform else []
    )
    # One process per framework, side by side: most of checkov's time is its own start-up
    # and one framework's scan, so two processes use the machine's second core.
    with ThreadPoolExecutor(max_workers=len(scans)) as pool:
        outputs = list(pool.map(lambda scan: _scan(binary, *scan), scans))
    frameworks = [framework for framework, _ in scans]
    sections = [section for output in outputs for section in output]
    passed: set[tuple[str, ...]] = set()
    seen: set[tuple[str, ...]] = set()
    for section in sections:
        results = section.get("results", {})
        passed.update(_identity(c) for c in results.get("passed_checks", []))
        for failed in results.get("failed_checks", []):
            if _first_time(seen, failed):
                report.findings.append(
                    _finding(workspace, targets, failed, _failed_message(failed))
                )
        for skipped in results.get("skipped_checks", []):
            if not _first_time(seen, skipped):
                continue
            result = skipped.get("check_result") or {}
            reason = str(
                result.get("suppress_comment") or skipped.get("suppress_comment") or ""
            ).strip()
            if reason.lower() in _NO_REASON:
                message = (
                    f"{skipped.get('check_id')} is suppressed without a reason: write why next to"
                    " the suppression (CKV_ID=reason, or #checkov:skip=CKV_ID:reason)"
                )
                report.findings.append(_finding(workspace, targets, skipped, message))
    report.notes.append(f"checkov {' + '.join(frameworks)}: {len(passed)} checks passed")
    return report


def _scan(binary: Path, framework: str, directories: list[Path]) -> list[dict[str, Any]]:
    argv = [str(binary), "--output", "json", "--skip-download", "--framework", framework]
    for directory in directories:
        argv += ["--directory", str(directory)]
    done = run(
        argv,
        check=False,
        timeout=_TIMEOUT_S,
        env={
            "LOG_LEVEL": "ERROR",
            "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
            "BC_SKIP_MAPPING": "TRUE",
        },
        what=f"checkov ({framework})",
    )
    # 0: nothing failed, 1: checks failed; anything else, or no JSON, is checkov itself failing.
    sections = _json_sections(done.stdout)
    if done.returncode not in (0, 1) or not sections:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ExternalSystemError(
            f"checkov ({framework}) failed with exit code {done.returncode}: {tail[0]}"
        )
    return sections


def _json_sections(stdout: str) -> list[dict[str, Any]]:
    """checkov prints one JSON value per scan (a report, or a list of them, one per
    framework); with several directories it prints several values one after the other."""
    decoder = json.JSONDecoder()
    sections: list[dict[str, Any]] = []
    index = 0
    while True:
        while index < len(stdout) and stdout[index].isspace():
            index += 1
        if index >= len(stdout):
            return sections
        try:
            value, index = decoder.raw_decode(stdout, index)
        except json.JSONDecodeError:
            return sections
        values = value if isinstance(value, list) else [value]
        sections += [v for v in values if isinstance(v, dict)]


def _identity(check: dict[str, Any]) -> tuple[str, ...]:
    lines = check.get("file_line_range") or []
    return (
        str(check.get("check_id")),
        str(check.get("file_abs_path") or check.get("file_path")),
        str(check.get("resource")),
        ",".join(map(str, lines)),
    )


def _first_time(seen: set[tuple[str, ...]], check: dict[str, Any]) -> bool:
    key = _identity(check)
    if key in seen:
        return False
    seen.add(key)
    return True


def _failed_message(check: dict[str, Any]) -> str:
    return f"{check.get('check_id')} {check.get('check_name')} ({check.get('resource')})"


def _finding(
    workspace: Workspace, targets: list[Path], check: dict[str, Any], message: str
) -> Finding:
    """checkov gives file paths relative to the scanned directory (with a leading slash)."""
    relative = str(check.get("file_path", "")).lstrip("/")
    path = Path(str(check.get("file_abs_path") or ""))
    if not path.is_absolute():
        path = next(
            (t / relative for t in targets if (t / relative).is_file()), targets[0] / relative
        )
    lines = check.get("file_line_range") or [None]
    return Finding(workspace.display_of(path), lines[0] or None, TOOL, message)


def _terraform_dirs(workspace: Workspace) -> list[Path]:
    """The directory of the environment's rendered roots: checkov loads the modules they call
    (terraform/modules, through the workspace's link) and scans them with this environment's
    inputs. An environment without roots (sandbox: no AWS account) has no Terraform to scan."""
    if not workspace.terraform_paths:
        return []
    return [Path(os.path.commonpath(workspace.terraform_paths))]
