#!/usr/bin/env bash
# `npm test`: every test. Native core and server first (seconds), then the
# browser suites against the real local server in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh

echo "== gates: rustfmt, clippy (native and wasm32), the edge's shape"
cargo fmt --all -- --check
cargo clippy --quiet --workspace --all-targets -- -D warnings
cargo clippy --quiet -p genwire --target wasm32-unknown-unknown --all-targets -- -D warnings -D clippy::await_holding_refcell_ref
# The queue core (`genwire/queue`: no realtime) and the validator module are other feature sets of the same crate.
cargo clippy --quiet -p genwire --target wasm32-unknown-unknown --lib --no-default-features --features client,validator -- -D warnings -D clippy::await_holding_refcell_ref
cargo clippy --quiet -p genwire --target wasm32-unknown-unknown --lib --no-default-features --features validator -- -D warnings
node scripts/edge-check.mjs

echo "== native: cargo test (core + server; the property tests run here)"
cargo test --workspace --quiet

echo "== differential: validation against pydantic v2 (the server's validator)"
bash scripts/differential.sh

echo "== types: tsc on the declarations and on every README example"
npx tsc -p tests/types/tsconfig.json
# Every js/jsx/ts/tsx example of README.md, strictly, against the same declarations (tests/types/readme.mjs says how).
node tests/types/readme.mjs

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
