"""The alert rules and the Alertmanager configuration, checked by the Prometheus project's
own tools (Debian `prometheus` and `prometheus-alertmanager`):

- ``promtool check rules`` on the rule groups of every PrometheusRule, extracted to a rule file;
- ``promtool check rules`` on every PromQL query of the Grafana dashboards, each as a recording
  rule (the Loki panels' LogQL is not PromQL, and no LogQL parser can run here);
- ``promtool test rules`` on the unit tests in templates/kubernetes/monitoring/tests/, rendered
  with the environment's values, so each alert is shown firing and quiet at its thresholds;
- ``amtool check-config`` on alertmanager/alertmanager.yaml.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from hyperscale.findings import Finding
from hyperscale.render.documents import Document
from hyperscale.render.templates import KUBERNETES, render_alert_tests
from hyperscale.render.validators.base import ValidatorReport, Workspace
from hyperscale.runner import run

RULES_FILE = "rules.yaml"
ALERTMANAGER_CONFIG = Path("alertmanager/alertmanager.yaml")
_TIMEOUT_S = 120
_RULE_REF = re.compile(r'group "(?P<group>[^"]+)", rule (?P<rule>\d+)')
_LINE_REF = re.compile(r"\bline (?P<line>\d+)\b")


def check_rules(workspace: Workspace) -> ValidatorReport:
    report = ValidatorReport("promtool")
    rules = _rule_documents(workspace)
    if not rules:
        report.notes.append("no PrometheusRule rendered")
        return report
    work = workspace.work_dir / "promtool"
    work.mkdir(parents=True, exist_ok=True)
    groups = [g for _, doc in rules for g in doc.data.get("spec", {}).get("groups", [])]
    (work / RULES_FILE).write_text(
        yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8"
    )
    checked = run(
        ["promtool", "check", "rules", RULES_FILE], cwd=work, check=False, timeout=_TIMEOUT_S
    )
    report.findings += _dashboard_queries(workspace, work, report)
    if checked.returncode != 0:
        report.findings += _rule_findings(workspace, rules, checked.stdout + checked.stderr)
        return report  # unit tests of rules that do not parse would only repeat the problem
    report.notes.insert(
        0, f"promtool check rules: {sum(len(g.get('rules', [])) for g in groups)} rules"
    )
    report.findings += _unit_tests(workspace, work, groups, report)
    return report


def _dashboard_queries(workspace: Workspace, work: Path, report: ValidatorReport) -> list[Finding]:
    """Every PromQL query of the Grafana dashboards, parsed by promtool as a recording rule
    (one group per dashboard), so a broken panel query is found before anyone opens Grafana."""
    groups: list[dict[str, Any]] = []
    places: dict[str, tuple[Path, int, list[str]]] = {}
    for relative, docs in workspace.documents.items():
        for doc in docs:
            if doc.kind != "ConfigMap":
                continue
            if "grafana_dashboard" not in doc.data.get("metadata", {}).get("labels", {}):
                continue
            for key, text in (doc.data.get("data") or {}).items():
                panels = json.loads(text).get("panels", [])
                # PromQL only: a Loki panel's LogQL is not PromQL (and no LogQL parser runs here).
                queries = [
                    (p.get("title", "?"), t["expr"])
                    for p in panels
                    if (p.get("datasource") or {}).get("type", "prometheus") == "prometheus"
                    for t in p.get("targets", [])
                    if "expr" in t
                ]
                if not queries:
                    continue
                name = f"dashboard {key}"
                at = doc.line_of(["data", key])
                places[name] = (workspace.display(relative), at, [q[0] for q in queries])
                rules = [{"record": "dashboard:query", "expr": q[1]} for q in queries]
                groups.append({"name": name, "rules": rules})
    if not groups:
        return []
    text = yaml.safe_dump({"groups": groups}, sort_keys=False)
    (work / "dashboards.yaml").write_text(text, encoding="utf-8")
    done = run(
        ["promtool", "check", "rules", "dashboards.yaml"], cwd=work, check=False, timeout=_TIMEOUT_S
    )
    report.notes.append(f"{sum(len(g['rules']) for g in groups)} dashboard queries parsed")
    if done.returncode == 0:
        return []
    findings = []
    for line in (done.stdout + done.stderr).splitlines():
        match = _RULE_REF.search(line)
        if match and match["group"] in places:
            shown, number, titles = places[match["group"]]
            title = titles[int(match["rule"]) - 1]
            problem = line.split("dashboards.yaml: ", 1)[-1].strip()
            message = f"{match['group']}, panel {title!r}: {problem}"
            findings.append(Finding(shown, number, "promtool", message))
    if findings:
        return findings
    tail = done.stdout.strip()[-300:]
    return [Finding(workspace.display(Path("monitoring")), None, "promtool", tail)]


def _unit_tests(
    workspace: Workspace, work: Path, groups: list[Any], report: ValidatorReport
) -> list[Finding]:
    # Annotations are dropped for the unit tests: their templates are checked above, and the
    # tests are about each expression, its `for` and its labels.
    bare = [
        {
            **g,
            "rules": [
                {k: v for k, v in r.items() if k != "annotations"} for r in g.get("rules", [])
            ],
        }
        for g in groups
    ]
    (work / RULES_FILE).write_text(
        yaml.safe_dump({"groups": bare}, sort_keys=False), encoding="utf-8"
    )
    findings: list[Finding] = []
    templates = workspace.app.templates_dir
    for test in render_alert_tests(templates, workspace.values):
        (work / test.relative).write_text(test.text, encoding="utf-8")
        done = run(
            ["promtool", "test", "rules", str(test.relative)],
            cwd=work,
            check=False,
            timeout=_TIMEOUT_S,
        )
        source = templates / KUBERNETES / test.template
        if done.returncode == 0:
            cases = len(yaml.safe_load(test.text).get("tests", []))
            report.notes.append(f"promtool test rules {test.template}: {cases} cases passed")
            continue
        findings += [
            Finding(source, None, "promtool", f"unit test failed: {failure}")
            for failure in _test_failures(done.stdout + done.stderr)
        ]
    return findings


def _test_failures(output: str) -> list[str]:
    """promtool prints each failure as an 'alertname: ..., time: ...' block (exp/got lines)."""
    blocks: list[str] = []
    for line in output.splitlines():
        text = line.strip()
        if not text or text.startswith(("Unit Testing", "FAILED", "SUCCESS")):
            continue
        if text.startswith(("alertname:", "expr:")) or not blocks:
            blocks.append(text)
        else:
            blocks[-1] += " " + text
    return blocks or [output.strip()[-500:]]


def _rule_documents(workspace: Workspace) -> list[tuple[Path, Document]]:
    return [
        (relative, doc)
        for relative, docs in workspace.documents.items()
        for doc in docs
        if doc.kind == "PrometheusRule" and isinstance(doc.data.get("spec"), dict)
    ]


def _rule_findings(
    workspace: Workspace, rules: list[tuple[Path, Document]], output: str
) -> list[Finding]:
    """promtool names the group and the rule's 1-based index: find that rule's line."""
    findings = []
    for line in output.splitlines():
        text = line.strip()
        if not text or text.startswith(("Checking", "FAILED", "SUCCESS")):
            continue
        shown, number = workspace.display(rules[0][0]), None
        match = _RULE_REF.search(text)
        if match:
            for relative, doc in rules:
                for gi, group in enumerate(doc.data["spec"].get("groups", [])):
                    if group.get("name") == match["group"]:
                        shown = workspace.display(relative)
                        number = doc.line_of(
                            ["spec", "groups", gi, "rules", int(match["rule"]) - 1]
                        )
        message = text.split(f"{RULES_FILE}: ", 1)[-1]
        findings.append(Finding(shown, number, "promtool", message))
    return findings


def check_alertmanager(workspace: Workspace) -> ValidatorReport:
    report = ValidatorReport("amtool")
    config = workspace.out_dir / ALERTMANAGER_CONFIG
    if not config.is_file():
        report.notes.append("no Alertmanager configuration rendered")
        return report
    done = run(["amtool", "check-config", str(config)], check=False, timeout=_TIMEOUT_S)
    shown = workspace.display(ALERTMANAGER_CONFIG)
    if done.returncode == 0:
        report.notes.append(f"amtool check-config {ALERTMANAGER_CONFIG}: ok")
        return report
    for line in (done.stdout + done.stderr).splitlines():
        text = line.strip()
        if not text or text.startswith(("Checking", "amtool: error: failed to validate")):
            continue
        text = text.removeprefix(f"Checking '{config}'").strip().removeprefix("FAILED:").strip()
        match = _LINE_REF.search(text)
        report.findings.append(
            Finding(shown, int(match["line"]) if match else None, "amtool", text)
        )
    return report
