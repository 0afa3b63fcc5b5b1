"""The API's NetworkPolicy admits the load balancer's subnets, not the whole VPC (issue 19 item
13): the ranges `hyperscale render` computes are the ones Terraform gives the public subnets."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.config.loader import parse_environment_file
from hyperscale.render.values import load_balancer_cidrs
from tests.render.test_kubernetes_settings import REPO, with_section

VPC_MODULE = REPO / "terraform" / "modules" / "vpc" / "main.tf"


def terraform_public_subnets(vpc_cidr: str, zones: int) -> list[str]:
    """Terraform's own cidrsubnet over the VPC module's layout (asserted below to be its text)."""
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        pytest.fail("terraform (or tofu) is not on PATH: scripts/bootstrap.sh installs it")
    expression = (
        f'jsonencode([for i in range({zones}) : cidrsubnet(cidrsubnet("{vpc_cidr}", 2, 3), 2, i)])'
    )
    done = subprocess.run(
        [terraform, "console"],
        input=expression + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).parent,  # no configuration here: console needs none
    )
    parsed: list[str] = yaml.safe_load(yaml.safe_load(done.stdout))
    return parsed


def test_the_vpc_module_lays_out_public_subnets_as_render_assumes() -> None:
    text = VPC_MODULE.read_text(encoding="utf-8")
    assert "public_quarter = cidrsubnet(var.cidr_block, 2, 3)" in text
    assert "cidr_block        = cidrsubnet(local.public_quarter, 2, each.value)" in text


@pytest.mark.parametrize("vpc_cidr", ["10.0.0.0/16", "172.20.0.0/20", "10.64.0.0/12"])
def test_render_computes_the_subnets_terraform_makes(tmp_path: Path, vpc_cidr: str) -> None:
    env = parse_environment_file(
        with_section(tmp_path, "prod", f"kubernetes:\n  vpc_cidr: {vpc_cidr}\n")
    )
    assert env.infra is not None
    zones = len(env.infra.availability_zones)
    ours = load_balancer_cidrs(env)
    assert ours == terraform_public_subnets(vpc_cidr, zones)
    assert len(ours) == zones


def _api_ingress_sources(env_name: str) -> list[dict[str, Any]]:
    path = REPO / "manifests" / env_name / "network" / "networkpolicies.yaml"
    policies = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    (api,) = [p for p in policies if p["metadata"]["name"] == "platform-api"]
    (public,) = [
        rule
        for rule in api["spec"]["ingress"]
        if {"protocol": "TCP", "port": 8080} in rule["ports"]
    ]
    sources: list[dict[str, Any]] = public["from"]
    return sources


@pytest.mark.parametrize("env_name", ["prod", "staging"])
def test_the_committed_api_policy_admits_only_the_public_subnets(env_name: str) -> None:
    """Before: `ipBlock: {cidr: 10.0.0.0/16}`, so any pod or node of the VPC reached the API's
    port around the load balancer and its CloudFront-only security group."""
    env = parse_environment_file(REPO / "environments" / f"{env_name}.yaml")
    vpc = ipaddress.IPv4Network(env.kubernetes.vpc_cidr)
    blocks = [ipaddress.IPv4Network(s["ipBlock"]["cidr"]) for s in _api_ingress_sources(env_name)]
    assert [str(b) for b in blocks] == load_balancer_cidrs(env)
    # Where the pods and nodes live: the first three quarters.
    private = list(vpc.subnets(prefixlen_diff=2))[:3]
    for block in blocks:
        assert block.subnet_of(vpc)
        assert block != vpc
        assert not any(block.overlaps(p) for p in private), block
