"""Where the committed Alertmanager configurations send an alert, asked of amtool itself
(`amtool config routes test`): production pages on critical alerts, other environments never
page, and anything that matches no route still reaches someone by mail."""

from __future__ import annotations

import pytest

from hyperscale.context import PROJECT_ROOT
from hyperscale.runner import run


def receivers(env: str, *labels: str) -> list[str]:
    config = PROJECT_ROOT / "manifests" / env / "alertmanager" / "alertmanager.yaml"
    done = run(["amtool", "config", "routes", "test", f"--config.file={config}", *labels])
    return done.stdout.strip().split(",")


@pytest.mark.parametrize(
    ("env", "severity", "expected"),
    [
        ("prod", "critical", ["sre-pager", "sre-chat"]),
        ("prod", "warning", ["sre-chat"]),
        ("prod", "info", ["sre-email"]),
        ("staging", "critical", ["sre-chat"]),
        ("sandbox", "critical", ["sre-chat"]),
    ],
)
def test_alerts_reach_the_right_receivers(env: str, severity: str, expected: list[str]) -> None:
    assert receivers(env, f"severity={severity}", f"environment={env}", "alertname=Any") == expected
