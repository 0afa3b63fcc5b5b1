#!/usr/bin/env bash
# The Python checkers of the legacy path and the pipelines, in a virtualenv of their own under
# the cache directory (ansible-lint pins its own ansible-core, jsonschema and PyYAML ranges,
# which must not move .venv's):
#
#   ansible-core      ansible-playbook --syntax-check / --check --diff, the base role's real runs
#   ansible-lint      the production profile on playbooks/
#   check-jsonschema  GitHub Actions workflows and GitLab CI against their published schemas
#                     (vendored in the package: nothing is downloaded when checking)
#
# Tests find them at <cache>/pipeline-tools/venv/bin/. Safe to run again: a venv whose recorded
# pins match is left alone.
set -euo pipefail

PINS=(
  "ansible-core==2.19.14"   # the newest line that runs on Python 3.11 (2.20 needs 3.12)
  "ansible-lint==26.10.1"
  "check-jsonschema==0.39.0"
)
cache=${HYPERSCALE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperscale}
venv="$cache/pipeline-tools/venv"
python=${PYTHON:-python3}
wanted="${PINS[*]}"

if [ -x "$venv/bin/ansible-lint" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi
echo "install-pipeline-tools: installing ${PINS[*]} into $venv"
started=$SECONDS
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
echo "$wanted" > "$venv/.pins"
echo "install-pipeline-tools: done in $((SECONDS - started)) s"
