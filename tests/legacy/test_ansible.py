"""playbooks/: ansible-lint's production profile, ansible-playbook's syntax check, a --check --diff
run of site.yml against this machine (which must change nothing), and the base role applied
twice for real inside a throwaway container, the second run reporting nothing changed."""

from __future__ import annotations

import hashlib
import re
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from hyperscale.images.base import ensure_base
from tests.checkers import REPO, broken_copy, check, pipeline_venv, tool

PLAYBOOKS = REPO / "playbooks"


def recap(output: str) -> dict[str, int]:
    """The PLAY RECAP counts of the one host, e.g. {"ok": 7, "changed": 0, "failed": 0}."""
    line = re.search(r"^localhost\s+:\s+(.*)$", output, re.MULTILINE)
    assert line, f"no PLAY RECAP in the output:\n{output[-3000:]}"
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line.group(1))}


def _base_role_twice_argv() -> list[str]:
    image = ensure_base(AppContext.from_os()).ref
    site_packages = next((pipeline_venv() / "lib").glob("python3.*/site-packages"))
    playbook = (
        'python3 -c "import sys; sys.argv[0] = \\"ansible-playbook\\"; '
        'from ansible.cli.playbook import main; sys.exit(main())" '
        "-i localhost, -c local -e ansible_python_interpreter=/usr/bin/python3 "
        # No init system in a container, and its /proc/sys is read-only.
        "-e base_manage_services=false -e base_apply_sysctl=false /playbooks/base.yml"
    )
    script = f"{playbook} && echo '=== second run ===' && {playbook}"
    return [
        "podman",
        "--runtime",
        "/usr/sbin/runc",
        "--cgroup-manager=cgroupfs",
        "run",
        "--rm",
        "--network",
        "host",  # apt reaches the Debian mirror, the one outside address it uses
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=4096:4096",
        "-v",
        f"{site_packages}:/opt/ansible:ro",
        "-v",
        f"{PLAYBOOKS}:/playbooks:ro",
        "-e",
        "PYTHONPATH=/opt/ansible",
        "-e",
        "ANSIBLE_CONFIG=/playbooks/ansible.cfg",
        "-e",
        "ANSIBLE_LOCAL_TEMP=/tmp/ansible-local",
        "-e",
        "ANSIBLE_NOCOLOR=1",
        image,
        "/bin/sh",
        "-c",
        script,
    ]


