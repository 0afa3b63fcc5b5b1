#!/usr/bin/env bash
# checkov (Prisma Cloud / Bridgecrew's IaC scanner) in a virtualenv of its own under the cache
# directory: its dependency pins (boto3, jsonschema, networkx...) clash with the project's, so
# it never shares .venv. `hyperscale render` finds it at <cache>/checkov/venv/bin/checkov.
# Safe to run again: a venv with the pinned version already installed is left alone.
set -euo pipefail

CHECKOV_VERSION=3.3.30
cache=${HYPERSCALE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperscale}
venv="$cache/checkov/venv"
python=${PYTHON:-python3}

if [ -x "$venv/bin/checkov" ] && [ "$(cat "$venv/.version" 2>/dev/null)" = "$CHECKOV_VERSION" ]; then
  exit 0
fi
echo "install-checkov: installing checkov $CHECKOV_VERSION into $venv"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION"
echo "$CHECKOV_VERSION" > "$venv/.version"
