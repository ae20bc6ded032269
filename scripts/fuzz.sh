#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (FUZZ_SECONDS, default 30) from the
# committed seeds. cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the
# machine's one stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH" RUSTC_BOOTSTRAP=1
secs=${FUZZ_SECONDS:-30}
for target in decode_error wire; do
  mkdir -p "corpus/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  echo "fuzz: $target for ${secs}s"
  log=$(mktemp)
  if ! cargo fuzz run "$target" "corpus/$target" "${seeds[@]}" -- -max_total_time="$secs" >"$log" 2>&1; then
    # A build error, or a crash (libFuzzer leaves the input under artifacts/).
    tail -40 "$log"; ls "artifacts/$target" 2>/dev/null || true
    echo "fuzz: $target FAILED"; exit 1
  fi
  grep -E "^Done" "$log" || true
  rm -f "$log"
done