@pytest.fixture(scope="module", autouse=True)
def base_role_twice(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[str] | None]:
    """The container run, started in the background with the module's first test: it waits
    mostly on Debian's mirror, so the lint, syntax and --check runs go on meanwhile. Not started
    when the container test is not selected (`-m "not containers"`, `-k`)."""
    selected = (item.name for item in request.session.items)
    if not any(name.startswith("test_base_role_twice") for name in selected):
        yield None
        return
    with subprocess.Popen(
        _base_role_twice_argv(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:  # its pipe closed and the process reaped on the way out, whatever happened
        yield process
        if process.poll() is None:
            process.kill()


def test_ansible_lint_rejects_a_module_without_its_collection(tmp_path: Path) -> None:
    """The production profile wants fully qualified module names: a bare `apt:` must fail."""
    copy = broken_copy(
        tmp_path, "playbooks", "roles/base/tasks/main.yml", "ansible.builtin.apt:", "apt:"
    )
    done = check([tool("ansible-lint"), "--nocolor", "--format", "pep8"], cwd=copy)
    assert done.returncode != 0, done.output
    assert "fqcn" in done.output
    assert "roles/base/tasks/main.yml" in done.output


@pytest.mark.parametrize("playbook", ["site.yml", "base.yml", "deploy.yml"])
def test_syntax_check(playbook: str) -> None:
    done = check([tool("ansible-playbook"), "--syntax-check", playbook], cwd=PLAYBOOKS)
    assert done.returncode == 0, done.output


def test_syntax_check_rejects_an_unknown_module(tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path,
        "playbooks",
        "roles/base/tasks/main.yml",
        "ansible.builtin.template:",
        "ansible.builtin.templat:",
    )
    done = check([tool("ansible-playbook"), "--syntax-check", "base.yml"], cwd=copy)
    assert done.returncode != 0, done.output
    assert "ansible.builtin.templat" in done.output


def _release_artifact(directory: Path) -> tuple[Path, str]:
    """A release tarball (its wheels directory) on disk, so get_url checks a real checksum."""
    wheels = directory / "wheels"
    wheels.mkdir(parents=True)
    (wheels / "README").write_text("the platform's wheels\n")
    artifact = directory / "platform.tar.gz"
    with tarfile.open(artifact, "w:gz") as tar:
        tar.add(wheels, arcname="wheels")
    return artifact, hashlib.sha256(artifact.read_bytes()).hexdigest()


WATCHED = (  # what site.yml would write on a real host; a --check run must write none of it
    Path("/etc/ssh/sshd_config.d/10-hyperscale-hardening.conf"),
    Path("/etc/sysctl.d/60-hyperscale-hardening.conf"),
    Path("/etc/audit/rules.d/hyperscale.rules"),
    Path("/etc/apt/apt.conf.d/52hyperscale-unattended-upgrades"),
    Path("/etc/hyperscale"),
    Path("/opt/hyperscale"),
    Path("/etc/systemd/system/hyperscale-api.service"),
    Path("/etc/apt/sources.list.d/grafana.sources"),
    Path("/etc/alloy/config.alloy"),
)


def test_site_check_diff_against_localhost_changes_nothing(tmp_path: Path) -> None:
    """Every play of site.yml in --check --diff mode on this machine (as api and consumer host):
    it must run through, report what it would change, and leave the machine as it was. Nothing
    is fetched from outside: the artifact and the signing key are local files."""
    artifact, sha256 = _release_artifact(tmp_path / "release")
    key = tmp_path / "grafana.asc"
    key.write_text("not a real key: a --check run only compares it\n")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n"
        "  hosts:\n"
        "    localhost:\n"
        "      ansible_connection: local\n"
        "      ansible_python_interpreter: /usr/bin/python3\n"
        "      ansible_become: false\n"
        "  children:\n"
        "    api: {hosts: {localhost: {}}}\n"
        "    consumer: {hosts: {localhost: {}}}\n"
        "  vars:\n"  # no init system here: nothing to start, reload or apply
        "    base_manage_services: false\n"
        "    base_apply_sysctl: false\n"
        "    platform_manage_services: false\n"
        "    log_shipping_manage_services: false\n"
    )
    before = {path: path.exists() for path in WATCHED}
    done = check(
        [
            tool("ansible-playbook"),
            "-i",
            inventory,
            "site.yml",
            "--check",
            "--diff",
            "-e",
            "@inventories/example/group_vars/all.yml",
            "-e",
            f"platform_release_url=file://{artifact}",
            "-e",
            f"platform_release_sha256={sha256}",
            "-e",
            "log_shipping_loki_url=http://127.0.0.1:3100/loki/api/v1/push",
            "-e",
            f"log_shipping_apt_key_url=file://{key}",
        ],
        cwd=PLAYBOOKS,
    )
    assert done.returncode == 0, done.output[-5000:]
    counts = recap(done.output)
    assert counts["failed"] == 0
    assert counts["unreachable"] == 0
    assert counts["changed"] > 0, "a host without the platform must show changes to make"
    # --diff shows the files it would write, rendered.
    assert "PermitRootLogin no" in done.output
    assert "ExecStart=/opt/hyperscale/current/venv/bin/python -m platform_api" in done.output
    assert 'url       = "http://127.0.0.1:3100/loki/api/v1/push"' in done.output
    assert {path: path.exists() for path in WATCHED} == before


def test_ansible_lint_production_profile_passes() -> None:
    done = check([tool("ansible-lint"), "--nocolor", "--format", "pep8"], cwd=PLAYBOOKS)
    assert done.returncode == 0, done.output
    assert "Profile 'production' was required, and it passed" in done.output


@pytest.mark.containers
def test_base_role_twice_in_a_throwaway_container_second_run_changes_nothing(
    base_role_twice: subprocess.Popen[str] | None,
) -> None:
    """The base role for real (packages installed from Debian's mirror, files written and checked
    by sshd) in a container of the project's Debian base image, removed afterwards; then again:
    0 changed. Ansible runs inside the container from the checkers' virtualenv, mounted
    read-only (same Python minor version as the image's)."""
    assert base_role_twice is not None
    output, _ = base_role_twice.communicate(timeout=600)
    assert base_role_twice.returncode == 0, output[-5000:]
    first, second = output.split("=== second run ===")
    assert recap(first)["changed"] >= 5, "the first run on a bare image must change things"
    counts = recap(second)
    assert counts["changed"] == 0, f"the second run changed something:\n{second[-4000:]}"
    assert counts["failed"] == 0
