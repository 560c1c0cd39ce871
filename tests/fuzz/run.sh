#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60) with the nightly toolchain; stop at the
# first crash and print its reproducer. Installs cargo-fuzz if it is missing.
#   tests/fuzz/run.sh [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-60}"
cd "$root"

command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

bash "$here/seed_corpus.sh"
# The fuzz crate has its own target directory, whatever the environment says.
unset CARGO_TARGET_DIR
cargo +nightly fuzz build --fuzz-dir tests/fuzz

mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir tests/fuzz)
echo "${#targets[@]} targets, ${secs} s each: ${targets[*]}"
for t in "${targets[@]}"; do
  log="$here/artifacts/$t.log"
  mkdir -p "$here/artifacts/$t"
  echo "== $t"
  if ! cargo +nightly fuzz run --fuzz-dir tests/fuzz "$t" "$here/corpus/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    repro=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
    echo "CRASH in $t; reproducer: ${repro:-see $log}"
    echo "reproduce: cargo +nightly fuzz run --fuzz-dir tests/fuzz $t ${repro:-}"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "$t: ${runs:-?} runs in ${secs} s ($(( ${runs:-0} / secs )) exec/s)"
done
echo "no crash"
