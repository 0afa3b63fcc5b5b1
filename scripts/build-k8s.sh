#!/usr/bin/env bash
# Build the Kubernetes control-plane binaries hyperscale needs, from source,
# through the Go module proxy only (no GitHub / prebuilt downloads):
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (tools/k8s)
#   etcd, etcdctl                                            (tools/k8s/etcd)
#   kwok, kwokctl                                            (tools/k8s/kwok)
#   kubelet, kube-proxy, pause (the sandbox's real node)     (tools/k8s, component "node")
#   metrics-server (resource metrics: kubectl top, the HPAs)  (tools/k8s/metrics-server)
#
# Versions are whatever the wrapper modules' go.mod files pin; go.sum files
# are committed, so builds are reproducible (-mod=readonly).
#
# Binaries land in ${HYPERSCALE_CACHE_DIR:-$HOME/.cache/hyperscale}/k8s/bin.
# Each component has a stamp file (bin/.stamp-<component>) recording its
# version and a hash of its go.mod/go.sum and build recipe; a component is
# rebuilt only when a binary is missing or the stamp does not match, so a
# second run is a fast no-op.
#
# Usage: scripts/build-k8s.sh [--force] [kubernetes|etcd|kwok|node|metrics-server ...]
#   --force  rebuild even if the stamp matches (or HYPERSCALE_K8S_FORCE=1)
# Logs go to stderr; the bin directory is printed on stdout at the end.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="$repo_root/tools/k8s"
cache_dir="${HYPERSCALE_CACHE_DIR:-$HOME/.cache/hyperscale}/k8s"
bin_dir="$cache_dir/bin"

# Bump when the build recipe (flags, tags, ldflags) changes in a way that
# should invalidate previously built binaries.
recipe_rev=1

log() { printf 'build-k8s: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

force="${HYPERSCALE_K8S_FORCE:-0}"
components=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    kubernetes|etcd|kwok|node|metrics-server) components+=("$arg") ;;
    *) die "unknown argument: $arg" ;;
  esac
