"""A deliberately broken template makes `hyperscale render` fail with the file, the line and
the reason. Each test breaks a private copy of the templates (tests/render/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from tests.conftest import invoke
from tests.render.conftest import edit, line_of

K8S = Path("templates/kubernetes")


def render_json(app: AppContext, *args: str) -> tuple[int, dict[str, Any], str]:
    outcome = invoke(app, "render", "--env", "sandbox", "-o", "json", *args)
    return outcome.exit_code, json.loads(outcome.stdout), outcome.stderr


def findings_of(document: dict[str, Any], tool: str) -> list[dict[str, Any]]:
    return [f for f in document["data"]["findings"] if f["tool"] == tool]


def test_unknown_field_is_a_strict_schema_finding_at_its_line(
    copy_app: AppContext, repo_copy: Path
) -> None:
    edit(
        repo_copy / K8S / "api/deployment.yaml.j2",
        "  revisionHistoryLimit: 5",
        "  revisionHistoryLimit: 5\n  replicaz: 2",
    )
    edit(
        repo_copy / K8S / "monitoring/prometheusrule.yaml.j2",
        "          for: 10m",
        "          forr: 10m",
    )

    code, document, _ = render_json(copy_app)

    assert code == 1
    written = repo_copy / "manifests/sandbox/api/deployment.yaml"
    found = findings_of(document, "kube-schema")
    assert {
        "file": "manifests/sandbox/api/deployment.yaml",
        "line": line_of(written, "replicaz"),
        "tool": "kube-schema",
        "message": "Deployment/platform-api: spec.replicaz: unknown field (strict schema)",
    } in found
    # A custom resource is held to its CRD schema the same way.
    rules = repo_copy / "manifests/sandbox/monitoring/prometheusrule.yaml"
    assert any(
        f["file"].endswith("prometheusrule.yaml")
        and f["line"] == line_of(rules, "forr:")
        and "forr: unknown field" in f["message"]
        for f in found
    ), found


def test_undefined_value_names_the_template_and_line(copy_app: AppContext, repo_copy: Path) -> None:
    template = repo_copy / K8S / "consumer/hpa.yaml.j2"
    edit(template, "  minReplicas: {{ w.min_replicas }}", "  minReplicas: {{ w.minimum_replicas }}")

    outcome = invoke(copy_app, "render", "--env", "sandbox")

    assert outcome.exit_code == 2
    line = line_of(template, "w.minimum_replicas")
    assert f"templates/kubernetes/consumer/hpa.yaml.j2:{line}: undefined value" in outcome.stderr
    assert "minimum_replicas" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    # Nothing was written: a template error stops before any file changes.
    assert "minimum" not in (repo_copy / "manifests/sandbox/consumer/hpa.yaml").read_text()


def test_template_syntax_error_names_the_template_and_line(
    copy_app: AppContext, repo_copy: Path
) -> None:
    template = repo_copy / K8S / "api/service.yaml.j2"
    edit(template, "  type: ClusterIP", "  type: {{ ClusterIP ) }}")

    outcome = invoke(copy_app, "render", "--env", "sandbox", "--check")

    assert outcome.exit_code == 2
    assert (
        f"templates/kubernetes/api/service.yaml.j2:{line_of(template, '{{ ClusterIP')}:"
        in outcome.stderr
    )


def test_secret_values_are_findings_with_file_and_line(
    copy_app: AppContext, repo_copy: Path
) -> None:
    # The environment's own MySQL password, readable on this machine, leaks into a ConfigMap...
    copy_app.environ["HYPERSCALE_SANDBOX_MYSQL_PASSWORD"] = "s3cret-sandbox-pw"
    edit(
        repo_copy / K8S / "config/configmap.yaml.j2",
        "  MYSQL_TLS:",
        "  MYSQL_DSN: mysql://hyperscale@db/{{ 's3cret-sandbox-pw' }}\n  MYSQL_TLS:",
    )
    # ...a Secret with data is rendered, and a password is given as a literal variable.
    edit(
        repo_copy / K8S / "namespace.yaml.j2",
        "    pod-security.kubernetes.io/warn-version: v1.34",
        "    pod-security.kubernetes.io/warn-version: v1.34\n---\napiVersion: v1\nkind: Secret\n"
        "metadata: {name: leaked, namespace: hyperscale}\nstringData:\n  password: hunter22\n",
    )
    edit(
        repo_copy / K8S / "consumer/deployment.yaml.j2",
        "            - name: CONSUMER_METRICS_HOST",
        "            - name: MYSQL_PASSWORD\n"
        "              value: hunter22\n"
        "            - name: CONSUMER_METRICS_HOST",
    )

    # ...and Alertmanager is given an SMTP password rather than a file with it.
    edit(
        repo_copy / K8S / "alertmanager/alertmanager.yaml.j2",
        "  resolve_timeout: 5m",
        "  resolve_timeout: 5m\n  smtp_auth_password: hunter22",
    )

    code, document, _ = render_json(copy_app, "--check")

    assert code == 1
    found = findings_of(document, "secrets")
    configmap = repo_copy / "manifests/sandbox/config/configmap.yaml"
    namespace = repo_copy / "manifests/sandbox/namespace.yaml"
    consumer = repo_copy / "manifests/sandbox/consumer/deployment.yaml"
    by_file = {(f["file"], f["line"]): f["message"] for f in found}
    # --check wrote nothing, so the lines are those of a fresh render: render it to count.
    assert not configmap.read_text().count("s3cret")
    invoke(copy_app, "render", "--env", "sandbox")
    cm_line = line_of(configmap, "MYSQL_DSN")
    assert "mysql.password" in by_file[("manifests/sandbox/config/configmap.yaml", cm_line)]
    assert (
        "Secret/leaked carries stringData"
        in by_file[("manifests/sandbox/namespace.yaml", line_of(namespace, "stringData:"))]
    )
    assert (
        "MYSQL_PASSWORD is given a literal value"
        in by_file[
            ("manifests/sandbox/consumer/deployment.yaml", line_of(consumer, "value: hunter22"))
        ]
    )
    alertmanager = repo_copy / "manifests/sandbox/alertmanager/alertmanager.yaml"
    assert (
        "smtp_auth_password holds a literal value"
        in by_file[
            (
                "manifests/sandbox/alertmanager/alertmanager.yaml",
                line_of(alertmanager, "smtp_auth_password"),
            )
        ]
    )
    # The value itself is never printed.
    assert "s3cret-sandbox-pw" not in json.dumps(document["data"]["findings"])


def test_alert_that_no_longer_fires_fails_its_promtool_unit_test(
    copy_app: AppContext, repo_copy: Path
) -> None:
    edit(
        repo_copy / K8S / "monitoring/prometheusrule.yaml.j2",
        "> {{ env.slo.consumer_lag_messages }}",
        "> {{ env.slo.consumer_lag_messages * 100 }}",
    )

    code, document, _ = render_json(copy_app, "--check")

    assert code == 1
    found = findings_of(document, "promtool")
    assert found, document["data"]["tools"]
    assert all(
        f["file"] == "templates/kubernetes/monitoring/tests/alerts.test.yaml.j2" for f in found
    )
    assert any(
        "alertname: ConsumerLagHigh" in f["message"] and "got:[]" in f["message"] for f in found
    )


def test_invalid_rule_dashboard_query_and_alertmanager_config_are_found_with_lines(
    copy_app: AppContext, repo_copy: Path
) -> None:
    edit(repo_copy / K8S / "monitoring/prometheusrule.yaml.j2", "max_over_time(", "max_over_time((")
    edit(
        repo_copy / K8S / "monitoring/dashboards/golden-signals.yaml.j2",
        "sum by (route) (rate(",
        "sum by (route) (rate((",
    )
    edit(
        repo_copy / K8S / "alertmanager/alertmanager.yaml.j2",
        "  repeat_interval: 4h",
        "  repeat_interval: 4h\n  repeat_every: 4h",
    )

    code, document, _ = render_json(copy_app)

    assert code == 1
    rules = repo_copy / "manifests/sandbox/monitoring/prometheusrule.yaml"
    promtool = findings_of(document, "promtool")
    assert any(
        f["file"] == "manifests/sandbox/monitoring/prometheusrule.yaml"
        and f["line"] == line_of(rules, "- alert: PodCrashLooping")
        and "PodCrashLooping" in f["message"]
        for f in promtool
    ), promtool
    dashboards = repo_copy / "manifests/sandbox/monitoring/dashboards.yaml"
    assert any(
        f["file"] == "manifests/sandbox/monitoring/dashboards.yaml"
        and f["line"] == line_of(dashboards, "golden-signals.json: |")
        and "panel 'Traffic (requests/s by route)'" in f["message"]
        for f in promtool
    ), promtool
    config = repo_copy / "manifests/sandbox/alertmanager/alertmanager.yaml"
    assert {
        "file": "manifests/sandbox/alertmanager/alertmanager.yaml",
        "line": line_of(config, "repeat_every"),
        "tool": "amtool",
    }.items() <= next(iter(findings_of(document, "amtool"))).items()


def test_checkov_suppression_without_a_reason_is_a_finding(
    copy_app: AppContext, repo_copy: Path
) -> None:
    template = repo_copy / K8S / "api/deployment.yaml.j2"
    edit(
        template,
        "checkov.io/skip1: CKV_K8S_43=Not yet pinned here",
        "checkov.io/skip1: CKV_K8S_43\n    x-was: Not yet pinned here",
    )
    edit(repo_copy / K8S / "_macros.j2", "allowPrivilegeEscalation: false\n", "")

    code, document, _ = render_json(copy_app)

    assert code == 1
    found = findings_of(document, "checkov")
    messages = [f["message"] for f in found if f["file"] == "manifests/sandbox/api/deployment.yaml"]
    assert any(m.startswith("CKV_K8S_43 is suppressed without a reason") for m in messages), found
    assert any(m.startswith("CKV_K8S_20 ") for m in messages), found
    assert all(f["line"] for f in found)


def test_terraform_suppression_without_a_reason_names_the_module_file(
    copy_app: AppContext, repo_copy: Path
) -> None:
    """checkov scans each module as the environment's roots call it; a finding names the
    module's file in the repository, not the render's scratch copy."""
    module = repo_copy / "terraform/modules/iam-irsa/main.tf"
    text = module.read_text()
    skip = next(line for line in text.splitlines() if "#checkov:skip=CKV_AWS_356:" in line)
    edit(module, skip, skip.split("CKV_AWS_356:")[0] + "CKV_AWS_356")  # the reason removed

    outcome = invoke(copy_app, "render", "--env", "staging", "--check", "-o", "json")

    assert outcome.exit_code == 1
    found = [f for f in json.loads(outcome.stdout)["data"]["findings"] if f["tool"] == "checkov"]
    assert any(
        f["file"] == "terraform/modules/iam-irsa/main.tf"
        and f["message"].startswith("CKV_AWS_356 is suppressed without a reason")
        and f["line"]
        for f in found
    ), found


def test_template_rendering_invalid_yaml_names_the_file_line_and_template(
    copy_app: AppContext, repo_copy: Path
) -> None:
    edit(repo_copy / K8S / "api/pdb.yaml.j2", "  maxUnavailable: 1", "  maxUnavailable: [1")

    outcome = invoke(copy_app, "render", "--env", "sandbox", "--check")

    assert outcome.exit_code == 2
    assert "manifests/sandbox/api/pdb.yaml:" in outcome.stderr
    assert "invalid YAML" in outcome.stderr
    assert "(rendered from templates/kubernetes/api/pdb.yaml.j2)" in outcome.stderr


def test_the_local_issuers_private_key_in_a_manifest_is_a_finding(
    copy_app: AppContext, repo_copy: Path
) -> None:
    """Issue 19: the sandbox's token-signing key is a secret like any other."""
    import json

    from hyperscale.clients.tokens import auth_dir, ensure_local_keys

    ensure_local_keys(copy_app, "sandbox")
    private = json.loads((auth_dir(copy_app, "sandbox") / "signing-key.json").read_text())["d"]
    edit(
        repo_copy / K8S / "config/configmap.yaml.j2",
        "  MYSQL_TLS:",
        f"  SIGNING_KEY: {private}\n  MYSQL_TLS:",
    )
    code, document, _ = render_json(copy_app, "--check")
    assert code == 1
    messages = [f["message"] for f in findings_of(document, "secrets")]
    assert any("local issuer" in m for m in messages), messages
