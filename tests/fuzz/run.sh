#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60); stop at the first crash and print its
# reproducer. Installs cargo-fuzz from crates.io if it is missing. Uses the nightly toolchain
# when one is installed; otherwise the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes
# -Z flags). Never downloads a toolchain. FORCE_STABLE=1 takes the stable path even with nightly.
#   tests/fuzz/run.sh [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-60}"
cd "$root"

command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz

toolchain=stable
if [ -z "${FORCE_STABLE:-}" ] && rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  toolchain=nightly
fi
if [ "$toolchain" = stable ]; then
  export RUSTC_BOOTSTRAP=1
fi
# A rust-toolchain override in the environment would beat the +toolchain below.
unset RUSTUP_TOOLCHAIN
fuzz() { cargo "+$toolchain" fuzz "$@"; }
echo "toolchain: $toolchain${RUSTC_BOOTSTRAP:+ (RUSTC_BOOTSTRAP=1)}"

bash "$here/seed_corpus.sh"
# The fuzz crate has its own target directory, whatever the environment says; the two toolchains
# keep separate builds so that switching does not rebuild everything.
unset CARGO_TARGET_DIR
export CARGO_TARGET_DIR="$here/target/$toolchain"
start=$SECONDS
fuzz build --fuzz-dir tests/fuzz
echo "build: $(( SECONDS - start )) s"

mapfile -t targets < <(fuzz list --fuzz-dir tests/fuzz)
echo "${#targets[@]} targets, ${secs} s each: ${targets[*]}"
for t in "${targets[@]}"; do
  log="$here/artifacts/$t.log"
  mkdir -p "$here/artifacts/$t" "$here/corpus/$t"
  echo "== $t"
  if ! fuzz run --fuzz-dir tests/fuzz "$t" "$here/corpus/$t" -- \
    -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    repro=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
    echo "CRASH in $t; reproducer: ${repro:-see $log}"
    echo "reproduce: ${RUSTC_BOOTSTRAP:+RUSTC_BOOTSTRAP=1 }cargo +$toolchain fuzz run --fuzz-dir tests/fuzz $t ${repro:-}"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "$t: ${runs:-?} runs in ${secs} s ($(( ${runs:-0} / secs )) exec/s)"
done
echo "no crash"