done
(( ${#components[@]} )) || components=(kubernetes etcd kwok node metrics-server)

# --- helpers --------------------------------------------------------------

# Version of module $2 required by the go.mod in directory $1 (parsed from
# the file; no go invocation, no network).
mod_version() {
  awk -v m="$2" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == m && $2 ~ /^v/       { print $2; exit }' "$1/go.mod"
}

# Stamp key: component, version, and a hash of everything that affects the
# produced binaries (go.mod, go.sum, recipe).
stamp_key() {  # <component> <version> <moddir> <recipe...>
  local comp="$1" ver="$2" dir="$3"; shift 3
  local h
  h="$( { cat "$dir/go.mod" "$dir/go.sum"; printf '%s\n' "rev=$recipe_rev" "$@"; } |
        sha256sum | cut -c1-16)"
  printf '%s %s %s\n' "$comp" "$ver" "$h"
}

up_to_date() {  # <component> <key> <binaries...>
  local comp="$1" key="$2"; shift 2
  [[ "$force" == 1 ]] && return 1
  [[ -f "$bin_dir/.stamp-$comp" ]] || return 1
  [[ "$(head -n1 "$bin_dir/.stamp-$comp")" == "$key" ]] || return 1
  local b
  for b in "$@"; do [[ -x "$bin_dir/$b" ]] || return 1; done
  return 0
}

# Move freshly built binaries from $1 into bin_dir and write the stamp last,
# so an interrupted build never leaves a valid-looking stamp behind.
install_bins() {  # <component> <key> <version> <tmpdir> <binaries...>
  local comp="$1" key="$2" ver="$3" tmp="$4"; shift 4
  rm -f "$bin_dir/.stamp-$comp"
  local b
  for b in "$@"; do
    [[ -x "$tmp/$b" ]] || die "$comp: $b was not produced"
    mv -f "$tmp/$b" "$bin_dir/$b"
  done
  {
    printf '%s\n' "$key"
    printf 'version=%s\n' "$ver"
    printf 'go=%s\n' "$("$GO" env GOVERSION)"
    printf 'built=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'binaries=%s\n' "$*"
  } > "$bin_dir/.stamp-$comp.tmp"
  mv -f "$bin_dir/.stamp-$comp.tmp" "$bin_dir/.stamp-$comp"
}

# Commit time of a module version, from the proxy's .info (used as the
# build date so that builds are reproducible).
mod_time() {  # <moddir> <module>
  (cd "$1" && "$GO" list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$2")
}

check_version() {  # <binary path> <expected substring> <version args...>
  local bin="$1" want="$2" out; shift 2
  out="$("$bin" "$@" 2>&1)" || die "$(basename "$bin") $* failed: $out"
  [[ "$out" == *"$want"* ]] || die "$(basename "$bin") $* reports '$out', expected '$want'"
  log "  $(basename "$bin"): $(head -n1 <<<"$out")"
}

# --- environment ------------------------------------------------------------

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "go not found (set GO=/path/to/go)"; fi
fi

# Deterministic, self-contained module builds: ignore any go.work, never
# modify go.mod/go.sum, don't stamp VCS info of the hyperscale repo, and
# produce static binaries (as upstream does for these components).
export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

mkdir -p "$bin_dir"

# Serialise concurrent invocations (e.g. parallel test sessions).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_dir/.lock"
  flock 9
fi

tmp_root="$(mktemp -d "$cache_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp_root"' EXIT

# --- kubernetes -------------------------------------------------------------

# -X flags that stamp the version into a binary built from k8s.io/kubernetes, as upstream's
# release builds do (otherwise it reports v0.0.0-master, and a kubelet's node says so).
kube_ldflags() {  # <moddir> <version> <major> <minor>
  local build_date; build_date="$(mod_time "$1" k8s.io/kubernetes)"
  [[ -n "$build_date" ]] || build_date="1970-01-01T00:00:00Z"
  local ldflags="-s -w" pkg var
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for var in "gitVersion=$2" "gitMajor=$3" "gitMinor=$4" \
               "gitTreeState=clean" "buildDate=$build_date"; do
      ldflags+=" -X $pkg.$var"
    done
  done
  printf '%s' "$ldflags"
}

build_kubernetes() {
  local dir="$tools_dir" ver bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  ver="$(mod_version "$dir" k8s.io/kubernetes)"
  [[ "$ver" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "cannot parse k8s.io/kubernetes version from $dir/go.mod"
  local major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
  # Same tags as upstream release builds (hack/lib/golang.sh).
  local tags="selinux,notest,grpcnotrace"
  local key; key="$(stamp_key kubernetes "$ver" "$dir" "tags=$tags")"
  if up_to_date kubernetes "$key" "${bins[@]}"; then
    log "kubernetes $ver: up to date"; return
  fi

  log "kubernetes $ver: building ${bins[*]} (this takes a while)..."
  local ldflags; ldflags="$(kube_ldflags "$dir" "$ver" "$major" "$minor")"
  local out="$tmp_root/kubernetes"; mkdir -p "$out"
  (cd "$dir" && "$GO" build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    check_version "$out/$b" "Kubernetes $ver" --version
  done
  check_version "$out/kubectl" "Client Version: $ver" version --client
  install_bins kubernetes "$key" "$ver" "$out" "${bins[@]}"
}

# --- etcd -------------------------------------------------------------------

build_etcd() {
  local dir="$tools_dir/etcd" ver bins=(etcd etcdctl)
  ver="$(mod_version "$dir" go.etcd.io/etcd/server/v3)"
  [[ -n "$ver" ]] || die "cannot parse etcd version from $dir/go.mod"
  local key; key="$(stamp_key etcd "$ver" "$dir")"
  if up_to_date etcd "$key" "${bins[@]}"; then
    log "etcd $ver: up to date"; return
  fi

  log "etcd $ver: building ${bins[*]}..."
  local out="$tmp_root/etcd"; mkdir -p "$out"
  # The module proxy carries no commit hash; etcd then reports
  # "Git SHA: Not provided", which is harmless.
  (cd "$dir" && "$GO" build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  (cd "$dir" && "$GO" build -trimpath -ldflags "-s -w" -o "$out/etcdctl" go.etcd.io/etcd/etcdctl/v3)
  check_version "$out/etcd" "etcd Version: ${ver#v}" --version
  check_version "$out/etcdctl" "etcdctl version: ${ver#v}" version
  install_bins etcd "$key" "$ver" "$out" "${bins[@]}"
}

# --- kwok -------------------------------------------------------------------

build_kwok() {
  local dir="$tools_dir/kwok" ver bins=(kwok kwokctl)
  ver="$(mod_version "$dir" sigs.k8s.io/kwok)"
  [[ -n "$ver" ]] || die "cannot parse kwok version from $dir/go.mod"
  # Default Kubernetes version kwokctl assumes: the one we build above.
  local kube_ver; kube_ver="$(mod_version "$tools_dir" k8s.io/kubernetes)"
  local ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$ver"
  [[ -n "$kube_ver" ]] && ldflags+=" -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_ver#v}"
  local key; key="$(stamp_key kwok "$ver" "$dir" "ldflags=$ldflags")"
  if up_to_date kwok "$key" "${bins[@]}"; then
    log "kwok $ver: up to date"; return
  fi

  log "kwok $ver: building ${bins[*]}..."
  local out="$tmp_root/kwok"; mkdir -p "$out"
  (cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$out/" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
  check_version "$out/kwok" "$ver" --version
  check_version "$out/kwokctl" "$ver" --version
  install_bins kwok "$key" "$ver" "$out" "${bins[@]}"
}

# --- node (the sandbox's real node) -------------------------------------------

# kubelet and kube-proxy from the same wrapper module, with their own stamp, so that a machine
# which only runs the kwok cluster can skip them (scripts/build-k8s.sh kubernetes etcd kwok).
build_node() {
  local dir="$tools_dir" ver bins=(kubelet kube-proxy)
  ver="$(mod_version "$dir" k8s.io/kubernetes)"
  [[ "$ver" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "cannot parse k8s.io/kubernetes version from $dir/go.mod"
  local major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
  local tags="selinux,notest,grpcnotrace"
  local pause_hash; pause_hash="$(cat "$dir/pause/go.mod" "$dir/pause/main.go" | sha256sum | cut -c1-16)"
  local key; key="$(stamp_key node "$ver" "$dir" "tags=$tags" "pause=$pause_hash")"
  bins+=(pause)
  if up_to_date node "$key" "${bins[@]}"; then
    log "node $ver: up to date"; return
  fi

  log "node $ver: building ${bins[*]}..."
  local ldflags; ldflags="$(kube_ldflags "$dir" "$ver" "$major" "$minor")"
  local out="$tmp_root/node"; mkdir -p "$out"
  (cd "$dir" && "$GO" build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy)
  check_version "$out/kubelet" "Kubernetes $ver" --version
  # The pod sandbox program (tools/k8s/pause): the real node's sandbox image is made from it.
  (cd "$dir/pause" && "$GO" build -trimpath -ldflags "-s -w" -o "$out/pause" .)
  check_version "$out/kube-proxy" "Kubernetes $ver" --version
  check_version "$out/pause" "pause (hyperscale)" -v
  install_bins node "$key" "$ver" "$out" "${bins[@]}"
}

# --- metrics-server -----------------------------------------------------------

# Its own wrapper module: it pins its own (older) k8s.io libraries. kwokctl runs it beside the
# control plane; it reads the real node's kubelet (kwok's simulated nodes have no metrics).
build_metrics_server() {
  local dir="$tools_dir/metrics-server" ver bins=(metrics-server)
  ver="$(mod_version "$dir" sigs.k8s.io/metrics-server)"
  [[ -n "$ver" ]] || die "cannot parse metrics-server version from $dir/go.mod"
  # As its own Makefile stamps it (kwokctl reads the version from --version).
  local ldflags="-s -w -X k8s.io/client-go/pkg/version.gitVersion=$ver"
  local key; key="$(stamp_key metrics-server "$ver" "$dir" "ldflags=$ldflags")"
  if up_to_date metrics-server "$key" "${bins[@]}"; then
    log "metrics-server $ver: up to date"; return
  fi

  log "metrics-server $ver: building ${bins[*]}..."
  local out="$tmp_root/metrics-server"; mkdir -p "$out"
  (cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$out/" \
    sigs.k8s.io/metrics-server/cmd/metrics-server)
  check_version "$out/metrics-server" "$ver" --version
  install_bins metrics-server "$key" "$ver" "$out" "${bins[@]}"
}

for c in "${components[@]}"; do "build_${c//-/_}"; done
log "binaries in $bin_dir"
printf '%s\n' "$bin_dir"
