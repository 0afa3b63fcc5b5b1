"""`local-aws`: the AWS stack applied for real to the local moto server with the real terraform
binary and the AWS provider from the machine's mirror; boto3 reads the account back.

One module-scoped fixture applies the stack once (from an empty account: every session has an
environment name, a state bucket and a lock table of its own, so nothing another run left
behind can be in its way); the tests then plan it, read it, drift and repair it, and destroy it
last. Each ends by checking that no state lock is left held in its table.
Against moto every terraform step is slow (the AWS provider is a 700 MB program started for
each plan, apply and refresh), so the applying tests have a long timeout.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from hyperscale.infra.roots import ENDPOINT_SERVICES, render_terraform_roots
from hyperscale.local import core as local_core
from tests.conftest import CliOutcome, invoke, moto_client
from tests.infra.conftest import MACHINE_MIRROR, mirror_has_aws, needs_aws_mirror

MODULES_DIR = Path(__file__).resolve().parents[2] / "terraform" / "modules"
APPLIED = ["vpc", "eks", "rds", "redis"]
EXCLUDED = ["msk", "iam-irsa", "alb-ingress", "cloudfront"]
#: The provider's resource-type prefixes, by the endpoint name that serves them.
SERVICE_OF_PREFIX = {
    "cloudfront": "cloudfront",
    "cloudwatch_log": "logs",
    "db": "rds",
    "default_security_group": "ec2",
    "eip": "ec2",
    "eks": "eks",
    "elasticache": "elasticache",
    "flow_log": "ec2",
    "iam": "iam",
    "internet_gateway": "ec2",
    "kms": "kms",
    "launch_template": "ec2",
    "msk": "kafka",
    "nat_gateway": "ec2",
    "route": "ec2",
    "secretsmanager": "secretsmanager",
    "security_group": "ec2",
    "subnet": "ec2",
    "vpc": "ec2",
    "wafv2": "wafv2",
    "caller_identity": "sts",
}
#: Data sources computed by the provider itself, with no call.
NO_CALL = {"aws_partition", "aws_region", "aws_iam_policy_document"}


def _aws_types() -> set[str]:
    found: set[str] = set()
    for path in MODULES_DIR.glob("*/*.tf"):
        document = hcl2.loads(path.read_text())
        for kind in ("resource", "data"):
            for block in document.get(kind, []):
                found |= {name for name in block if name.startswith("aws_")}
    return found - NO_CALL


def test_every_aws_type_the_modules_use_has_its_endpoint() -> None:
    unserved = []
    for kind in sorted(_aws_types()):
        bare = kind.removeprefix("aws_")
        prefix = max((p for p in SERVICE_OF_PREFIX if bare.startswith(p)), key=len, default=None)
        if prefix is None or SERVICE_OF_PREFIX[prefix] not in ENDPOINT_SERVICES:
            unserved.append(kind)
    assert unserved == [], "add the service to ENDPOINT_SERVICES (hyperscale/infra/roots.py)"


def test_local_aws_roots_send_every_call_to_the_endpoint(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    env = load_environment(isolated_app, "local-aws")
    endpoint = str(env.aws.endpoint_url).rstrip("/")
    render_terraform_roots(env, isolated_app, tmp_path / "live")
    quoted = f'"{endpoint}"'  # python-hcl2 keeps the quotes of strings and block labels
    for root in sorted(p for p in (tmp_path / "live").iterdir() if p.is_dir()):
        providers = hcl2.loads((root / "providers.tf").read_text())
        for block in providers["provider"]:
            if '"aws"' not in block:
                continue  # helm, for alb-ingress
            aws = block['"aws"']
            [endpoints] = aws["endpoints"]
            assert {k: v for k, v in endpoints.items() if k != "__is_block__"} == dict.fromkeys(
                ENDPOINT_SERVICES, quoted
            ), root.name
            assert aws["skip_credentials_validation"] is True
            assert (aws["access_key"], aws["secret_key"]) == ('"testing"', '"testing"')
        [backend] = hcl2.loads((root / "backend.tf").read_text())["terraform"][0]["backend"]
        s3 = backend['"s3"']
        assert s3["endpoints"] == dict.fromkeys(["dynamodb", "iam", "s3", "sts"], quoted)
        assert s3["use_path_style"] is True
        assert s3["key"] == f'"local-aws/{root.name}/terraform.tfstate"'


def test_the_committed_roots_know_nothing_of_the_local_endpoint() -> None:
    """The staging and prod roots are byte-identical to a fresh render (test_roots.py checks
    that); here: no trace of the endpoint settings in them."""
    live = MODULES_DIR.parent / "live"
    for path in live.rglob("*.tf"):
        text = path.read_text()
        for word in ("endpoints {", "endpoints =", "access_key", "skip_", "testing", "127.0.0"):
            assert word not in text, f"{path}: {word}"


def test_a_roots_resources_are_addressed_as_terraform_does() -> None:
    """What -target is given when a module's resources are left out, read from the HCL."""
    from hyperscale.infra.addresses import resource_addresses

    found = resource_addresses(MODULES_DIR.parent / "live" / "staging" / "eks")
    assert "module.eks.aws_eks_addon.this" in found
    assert "module.eks.module.key.aws_kms_key.this" in found  # the module's own module
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("excluded_modules", {"msk": "why"}),
        ("excluded_resources", {"eks": {"module.eks.aws_eks_addon.this": "why"}}),
        ("kept_on_destroy", {"redis": {"module.redis.aws_elasticache_subnet_group.this": "x"}}),
        ("rds_deletion_protection", False),
    ],
)
def test_a_real_account_runs_the_whole_stack(
    isolated_app: AppContext, key: str, value: object
) -> None:
    path = isolated_app.environments_dir / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    data["infra"][key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        load_environment(isolated_app, "staging")
    assert f"infra.{key}" in "\n".join(caught.value.lines())


def test_destroy_needs_yes(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "infra", "destroy", "--env", "staging")
    assert outcome.exit_code == 2
    assert "without --yes" in outcome.stderr


def test_destroy_of_a_protected_environment_needs_its_name_typed(
    isolated_app: AppContext,
) -> None:
    outcome = invoke(isolated_app, "infra", "destroy", "--env", "prod", "--yes", typed="y\n")
    assert outcome.exit_code == 2
    assert "Type the environment's name (prod)" in outcome.stderr
    assert "not confirmed" in outcome.stderr


# --- against moto ----------------------------------------------------------------------


@dataclass
class LocalAws:
    app: AppContext
    env: Environment
    applied: CliOutcome

    def infra(self, *args: str) -> tuple[int, dict[str, Any]]:
        outcome = invoke(self.app, "infra", *args, "--env", self.env.name, "-o", "json")
        return outcome.exit_code, json.loads(outcome.stdout)

    def client(self, service: str) -> Any:
        return moto_client(self.env, service)

    @property
    def prefix(self) -> str:
        return f"hyperscale-{self.env.name}"

    def held_locks(self) -> list[str]:
        """The state locks held in the session's lock table (terraform's S3 backend keeps each
        state's digest there too, under ``<path>-md5``: not a lock)."""
        assert self.env.infra is not None
        items = self.client("dynamodb").scan(TableName=self.env.infra.lock_table)["Items"]
        return [
            f"{item['LockID']['S']}: {item.get('Info', {}).get('S', '')}"
            for item in items
            if not item["LockID"]["S"].endswith("-md5")
        ]


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {m["module"]: m["status"] for m in document["data"]["modules"]}


def module(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in document["data"]["modules"] if m["module"] == name)


@pytest.fixture(scope="module")
def local_aws(
    shared_app: AppContext, local_env: Environment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalAws]:
    """The stack applied once to moto under an environment name, state bucket and lock table
    of its own (a copy of environments/local-aws.yaml), from an empty account; destroyed at
    the end if a test left it standing."""
    if not mirror_has_aws(MACHINE_MIRROR):
        pytest.skip("no Terraform provider mirror with hashicorp/aws: nothing can be downloaded")
    started = local_core.up(local_env, shared_app, ["aws"])
    if not all(s.state.healthy for s in started.services):
        pytest.fail(f"moto did not start: {started.to_data()}", pytrace=False)
    base = tmp_path_factory.mktemp("local-aws")
    environments = base / "environments"
    shutil.copytree(shared_app.environments_dir, environments)
    name = f"la{uuid.uuid4().hex[:6]}"
    data = yaml.safe_load((environments / "local-aws.yaml").read_text())
    data["name"] = name
    data["infra"]["state_bucket"] = f"{name}-tfstate"
    data["infra"]["lock_table"] = f"{name}-locks"
    (environments / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    app = AppContext(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        state_dir=base / "state",
        cache_dir=shared_app.cache_dir,
        environments_dir=environments,
        environ={},
    )
    env = load_environment(app, name)
    applied = invoke(app, "infra", "apply", "--env", name, "--yes", "-o", "json")
    stack = LocalAws(app, env, applied)
    yield stack
    if any(v.get("VpcId") for v in _vpcs(stack)):
        invoke(app, "infra", "destroy", "--env", name, "--yes")


def _vpcs(stack: LocalAws) -> list[dict[str, Any]]:
    found = stack.client("ec2").describe_vpcs(
        Filters=[{"Name": "tag:environment", "Values": [stack.env.name]}]
    )
    return list(found["Vpcs"])


@pytest.mark.aws
@pytest.mark.timeout(1800)
@needs_aws_mirror
def test_apply_from_an_empty_account_then_the_second_plan_is_empty(local_aws: LocalAws) -> None:
    assert local_aws.applied.exit_code == 0, local_aws.applied.stderr
    document = json.loads(local_aws.applied.stdout)
    assert statuses(document) == {
        **dict.fromkeys(APPLIED, "applied"),
        **dict.fromkeys(EXCLUDED, "excluded"),
    }
    assert [m["module"] for m in document["data"]["modules"]][:2] == ["vpc", "eks"]

    plan = invoke(local_aws.app, "infra", "plan", "--env", local_aws.env.name)
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    # The reasons are printed: what moto cannot serve, and what needs it.
    assert "msk: excluded: moto has no MSK CreateConfiguration (404)" in plan.stdout
    assert "iam-irsa: excluded: needs msk, excluded here" in plan.stdout
    assert "eks: left out: module.eks.aws_eks_cluster.this" in plan.stdout
    assert local_aws.held_locks() == []


@pytest.mark.aws
@pytest.mark.timeout(1800)
@needs_aws_mirror
def test_outputs_chain_into_the_subnet_groups(local_aws: LocalAws) -> None:
    code, outputs = local_aws.infra("output")
    assert code == 0
    modules = outputs["data"]["modules"]
    assert set(modules) == set(APPLIED)  # excluded modules have no state to show
    subnets = set(modules["vpc"]["outputs"]["private_subnet_ids"])
    assert len(subnets) == 3

    rds = local_aws.client("rds").describe_db_subnet_groups(DBSubnetGroupName=local_aws.prefix)
    [group] = rds["DBSubnetGroups"]
    assert {s["SubnetIdentifier"] for s in group["Subnets"]} == subnets
    assert group["VpcId"] == modules["vpc"]["outputs"]["vpc_id"]

    cache = local_aws.client("elasticache").describe_cache_subnet_groups(
        CacheSubnetGroupName=local_aws.prefix
    )
    [group] = cache["CacheSubnetGroups"]
    assert {s["SubnetIdentifier"] for s in group["Subnets"]} == subnets

    # eks's node security group lives in the VPC module's VPC.
    node_group = modules["eks"]["outputs"]["node_security_group_id"]
    [sg] = local_aws.client("ec2").describe_security_groups(GroupIds=[node_group])["SecurityGroups"]
    assert sg["VpcId"] == modules["vpc"]["outputs"]["vpc_id"]


@pytest.mark.aws
@pytest.mark.timeout(1800)
@needs_aws_mirror
def test_drift_made_with_boto3_is_found_named_and_put_back(local_aws: LocalAws) -> None:
    """Two changes by hand in the vpc module's resources: a tag on the VPC, and the NAT route
    of one private route table deleted (the subnets behind it lose their way out)."""
    ec2 = local_aws.client("ec2")
    [vpc] = _vpcs(local_aws)
    ec2.create_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": "Name", "Value": "changed by hand"}])
    [table] = ec2.describe_route_tables(
        Filters=[{"Name": "tag:Name", "Values": [f"{local_aws.prefix}-private-us-east-1a"]}]
    )["RouteTables"]
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    # (An RDS parameter group's value was meant to be a third: moto makes that resource drift
    # on every refresh, so local-aws leaves it out; see terraform/README.md.)
    route = 'module.vpc.aws_route.private_nat["us-east-1a"]'

    drifted = invoke(local_aws.app, "infra", "plan", "-m", "vpc", "--env", local_aws.env.name)
    assert drifted.exit_code == 1
    lines = drifted.stdout.splitlines()
    for expected in (
        "vpc: change module.vpc.aws_vpc.this",
        "vpc: drifted module.vpc.aws_vpc.this",
        f"vpc: add {route}",
        f"vpc: drifted {route}",
    ):
        assert expected in lines, drifted.stdout
    # Only what was changed by hand (the route, and its table's list of routes): the refresh
    # after the apply recorded what AWS set itself.
    assert sorted(x for x in lines if x.startswith("vpc: drifted")) == [
        f"vpc: drifted {route}",
        'vpc: drifted module.vpc.aws_route_table.private["us-east-1a"]',
        "vpc: drifted module.vpc.aws_vpc.this",
    ]

    code, repaired = local_aws.infra("apply", "--yes", "-m", "vpc")
    assert (code, statuses(repaired)) == (0, {"vpc": "applied"})
    [vpc] = _vpcs(local_aws)
    assert {t["Key"]: t["Value"] for t in vpc["Tags"]}["Name"] == local_aws.prefix
    [table] = ec2.describe_route_tables(RouteTableIds=[table["RouteTableId"]])["RouteTables"]
    assert "0.0.0.0/0" in {r.get("DestinationCidrBlock") for r in table["Routes"]}

    code, clean = local_aws.infra("plan", "-m", "vpc")
    assert (code, statuses(clean)) == (0, {"vpc": "no_changes"})
    assert local_aws.held_locks() == []


@pytest.mark.aws
@pytest.mark.timeout(1800)
@needs_aws_mirror
def test_a_lock_the_plan_took_itself_and_then_tripped_on_is_released(local_aws: LocalAws) -> None:
    """CI saw a plan wait its whole lock timeout on a lock it had made itself: moto applied
    the DynamoDB PutItem, its answer was lost, and the SDK's retry found the lock taken. The
    lock is put here as that retry finds it: this user on this host, made during the command
    (its `Created` is later than the command's start). The plan releases it and runs again."""
    import getpass
    import socket

    assert local_aws.env.infra is not None
    path = f"{local_aws.env.infra.state_bucket}/{local_aws.env.name}/vpc/terraform.tfstate"
    created = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    info = {
        "ID": str(uuid.uuid4()),
        "Operation": "OperationTypePlan",
        "Info": "",
        "Who": f"{getpass.getuser()}@{socket.gethostname()}",
        "Version": "1.11.4",
        "Created": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "Path": path,
    }
    local_aws.client("dynamodb").put_item(
        TableName=local_aws.env.infra.lock_table,
        Item={"LockID": {"S": path}, "Info": {"S": json.dumps(info)}},
    )
    assert local_aws.held_locks() != []

    code, plan = local_aws.infra("plan", "-m", "vpc")
    assert (code, statuses(plan)) == (0, {"vpc": "no_changes"})
    assert local_aws.held_locks() == []


@pytest.mark.aws
@pytest.mark.timeout(1800)
@needs_aws_mirror
def test_destroy_in_reverse_order_leaves_the_account_empty_of_the_stack(
    local_aws: LocalAws,
) -> None:
    code, destroyed = local_aws.infra("destroy", "--yes")
    assert code == 0, destroyed["data"]["failed"]
    ran = [m["module"] for m in destroyed["data"]["modules"] if m["status"] == "destroyed"]
    assert ran == ["redis", "rds", "eks", "vpc"]

    prefix = local_aws.prefix
    assert _vpcs(local_aws) == []
    ec2 = local_aws.client("ec2")
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert [g["GroupName"] for g in groups if g["GroupName"].startswith(prefix)] == []
    rds = local_aws.client("rds")
    assert [
        g for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
        if g["DBSubnetGroupName"] == prefix
    ] == []  # fmt: skip
    assert [
        g for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
        if g["DBParameterGroupName"].startswith(prefix)
    ] == []  # fmt: skip
    # The one thing kept, by local-aws's infra.kept_on_destroy: moto cannot delete it.
    cache = local_aws.client("elasticache").describe_cache_subnet_groups()["CacheSubnetGroups"]
    assert [g["CacheSubnetGroupName"] for g in cache if prefix in g["CacheSubnetGroupName"]] == [
        prefix
    ]
    assert (
        "kept: module.redis.aws_elasticache_subnet_group.this"
        in (module(destroyed, "redis")["message"])
    )
    roles = local_aws.client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles if r["RoleName"].startswith(prefix)] == []
    logs = local_aws.client("logs").describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in logs if prefix in g["logGroupName"]] == []
    kms = local_aws.client("kms")
    live_keys = [
        meta["Description"]
        for key in kms.list_keys()["Keys"]
        if prefix in (meta := kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"])["Description"]
        and meta["KeyState"] != "PendingDeletion"
    ]
    assert live_keys == []
    assert local_aws.held_locks() == []


@pytest.mark.aws
@pytest.mark.timeout(1800)
@needs_aws_mirror
def test_a_module_failing_mid_apply_stops_the_run_and_is_named(local_aws: LocalAws) -> None:
    """An environment of its own whose VPC range the vpc module refuses (a /8: its variable
    takes /16 to /20, as AWS takes /16 to /28): the run stops at vpc, named in one line with
    the module's reason, and nothing after it runs."""
    name = f"{local_aws.env.name}x"
    own = local_aws.app.environments_dir / f"{local_aws.env.name}.yaml"
    data = yaml.safe_load(own.read_text())  # the session's bucket and lock table
    data["name"] = name
    data["kubernetes"]["vpc_cidr"] = "10.0.0.0/8"
    (local_aws.app.environments_dir / f"{name}.yaml").write_text(yaml.safe_dump(data))

    outcome = invoke(
        local_aws.app, "infra", "apply", "--env", name, "--yes", "-m", "vpc", "-m", "eks"
    )
    assert outcome.exit_code == 3
    [line] = [x for x in outcome.stderr.splitlines() if x.startswith("error:")]
    assert "apply stopped at module vpc:" in line
    assert "cidr_block must be an IPv4 network between /16 and /20" in line
    assert "not run: vpc failed" in outcome.stdout  # eks
    assert local_aws.held_locks() == []
