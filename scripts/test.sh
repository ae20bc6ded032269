#!/usr/bin/env bash
# `npm test`: every test. Native core and server first (seconds), then the
# browser suites against the real local server in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh

echo "== native: cargo test (core + server)"
cargo test --workspace --quiet

echo "== differential: validation against pydantic v2 (the server's validator)"
bash scripts/differential.sh

echo "== types: tsc on the declarations"
npx tsc -p tests/types/tsconfig.json

echo "== fuzz: error decoder and wire decoders, bounded"
bash scripts/fuzz.sh

echo "== build: wasm package and server"
bash scripts/build.sh
node scripts/size-check.mjs

echo "== browser: wasm-bindgen tests in headless Chromium"
bash scripts/wasm-browser-tests.sh

echo "== browser: end-to-end tests (Playwright, system Chromium)"
# The tests never touch the real fal: the key must not leak into them.
env -u FAL_KEY node --test --test-concurrency=2 $(ls tests/*.test.mjs | grep -vxE 'tests/(packaging|proxies)\.test\.mjs')

echo "== packaging: the npm tarball in fresh Vite and Next.js apps, built and driven in Chromium"
env -u FAL_KEY node --test tests/packaging.test.mjs

echo "== proxies: every feature behind @fal-ai/server-proxy and genwire/proxy in Next.js, Express, Hono"
env -u FAL_KEY node --test tests/proxies.test.mjs
