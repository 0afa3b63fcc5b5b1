"""`hyperscale infra` against the real terraform binary on terraform_data roots."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.conftest import invoke, moto_client
from tests.infra.conftest import FIXTURES, MACHINE_MIRROR, needs_aws_mirror

ORDER = ["network", "service", "edge"]


def infra(app: AppContext, stack_dir: Path, *args: str, env: str = "sandbox") -> object:
    return invoke(app, "infra", *args, "--env", env, "--stack-dir", str(stack_dir))


def envelope(app: AppContext, stack_dir: Path, *args: str) -> tuple[int, dict]:
    outcome = invoke(
        app, "infra", *args, "--env", "sandbox", "--stack-dir", str(stack_dir), "-o", "json"
    )
    return outcome.exit_code, json.loads(outcome.stdout)


def statuses(document: dict) -> dict[str, str]:
    return {m["module"]: m["status"] for m in document["data"]["modules"]}


def test_apply_runs_modules_in_dependency_order_and_passes_outputs(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    code, document = envelope(isolated_app, stack_dir, "apply")
    assert code == 0
    assert (document["apiVersion"], document["command"]) == ("hyperscale.dev/v1", "infra apply")
    assert (document["status"], document["exit_code"], document["errors"]) == ("ok", 0, [])
    assert set(document["data"]) == {
        "action", "environment", "stack_dir", "modules", "totals", "failed"
    }  # fmt: skip
    assert document["data"]["totals"] == {"add": 3, "change": 0, "destroy": 0}
    assert set(document["data"]["modules"][0]) == {
        "module", "status", "add", "change", "destroy", "drift", "resources",
        "output_changes", "message", "seconds",
    }  # fmt: skip
    assert document["data"]["modules"][0]["resources"] == ["add terraform_data.network"]
    assert [m["module"] for m in document["data"]["modules"]] == ORDER
    assert set(statuses(document).values()) == {"applied"}
    code, outputs = envelope(isolated_app, stack_dir, "output")
    assert code == 0
    modules = outputs["data"]["modules"]
    # edge's value is built from service's, built from network's: each input was passed on.
    assert modules["edge"]["outputs"]["route"] == "edge-for-svc-on-net-blue"


def test_second_apply_is_a_no_op_and_plan_then_shows_no_changes(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    assert envelope(isolated_app, stack_dir, "apply")[0] == 0
    code, again = envelope(isolated_app, stack_dir, "apply")
    assert code == 0
    assert set(statuses(again).values()) == {"unchanged"}
    assert again["data"]["totals"] == {"add": 0, "change": 0, "destroy": 0}
    code, planned = envelope(isolated_app, stack_dir, "plan")
    assert code == 0
    assert set(statuses(planned).values()) == {"no_changes"}


def test_plan_with_pending_changes_exits_1_and_counts_them_per_module(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    assert envelope(isolated_app, stack_dir, "apply")[0] == 0
    network = stack_dir / "network" / "main.tf"
    network.write_text(network.read_text().replace('"blue"', '"green"'))
    code, planned = envelope(isolated_app, stack_dir, "plan")
    assert code == 1
    assert planned["status"] == "failed"
    by_module = {m["module"]: m for m in planned["data"]["modules"]}
    # terraform_data updates in place on a new input.
    assert by_module["network"]["status"] == "changes"
    assert (by_module["network"]["add"], by_module["network"]["change"]) == (0, 1)
    assert by_module["network"]["resources"] == ["change terraform_data.network"]
    assert by_module["network"]["output_changes"] == ["network_name"]
    # Downstream is planned with the outputs in state now, so it shows no change yet, and
    # says that it will be planned again.
    assert by_module["service"]["status"] == "no_changes"
    assert "current outputs of network, which will change" in by_module["service"]["message"]
    assert by_module["edge"]["message"] is None


def test_plan_before_any_apply_marks_downstream_modules_blocked(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    code, planned = envelope(isolated_app, stack_dir, "plan")
    assert code == 1
    assert statuses(planned) == {"network": "changes", "service": "blocked", "edge": "blocked"}
    service = planned["data"]["modules"][1]
    assert "network.network_name" in service["message"]
    assert "apply network first" in service["message"]


def test_failing_module_stops_the_apply_and_is_named(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    (stack_dir / "service" / "broken.tf").write_text(
        'resource "terraform_data" "migration" {\n'
        '  provisioner "local-exec" {\n'
        '    command = "echo schema migration failed >&2; exit 7"\n'
        "  }\n"
        "}\n"
    )
    outcome = infra(isolated_app, stack_dir, "apply")
    assert outcome.exit_code == 3
    errors = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "apply stopped at module service" in errors[0]
    assert "local-exec" in errors[0]
    code, document = envelope(isolated_app, stack_dir, "apply")
    assert code == 3
    assert statuses(document) == {"network": "unchanged", "service": "failed", "edge": "not_run"}
    assert document["status"] == "error"
    assert document["data"]["failed"]["module"] == "service"


def test_plan_time_error_names_the_file_and_line(isolated_app: AppContext, stack_dir: Path) -> None:
    (stack_dir / "network" / "check.tf").write_text(
        'resource "terraform_data" "guard" {\n'
        "  lifecycle {\n"
        "    precondition {\n"
        '      condition     = var.label == "red"\n'
        '      error_message = "only the red network is allowed here."\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    outcome = infra(isolated_app, stack_dir, "plan")
    assert outcome.exit_code == 3
    assert "plan failed in module network" in outcome.stderr
    assert "check.tf:4" in outcome.stderr
    assert "only the red network is allowed here." in outcome.stderr


def test_module_option_limits_the_run_and_reads_upstream_outputs_from_state(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    assert envelope(isolated_app, stack_dir, "apply", "--module", "network")[0] == 0
    code, document = envelope(isolated_app, stack_dir, "apply", "--module", "service")
    assert code == 0
    assert statuses(document) == {"service": "applied"}
    code, outputs = envelope(isolated_app, stack_dir, "output", "--module", "service")
    assert outputs["data"]["modules"]["service"]["outputs"]["service_id"] == "svc-on-net-blue"
    assert list(outputs["data"]["modules"]) == ["service"]


def test_apply_of_a_module_whose_upstream_is_not_applied_stops_with_exit_2(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    outcome = infra(isolated_app, stack_dir, "apply", "--module", "service")
    assert outcome.exit_code == 2
    assert "apply stopped at module service" in outcome.stderr
    assert "apply network first" in outcome.stderr
    assert not (stack_dir / "service" / "terraform.tfstate").exists()


def test_unknown_module_is_a_usage_error(isolated_app: AppContext, stack_dir: Path) -> None:
    outcome = infra(isolated_app, stack_dir, "plan", "--module", "nope")
    assert outcome.exit_code == 2
    assert "unknown module nope" in outcome.stderr
    assert "network" in outcome.stderr


def test_cycle_in_the_stack_is_a_usage_error_naming_it(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    stack_file = stack_dir / "stack.yaml"
    stack_file.write_text(
        stack_file.read_text().replace("  network:\n    path: network\n", "")
        + "  network:\n    path: network\n    depends_on: [edge]\n"
    )
    outcome = infra(isolated_app, stack_dir, "plan")
    assert outcome.exit_code == 2
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "dependency cycle" in lines[0]
    assert all(name in lines[0] for name in ORDER)


def test_protected_environment_needs_yes(isolated_app: AppContext, stack_dir: Path) -> None:
    outcome = infra(isolated_app, stack_dir, "apply", env="prod")
    assert outcome.exit_code == 2
    assert "prod is protected" in outcome.stderr
    assert "--yes" in outcome.stderr
    assert not (stack_dir / "network" / "terraform.tfstate").exists()


def test_a_person_confirms_a_protected_environment_by_typing_its_name(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    isolated_app.stdin_isatty = isolated_app.stderr_isatty = True  # a person at a terminal
    apply = ("infra", "apply", "--env", "prod", "--stack-dir", str(stack_dir))
    refused = invoke(isolated_app, *apply, typed="y\n")
    assert refused.exit_code == 2
    assert "Type the environment's name (prod) to go ahead" in refused.stderr
    assert "not confirmed" in refused.stderr
    assert not (stack_dir / "network" / "terraform.tfstate").exists()

    confirmed = invoke(
        isolated_app,
        "infra",
        "apply",
        "--env",
        "prod",
        "--stack-dir",
        str(stack_dir),
        typed="prod\n",
    )
    assert confirmed.exit_code == 0, confirmed.stderr
    assert (stack_dir / "network" / "terraform.tfstate").exists()


def test_dry_run_on_a_protected_environment_only_plans(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    outcome = infra(isolated_app, stack_dir, "apply", "--dry-run", env="prod")
    assert outcome.exit_code == 1  # changes pending
    assert not (stack_dir / "network" / "terraform.tfstate").exists()


def test_sensitive_outputs_are_never_shown(isolated_app: AppContext, stack_dir: Path) -> None:
    assert envelope(isolated_app, stack_dir, "apply")[0] == 0
    outcome = infra(isolated_app, stack_dir, "output")
    assert outcome.exit_code == 0
    assert "token-for-" not in outcome.stdout
    assert "(sensitive)" in outcome.stdout


def test_environment_without_roots_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "infra", "plan", "--env", "local")
    assert outcome.exit_code == 2
    assert "local has no Terraform roots" in outcome.stderr


def test_working_data_stays_out_of_the_roots(isolated_app: AppContext, stack_dir: Path) -> None:
    assert envelope(isolated_app, stack_dir, "apply")[0] == 0
    assert not list(stack_dir.rglob(".terraform"))
    assert not list(stack_dir.rglob("*.tfplan"))
    assert not list(isolated_app.state_dir.rglob("*.tfplan"))  # deleted once applied
    inputs = (
        isolated_app.state_dir / "terraform" / "sandbox" / "service" / "upstream.auto.tfvars.json"
    )
    assert json.loads(inputs.read_text()) == {"network_name": "net-blue"}
    assert inputs.stat().st_mode & 0o077 == 0


def test_malformed_stack_file_is_a_configuration_error_naming_it(
    isolated_app: AppContext, stack_dir: Path
) -> None:
    stack_file = stack_dir / "stack.yaml"
    stack_file.write_text(stack_file.read_text().replace("network.network_name", "vpc.id"))
    outcome = infra(isolated_app, stack_dir, "plan")
    assert outcome.exit_code == 2
    assert str(stack_file) in outcome.stderr
    assert "unknown component 'vpc'" in outcome.stderr


@needs_aws_mirror
@pytest.mark.aws
def test_plan_finds_drift_made_outside_terraform(
    local_services: Environment,
    isolated_app: AppContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real AWS resource (an SSM parameter on moto) changed by hand after apply: plan says
    drift, names the resource, and exits 1."""
    stack = tmp_path / "drift"
    shutil.copytree(FIXTURES / "drift", stack)
    name = f"/hyperscale/test/{uuid.uuid4().hex[:8]}"
    (stack / "settings" / "terraform.tfvars").write_text(
        f'endpoint = "{local_services.aws.endpoint_url}"\nname = "{name}"\n'
    )
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MACHINE_MIRROR}"\n'
        "  }\n}\n"
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config))
    assert envelope(isolated_app, stack, "apply")[0] == 0
    code, clean = envelope(isolated_app, stack, "plan")
    assert (code, statuses(clean)) == (0, {"settings": "no_changes"})

    moto_client(local_services, "ssm").put_parameter(
        Name=name, Value="changed by hand", Type="String", Overwrite=True
    )
    code, drifted = envelope(isolated_app, stack, "plan")
    assert code == 1
    [settings] = drifted["data"]["modules"]
    assert settings["drift"] == ["aws_ssm_parameter.setting"]
    assert settings["resources"] == ["change aws_ssm_parameter.setting"]  # plan puts it back
