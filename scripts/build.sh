#!/usr/bin/env bash
# Builds the wasm package (pkg/) and the dev server. Incremental: fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt from the npm package `binaryen` (current), not Debian's (too old for externref).
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# --weak-refs: JS objects wrapping Rust ones (clients, connections) are freed by the GC, no .free() needed.
# .cargo/size.toml: std rebuilt for size with panics as bare traps (unstable flags, hence
# RUSTC_BOOTSTRAP=1 on the toolchain pinned by rust-toolchain.toml; docs/size.md, "Fourth pass").
# The wasm modules (docs/size.md, "The split"): the full core (every feature), the lean core (the
# same without the validator's exports, scripts/lean-wasm.mjs; the same glue runs both), and the
# validator module alone (`--features validator`), which a lean page loads on its first validation.
RUSTC_BOOTSTRAP=1 wasm-pack build --target web --release --weak-refs --out-dir pkg --out-name genwire --no-pack --quiet -- --config .cargo/size.toml
RUSTC_BOOTSTRAP=1 wasm-pack build --target web --release --weak-refs --out-dir target/pkg-validate --out-name genwire_validate --no-pack --quiet \
  -- --config .cargo/size.toml --no-default-features --features validator
cp target/pkg-validate/genwire_validate.js target/pkg-validate/genwire_validate_bg.wasm target/pkg-validate/genwire_validate.d.ts pkg/
# The queue core for the `genwire/queue` entry (js/queue.js): every feature but realtime, with
# its own glue and its own lean core (docs/size.md, "Fourth pass", step 4).
RUSTC_BOOTSTRAP=1 wasm-pack build --target web --release --weak-refs --out-dir target/pkg-queue --out-name genwire_queue --no-pack --quiet \
  -- --config .cargo/size.toml --no-default-features --features client,validator
cp target/pkg-queue/genwire_queue.js target/pkg-queue/genwire_queue_bg.wasm target/pkg-queue/genwire_queue.d.ts pkg/
node scripts/lean-wasm.mjs
node scripts/lean-wasm.mjs pkg/genwire_queue_bg.wasm pkg/genwire_queue_lean_bg.wasm
# Short names for the JS imports in each glue and the modules it runs (docs/size.md).
node scripts/short-names.mjs pkg/genwire.js pkg/genwire_bg.wasm pkg/genwire_lean_bg.wasm
node scripts/short-names.mjs pkg/genwire_queue.js pkg/genwire_queue_bg.wasm pkg/genwire_queue_lean_bg.wasm
node scripts/short-names.mjs pkg/genwire_validate.js pkg/genwire_validate_bg.wasm
# The React pages (demo, hooks test fixture) bundled with esbuild into www/dist.
node scripts/bundle.mjs
cargo build --quiet -p genwire-server
