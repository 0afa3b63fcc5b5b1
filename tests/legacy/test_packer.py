"""packer/: `packer validate` (HCL2, the amazon-ebs builder, the Ansible provisioner pointing at the
base playbook) and `packer fmt -check`, each shown failing on a broken copy. Debian's packer 1.6.6
is used: it reads HCL2 and has the amazon-ebs builder and the ansible provisioner built in, which
later releases moved to plugins that are downloaded from GitHub (not reachable here)."""

from __future__ import annotations

from pathlib import Path

from tests.checkers import REPO, broken_copy, check, tool

PACKER = REPO / "packer"
# validate needs ansible-playbook on PATH (the provisioner checks its version); checkers.check
# puts the checkers' virtualenv first on PATH. No AWS call is made: no credentials are needed.
VALIDATE = ("validate", "-var", "release=test", "base.pkr.hcl")


def test_packer_validate_and_fmt() -> None:
    packer = tool("packer")
    done = check([packer, *VALIDATE], cwd=PACKER)
    assert done.returncode == 0, done.output
    done = check([packer, "fmt", "-check", "-diff", "."], cwd=PACKER)
    assert done.returncode == 0, done.output


def test_packer_validate_rejects_a_broken_template(tmp_path: Path) -> None:
    copy = broken_copy(tmp_path, "packer", "base.pkr.hcl", "volume_size ", "volume_sise ")
    (tmp_path / "playbooks").symlink_to(REPO / "playbooks")  # ${path.root}/../playbooks
    done = check([tool("packer"), *VALIDATE], cwd=copy)
    assert done.returncode != 0, done.output
    assert "volume_sise" in done.output


def test_packer_validate_needs_the_release_variable() -> None:
    done = check([tool("packer"), "validate", "base.pkr.hcl"], cwd=PACKER)
    assert done.returncode != 0, done.output
    assert "release" in done.output


def test_packer_fmt_rejects_an_unformatted_template(tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path, "packer", "base.pkr.hcl", "  instance_type = ", "  instance_type     = "
    )
    done = check([tool("packer"), "fmt", "-check", "."], cwd=copy)
    assert done.returncode != 0, done.output
    assert "base.pkr.hcl" in done.output
