#!/usr/bin/env bash
# Build the checkers the pipeline and chart tests need from their Go modules, through the Go
# module proxy only (no release downloads), the way scripts/build-k8s.sh builds Kubernetes:
#
#   actionlint  github.com/rhysd/actionlint/cmd/actionlint   (tools/actionlint)
#   helm        helm.sh/helm/v3/cmd/helm                      (tools/helm)
#
# Each tool has a wrapper module under tools/<name>/ whose go.mod pins the version (a `tool`
# directive) and whose go.sum is committed, so builds are reproducible (-mod=readonly).
# Binaries land in ${HYPERSCALE_CACHE_DIR:-$HOME/.cache/hyperscale}/go-tools/bin. A stamp per
# tool (bin/.stamp-<name>) records the version and a hash of go.mod/go.sum and the recipe; a
# tool is rebuilt only when its binary is missing or the stamp differs, so a second run is a
# fast no-op.
#
# Usage: scripts/build-go-tools.sh [--force] [actionlint|helm ...]
# Logs go to stderr; the bin directory is printed on stdout at the end.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${HYPERSCALE_CACHE_DIR:-$HOME/.cache/hyperscale}/go-tools"
bin_dir="$cache_dir/bin"
recipe_rev=1

log() { printf 'build-go-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# name -> main package; the module is the package's module as go.mod requires it.
declare -A PACKAGE=(
  [actionlint]=github.com/rhysd/actionlint/cmd/actionlint
  [helm]=helm.sh/helm/v3/cmd/helm
)
declare -A MODULE=(
  [actionlint]=github.com/rhysd/actionlint
  [helm]=helm.sh/helm/v3
)
# ldflags that make each binary report its own version (as upstream's release builds do).
declare -A VERSION_LDFLAGS=(
  [actionlint]='-X github.com/rhysd/actionlint.version=%s'
  [helm]='-X helm.sh/helm/v3/internal/version.version=%s'
)
declare -A VERSION_ARGS=([actionlint]=-version [helm]=version)

force="${HYPERSCALE_GO_TOOLS_FORCE:-0}"
tools=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    actionlint|helm) tools+=("$arg") ;;
    *) die "unknown argument: $arg" ;;
  esac
done
(( ${#tools[@]} )) || tools=(actionlint helm)

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "go not found (set GO=/path/to/go)"; fi
fi
export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

mkdir -p "$bin_dir"
if command -v flock >/dev/null 2>&1; then  # parallel test sessions build once
  exec 9>"$cache_dir/.lock"
  flock 9
fi
tmp_root="$(mktemp -d "$cache_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp_root"' EXIT

build_tool() {
  local name="$1" dir="$repo_root/tools/$1" module="${MODULE[$1]}" ver
  ver="$(awk -v m="$module" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$dir/go.mod")"
  [[ -n "$ver" ]] || die "cannot read the $module version from $dir/go.mod"
  # shellcheck disable=SC2059  # the table holds the format
  local ldflags="-s -w $(printf -- "${VERSION_LDFLAGS[$name]}" "$ver")"
  if [[ "$name" == helm ]]; then
    # As helm's Makefile does: the Kubernetes version `helm template` and `helm lint` assume is
    # the client-go minor it was built with (otherwise v1.20, older than any chart's kubeVersion).
    local client_go
    client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$dir/go.mod")"
    [[ "$client_go" =~ ^v0\.([0-9]+)\. ]] || die "cannot read k8s.io/client-go from $dir/go.mod"
    local pkg
    for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${BASH_REMATCH[1]}"
    done
  fi
  local key
  key="$name $ver $( { cat "$dir/go.mod" "$dir/go.sum"; printf '%s\n' "rev=$recipe_rev" "$ldflags"; } | sha256sum | cut -c1-16)"
  if [[ "$force" != 1 && -x "$bin_dir/$name" && -f "$bin_dir/.stamp-$name" \
        && "$(head -n1 "$bin_dir/.stamp-$name")" == "$key" ]]; then
    log "$name $ver: up to date"
    return
  fi
  log "$name $ver: building..."
  local started=$SECONDS out
  (cd "$dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp_root/$name" "${PACKAGE[$name]}")
  out="$("$tmp_root/$name" "${VERSION_ARGS[$name]}" 2>&1)" || die "the built $name does not run: $out"
  [[ "$out" == *"${ver#v}"* ]] || die "built $name reports '$(head -n1 <<<"$out")', expected $ver"
  rm -f "$bin_dir/.stamp-$name"
  mv -f "$tmp_root/$name" "$bin_dir/$name"
  printf '%s\nversion=%s\ngo=%s\nbuilt=%s\nseconds=%s\n' "$key" "$ver" "$("$GO" env GOVERSION)" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - started))" > "$bin_dir/.stamp-$name.tmp"
  mv -f "$bin_dir/.stamp-$name.tmp" "$bin_dir/.stamp-$name"
  log "$name $ver: built in $((SECONDS - started)) s: $(head -n1 <<<"$out")"
}

for tool in "${tools[@]}"; do build_tool "$tool"; done
printf '%s\n' "$bin_dir"
