"""`hyperscale report schedule`: cron validation and the next runs, the local crontab block
(written into a temporary crontab file: the machine's real crontab is never touched), and
the CronJob applied on the sandbox cluster with a Job started from it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from hyperscale.context import AppContext
from hyperscale.reports.schedule.core import next_runs
from tests.conftest import invoke


def test_the_next_five_runs_are_in_the_time_zone() -> None:
    after = dt.datetime(2026, 3, 27, 12, 0, tzinfo=dt.UTC)  # a Friday; DST starts on the 29th
    runs = next_runs("0 7 * * 1-5", "Europe/Berlin", 5, after)
    assert [r.isoformat() for r in runs] == [
        "2026-03-30T07:00:00+02:00",
        "2026-03-31T07:00:00+02:00",
        "2026-04-01T07:00:00+02:00",
        "2026-04-02T07:00:00+02:00",
        "2026-04-03T07:00:00+02:00",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "0 25 * * *"], "error: --cron '0 25 * * *' is not a valid cron expression"),
        (["--cron", "0 7 * *"], "error: --cron '0 7 * *' is not a valid cron expression"),
        (["--timezone", "Mars/Olympus"], "error: --timezone 'Mars/Olympus' is not an IANA"),
    ],
)
def test_bad_expressions_and_zones_are_usage_errors(
    isolated_app: AppContext, args: list[str], message: str
) -> None:
    outcome = invoke(isolated_app, "report", "schedule", "--print", *args)
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith(message)


def test_print_shows_the_entry_and_installs_nothing(isolated_app: AppContext) -> None:
    outcome = invoke(
        isolated_app,
        "report",
        "schedule",
        "--print",
        "--cron",
        "30 6 * * *",
        "--timezone",
        "Europe/Berlin",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert "# BEGIN hyperscale report email --env local" in outcome.stdout
    assert "CRON_TZ=Europe/Berlin" in outcome.stdout
    line = next(x for x in outcome.stdout.splitlines() if x.startswith("30 6 * * * cd "))
    assert "-m hyperscale report email --env local" in line
    assert f"HYPERSCALE_STATE_DIR={isolated_app.state_dir}" in line
    assert len([x for x in outcome.stdout.splitlines() if x.startswith("  ")]) == 5


def test_the_crontab_block_is_installed_once_and_replaced(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    crontab = tmp_path / "crontab"
    crontab.write_text("MAILTO=ops@example.com\n15 * * * * /usr/bin/true\n")
    first = invoke(isolated_app, "report", "schedule", "--crontab-file", str(crontab))
    assert first.exit_code == 0, first.stderr
    assert "crontab entry installed" in first.stdout
    again = invoke(isolated_app, "report", "schedule", "--crontab-file", str(crontab))
    assert "crontab entry unchanged" in again.stdout
    other = invoke(
        isolated_app, "report", "schedule", "--crontab-file", str(crontab), "--cron", "0 8 * * 1"
    )
    assert "crontab entry installed" in other.stdout
    text = crontab.read_text()
    assert text.startswith("MAILTO=ops@example.com\n15 * * * * /usr/bin/true\n")
    assert text.count("# BEGIN hyperscale report email --env local") == 1
    assert "\n0 8 * * 1 cd " in text
    assert "0 7 * * 1-5" not in text


@pytest.mark.k8s
def test_the_cronjob_is_applied_and_a_job_from_it_is_tracked(
    report_app: AppContext, namespace: str, kube: object, tmp_path: Path
) -> None:
    environments = tmp_path / "environments"
    environments.mkdir()
    data = yaml.safe_load((report_app.environments_dir / "sandbox.yaml").read_text())
    data["target"]["namespace"] = namespace
    (environments / "sandbox.yaml").write_text(yaml.safe_dump(data))
    report_app.environments_dir = environments
    image = "127.0.0.1:5000/hyperscale/cli:test"
    outcome = invoke(
        report_app,
        "report",
        "schedule",
        "--env",
        "sandbox",
        "--cron",
        "0 7 * * 1-5",
        "--timezone",
        "Europe/Berlin",
        "--image",
        image,
        "--run-now",
        "-o",
        "json",
    )
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    assert data["applied"] == [
        f"CronJob {namespace}/report-email",
        f"ServiceAccount {namespace}/hyperscale-reports",
    ]
    assert data["cronjob"] == {
        "name": "report-email",
        "namespace": namespace,
        "schedule": "0 7 * * 1-5",
        "time_zone": "Europe/Berlin",
        "concurrency_policy": "Forbid",
        "starting_deadline_s": 600,
        "successful_history": 3,
        "failed_history": 5,
        "service_account": "hyperscale-reports",
        "image": image,
    }
    job = data["job"]
    assert job["owner"] == "report-email"
    assert job["started"] is True  # the job controller picked it up

    from lightkube.resources.batch_v1 import Job

    (made,) = list(kube.list(Job, namespace=namespace))  # type: ignore[attr-defined]
    assert made.metadata.name == job["name"]
    assert made.spec.template.spec.containers[0].args == ["report", "email", "--env", "sandbox"]
