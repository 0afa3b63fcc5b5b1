"""The root command: version, help, completion, and a start path free of heavy SDKs."""

from __future__ import annotations

import json
import subprocess
import sys

from hyperscale import __version__
from hyperscale.context import AppContext
from tests.conftest import invoke

HEAVY = [
    "boto3",
    "botocore",
    "kubernetes",
    "lightkube",
    "confluent_kafka",
    "prometheus_client",
    "pymysql",
    "redis",
    "moto",
    "aiohttp",
    "jsonpath_ng",
    "matplotlib",
    "croniter",
]


def test_version_prints_the_package_version(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "--version")
    assert outcome.exit_code == 0
    assert outcome.stdout.strip() == f"hyperscale {__version__}"


def test_help_lists_the_registered_groups(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "--help")
    assert outcome.exit_code == 0
    assert "local" in outcome.stdout
    assert "--install-completion" in outcome.stdout


def test_unknown_command_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "no-such-command")
    assert outcome.exit_code == 2


def test_help_imports_no_cloud_sdk() -> None:
    """`hyperscale --help` must stay fast: SDKs load only inside the adapters that use them."""
    probe = (
        "import json, sys\n"
        "sys.argv = ['hyperscale', '--help']\n"
        "from hyperscale.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == []


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hyperscale", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"hyperscale {__version__}"
