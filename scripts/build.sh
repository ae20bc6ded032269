#!/usr/bin/env bash
# Builds the wasm package (pkg/) and the dev server. Incremental: fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt from the npm package `binaryen` (current), not Debian's (too old for externref).
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# --weak-refs: JS objects wrapping Rust ones (clients, connections) are freed by the GC, no .free() needed.
# .cargo/size.toml: std rebuilt for size with panics as bare traps (unstable flags, hence
# RUSTC_BOOTSTRAP=1 on the toolchain pinned by rust-toolchain.toml; docs/size.md, "Fourth pass").
RUSTC_BOOTSTRAP=1 wasm-pack build --target web --release --weak-refs --out-dir pkg --out-name genwire --no-pack --quiet -- --config .cargo/size.toml
# The React pages (demo, hooks test fixture) bundled with esbuild into www/dist.
node scripts/bundle.mjs
cargo build --quiet -p genwire-server
