#!/usr/bin/env bash
# Regenerate requirements.lock: every package of the dev environment (extras dev, embed, serve, ray; not the vLLM extras,
# which bring their own transformers and numpy pins: `pip install persona-space[vllm]` resolves them), == versions, resolved by
# pip-compile (pip-tools) from setup.py's ranges and the pins in tools/lock.in. Run it after changing a requirement
# in settings.ini, then run `bash tools/check_upstream.sh` and CI before committing the new lock.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
LOCKVENV=${LOCKVENV:-/tmp/persona-space-lockvenv}
[ -x "$LOCKVENV/bin/pip-compile" ] || { python3 -m venv "$LOCKVENV" && "$LOCKVENV/bin/pip" install -q pip-tools==7.6.2; }
"$LOCKVENV/bin/pip-compile" --quiet --extra dev --extra embed --extra serve --extra ray --strip-extras --allow-unsafe --no-emit-index-url \
  --no-emit-find-links --annotation-style line --output-file requirements.lock setup.py tools/lock.in
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) pinned packages)"
