#!/usr/bin/env bash
# Build the seed corpora of every fuzz target from the captured replies in tests/fixtures
# (idempotent). The corpora live in tests/fuzz/corpus/<target>/ (not committed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../fixtures"
corpus="$here/corpus"
mkdir -p "$corpus"/{cluster_nodes,info,seeds,reply,replies,planner}

cp "$fixtures"/*nodes*.txt "$corpus/cluster_nodes/"
cp "$fixtures"/*info*.txt "$corpus/info/"

printf '127.0.0.1:7000\n[::1]:7001\nlocalhost\n' >"$corpus/seeds/plain"
printf 'redis://user:secret@127.0.0.1:7000\nrediss://%%5B::1%%5D:7000\nredis://:p%%40ss@host\n' \
  >"$corpus/seeds/urls"

# RESP replies as the probe and the census see them.
printf '+OK\r\n' >"$corpus/reply/ok"
printf ':42\r\n' >"$corpus/reply/int"
printf -- '-MOVED 3999 127.0.0.1:6381\r\n' >"$corpus/reply/error"
printf '*3\r\n:1\r\n$3\r\nfoo\r\n-ERR x\r\n' >"$corpus/reply/array"
{ printf '$%d\r\n' "$(wc -c <"$fixtures/healthy_nodes_31000.txt")"; cat "$fixtures/healthy_nodes_31000.txt"; printf '\r\n'; } \
  >"$corpus/reply/bulk_nodes"

# One file per captured scenario: every captured view, separated by a `----` line; the
# INFO of the first view, where captured, after a `====` line.
for scenario in $(ls "$fixtures" | sed -n 's/^\(.*\)_nodes_[0-9]*\.txt$/\1/p' | sort -u); do
  out="$corpus/replies/$scenario"
  : >"$out"
  first=1
  for f in "$fixtures/${scenario}"_nodes_*.txt; do
    [ "$first" = 1 ] || printf '\n----\n' >>"$out"
    cat "$f" >>"$out"
    if [ "$first" = 1 ]; then
      info=$(ls "$fixtures/${scenario}"_info_*.txt 2>/dev/null | head -1 || true)
      [ -z "$info" ] || { printf '\n====\n' >>"$out"; cat "$info" >>"$out"; }
    fi
    first=0
  done
done

# Generated clusters: a few fixed byte strings (all zeros decodes to a healthy cluster).
head -c 160 /dev/zero >"$corpus/planner/healthy"
for i in 1 2 3 4 5 6 7 8; do
  python3 -c "import random,sys; random.seed($i); sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(160)))" \
    >"$corpus/planner/seed$i"
done
echo "corpora in $corpus: $(ls "$corpus" | wc -l) targets, $(find "$corpus" -type f | wc -l) files"
