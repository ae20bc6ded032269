#!/usr/bin/env bash
# The differential test of validation: pydantic v2 (the validator fal's servers run, installed by
# scripts/setup.sh into .venv-pydantic) and genwire's core judge the same inputs; fails on any
# input genwire refuses that pydantic takes, and on any other difference not listed in
# tests/validation/known-differences.json. Also checks that tests/validation/corpus.json still
# holds pydantic's issues. Writes target/differential/{cases.json,native.json,report.md}.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
PY=.venv-pydantic/bin/python
if [ ! -x "$PY" ]; then
  bash scripts/setup.sh
fi
"$PY" tests/validation/pydantic/differential.py corpus --check
"$PY" tests/validation/pydantic/differential.py cases target/differential/cases.json
GENWIRE_DIFFERENTIAL="$PWD/target/differential/cases.json" cargo test -p genwire --lib --quiet differential_against_pydantic -- --ignored
cat target/differential/report.md
