"""`hyperscale images build|push` with the real podman, buildah, skopeo and registry."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.clients.containers import Containers
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.support import free_port

containers = pytest.mark.containers


def _set_registry_port(app: AppContext, port: int) -> None:
    path = app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["local"]["registry_port"] = port
    path.write_text(yaml.safe_dump(data))


def _skopeo_digest(ref: str) -> str:
    out = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{ref}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip()


def _git_head() -> str:
    root = AppContext.from_os().repo_root
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@containers
@pytest.mark.registry
def test_build_push_records_the_digest_skopeo_reads_back(built: dict[str, Any]) -> None:
    assert built["action"] == "push"
    assert built["revision"] == _git_head()
    assert built["tag"].startswith(_git_head()[:12])
    record = json.loads(Path(built["record"]).read_text())
    assert {"api", "consumer"} <= set(record["images"])
    for name in ("api", "consumer"):
        entry = record["images"][name]
        ((ref, digest),) = entry["registries"].items()
        assert ref.endswith(f"/hyperscale/{name}:{built['tag']}")
        assert digest.startswith("sha256:")
        assert _skopeo_digest(ref) == digest


@containers
@pytest.mark.registry
def test_images_carry_the_oci_labels_and_a_non_root_user(built: dict[str, Any]) -> None:
    ref = next(i["ref"] for i in built["images"] if i["name"] == "api")
    info = json.loads(
        subprocess.run(
            ["podman", "image", "inspect", ref], capture_output=True, text=True, check=True
        ).stdout
    )[0]
    labels = info["Labels"]
    assert labels["org.opencontainers.image.revision"] == built["revision"]
    assert labels["org.opencontainers.image.version"] == built["tag"]
    assert labels["org.opencontainers.image.created"]
    assert labels["org.opencontainers.image.source"]
    assert info["Config"]["User"] == "10001:10001"


@containers
@pytest.mark.registry
def test_pushing_what_the_registry_has_is_a_no_op(built: dict[str, Any]) -> None:
    outcome = invoke(AppContext.from_os(), "images", "push", "--tag", built["tag"], "-o", "json")
    assert outcome.exit_code == 0, outcome.stderr
    images = json.loads(outcome.stdout)["data"]["images"]
    before = {i["name"]: i["pushed"] for i in built["images"]}
    # The tag's record is shared by the session (and by an earlier run of the same commit):
    # it may hold other images of this tag too, the CLI's say, which a registry restarted
    # since then may lack and so gets again. Those built here must be pushed under the same
    # digests, and none of them may need pushing again.
    pushed = {i["name"]: i["pushed"] for i in images}
    assert {name: pushed.get(name) for name in before} == before
    if not built["tag"].endswith("-dirty"):
        states = {i["name"]: i["push_state"] for i in images}
        assert {name: states.get(name) for name in before} == dict.fromkeys(before, "present")


@containers
def test_the_base_image_is_cached_by_its_package_hash(built: dict[str, Any]) -> None:
    outcome = invoke(AppContext.from_os(), "images", "base", "-o", "json")
    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    assert data["source"] == "cached"
    assert data["ref"] == "localhost/hyperscale/python:3.11-bookworm"
    assert data["pinned_ref"].endswith(data["package_hash"])


def test_unknown_service_is_one_line_and_exit_2(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "images", "build", "--service", "frontend")
    assert outcome.exit_code == ExitCode.USAGE
    assert outcome.stderr.strip().splitlines() == [
        "error: unknown service frontend (choose from api, consumer, cli)"
    ]


def test_no_registry_running_is_exit_3_before_any_build(isolated_app: AppContext) -> None:
    _set_registry_port(isolated_app, free_port())
    outcome = invoke(isolated_app, "images", "build", "--push")
    assert outcome.exit_code == ExitCode.EXTERNAL
    assert "no registry answers at http://127.0.0.1:" in outcome.stderr
    assert "hyperscale local up registry" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert not (isolated_app.state_dir / "images" / "builds").exists()


def test_a_dirty_tree_is_refused_for_prod(isolated_app: AppContext, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    root = AppContext.from_os().repo_root
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(root), str(clone)], check=True)
    subprocess.run(
        ["git", "-C", str(clone), "checkout", "-q", "HEAD", "--", "README.md"], check=True
    )
    (clone / "README.md").write_text("changed\n")
    isolated_app.templates_dir = clone / "templates"
    outcome = invoke(isolated_app, "images", "build", "--env", "prod")
    assert outcome.exit_code == ExitCode.USAGE
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "uncommitted changes: prod is protected" in lines[0]


class _RefusingRegistry(BaseHTTPRequestHandler):
    """A registry that answers /v2/ and has nothing, and refuses every upload."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self._answer(200, {})
        else:
            self._answer(
                404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
            )

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        self._answer(
            403,
            {
                "errors": [
                    {"code": "DENIED", "message": "requested access to the resource is denied"}
                ]
            },
        )

    def do_PUT(self) -> None:
        self.do_POST()

    def do_PATCH(self) -> None:
        self.do_POST()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def refusing_registry() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RefusingRegistry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@containers
@pytest.mark.registry
def test_a_refused_push_is_exit_3_and_not_recorded(
    built: dict[str, Any], isolated_app: AppContext, refusing_registry: int
) -> None:
    shutil.copytree(Path(built["record"]).parent, isolated_app.state_dir / "images" / "builds")
    _set_registry_port(isolated_app, refusing_registry)
    outcome = invoke(isolated_app, "images", "push", "--tag", built["tag"], "-s", "api")
    assert outcome.exit_code == ExitCode.EXTERNAL
    assert f"push to 127.0.0.1:{refusing_registry}/hyperscale/api" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    record = json.loads(
        (isolated_app.state_dir / "images" / "builds" / f"{built['tag']}.json").read_text()
    )
    assert not any(str(refusing_registry) in ref for ref in record["images"]["api"]["registries"])


@containers
def test_the_cli_image_runs_the_cli_as_non_root(built: dict[str, Any]) -> None:
    app = AppContext.from_os()
    outcome = invoke(app, "images", "build", "--service", "cli", "-o", "json")
    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    (image,) = data["images"]
    record = json.loads(Path(data["record"]).read_text())
    assert {"api", "consumer", "cli"} <= set(record["images"])  # the others of the tag stay
    adapter = Containers(app)
    assert adapter.run_once(image["ref"], ["--version"]).startswith("hyperscale ")
    assert adapter.run_once(image["ref"], ["images", "cleanup", "--help"]).startswith("Usage:")
    assert adapter.image_inspect(image["ref"])["Config"]["User"] == "10001:10001"
