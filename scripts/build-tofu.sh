#!/usr/bin/env bash
# Make a Terraform-compatible binary available to `hyperscale infra` and `hyperscale render`.
#
# If `terraform` or `tofu` is already on PATH, that is used and nothing is built. Otherwise
# OpenTofu is built from its Go module through the Go module proxy (no release downloads),
# the same way scripts/build-k8s.sh builds the Kubernetes binaries. The version is what
# tools/tofu/go.mod pins; its go.sum is committed, so the build is reproducible.
#
# The binary lands in ${HYPERSCALE_CACHE_DIR:-$HOME/.cache/hyperscale}/tofu/bin/tofu, where
# hyperscale.infra.binary looks when PATH has neither program. A stamp (bin/.stamp-tofu)
# records the version and a hash of go.mod/go.sum and the recipe; a second run is a no-op.
#
# Usage: scripts/build-tofu.sh [--force]
# Logs go to stderr; the path of the binary in use is printed on stdout at the end.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$repo_root/tools/tofu"
cache_dir="${HYPERSCALE_CACHE_DIR:-$HOME/.cache/hyperscale}/tofu"
bin_dir="$cache_dir/bin"
recipe_rev=1

log() { printf 'build-tofu: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

force="${HYPERSCALE_TOFU_FORCE:-0}"
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg" ;;
  esac
done

if [[ "$force" != 1 ]]; then
  for program in terraform tofu; do
    if found="$(command -v "$program" 2>/dev/null)"; then
      log "using $found (on PATH); nothing to build"
      printf '%s\n' "$found"
      exit 0
    fi
  done
fi

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  else die "neither terraform nor tofu is on PATH, and go is not found to build OpenTofu (set GO=/path/to/go)"; fi
fi

export GOWORK=off
export GOFLAGS="-mod=readonly -buildvcs=false"
export CGO_ENABLED=0

version="$(awk '$1 == "github.com/opentofu/opentofu" { print $2; exit }' "$mod_dir/go.mod")"
[[ -n "$version" ]] || die "cannot read the OpenTofu version from $mod_dir/go.mod"
ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no"
key="tofu $version $( { cat "$mod_dir/go.mod" "$mod_dir/go.sum"; printf '%s\n' "rev=$recipe_rev" "$ldflags"; } | sha256sum | cut -c1-16)"

mkdir -p "$bin_dir"
if command -v flock >/dev/null 2>&1; then  # parallel test sessions build once
  exec 9>"$cache_dir/.lock"
  flock 9
fi

if [[ "$force" != 1 && -x "$bin_dir/tofu" && -f "$bin_dir/.stamp-tofu" \
      && "$(head -n1 "$bin_dir/.stamp-tofu")" == "$key" ]]; then
  log "OpenTofu $version: up to date"
  printf '%s\n' "$bin_dir/tofu"
  exit 0
fi

tmp="$(mktemp -d "$cache_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log "OpenTofu $version: building (about 2.5 minutes on two cores the first time)..."
started=$SECONDS
(cd "$mod_dir" && "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp/tofu" github.com/opentofu/opentofu/cmd/tofu)
# stdout only: stderr may carry a warning about the CLI configuration file.
out="$("$tmp/tofu" version 2>/dev/null)" || die "the built tofu does not run"
[[ "$out" == *"OpenTofu ${version}"* ]] || die "built tofu reports '$(head -n1 <<<"$out")', expected OpenTofu $version"
rm -f "$bin_dir/.stamp-tofu"
mv -f "$tmp/tofu" "$bin_dir/tofu"
printf '%s\nversion=%s\ngo=%s\nbuilt=%s\nseconds=%s\n' "$key" "$version" "$("$GO" env GOVERSION)" \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((SECONDS - started))" > "$bin_dir/.stamp-tofu.tmp"
mv -f "$bin_dir/.stamp-tofu.tmp" "$bin_dir/.stamp-tofu"
log "OpenTofu $version: built in $((SECONDS - started)) s: $(head -n1 <<<"$out")"
printf '%s\n' "$bin_dir/tofu"
