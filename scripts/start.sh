#!/usr/bin/env bash
# `npm start`: set up, build, and serve the demo with the simulated upstream
# (or real fal when FAL_KEY is set in this shell; the key stays on the server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec target/debug/genwire-server --root . --port "${PORT:-8787}" "$@"
