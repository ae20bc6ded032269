#!/usr/bin/env bash
# Builds the wasm package (pkg/) and the dev server. Incremental: fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt from the npm package `binaryen` (current), not Debian's (too old for externref).
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# --weak-refs: JS objects wrapping Rust ones (clients, connections) are freed by the GC, no .free() needed.
wasm-pack build --target web --release --weak-refs --out-dir pkg --out-name genwire --no-pack --quiet
# The React pages (demo, hooks test fixture) bundled with esbuild into www/dist.
node scripts/bundle.mjs
cargo build --quiet -p genwire-server
