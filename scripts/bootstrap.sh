#!/usr/bin/env bash
# Install what hyperscale needs on a Debian machine: system packages, the Python environment
# (.venv), the Kafka jars and the Kubernetes binaries (into the cache directory). Safe to run
# again: each step checks first and does nothing when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  mariadb-server          # MySQL for the local environment
  mariadb-client          # mariadb-dump and mariadb: `local up` seeds the read replica with them
  mariadb-backup          # `hyperscale dr backup|restore`: physical backups (restores 10x+ faster than a dump)
  redis-server            # Redis for the local environment
  maven                   # fetches the Kafka jars from Maven Central
  openjdk-17-jre-headless # runs the Kafka broker
  kcat                    # Kafka benchmarks' baseline
  curl                    # benchmarks/health_endpoints.py's baseline (a sequential curl loop)
  python3-venv            # the project's .venv
  prometheus              # promtool: `hyperscale render` checks and unit-tests the alert rules
  prometheus-alertmanager # amtool: `hyperscale render` checks the Alertmanager configuration
  subversion              # `hyperscale migrate svn`: svn, svnadmin, svnrdump (and svnserve, svnmucc for tests)
  git-svn                 # the baseline `benchmarks/migrate_svn.py` measures against
  podman                  # `hyperscale images`: imports the base image, runs the built images
  buildah                 # `hyperscale images build`: builds the Dockerfiles (no Docker engine)
  skopeo                  # `hyperscale images push`: reads digests back from registries
  runc                    # the OCI runtime that works here (crun refuses hybrid cgroups)
  debootstrap             # `hyperscale images base`: the base image from Debian packages
  docker-registry         # `hyperscale local up registry`: the CNCF distribution registry
  python3-apt             # ansible's apt module in --check mode against this machine (tests/legacy)
  shellcheck              # actionlint checks the workflows' run: scripts with it
  packer                  # `packer validate` / `packer fmt -check` on packer/ (1.6.6: HCL2, amazon-ebs and ansible built in)
  containerd              # `hyperscale local cluster up --real-node`: the real node's runtime (its own root and socket)
  containernetworking-plugins  # the real node's pod network (bridge, host-local)
  iptables                # the real node's pod network and kube-proxy's Services
  wrk                     # load against the real node's API Service (benchmarks, HPA drills)
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Only promtool and amtool are wanted (and the registry binary, which `local up` runs on loopback,
# and containerd, which `cluster up --real-node` runs with its own root, state and socket):
# the packages' servers (listening on every interface)
# must not run or start at boot.
for unit in prometheus prometheus-alertmanager docker-registry containerd; do
  if command -v systemctl >/dev/null && systemctl is-enabled "$unit" >/dev/null 2>&1; then
    ${sudo:-} systemctl disable --now "$unit" >/dev/null 2>&1 || ${sudo:-} systemctl disable "$unit" >/dev/null 2>&1 || true
  fi
done

python=${PYTHON:-python3}
if [ ! -x .venv/bin/pip ]; then  # pip, not python: a half-made venv is made again
  echo "bootstrap: creating .venv"
  rm -rf .venv
  "$python" -m venv .venv
fi
# The CLI and the platform's own packages (services/*), editable; reinstalled when any of
# their pyproject files change.
packages=(. services/events services/api services/consumer)
stamp=.venv/.hyperscale-deps
wanted=$(cat pyproject.toml services/*/pyproject.toml | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "bootstrap: installing Python dependencies into .venv"
  args=()
  for package in "${packages[@]}"; do
    if [ "$package" = . ]; then args+=(-e '.[dev,bench]'); else args+=(-e "$package"); fi
  done
  .venv/bin/pip install -q --disable-pip-version-check "${args[@]}" \
    --config-settings editable_mode=compat  # a .pth path entry: no import hook on every start
  echo "$wanted" > "$stamp"
fi

# The Kafka jars go to the cache directory once; later runs find them there.
.venv/bin/hyperscale local install kafka --env local >/dev/null

# The sandbox cluster's binaries (Kubernetes, etcd, kwok, and the real node's kubelet and
# kube-proxy) are built from Go modules once: about five minutes on two cores the first time
# plus up to four for the real node's, a no-op afterwards.
bash scripts/build-k8s.sh >/dev/null
# terraform or tofu for `hyperscale infra` and `render`: the one on PATH, else OpenTofu built
# from its Go module (about 2.5 minutes the first time, a no-op afterwards).
bash scripts/build-tofu.sh >/dev/null
# checkov for `hyperscale render`, in a virtualenv of its own (its pins clash with .venv's).
bash scripts/install-checkov.sh
# ansible-core, ansible-lint and check-jsonschema for playbooks/ and the CI definitions, in a
# virtualenv of their own (about 65 s the first time).
bash scripts/install-pipeline-tools.sh
# actionlint and helm, built from their Go modules (about 1 and 8.5 minutes cold on two busy
# cores; a no-op afterwards).
bash scripts/build-go-tools.sh >/dev/null
echo "bootstrap: ready"
