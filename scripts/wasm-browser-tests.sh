#!/usr/bin/env bash
# Runs the wasm-bindgen tests in headless Chromium against a dev server that
# allows the test runner's origin (CORS), started here and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
env -u FAL_KEY target/debug/genwire-server --root . --port 0 --cors-any >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  url=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { echo "dev server did not start:"; cat "$log"; exit 1; }
GENWIRE_TEST_SERVER="$url" CHROMEDRIVER=/usr/bin/chromedriver \
  wasm-pack test --headless --chrome --release
